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
