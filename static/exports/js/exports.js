// The exports page: while an export is queued or running, fetch the jobs table every second
// and swap it in, so progress bars move without a reload. When a job finishes, the live
// region says so once (a moving bar is not announced: that would talk over everything).
(function () {
  "use strict";

  var host = document.getElementById("export-jobs");
  var announcer = document.getElementById("export-announcer");
  if (!host) { return; }
  var INTERVAL = 1000;

  function states(root) {
    var result = {};
    root.querySelectorAll("tr[data-status]").forEach(function (row) {
      result[row.id] = { status: row.dataset.status, label: row.dataset.label };
    });
    return result;
  }

  function busy() {
    return host.querySelector('tr[data-status="running"], tr[data-status="queued"]') !== null;
  }

  function refresh() {
    fetch(host.dataset.url, { credentials: "same-origin", cache: "no-store",
                              headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var before = states(host);
        var focused = document.activeElement && host.contains(document.activeElement);
        var template = document.createElement("template");
        template.innerHTML = html;
        var after = states(template.content);
        host.replaceChildren(template.content);
        Object.keys(after).forEach(function (id) {
          var was = before[id];
          var now = after[id];
          if (was && was.status !== now.status && announcer) {
            if (now.status === "succeeded") { announcer.textContent = now.label + " is ready to download."; }
            if (now.status === "failed") { announcer.textContent = now.label + " failed."; }
          }
        });
        if (focused) { host.focus(); }
        document.dispatchEvent(new CustomEvent("exports:updated"));
      })
      .finally(schedule);
  }

  function schedule() {
    if (busy()) { window.setTimeout(refresh, INTERVAL); }
  }

  host.setAttribute("tabindex", "-1");
  schedule();
})();
