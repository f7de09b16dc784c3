// The document view (templates/coding/document.html).
//
// Without this file the page still works: a passage is coded by quoting it. Here a coder
// selects it instead, with the mouse or the keyboard (focus the text, then Shift + arrows;
// Selection.modify extends by character, word or line), and the forms are sent with fetch
// (X-Requested-With: fetch); the answer is the panel fragment, which replaces the old one.
//
// Offsets: the server stores Unicode code points, but the DOM counts UTF-16 code units; we
// send UTF-16 offsets with unit=utf16 and the server converts (coding/offsets.py). Marker
// links inside the text carry data-nontext and are not counted.
//
// Shortcuts (never while typing in a field or with Ctrl/Alt/Meta): 1-9 tick a code,
// c codes the selection, ? opens the help.
(function () {
  "use strict";

  var panelHost = document.getElementById("coding-panel");
  if (!panelHost) { return; }
  var help = document.getElementById("coding-help");
  var helpOpener = document.getElementById("coding-help-open");
  var helpCloser = document.getElementById("coding-help-close");
  var lastSelection = null; // {start, end, text} in UTF-16 units, inside the text

  function textBox() { return document.getElementById("doc-text"); }
  function status() { return document.getElementById("selection-status"); }

  function counted(node) {
    var parent = node.parentElement;
    return !(parent && parent.closest("[data-nontext]"));
  }

  // UTF-16 offset of the DOM point (node, offset) within the text box.
  function pointOffset(box, node, offset) {
    var range = document.createRange();
    range.setStart(box, 0);
    range.setEnd(node, offset);
    var walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT, {
      acceptNode: function (n) {
        return counted(n) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
      }
    });
    var total = 0;
    var current;
    while ((current = walker.nextNode())) {
      if (current === node) { return total + offset; }
      if (range.comparePoint(current, current.length) === 1) { break; }
      total += current.length;
    }
    return total;
  }

  function readSelection() {
    var box = textBox();
    var selection = window.getSelection();
    if (!box || !selection || selection.rangeCount === 0 || selection.isCollapsed) { return null; }
    var range = selection.getRangeAt(0);
    if (!box.contains(range.startContainer) || !box.contains(range.endContainer)) { return null; }
    var start = pointOffset(box, range.startContainer, range.startOffset);
    var end = pointOffset(box, range.endContainer, range.endOffset);
    if (end <= start) { return null; }
    return { start: start, end: end, text: range.toString() };
  }

  function describe(sel) {
    if (!sel) { return "No passage selected."; }
    var words = sel.text.trim().split(/\s+/);
    var preview = words.length > 12 ? words.slice(0, 6).join(" ") + " … " + words.slice(-4).join(" ") : sel.text.trim();
    return "Selected " + sel.text.length + " characters: “" + preview + "”";
  }

  var announceTimer = null;
  document.addEventListener("selectionchange", function () {
    var sel = readSelection();
    if (sel) { lastSelection = sel; }
    window.clearTimeout(announceTimer);
    announceTimer = window.setTimeout(function () {
      var node = status();
      if (node && sel) { node.textContent = describe(sel); }
    }, 250);
  });

  function fillSpan(form, sel) {
    form.querySelector("[name=start]").value = sel ? sel.start : "";
    form.querySelector("[name=end]").value = sel ? sel.end : "";
    var unit = form.querySelector("[name=unit]");
    if (unit) { unit.value = "utf16"; }
  }

  function replacePanel(html, focusTarget) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var scroll = textBox() ? textBox().scrollTop : 0;
    panelHost.replaceChildren(template.content);
    var box = textBox();
    if (box) { box.scrollTop = scroll; }
    var summary = panelHost.querySelector(".error-summary");
    var target = summary || (focusTarget && panelHost.querySelector(focusTarget)) || box;
    if (target) { target.focus(); }
    var message = panelHost.querySelector(".messages");
    if (message && status()) { status().textContent = message.textContent.trim(); }
    lastSelection = null;
    document.dispatchEvent(new CustomEvent("coding:updated"));
  }

  function send(form) {
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.text().then(function (html) {
        var ok = response.ok;
        var focus = ok && form.id === "excerpt-form" ? "#doc-text" : null;
        replacePanel(html, focus);
      });
    });
  }

  panelHost.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList.contains("confirm-delete") && !window.confirm("Delete this excerpt?")) {
      event.preventDefault();
      return;
    }
    if (form.id === "excerpt-form") {
      var quote = form.querySelector("[name=quote]");
      fillSpan(form, quote && quote.value.trim() ? null : (readSelection() || lastSelection));
    } else if (form.classList.contains("use-selection")) {
      var sel = readSelection() || lastSelection;
      if (!sel) {
        event.preventDefault();
        status().textContent = "Select the new passage in the text first.";
        return;
      }
      fillSpan(form, sel);
    }
    event.preventDefault();
    send(form);
  });

  // Keyboard selection inside the read-only text: a caret placed on first use, then moved
  // or extended with the usual editing keys.
  var MOVES = {
    ArrowLeft: ["backward", "character"], ArrowRight: ["forward", "character"],
    ArrowUp: ["backward", "line"], ArrowDown: ["forward", "line"],
    Home: ["backward", "lineboundary"], End: ["forward", "lineboundary"]
  };

  function ensureCaret(box) {
    var selection = window.getSelection();
    if (selection.rangeCount && box.contains(selection.anchorNode)) { return selection; }
    var walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT, {
      acceptNode: function (n) { return counted(n) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT; }
    });
    var first = walker.nextNode();
    if (first) { selection.collapse(first, 0); }
    return selection;
  }

  panelHost.addEventListener("keydown", function (event) {
    var box = textBox();
    if (event.target !== box || !MOVES[event.key] || event.altKey || event.metaKey) { return; }
    var move = MOVES[event.key];
    var selection = ensureCaret(box);
    if (!selection.modify) { return; }
    var granularity = event.ctrlKey && move[1] === "character" ? "word" : move[1];
    selection.modify(event.shiftKey ? "extend" : "move", move[0], granularity);
    event.preventDefault();
  });

  function typing(target) {
    return target.closest && target.closest("input, textarea, select, [contenteditable]");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) { return; }
    if (help && help.open) { return; }
    if (event.key === "?") {
      event.preventDefault();
      openHelp();
      return;
    }
    if (/^[1-9]$/.test(event.key)) {
      var box = panelHost.querySelector('[data-shortcut="' + event.key + '"]');
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
        var label = panelHost.querySelector('label[for="' + box.id + '"]');
        status().textContent = (box.checked ? "Ticked " : "Unticked ") + (label ? label.textContent.trim() : "code");
      }
      return;
    }
    if (event.key === "c") {
      var form = document.getElementById("excerpt-form");
      if (form) {
        event.preventDefault();
        form.requestSubmit();
      }
    }
  });

  function openHelp() {
    if (!help) { return; }
    help.showModal();
    var heading = document.getElementById("coding-help-heading");
    if (heading) { heading.focus(); }
  }
  if (helpOpener) { helpOpener.addEventListener("click", openHelp); }
  if (helpCloser) {
    helpCloser.addEventListener("click", function () { help.close(); });
  }
  if (help) {
    help.addEventListener("close", function () { if (helpOpener) { helpOpener.focus(); } });
  }

  // A marker moves focus to its excerpt's details in the list.
  panelHost.addEventListener("click", function (event) {
    var marker = event.target.closest && event.target.closest(".ex-marker");
    if (!marker) { return; }
    var item = document.getElementById("excerpt-item-" + marker.dataset.excerpt);
    if (item) {
      event.preventDefault();
      item.focus();
    }
  });
})();
