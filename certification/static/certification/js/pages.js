// 学区认证's page behaviour, loaded once by base_page.html. There is no inline script anywhere: the
// Content-Security-Policy lets scripts run only from our own static files. Each part starts from data- attributes
// the templates write, on the first load and after every Turbo navigation.
(function () {
  "use strict";

  // Viewflow's search box draws its "Search..." label in JavaScript, out of reach of the catalogue.
  var script = document.currentScript;
  var searchLabel = script && script.dataset.searchLabel;
  if (searchLabel) {
    new MutationObserver(function () {
      var node = document.getElementById("id_page_search_label");
      if (node && node.textContent !== searchLabel) { node.textContent = searchLabel; }
    }).observe(document.documentElement, {childList: true, subtree: true});
  }

  function readState(root) {
    var holder = document.getElementById(root.dataset.stateId);
    return holder ? JSON.parse(holder.textContent) : {};
  }

  // Ask `url` every second while `root` is on the page; `show` draws a state and says whether to go on.
  function poll(root, url, show) {
    function step() {
      if (!document.body.contains(root)) { return; }
      fetch(url, {credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (state) { if (show(state)) { setTimeout(step, 1000); } });
    }
    setTimeout(step, 1000);
  }

  function text(id, value) {
    var node = document.getElementById(id);
    if (node) { node.textContent = value; }
  }

  function exportJob(root) {
    var unfinished = function (state) { return state.status !== "done" && state.status !== "failed"; };
    if (!unfinished(readState(root))) { return; }
    poll(root, root.dataset.statusUrl, function (state) {
      text("export-status", state.status_display);
      document.getElementById("export-progress").value = state.progress;
      text("export-error", state.error);
      var link = document.getElementById("export-download");
      if (state.download_url) { link.href = state.download_url; link.hidden = false; }
      return unfinished(state);
    });
  }

  function datasetImport(root) {
    if (readState(root).finished) { return; }
    poll(root, root.dataset.statusUrl, function (state) {
      text("import-status", state.status_display);
      document.getElementById("import-progress").value = state.progress;
      text("import-rows", state.rows);
      if (state.finished) { window.location.reload(); }
      return !state.finished;
    });
  }

  function submitOnChange(field) {
    field.addEventListener("change", function () { field.form.requestSubmit(); });
  }

  var parts = {
    "[data-export-job]": exportJob,
    "[data-dataset-import]": datasetImport,
    "[data-submit-on-change]": submitOnChange,
  };

  function start() {
    Object.keys(parts).forEach(function (selector) {
      document.querySelectorAll(selector).forEach(function (node) {
        if (node.dataset.xqStarted) { return; }
        node.dataset.xqStarted = "1";
        parts[selector](node);
      });
    });
  }

  document.addEventListener("turbo:load", start);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
