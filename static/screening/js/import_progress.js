// Polls the import's progress fragment until the import has finished, then stops.
(function () {
  "use strict";
  function poll() {
    var box = document.getElementById("import-progress");
    if (!box || !box.dataset.pollUrl) { return; }
    fetch(box.dataset.pollUrl, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#import-progress");
        if (!fresh) { return; }
        // Keep the same live region so screen readers announce the change.
        box.innerHTML = fresh.innerHTML;
        if (fresh.dataset.pollUrl) {
          window.setTimeout(poll, 1000);
        } else {
          delete box.dataset.pollUrl;
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  document.addEventListener("DOMContentLoaded", function () { window.setTimeout(poll, 1000); });
})();
