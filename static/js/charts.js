/* Charts over data tables (templates/dashboard/chart.html): the server renders the table and
   the data as JSON and a text summary; this draws the chart with uPlot, hides the table behind a
   button and reveals the summary to screen readers. Without JavaScript (or uPlot) the table stays. */
(function () {
  "use strict";

  function draw(figure) {
    var id = figure.getAttribute("data-chart");
    var source = document.getElementById(id + "-data");
    var plot = figure.querySelector(".chart__plot");
    var table = figure.querySelector(".chart__table");
    var toggle = figure.querySelector(".chart__toggle");
    if (!source || !plot || typeof window.uPlot !== "function") { return; }
    var data = JSON.parse(source.textContent);
    var xs = data.labels.map(function (_, i) { return i; });
    plot.hidden = false;
    var width = Math.max(280, plot.clientWidth || figure.clientWidth || 600);
    var options = {
      width: width,
      height: 240,
      legend: { show: false },
      cursor: { show: true },
      scales: { x: { time: false } },
      axes: [
        {
          // Whole indexes only, far enough apart that the period labels never overlap.
          space: 90,
          incrs: [1, 2, 3, 4, 7, 14, 30, 60, 90, 180, 365],
          values: function (u, ticks) { return ticks.map(function (t) { return data.labels[t] || ""; }); }
        },
        { size: 70 }
      ],
      series: [{}, { label: data.title, stroke: "#5b4bdb", fill: "rgba(91,75,219,0.12)", width: 2 }]
    };
    var chart = new window.uPlot(options, [xs, data.values], plot);
    var text = figure.querySelector(".chart__summary");
    if (text) { text.hidden = false; }
    if (table && toggle) {
      var show = toggle.textContent;
      table.hidden = true;
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var open = table.hidden;
        table.hidden = !open;
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        toggle.textContent = open ? (toggle.getAttribute("data-hide") || show) : show;
      });
    }
    window.addEventListener("resize", function () {
      chart.setSize({ width: Math.max(280, plot.clientWidth || width), height: 240 });
    });
  }

  document.querySelectorAll("figure[data-chart]").forEach(draw);
})();
