// Draws every chart of a dashboard with Chart.js from the page's JSON endpoint (the same numbers as the tables).
// A static file: the pages allow no inline script. When done, <body data-charts-drawn="N"> tells tests how many.
(function () {
  "use strict";
  var COLOURS = ["#1f4e79", "#c0504d", "#9bbb59", "#f79646", "#8064a2", "#4bacc6", "#7f7f7f", "#2e75b6"];

  function draw(chart) {
    var canvas = document.getElementById("chart-" + chart.id);
    if (!canvas || !window.Chart) { return false; }
    var datasets = chart.series.map(function (series, index) {
      var colour = COLOURS[index % COLOURS.length];
      var numeric = series.values.every(function (v) { return v === null || typeof v === "number"; });
      return numeric ? {
        label: series.name, data: series.values, borderColor: colour, backgroundColor: colour,
        spanGaps: true, borderDash: chart.kind === "line" && index > 0 ? [6, 4] : []
      } : null;
    }).filter(Boolean);
    new window.Chart(canvas, {
      type: chart.kind,
      data: {labels: chart.labels, datasets: datasets},
      options: {responsive: true, maintainAspectRatio: false, animation: false,
                scales: {y: {beginAtZero: true}}, plugins: {legend: {position: "bottom"}}}
    });
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("xq-dashboard");
    if (!root) { return; }
    fetch(root.getAttribute("data-charts-url"), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var drawn = data.charts.filter(draw).length;
        document.body.setAttribute("data-charts-drawn", String(drawn));
      });
  });
})();
