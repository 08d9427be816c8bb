/* Charts of the statistics pages (Chart.js from node_modules) and the live refresh. */
(function () {
  "use strict";
  var COLORS = {
    requests: "#0b62d6", delivered: "#157f3c", bounced: "#b42318", rejected: "#a15c00",
    opened: "#0b62d6", opened_unique: "#6f9fe6", clicked: "#157f3c", clicked_unique: "#7cc39a",
    complained: "#b42318", unsubscribed: "#7a4fc9",
    bounced_invalid_address: "#e04f3f", bounced_mailbox_full: "#e3a008",
    bounced_blocked: "#5b6578", bounced_spam_rejected: "#7a4fc9", bounced_other: "#9aa4b5"
  };

  function datasets(chart) {
    var many = chart.labels.length > 48;
    return chart.datasets.map(function (ds) {
      // A human series takes its total's colour, dashed.
      var human = ds.key.indexOf("_human") !== -1;
      var color = COLORS[ds.key.replace("_human", "")] || "#5b6578";
      return {
        label: ds.label, data: ds.data, borderColor: color, pointBackgroundColor: color,
        // Hollow in the legend: a dashed outline, beside its total's filled box.
        backgroundColor: human ? "rgba(0, 0, 0, 0)" : color,
        borderDash: human ? [4, 3] : [],
        borderWidth: 2, tension: 0.25, cubicInterpolationMode: "monotone",
        pointRadius: many ? 0 : 2, fill: false
      };
    });
  }

  function draw(canvas, chart) {
    // Phones: fewer axis labels, smaller legend boxes; the chart follows its box's width.
    var narrow = canvas.parentNode.clientWidth < 600;
    return new Chart(canvas, {
      type: "line",
      data: { labels: chart.labels, datasets: datasets(chart) },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: narrow ? 8 : 12, font: { size: narrow ? 11 : 12 } } } },
        scales: {
          x: { ticks: { maxTicksLimit: narrow ? 5 : 12, autoSkip: true, maxRotation: 0 }, grid: { display: false } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  }

  // The table under a chart: one row per bucket, one cell per series, as the page drew it.
  function fillTable(table, chart) {
    var rows = chart.labels.map(function (label, i) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = label;
      tr.appendChild(th);
      chart.datasets.forEach(function (ds) {
        var td = document.createElement("td");
        td.className = "num";
        td.textContent = ds.data[i];
        tr.appendChild(td);
      });
      return tr;
    });
    table.tBodies[0].replaceChildren.apply(table.tBodies[0], rows);
  }

  var charts = {};
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    charts[canvas.id] = draw(canvas, JSON.parse(source.textContent));
    canvas.dataset.ready = "1";
  });

  // Show the date inputs only for a custom range.
  var range = document.getElementById("id_range");
  var custom = document.getElementById("custom-dates");
  function toggleCustom() { if (range && custom) { custom.hidden = range.value !== "custom"; } }
  if (range) { range.addEventListener("change", toggleCustom); toggleCustom(); }

  // Live ranges: fetch fresh figures and redraw in place.
  var live = document.querySelector("[data-refresh]");
  if (live) {
    var seconds = parseInt(live.dataset.refresh, 10) * 1000;
    setInterval(function () {
      var url = new URL(window.location.href);
      url.searchParams.set("format", "json");
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          var chart = charts["queue-chart"];
          chart.data.labels = data.chart.labels;
          chart.data.datasets = datasets(data.chart);
          chart.update();
          var table = document.getElementById("queue-table");
          if (table) { fillTable(table, data.chart); }
          data.tiles.forEach(function (t) {
            var tile = document.querySelector('.tile[data-key="' + t.key + '"]');
            if (tile) {
              tile.querySelector(".value").textContent = t.value;
              tile.querySelector(".rate").textContent = t.rate;
            }
          });
          document.getElementById("as-of").textContent = data.as_of;
          var latest = document.getElementById("latest");
          if (latest) {
            latest.hidden = !data.latest;
            document.getElementById("latest-minute").textContent = data.latest;
          }
          var pending = document.getElementById("pending");
          if (pending) { pending.textContent = data.pending || ""; }
          var any = data.tiles.some(function (t) { return t.value > 0; });
          var empty = document.getElementById("queue-empty");
          if (empty) { empty.hidden = any; }
          var noneYet = document.getElementById("queue-none-yet");
          if (noneYet && any) { noneYet.hidden = true; }
        });
    }, seconds);
  }
})();
