// gridsupply web pages: the cutoff countdown and the charts. Plain JavaScript, no library but
// htmx (already loaded) and, on pages with a chart, ECharts. Runs on every piece of page htmx
// puts in, so swapped-in parts work like the first page.
(function () {
  "use strict";

  var FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
  var COLORS = { on_time: "#2e7d5b", late: "#e0922f", unmet: "#c62828" };

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // The countdown counts by the server's clock (which may be frozen for training or tests):
  // the offset between it and this browser's clock is taken once, when the part is loaded.
  function startCountdown(el) {
    if (el.dataset.started) return;
    el.dataset.started = "1";
    var cutoff = Date.parse(el.dataset.cutoff);
    var offset = Date.parse(el.dataset.now) - Date.now();
    var value = el.querySelector("[data-countdown-value]");
    function tick() {
      if (!document.body.contains(el)) return;
      var left = Math.floor((cutoff - (Date.now() + offset)) / 1000);
      if (left <= 0) {
        el.classList.add("passed");
        value.textContent = "已截止，新提报的需求进入下一批次";
        return;
      }
      var d = Math.floor(left / 86400);
      var h = Math.floor((left % 86400) / 3600);
      var m = Math.floor((left % 3600) / 60);
      var s = left % 60;
      value.textContent = (d > 0 ? d + " 天 " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
      window.setTimeout(tick, 1000 - (Date.now() % 1000));
    }
    tick();
  }

  // A stacked bar chart of lines by category and outcome: {categories, series: [{name, key, data}]}.
  function startChart(el) {
    if (!window.echarts || el.dataset.started) return;
    el.dataset.started = "1";
    var data = JSON.parse(el.dataset.chart);
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    chart.setOption({
      animation: !still,
      textStyle: { fontFamily: FONT },
      title: { text: "按工程类型的需求行", left: 0, textStyle: { fontSize: 14, fontFamily: FONT } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { right: 0, top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.categories, inverse: true },
      series: data.series.map(function (s) {
        return {
          name: s.name,
          id: s.key,
          type: "bar",
          stack: "lines",
          data: s.data,
          itemStyle: { color: COLORS[s.key] },
          barMaxWidth: 22,
        };
      }),
    });
    window.addEventListener("resize", function () {
      chart.resize();
    });
  }

  function start(root) {
    root.querySelectorAll("[data-countdown]").forEach(startCountdown);
    root.querySelectorAll("[data-chart]").forEach(startChart);
  }

  if (window.htmx) {
    window.htmx.onLoad(start);
  } else {
    document.addEventListener("DOMContentLoaded", function () {
      start(document);
    });
  }
})();

// Grouped bars of amounts in 元 (the packages' figures): [data-bars] = {title, categories,
// series: [{key, name, data}]}; the value axis in 万元 (the title says so), the tooltip in 元.
(function () {
  "use strict";

  var FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
  var COLORS = {
    budget: "#5b7b8a", committed: "#2e7d5b", pending: "#e0922f",
    remaining: "#8cc8bd", forecast: "#3465a4", overrun: "#c62828",
  };

  function yuan(value) {
    return Number(value).toLocaleString("zh-CN", {
      minimumFractionDigits: 2, maximumFractionDigits: 2,
    }) + " 元";
  }

  function startBars(el) {
    if (!window.echarts || el.dataset.started) return;
    el.dataset.started = "1";
    var data = JSON.parse(el.dataset.bars);
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    chart.setOption({
      animation: !still,
      textStyle: { fontFamily: FONT },
      title: { text: data.title, left: 0, textStyle: { fontSize: 14, fontFamily: FONT } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: yuan },
      legend: { right: 0, top: 0 },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: data.categories,
        axisLabel: { interval: 0, rotate: data.categories.length > 8 ? 30 : 0, fontSize: 11 },
      },
      yAxis: {
        type: "value",
        axisLabel: {
          formatter: function (v) {
            return (v / 10000).toLocaleString("zh-CN");
          },
        },
      },
      series: data.series.map(function (s) {
        return {
          name: s.name,
          id: s.key,
          type: "bar",
          data: s.data,
          itemStyle: { color: COLORS[s.key] },
          barMaxWidth: 16,
        };
      }),
    });
    window.addEventListener("resize", function () {
      chart.resize();
    });
  }

  function start(root) {
    root.querySelectorAll("[data-bars]").forEach(startBars);
  }

  if (window.htmx) {
    window.htmx.onLoad(start);
  } else {
    document.addEventListener("DOMContentLoaded", function () {
      start(document);
    });
  }
})();
