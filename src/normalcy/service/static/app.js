// normalcy operator page: live alarm list (server-sent events), trend and KPI charts (uPlot).
// Every string shown comes from server-rendered, escaped HTML or is set as text.
(function () {
  "use strict";

  function liveList() {
    var body = document.getElementById("alarm-rows");
    var table = document.getElementById("alarm-table");
    if (!body || !table) return;
    var status = document.getElementById("live");
    function refresh() {
      fetch(table.dataset.live, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { body.innerHTML = html; })
        .catch(function () {});
    }
    if (window.EventSource) {
      var es = new EventSource("/api/events");
      es.onopen = function () { status.textContent = "live"; };
      es.onmessage = refresh;
      es.onerror = function () { status.textContent = "reconnecting"; };
    }
    setInterval(refresh, 10000);  // also when events cannot get through
  }

  function shade(from, to) {  // uPlot plugin: shade the episode's time range
    return {hooks: {drawClear: function (u) {
      var x0 = u.valToPos(from, "x", true), x1 = u.valToPos(to, "x", true);
      var ctx = u.ctx;
      ctx.save();
      ctx.fillStyle = "rgba(212, 0, 15, 0.12)";
      ctx.fillRect(x0, u.bbox.top, Math.max(x1 - x0, 2), u.bbox.height);
      ctx.restore();
    }}};
  }

  function trend() {
    var box = document.getElementById("trend");
    if (!box || !window.uPlot) return;
    fetch(box.dataset.src, {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.json() : Promise.reject(r.status);
    }).then(function (d) {
      var expected = d.band === "expected";
      var lowLabel = expected ? "expected low" : "lower bound";
      var highLabel = expected ? "expected high" : "upper bound";
      var hint = document.getElementById("trend-hint");
      if (hint) hint.textContent = "Grey band: " + d.band_text + "; shaded: the episode.";
      d.sensors.slice(0, 3).forEach(function (name) {
        var s = d.series[name];
        var div = document.createElement("div");
        div.className = "chart";
        box.appendChild(div);
        var opts = {
          title: name, width: Math.min(1100, box.clientWidth || 900), height: 190,
          plugins: [shade(d.episode[0], d.episode[1])],
          scales: {x: {time: true}},
          series: [{}, {label: lowLabel, stroke: "#8c8c8c", width: 1},
                   {label: highLabel, stroke: "#8c8c8c", width: 1},
                   {label: name, stroke: "#1e1e1e", width: 1.5}],
          bands: [{series: [2, 1], fill: "rgba(110, 110, 110, 0.25)"}],
          axes: [{stroke: "#333"}, {stroke: "#333"}]
        };
        new uPlot(opts, [d.time, s.lo, s.hi, s.value], div);
      });
    }).catch(function () {
      box.textContent = "the trend is not available";
    });
  }

  function kpiChart() {
    var box = document.getElementById("kpi-chart");
    if (!box || !window.uPlot) return;
    fetch(box.dataset.src, {credentials: "same-origin"}).then(function (r) {
      return r.json();
    }).then(function (k) {
      var p = k.overall.per_10min, n = p.counts.length;
      if (!n) {  // no reading yet: nothing to draw (not an axis at 1970)
        box.textContent = "No reading yet: the chart starts with the units' first readings.";
        return;
      }
      var x = [], ok = [], flood = [];
      for (var i = 0; i < n; i++) {
        x.push(p.start + 600 * i);
        ok.push(k.reference.acceptable_per_10min);
        flood.push(k.reference.flood_per_10min);
      }
      var bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({size: [0.8]}) : null;
      new uPlot({
        title: "alarms per 10 minutes, all units", width: Math.min(1100, box.clientWidth || 900),
        height: 240, scales: {x: {time: true}, y: {range: [0, Math.max(12, Math.max.apply(null, p.counts.concat([0])) + 1)]}},
        series: [{}, {label: "alarms", stroke: "#1e1e1e", fill: "rgba(60,60,60,0.35)", paths: bars},
                 {label: "EEMUA acceptable (1)", stroke: "#3b64b0", dash: [6, 4]},
                 {label: "EEMUA flood (10)", stroke: "#d4000f", dash: [6, 4]}],
        axes: [{stroke: "#333"}, {stroke: "#333"}]
      }, [x, p.counts, ok, flood], box);
    }).catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    liveList();
    trend();
    kpiChart();
  });
})();
