// gridsupply web pages: the cutoff countdown, the charts, and a few form helpers. Plain
// JavaScript, no library but htmx (already loaded) and, on pages with a chart, ECharts. Runs on
// every piece of page htmx puts in, so swapped-in parts work like the first page.
(function () {
  "use strict";

  var FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
  var COLORS = {
    // lines by outcome (周计划, a project's timeline)
    on_time: "#2e7d5b", late: "#e0922f", unmet: "#c62828",
    // stock against quota (库存与定额)
    on_hand: "#00695f", held: "#e0922f", quota: "#9fb3b8",
    // a package's figures (项目包与备案)
    budget: "#5b7b8a", committed: "#2e7d5b", pending: "#e0922f",
    remaining: "#8cc8bd", forecast: "#3465a4", overrun: "#c62828",
    // the quota advice (定额建议): the quotas in force against the recommended ones
    current: "#9fb3b8", recommended: "#3465a4",
  };
  var BELOW = "#c62828";
  var TITLE = { fontSize: 14, fontFamily: FONT };  // a chart's title (chartOn sets a single one)

  // Each element is started once, however often htmx hands it over.
  function once(el) {
    if (el.dataset.started) return false;
    el.dataset.started = "1";
    return true;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function yuan(value) {
    return Number(value).toLocaleString("zh-CN", {
      minimumFractionDigits: 2, maximumFractionDigits: 2,
    }) + " 元";
  }

  // An ECharts chart on `el` with `option` and what every chart here shares: the fonts, no
  // animation when the reader asks for reduced motion, a resize with the window.
  function chartOn(el, option) {
    if (!window.echarts || !once(el)) return null;
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    option.animation = !still;
    option.textStyle = { fontFamily: FONT };
    if (option.title) option.title.textStyle = { fontSize: 14, fontFamily: FONT };
    chart.setOption(option);
    window.addEventListener("resize", function () {
      chart.resize();
    });
    return chart;
  }

  function bars(series, extra) {
    return series.map(function (s) {
      return Object.assign(
        { name: s.name, id: s.key, type: "bar", data: s.data, itemStyle: { color: COLORS[s.key] } },
        extra
      );
    });
  }

  // The countdown counts by the server's clock (which may be frozen for training or tests):
  // the offset between it and this browser's clock is taken once, when the part is loaded.
  function startCountdown(el) {
    if (!once(el)) return;
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

  // 周计划: lines by project type and outcome, stacked ({categories, series: [{name, key, data}]}).
  function startChart(el) {
    var data = JSON.parse(el.dataset.chart);
    chartOn(el, {
      title: { text: "按工程类型的需求行", left: 0 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { right: 0, top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.categories, inverse: true },
      series: bars(data.series, { stack: "lines", barMaxWidth: 22 }),
    });
  }

  // A project's timeline: per line (a row), its need-by and the arrival of each sourced part,
  // with the project's need-by and build deadline as vertical marks.
  // {lines: [{label, need_by, arrival, verdict, parts: [{arrival, quantity, state, kind}]}],
  //  approved_on, need_by, deadline}
  function startTimeline(el) {
    var data = JSON.parse(el.dataset.timeline);
    el.style.height = Math.min(520, 90 + 30 * data.lines.length) + "px";
    var labels = data.lines.map(function (l) { return l.label; });
    var arrivals = [];
    data.lines.forEach(function (l, i) {
      l.parts.forEach(function (p) {
        arrivals.push({
          value: [p.arrival, i, p.quantity],
          itemStyle: { color: p.arrival > l.need_by ? COLORS.late : COLORS.on_time },
        });
      });
    });
    chartOn(el, {
      title: { text: "到货时间线", left: 0 },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var v = p.value;
          return labels[v[1]] + "<br>" + p.seriesName + " " + v[0] + (v[2] ? " × " + v[2] : "");
        },
      },
      legend: { right: 0, top: 0 },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "time", min: data.approved_on },
      yAxis: { type: "category", data: labels, inverse: true },
      series: [
        {
          name: "需到货",
          id: "need_by",
          type: "scatter",
          symbol: "diamond",
          symbolSize: 12,
          itemStyle: { color: "#607d8b" },
          data: data.lines.map(function (l, i) { return [l.need_by, i]; }),
          markLine: {
            symbol: "none",
            label: { formatter: "{b}", position: "insideEndTop" },
            data: [
              { name: "物资需到货", xAxis: data.need_by, lineStyle: { color: "#607d8b" } },
              { name: "建设期限", xAxis: data.deadline, lineStyle: { color: COLORS.unmet } },
            ],
          },
        },
        {
          name: "到货", id: "arrival", type: "scatter", symbolSize: 10, data: arrivals,
          itemStyle: { color: COLORS.on_time },  // the legend's; each point: on time or late
        },
      ],
    });
  }

  // 库存与定额: reserve on hand, held and quota per warehouse and material as bars, the on-hand
  // bars below quota in red ({categories, names, below, series: [{name, key, data}]}).
  function startStockChart(el) {
    var data = JSON.parse(el.dataset.stockChart);
    var series = bars(data.series, { barMaxWidth: 14, barGap: "10%" });
    series.forEach(function (s) {
      if (s.id !== "on_hand") return;
      s.data = s.data.map(function (v, i) {
        return data.below[i] ? { value: v, itemStyle: { color: BELOW } } : v;
      });
    });
    chartOn(el, {
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (items) {
          var i = items[0].dataIndex;
          var lines = [data.categories[i].replace("\n", " · ") + "<br>" + data.names[i]];
          items.forEach(function (item) {
            lines.push(item.marker + item.seriesName + "：" + Number(item.value).toLocaleString("zh-CN"));
          });
          if (data.below[i]) lines.push('<span style="color:' + BELOW + '">低于定额</span>');
          return lines.join("<br>");
        },
      },
      legend: { right: 0, top: 0, data: data.series.map(function (s) { return s.name; }) },
      grid: { left: 8, right: 8, top: 32, bottom: 4, containLabel: true },
      xAxis: {
        type: "category",
        data: data.categories,
        axisLabel: { interval: 0, fontSize: 10, lineHeight: 12, rotate: 30 },
      },
      // The materials' units differ (台, 米, 只): a logarithmic axis keeps 8 台 and 6,000 米 both
      // readable; an empty bar is 0.
      yAxis: { type: "log", logBase: 10, min: 1, name: "数量（对数刻度）", nameTextStyle: { align: "left" } },
      series: series,
    });
  }

  // 定额建议: the year replayed with the current quotas and with the recommended ones — on the
  // left the short-deadline lines on time (%) with the target, on the right the average stock
  // value and the value at quota (万元). {target, names, on_time, stock_value, quota_value}
  function startAdviceReplay(el) {
    var data = JSON.parse(el.dataset.adviceReplay);
    var colors = [COLORS.current, COLORS.recommended];
    function coloured(values) {
      return values.map(function (v, i) { return { value: v, itemStyle: { color: colors[i] } }; });
    }
    chartOn(el, {
      title: [
        { text: "短工期需求行按时率（%）", left: "0%", textStyle: TITLE },
        { text: "库存金额（万元）", left: "52%", textStyle: TITLE },
      ],
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { right: 0, bottom: 0, data: ["平均库存金额", "定额金额"] },
      grid: [
        { left: 8, width: "40%", top: 48, bottom: 28, containLabel: true },
        { left: "52%", right: 8, top: 48, bottom: 28, containLabel: true },
      ],
      xAxis: [
        { type: "category", data: data.names, gridIndex: 0 },
        { type: "category", data: data.names, gridIndex: 1 },
      ],
      yAxis: [
        { type: "value", min: 0, max: 100, gridIndex: 0 },
        { type: "value", min: 0, gridIndex: 1 },
      ],
      series: [
        {
          name: "按时率", id: "on_time", type: "bar", xAxisIndex: 0, yAxisIndex: 0,
          barMaxWidth: 48, data: coloured(data.on_time),
          label: { show: true, position: "insideTop", color: "#fff", formatter: "{c}%" },
          markLine: {
            symbol: "none",
            label: { formatter: "目标 {c}%", position: "insideStartTop" },
            lineStyle: { color: COLORS.unmet, type: "dashed" },
            data: [{ yAxis: data.target }],
          },
        },
        {
          name: "平均库存金额", id: "stock_value", type: "bar", xAxisIndex: 1, yAxisIndex: 1,
          barMaxWidth: 32, data: data.stock_value, itemStyle: { color: COLORS.on_hand },
          label: { show: true, position: "top" },
        },
        {
          name: "定额金额", id: "quota_value", type: "bar", xAxisIndex: 1, yAxisIndex: 1,
          barMaxWidth: 32, data: data.quota_value, itemStyle: { color: COLORS.remaining },
          label: { show: true, position: "top" },
        },
      ],
    });
  }

  // 定额建议: current against recommended quota as horizontal bars, one row per material (or
  // warehouse × material); in 万元, or in the materials' own units on a logarithmic axis.
  // {title, unit, log, categories, names, series: [{name, key, data}]}
  function startAdviceBars(el) {
    var data = JSON.parse(el.dataset.adviceBars);
    el.style.height = Math.max(240, 70 + 26 * data.categories.length) + "px";
    chartOn(el, {
      title: { text: data.title, left: 0 },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (items) {
          var i = items[0].dataIndex;
          var lines = [data.categories[i] + "<br>" + data.names[i]];
          items.forEach(function (item) {
            lines.push(item.marker + item.seriesName + "：" +
              Number(item.value).toLocaleString("zh-CN") + (data.unit ? " " + data.unit : ""));
          });
          return lines.join("<br>");
        },
      },
      legend: { right: 0, top: 0 },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: data.log ? { type: "log", logBase: 10, min: 1 } : { type: "value" },
      yAxis: {
        type: "category", data: data.categories, inverse: true,
        axisLabel: { fontSize: 11 },
      },
      series: bars(data.series, { barMaxWidth: 10, barGap: "20%" }),
    });
  }

  // 项目包与备案: grouped bars of amounts in 元 ({title, categories, series: [{key, name, data}]});
  // the value axis in 万元 (the title says so), the tooltip in 元.
  function startBars(el) {
    var data = JSON.parse(el.dataset.bars);
    chartOn(el, {
      title: { text: data.title, left: 0 },
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
      series: bars(data.series, { barMaxWidth: 16 }),
    });
  }

  // Forms that ask before they send (`data-confirm`: confirming the quota catalog).
  function askFirst(form) {
    if (!once(form)) return;
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  // The request form's 添加一行: a copy of the last line, empty, up to the form's maximum.
  function startAddLine(button) {
    if (!once(button)) return;
    button.addEventListener("click", function () {
      var lines = button.closest("fieldset").querySelectorAll("[data-line]");
      if (lines.length >= Number(button.dataset.max)) return;
      var last = lines[lines.length - 1];
      var copy = last.cloneNode(true);
      copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      copy.querySelectorAll(".field-error").forEach(function (error) { error.remove(); });
      last.after(copy);
      copy.querySelector("input").focus();
      if (lines.length + 1 >= Number(button.dataset.max)) button.disabled = true;
    });
  }

  var STARTERS = [
    ["[data-countdown]", startCountdown],
    ["[data-chart]", startChart],
    ["[data-timeline]", startTimeline],
    ["[data-stock-chart]", startStockChart],
    ["[data-bars]", startBars],
    ["[data-advice-replay]", startAdviceReplay],
    ["[data-advice-bars]", startAdviceBars],
    ["form[data-confirm]", askFirst],
    ["[data-add-line]", startAddLine],
  ];

  function start(root) {
    STARTERS.forEach(function (pair) {
      root.querySelectorAll(pair[0]).forEach(pair[1]);
    });
  }

  if (window.htmx) {
    window.htmx.onLoad(start);
  } else {
    document.addEventListener("DOMContentLoaded", function () {
      start(document);
    });
  }
})();
