// Care for people who write slowly or step away (WCAG 2.2.1 Timing Adjustable), on every page:
// 1. Drafts: the text of each <textarea data-draft-key="..."> is kept in this tab's
//    sessionStorage while it is typed, and put back if the page comes back without it.
// 2. Signed-in pages: a warning before SessionLifetimeMiddleware signs the user out (the
//    #session-warning dialog in base.html), with "Stay signed in" calling the keep-alive view.
// Loaded with `defer`; no inline script anywhere (CSP).
(function () {
  "use strict";

  var body = document.body;

  function storageOf(name) {
    // Storage can be switched off, or throw when touched (private modes, strict settings).
    try {
      var store = window[name];
      store.getItem("");
      return store;
    } catch (error) {
      return null;
    }
  }

  // --- 1. Drafts ---------------------------------------------------------------------------
  var drafts = storageOf("sessionStorage");
  var DRAFT_ROOT = "reviewapp.draft.";
  // Scoped by account, so a draft left in a shared browser tab never appears in someone
  // else's comment box after they sign in there.
  var DRAFT_PREFIX = DRAFT_ROOT + (body.dataset.draftScope || "0") + ".";
  // Keys of drafts whose form was sent; the next page decides whether the sending worked.
  var SENT_KEY = "reviewapp.drafts-sent";
  var signedIn = Boolean(body.dataset.idleTimeout);

  function draftKey(area) { return DRAFT_PREFIX + area.dataset.draftKey; }

  function readSent() {
    try { return JSON.parse(drafts.getItem(SENT_KEY)) || []; } catch (error) { return []; }
  }

  function remember(key, value) {
    try {
      if (value) { drafts.setItem(key, value); } else { drafts.removeItem(key); }
    } catch (error) {
      // Storage full: the text is still in the box; only the safety copy is missing.
    }
  }

  // A sent form that led to a signed-in page went through (a form with errors shows its text
  // again from the server), so its drafts are done with. One that led to the login page was
  // turned away because the session had ended: its drafts stay, to come back after sign-in.
  function settleSentDrafts() {
    var sent = readSent();
    drafts.removeItem(SENT_KEY);
    if (signedIn) { sent.forEach(function (key) { drafts.removeItem(key); }); }
  }

  function restoreDrafts() {
    document.querySelectorAll("textarea[data-draft-key]").forEach(function (area) {
      var saved = drafts.getItem(draftKey(area));
      // Text the server put back (a form with errors) is newer than the draft.
      if (!saved || area.value) { return; }
      area.value = saved;
      var note = document.createElement("p");
      note.className = "draft-note";
      note.id = (area.id || "draft-" + Math.random().toString(36).slice(2)) + "-draft-note";
      note.textContent = "This is the text you had not sent yet, brought back from earlier.";
      area.insertAdjacentElement("afterend", note);
      var described = area.getAttribute("aria-describedby");
      area.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
    });
  }

  function forgetAllDrafts() {
    for (var i = drafts.length - 1; i >= 0; i -= 1) {
      var key = drafts.key(i);
      if (key && key.indexOf(DRAFT_ROOT) === 0) { drafts.removeItem(key); }
    }
    drafts.removeItem(SENT_KEY);
  }

  if (drafts) {
    settleSentDrafts();
    restoreDrafts();

    document.addEventListener("input", function (event) {
      var area = event.target;
      if (!area.matches || !area.matches("textarea[data-draft-key]")) { return; }
      var key = draftKey(area);
      remember(key, area.value);
      var sent = readSent();
      if (sent.indexOf(key) !== -1) {
        remember(SENT_KEY, JSON.stringify(sent.filter(function (k) { return k !== key; })));
      }
    });

    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.hasAttribute("data-clears-drafts")) {
        forgetAllDrafts();
        return;
      }
      // Cancelled already (a "data-confirm" question answered No in app.js): nothing was sent.
      if (event.defaultPrevented) { return; }
      var keys = Array.prototype.filter.call(form.elements, function (field) {
        return field.matches("textarea[data-draft-key]");
      }).map(draftKey);
      if (keys.length) { remember(SENT_KEY, JSON.stringify(readSent().concat(keys))); }
    });
  }

  // --- 2. Session warning ------------------------------------------------------------------
  var dialog = document.getElementById("session-warning");
  var timeout = Number(body.dataset.idleTimeout) * 1000;
  if (!dialog || !timeout || typeof dialog.showModal !== "function") { return; }

  // Warn 5 minutes ahead, or half-way for a timeout shorter than 10 minutes.
  var LEAD = Math.min(300 * 1000, timeout / 2);
  // The server's clock stops at whole seconds; show "signed out" only once it surely has.
  var GRACE = 1500;
  // Same-origin pages in other tabs share one session: whoever last reached the server
  // writes the deadlines here, and the others follow (the "storage" event, and back/forward).
  var SHARED_KEY = "reviewapp.session";
  var shared = storageOf("localStorage");
  var keepAliveForm = dialog.querySelector("[data-session-keep-alive]");

  // Deadlines are counted from the start of this page's navigation, which came before the
  // server worked out the seconds left, so they err on the early side.
  var loadedAt = Math.round(performance.timeOrigin || Date.now() - performance.now());
  var clock = {
    contact: loadedAt,
    idle: loadedAt + Number(body.dataset.idleLeft) * 1000,
    end: loadedAt + Number(body.dataset.sessionLeft) * 1000
  };
  var mode = null;           // what the dialog shows while open: "idle", "absolute" or "ended"
  var absoluteSeen = false;  // the "maximum length" warning is given once
  var endedSeen = false;
  var returnFocus = null;
  var timer = null;
  var sending = false;

  function readShared() {
    if (!shared) { return null; }
    try { return JSON.parse(shared.getItem(SHARED_KEY)); } catch (error) { return null; }
  }

  function publish() {
    if (!shared) { return; }
    try { shared.setItem(SHARED_KEY, JSON.stringify(clock)); } catch (error) { /* full */ }
  }

  function adoptShared() {
    var other = readShared();
    if (other && other.contact > clock.contact && other.idle && other.end) {
      if (other.end !== clock.end) { absoluteSeen = false; }
      clock = { contact: other.contact, idle: other.idle, end: other.end };
      endedSeen = false;
      return true;
    }
    return false;
  }

  function contacted(at) {
    clock = { contact: at, idle: at + timeout, end: clock.end };
    endedSeen = false;
    publish();
    check();
  }

  function keepAlive() {
    if (sending) { return; }
    sending = true;
    var sentAt = Date.now();
    // "manual": a signed-out session is redirected to the login page, which is not wanted here.
    fetch(keepAliveForm.action, {
      method: "POST",
      body: new FormData(keepAliveForm),
      credentials: "same-origin",
      redirect: "manual"
    }).then(function (response) {
      sending = false;
      if (response.status === 204) {
        contacted(sentAt);
      } else {
        clock.idle = Math.min(clock.idle, Date.now() - GRACE);
        check();
      }
    }, function () {
      // No connection: the warning comes back, so "Stay signed in" can be tried again.
      sending = false;
      check();
    });
  }

  function section(name) { return dialog.querySelector('[data-session-state="' + name + '"]'); }

  function wording(ms) {
    var minutes = Math.ceil(ms / 60000);
    return ms > 60000 ? minutes + " minutes" : "less than a minute";
  }

  function show(next, deadline) {
    if (dialog.open && mode !== next) {
      // The dialog is already announced; its new words have to be announced as they appear.
      document.getElementById("session-" + next + "-text").setAttribute("role", "alert");
    }
    if (mode !== next) {
      ["idle", "absolute", "ended"].forEach(function (name) { section(name).hidden = name !== next; });
      dialog.setAttribute("aria-labelledby", "session-" + next + "-title");
      dialog.setAttribute("aria-describedby", "session-" + next + "-text");
    }
    var countdown = section(next).querySelector("[data-session-countdown]");
    if (countdown) {
      var text = wording(deadline - Date.now());
      if (countdown.textContent !== text) { countdown.textContent = text; }
    }
    if (!dialog.open) {
      returnFocus = document.activeElement;
      dialog.showModal();
    }
    if (mode !== next) {
      mode = next;
      section(next).querySelector("button, a").focus();
    }
  }

  function hide() {
    if (dialog.open) { dialog.close(); }
  }

  // Closing by any means (the button, Escape, the browser's own close request) while the
  // idle warning is showing means "I am still here".
  dialog.addEventListener("close", function () {
    var was = mode;
    mode = null;
    if (was === "absolute") { absoluteSeen = true; }
    if (was === "ended") { endedSeen = true; }
    if (returnFocus && returnFocus.isConnected && returnFocus !== document.body) {
      returnFocus.focus();
    }
    returnFocus = null;
    // The keep-alive's answer checks again; checking now would reopen the warning meanwhile.
    if (was === "idle") { keepAlive(); } else { check(); }
  });

  keepAliveForm.addEventListener("submit", function (event) {
    event.preventDefault();
    hide();
  });
  dialog.querySelectorAll("[data-session-close]").forEach(function (button) {
    button.addEventListener("click", hide);
  });

  function check() {
    clearTimeout(timer);
    var now = Date.now();
    var absolute = clock.end <= clock.idle;
    var deadline = absolute ? clock.end : clock.idle;
    var next = null;
    if (now >= deadline + GRACE) {
      next = endedSeen ? null : "ended";
    } else if (now >= deadline - LEAD && !(absolute && absoluteSeen) && !sending) {
      next = absolute ? "absolute" : "idle";
    }
    if (next) {
      show(next, deadline);
    } else if (dialog.open && mode !== "ended") {
      // Another tab reached the server in the meantime: the warning no longer holds.
      mode = null;
      hide();
    }
    // Checked every second while the dialog counts down, otherwise at the next moment that
    // matters; never more than a minute apart, since timers in background tabs drift.
    if (now >= deadline + GRACE) { return; }
    var wait = dialog.open ? 1000 : Math.min(60000, Math.max(1000,
      (now < deadline - LEAD ? deadline - LEAD : deadline + GRACE) - now));
    timer = setTimeout(check, wait);
  }

  // While the warning is open its keys belong to it: a letter pressed there must not reach
  // a page's shortcuts (screening's "i" records an Include).
  window.addEventListener("keydown", function (event) {
    if (dialog.open) { event.stopPropagation(); }
  }, true);

  // Someone typing or clicking in this tab is here: their session is kept going quietly, at
  // most once per half-timeout, so the warning never interrupts a sentence.
  function active(event) {
    if (dialog.open || dialog.contains(event.target)) { return; }
    if (Date.now() - clock.contact > timeout / 2 && Date.now() < clock.idle) { keepAlive(); }
  }
  ["keydown", "pointerdown", "input", "wheel", "touchstart"].forEach(function (type) {
    window.addEventListener(type, active, { capture: true, passive: true });
  });

  window.addEventListener("storage", function (event) {
    if (event.key === SHARED_KEY && adoptShared()) { check(); }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { adoptShared(); check(); }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { check(); }
  });

  if (!adoptShared()) { publish(); }
  check();
})();
