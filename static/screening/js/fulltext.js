// Full-text and conflict pages: keep a decision form's choice and exclusion reason in step.
// Choosing a reason means "exclude"; choosing "include" clears the reason. No inline script
// anywhere (CSP); the form works the same without this file.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-decision-form]").forEach(function (form) {
      var reason = form.querySelector("select[name$='reason']");
      var exclude = form.querySelector("input[type='radio'][value='exclude']");
      var include = form.querySelector("input[type='radio'][value='include']");
      if (!reason || !exclude || !include) { return; }
      reason.addEventListener("change", function () {
        if (reason.value) { exclude.checked = true; }
      });
      include.addEventListener("change", function () {
        if (include.checked) { reason.value = ""; }
      });
    });
  });
})();
