// The score sheet's running total and its error summary. No inline script: the site sends a strict CSP.
// Viewflow's pages are driven by Turbo, which runs this file again on each visit: bind each sheet once.
(function () {
  "use strict";

  function number(value) {
    var parsed = parseFloat(String(value || "").replace(",", "."));
    return isFinite(parsed) ? parsed : 0;
  }

  function bind(sheet) {
    if (sheet.dataset.bound) { return; }
    sheet.dataset.bound = "1";
    var form = sheet.closest("form");
    var output = form && form.querySelector("[data-running-total]");
    if (!output) { return; }
    var update = function () {
      var total = 0;
      form.querySelectorAll("input[name^='value_']").forEach(function (input) {
        var na = form.querySelector("input[name='na_" + input.name.slice(6) + "']");
        if (!na || !na.checked) { total += number(input.value); }
      });
      output.textContent = String(Math.round(total * 100) / 100);
    };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  function start() {
    document.querySelectorAll("[data-score-sheet]").forEach(bind);
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary && !summary.dataset.focused) {
      summary.dataset.focused = "1";
      summary.scrollIntoView({block: "start"});
      summary.focus({preventScroll: true});
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  document.addEventListener("turbo:load", start);
})();
