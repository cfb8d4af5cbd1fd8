// Followup dashboard: the few things a page does better with a script.
// Everything works without it.
"use strict";

// Forms with data-confirm ask first (stop, reject, enroll everyone).
document.addEventListener("submit", function (ev) {
  var f = ev.target;
  if (f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
    ev.preventDefault();
  }
});

// An upload in progress: poll its status, move the bar, reload when done.
(function () {
  var job = document.getElementById("upload-job");
  if (!job || job.dataset.done === "true") {
    return;
  }
  var bar = job.querySelector("progress");
  var counts = job.querySelectorAll("[data-k]");
  function poll() {
    fetch(job.dataset.status, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        bar.value = s.percent;
        bar.textContent = s.percent + "%";
        counts.forEach(function (el) { el.textContent = s[el.dataset.k]; });
        if (s.done) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 700);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 300);
})();
