// Screening settings page: the exclusion reasons list. Loaded with `defer` (no inline script
// under the Content-Security-Policy). Everything works without it; it only keeps focus.
(function () {
  "use strict";

  // "Move up" on the first reason (and "Move down" on the last) are aria-disabled rather
  // than disabled, so they stay focusable and focus is not lost after a move; they do nothing.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[aria-disabled='true']");
    if (button) { event.preventDefault(); }
  });

  // After a move, an addition, a rename or a removal the page reloads at #reason-<id>-up (or
  // similar): put keyboard focus back on that control, so pressing it again moves the same
  // reason another step. An error summary takes precedence (app.js focuses it).
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector(".error-summary[tabindex]") || !window.location.hash) { return; }
    var target = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    if (target && target.closest("[data-restore-focus]")) {
      target.focus();
    }
  });
})();
