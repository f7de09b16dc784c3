// Behaviour shared by every page. Loaded with `defer`; no inline script anywhere (CSP).
(function () {
  "use strict";

  // Buttons with data-confirm ask before submitting their form (e.g. removing a member).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // Text size buttons (base.html) take effect at once. The form is still posted, in the
  // background, so the server sets the cookie that keeps the choice on every later page;
  // without script the same form posts and comes back to this page.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (event.defaultPrevented || !form.matches("[data-text-size]") || !button || !window.fetch) {
      return;
    }
    event.preventDefault();
    var data = new FormData(form);
    data.set(button.name, button.value);
    // "manual": the cookie comes with the redirect; the page it points to is not needed.
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin", redirect: "manual" })
      .catch(function () { /* offline: this page still changes; later pages will not */ });
    var root = document.documentElement;
    form.querySelectorAll("button[name]").forEach(function (each) {
      root.classList.toggle("text-" + each.value, each === button);
      each.setAttribute("aria-pressed", each === button ? "true" : "false");
    });
  });

  // Move focus to an error summary so keyboard and screen-reader users hear what went wrong.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary[tabindex]");
    if (summary) { summary.focus(); }
    // Selecting an invitation link's text in one go makes copying it easy.
    document.querySelectorAll(".invitation-link").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  });
})();
