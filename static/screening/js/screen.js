// The screening workspace (templates/screening/screen/workspace.html).
//
// Every action on the page is a plain form or link that works without this file. Here they
// are sent with fetch (header X-Requested-With: fetch); the server answers with the record
// fragment (#screen-panel, progress included), which replaces the old one. Focus then moves
// to the record's heading, the live region announces "Record N of M: title", and a
// "record:shown" event is dispatched on document (bench/screening_browser_bench.py times it).
//
// Speed: while the reviewer reads a record the queue served, the record after it is ready:
// it came with the answer to the last decision (<template id="screen-ahead">) or is fetched
// (data-prefetch, "?ahead=<id>"). A decision then shows that record at once and is sent in
// the background; the server's answer corrects the progress figures, or replaces the record
// if it differs (or reports an error about the decision, which is then shown with its
// record). Requests go one at a time, in order, so an undo never overtakes a decision.
//
// Shortcuts: i include, e exclude, m maybe, n next, p previous, u undo, ? help. They never
// fire while typing in a field, with Ctrl/Alt/Meta held, or while the help is open.
(function () {
  "use strict";

  var workspace = document.getElementById("screen-workspace");
  if (!workspace) { return; }
  var announcer = document.getElementById("screen-announcer");
  var help = document.getElementById("shortcut-help");
  var helpOpener = document.getElementById("shortcut-help-open");
  var helpCloser = document.getElementById("shortcut-help-close");
  var DECISION_KEYS = { i: "include", e: "exclude", m: "maybe" };
  var chain = Promise.resolve();
  var waiting = false; // an answer that will replace the record shown is on its way
  var ahead = null; // { after: record id, node: the fragment that follows it }
  var returnFocus = null;

  function panel() { return document.getElementById("screen-panel"); }

  // Run `task` after every request already queued.
  function run(task) {
    chain = chain.then(task).catch(function (error) {
      window.setTimeout(function () { throw error; });
    });
  }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var node = template.content.getElementById("screen-panel");
    var extra = template.content.getElementById("screen-ahead");
    var next = extra && extra.content.getElementById("screen-panel");
    return { node: node, ahead: next ? { after: extra.dataset.after, node: next } : null };
  }

  function request(url, options) {
    options.headers = { "X-Requested-With": "fetch" };
    options.credentials = "same-origin";
    options.cache = "no-store";
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var parts = parse(text);
        return { ok: response.ok, redirected: response.redirected, url: response.url,
                 node: parts.node, ahead: parts.ahead };
      });
    });
  }

  // An answer without the fragment (a sign-in page after the session ended, say).
  function leave(result) {
    window.location.assign(result.redirected ? result.url : workspace.dataset.home);
  }

  function announce(text) {
    if (!announcer || !text) { return; }
    // Emptying first makes screen readers read the message even when it repeats.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 30);
  }

  function show(node, said) {
    var current = panel();
    if (!current) { return; }
    current.replaceWith(node);
    ahead = null;
    if (node.dataset.url && window.history.replaceState) {
      window.history.replaceState(null, "", node.dataset.url);
    }
    // The term forms bring the reviewer back to a record they were revisiting.
    document.querySelectorAll("input[data-current-record]").forEach(function (input) {
      input.value = node.dataset.revisitId || "";
    });
    var heading = document.getElementById("record-heading");
    if (heading) { heading.focus(); }
    announce((said ? said + " " : "") + node.dataset.announce);
    document.dispatchEvent(new CustomEvent("record:shown", {
      detail: { recordId: node.dataset.recordId || null }
    }));
  }

  // Keep the record that follows `node` (sent along with an answer) if `node` is shown.
  function adopt(result, node) {
    if (result.ahead && panel() === node && result.ahead.after === node.dataset.recordId &&
        workspace.dataset.prefetch !== "off") {
      ahead = result.ahead;
    }
  }

  function present(result, said) {
    show(result.node, said);
    adopt(result, result.node);
    prefetch(result.node);
  }

  function prefetch(node) {
    var url = node.dataset.prefetch;
    if (!url || workspace.dataset.prefetch === "off") { return; }
    run(function () {
      if (panel() !== node || (ahead && ahead.after === node.dataset.recordId)) { return null; }
      return request(url, { method: "GET" }).then(function (result) {
        if (result.ok && result.node && panel() === node && !ahead) {
          ahead = { after: node.dataset.recordId, node: result.node };
        }
      }, function () { /* no prefetch: the decision takes the ordinary way */ });
    });
  }

  // Nothing typed or chosen in the record's form since it was shown.
  function untouched(node) {
    var form = node.querySelector("#decide-form");
    if (!form) { return true; }
    return Array.prototype.every.call(form.elements, function (field) {
      if (field.tagName === "SELECT") {
        var initial = 0;
        Array.prototype.forEach.call(field.options, function (option, index) {
          if (option.defaultSelected) { initial = index; }
        });
        return field.selectedIndex === initial;
      }
      return field.type === "submit" || field.value === field.defaultValue;
    });
  }

  function record(node) {
    var part = node.querySelector(".screen-record");
    return part ? part.innerHTML : "";
  }

  // The server's answer to a decision made on a record whose successor is already shown.
  function reconcile(result, shown) {
    if (!result.node) { return leave(result); }
    var current = panel();
    if (!result.ok) {
      present(result); // the decision was refused: show why, with its record
    } else if (current !== shown) {
      return; // the reviewer has moved on; later answers will do
    } else if (result.node.dataset.recordId !== shown.dataset.recordId ||
               (record(result.node) !== record(shown) && untouched(shown))) {
      present(result);
    } else {
      // Same record: only the figures and the confirmation change; what the reviewer may
      // have started typing in the note stays.
      var status = result.node.querySelector(".screen-status");
      shown.querySelector(".screen-status").replaceWith(status);
      adopt(result, shown);
    }
  }

  function decide(form, submitter) {
    if (waiting) { return; }
    var current = panel();
    var recordId = current.dataset.recordId;
    var said = submitter && submitter.dataset.done;
    var body = new FormData(form);
    if (submitter && submitter.name) { body.append(submitter.name, submitter.value); }
    body = new URLSearchParams(body);

    function fast() {
      if (!ahead || ahead.after !== recordId || panel() !== current) { return false; }
      var next = ahead.node;
      show(next, said);
      run(function () {
        return request(form.action, { method: "POST", body: body }).then(function (result) {
          reconcile(result, next);
        }, function () { window.location.assign(workspace.dataset.home); });
      });
      prefetch(next);
      return true;
    }

    if (fast()) { return; }
    waiting = true;
    current.setAttribute("aria-busy", "true");
    run(function () {
      // A prefetch still on its way at the key press may have arrived by now.
      if (fast()) {
        waiting = false;
        return null;
      }
      return request(form.action, { method: "POST", body: body }).then(function (result) {
        waiting = false;
        if (!result.node) { return leave(result); }
        present(result);
      }, function () {
        waiting = false;
        current.removeAttribute("aria-busy");
        form.dataset.native = "true";
        form.requestSubmit(submitter || null);
      });
    });
  }

  function navigate(url, options, fallback) {
    if (waiting) { return; }
    waiting = true;
    var current = panel();
    if (current) { current.setAttribute("aria-busy", "true"); }
    run(function () {
      return request(url, options).then(function (result) {
        waiting = false;
        if (!result.node) { return leave(result); }
        present(result);
      }, function () {
        waiting = false;
        fallback();
      });
    });
  }

  function submit(form, submitter) {
    if (form.id === "decide-form") {
      decide(form, submitter);
      return;
    }
    navigate(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)) },
      function () {
        form.dataset.native = "true";
        form.requestSubmit(submitter || null);
      });
  }

  function follow(link) {
    navigate(link.href, { method: "GET" }, function () { window.location.assign(link.href); });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("#screen-panel form[data-screen-action]") || form.dataset.native) {
      return;
    }
    event.preventDefault();
    submit(form, event.submitter);
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest("#screen-panel a[data-screen-link]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    follow(link);
  });

  function typing(target) {
    return target && target.closest &&
      target.closest("input, textarea, select, [contenteditable]:not([contenteditable='false'])");
  }

  function openHelp() {
    if (!help || help.open) { return; }
    returnFocus = document.activeElement;
    help.showModal();
  }

  if (help) {
    help.addEventListener("close", function () {
      var target = returnFocus && document.contains(returnFocus) ? returnFocus
        : document.getElementById("record-heading");
      returnFocus = null;
      if (target) { target.focus(); }
    });
    if (helpCloser) { helpCloser.addEventListener("click", function () { help.close(); }); }
    if (helpOpener) {
      helpOpener.hidden = false;
      helpOpener.addEventListener("click", openHelp);
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey ||
        event.isComposing || typing(event.target) || (help && help.open)) {
      return;
    }
    if (event.key === "?") {
      event.preventDefault();
      openHelp();
      return;
    }
    if (event.shiftKey || event.repeat || event.key.length !== 1) { return; }
    var key = event.key.toLowerCase();
    var current = panel();
    if (!current) { return; }
    var target = null;
    if (DECISION_KEYS[key]) {
      target = current.querySelector('#decide-form button[value="' + DECISION_KEYS[key] + '"]');
    } else if (key === "n") {
      target = current.querySelector("#skip-form button");
    } else if (key === "u") {
      target = current.querySelector("#undo-form button");
    } else if (key === "p") {
      var link = current.querySelector("a[data-shortcut='p']");
      if (link) {
        event.preventDefault();
        follow(link);
      }
      return;
    }
    if (target) {
      event.preventDefault();
      submit(target.form, target);
    }
  });

  var first = panel();
  if (first) { prefetch(first); }
})();
