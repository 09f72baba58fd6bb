/**
 * The dashboard's script, served as /dashboard/app.js. Plain browser JavaScript, no framework and no charting
 * library: charts are SVG drawn here. Every bar and point carries `data-key` / `data-value` so a browser test can
 * check that what is drawn is the data. (No template literals inside: this text is itself one.)
 */
export const DASHBOARD_SCRIPT = String.raw`(function () {
  "use strict";
  var TOKEN_KEY = "switchyard-admin-token";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var COLORS = { accent: "#3b6df6", warn: "#e0613a", ok: "#1f9d6b", alt: "#9b6bf2", grey: "#c5cad3" };
  var GROUPINGS = ["day", "key", "route", "provider", "model"];
  var $ = function (id) { return document.getElementById(id); };

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function showLogin(message) {
    $("dashboard").hidden = true;
    $("controls").hidden = true;
    $("login").hidden = false;
    $("login-error").hidden = !message;
    $("login-error").textContent = message || "";
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(message);
  }

  async function api(path) {
    var res = await fetch(path, { headers: { authorization: "Bearer " + token() } });
    var body = await res.json().catch(function () { return {}; });
    if (res.status === 401) { signOut("The admin token was not accepted."); throw new Error("unauthorized"); }
    if (!res.ok) throw new Error((body.error && body.error.message) || "HTTP " + res.status);
    return body;
  }

  // ---- formatting ----
  function usd(value) {
    if (value === null || value === undefined) return "unpriced";
    if (value === 0) return "$0";
    if (Math.abs(value) < 0.01) return "$" + value.toPrecision(3);
    return "$" + value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function usdAxis(value) { return value >= 1 ? "$" + value.toFixed(2) : "$" + Number(value.toPrecision(3)); }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function count(value) { return Math.round(value).toLocaleString("en-US"); }
  function pct(part, whole) { return whole > 0 ? (100 * part / whole).toFixed(1) + "%" : "–"; }
  function ms(value) { return value === null || value === undefined ? "–" : Math.round(value).toLocaleString("en-US") + " ms"; }
  function isoDay(date) { return date.toISOString().slice(0, 10); }

  // ---- SVG helpers ----
  function svgEl(name, attrs, text) {
    var el = document.createElementNS(SVG_NS, name);
    for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) el.setAttribute(k, String(attrs[k]));
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function titled(el, text) { el.appendChild(svgEl("title", {}, text)); return el; }
  function niceMax(max) {
    if (!(max > 0)) return 1;
    var magnitude = Math.pow(10, Math.floor(Math.log10(max)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * magnitude >= max) return steps[i] * magnitude;
    return 10 * magnitude;
  }
  function legend(svg, series, width) {
    var x = width;
    for (var i = series.length - 1; i >= 0; i--) {
      x -= 12 + series[i].name.length * 6.5 + 14;
      svg.appendChild(svgEl("rect", { x: x, y: 2, width: 10, height: 10, rx: 2, fill: series[i].color }));
      svg.appendChild(svgEl("text", { x: x + 14, y: 11 }, series[i].name));
    }
  }
  function empty(el) { el.textContent = ""; var p = document.createElement("p"); p.className = "empty"; p.textContent = "No requests in this period."; el.appendChild(p); }

  /** Grouped columns: categories along x, one column per series; the y axis starts at 0. */
  function columns(el, categories, series, options) {
    el.textContent = "";
    if (categories.length === 0) return empty(el);
    var width = options.width || 1200, height = options.height || 240, left = 64, right = 8, top = 22, bottom = 28;
    var format = options.format;
    var max = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v > max) max = v; }); });
    max = niceMax(max);
    var svg = svgEl("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", role: "img", "aria-label": options.label });
    var plotW = width - left - right, plotH = height - top - bottom;
    for (var g = 0; g <= 4; g++) {
      var gy = top + plotH - (plotH * g) / 4;
      svg.appendChild(svgEl("line", { x1: left, x2: width - right, y1: gy, y2: gy, stroke: "#e4e7ec" }));
      svg.appendChild(svgEl("text", { x: left - 6, y: gy + 4, "text-anchor": "end" }, format((max * g) / 4)));
    }
    var slot = plotW / categories.length;
    var barW = Math.max(2, Math.min(48, (slot * 0.8) / series.length));
    var labelEvery = Math.ceil(categories.length / 12);
    categories.forEach(function (category, i) {
      var x0 = left + i * slot + (slot - barW * series.length) / 2;
      series.forEach(function (s, j) {
        var value = s.values[i] || 0;
        var h = (plotH * value) / max;
        var rect = svgEl("rect", { x: x0 + j * barW, y: top + plotH - h, width: barW - 1, height: Math.max(0, h), fill: s.color, rx: 1,
          "data-key": category.key, "data-series": s.name, "data-value": value, class: "bar" });
        svg.appendChild(titled(rect, category.label + " · " + s.name + ": " + format(value)));
      });
      if (i % labelEvery === 0) svg.appendChild(svgEl("text", { x: left + i * slot + slot / 2, y: height - 10, "text-anchor": "middle", class: "label" }, category.label));
    });
    if (series.length > 1) legend(svg, series, width - right);
    el.appendChild(svg);
  }

  /** Horizontal bars, largest first; a null value is drawn as "unpriced", not as zero. */
  function hbars(el, items, options) {
    el.textContent = "";
    if (items.length === 0) return empty(el);
    var shown = items.slice(0, options.limit || 8);
    var width = 420, row = 24, labelW = 120, valueW = 175, height = shown.length * row + 4;
    var max = options.max || niceMax(Math.max.apply(null, shown.map(function (i) { return i.value || 0; })));
    var svg = svgEl("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", role: "img", "aria-label": options.label });
    shown.forEach(function (item, i) {
      var y = i * row + 2;
      var label = item.label.length > 17 ? item.label.slice(0, 16) + "…" : item.label;
      svg.appendChild(titled(svgEl("text", { x: 0, y: y + 16, class: "label" }, label), item.label));
      var barMax = width - labelW - valueW;
      svg.appendChild(svgEl("rect", { x: labelW, y: y + 4, width: barMax, height: row - 10, fill: "#f0f2f5", rx: 3 }));
      var w = item.value === null ? 0 : (barMax * item.value) / max;
      var rect = svgEl("rect", { x: labelW, y: y + 4, width: Math.max(item.value ? 2 : 0, w), height: row - 10, rx: 3,
        fill: item.value === null ? COLORS.grey : item.color || COLORS.accent, class: "bar", "data-key": item.key, "data-value": item.value === null ? "unpriced" : item.value });
      svg.appendChild(titled(rect, item.label + ": " + item.display));
      svg.appendChild(svgEl("text", { x: width - 4, y: y + 16, "text-anchor": "end", class: "label" }, item.display));
    });
    el.appendChild(svg);
  }

  function kpi(label, value, sub, name) {
    var div = document.createElement("div");
    div.className = "kpi";
    div.dataset.kpi = name;
    var l = document.createElement("div"); l.className = "label"; l.textContent = label;
    var v = document.createElement("div"); v.className = "value"; v.textContent = value;
    var s = document.createElement("div"); s.className = "sub"; s.textContent = sub;
    div.append(l, v, s);
    return div;
  }

  function spendItems(groups, names) {
    return groups.map(function (g) {
      var unpriced = g.unpricedRequests > 0 ? " (+" + g.unpricedRequests + " unpriced)" : "";
      return { key: g.key, label: (names && names[g.key]) || g.key, value: g.costUsd, display: (g.costUsd === null ? "unpriced" : usd(g.costUsd) + unpriced) + " · " + count(g.requests) + " req" };
    });
  }

  function sum(items, field) { return items.reduce(function (total, item) { return total + item[field]; }, 0); }

  function render(reports, days, keyNames) {
    var totals = reports.day.totals;
    var rules = reports.day.guardrails || [];
    var kpis = $("kpis");
    kpis.textContent = "";
    kpis.append(
      kpi("Spend", usd(totals.costUsd), totals.unpricedRequests > 0 ? plural(totals.unpricedRequests, "unpriced request") + " not included" : "all requests priced", "spend"),
      kpi("Requests", count(totals.requests), count(totals.promptTokens) + " prompt / " + count(totals.completionTokens) + " completion tokens", "requests"),
      kpi("Error rate", pct(totals.errors, totals.requests), count(totals.errors) + " failed, " + count(totals.aborted) + " abandoned", "errors"),
      kpi("Rescue rate", pct(totals.rescued, totals.requests), count(totals.rescued) + " saved by a fallback", "rescued"),
      kpi("Cache hit rate", pct(totals.cacheHits, totals.requests), usd(totals.savedUsd) + " saved", "cache"),
      kpi("Latency p50 / p95", ms(totals.latencyMs.p50), "p95 " + ms(totals.latencyMs.p95) + " · p99 " + ms(totals.latencyMs.p99), "latency"),
      kpi("Guardrail blocks", count(sum(rules, "blocked")), count(sum(rules, "flagged")) + " flagged, " + count(sum(rules, "redacted")) + " redacted", "guardrails")
    );

    var byDay = {};
    reports.day.groups.forEach(function (g) { byDay[g.key] = g; });
    var categories = days.map(function (d) { return { key: d, label: d.slice(5) }; });
    var pick = function (field) { return days.map(function (d) { return byDay[d] ? byDay[d][field] || 0 : 0; }); };
    columns(document.querySelector("[data-chart=spend-over-time]"), categories, [{ name: "spend", color: COLORS.accent, values: pick("costUsd") }], { format: usdAxis, label: "Spend per day" });
    columns(document.querySelector("[data-chart=requests-over-time]"), categories, [
      { name: "requests", color: COLORS.accent, values: pick("requests") },
      { name: "errors", color: COLORS.warn, values: pick("errors") },
      { name: "rescued", color: COLORS.ok, values: pick("rescued") },
    ], { format: count, label: "Requests per day" });

    hbars(document.querySelector("[data-chart=keys]"), spendItems(reports.key.groups, keyNames), { label: "Top keys" });
    hbars(document.querySelector("[data-chart=routes]"), spendItems(reports.route.groups), { label: "Routes" });
    hbars(document.querySelector("[data-chart=providers]"), spendItems(reports.provider.groups), { label: "Providers" });
    hbars(document.querySelector("[data-chart=models]"), spendItems(reports.model.groups), { label: "Models" });

    var rate = function (key, label, part, color) {
      return { key: key, label: label, value: totals.requests > 0 ? (100 * part) / totals.requests : 0, display: pct(part, totals.requests), color: color };
    };
    hbars(document.querySelector("[data-chart=rates]"), totals.requests === 0 ? [] : [
      rate("errors", "Error rate", totals.errors, COLORS.warn),
      rate("rescued", "Rescue rate", totals.rescued, COLORS.ok),
      rate("cache", "Cache hit rate", totals.cacheHits, COLORS.alt),
    ], { label: "Rates", max: 100 });

    var latencyGroups = [{ key: "all", label: "all", figures: totals }].concat(reports.provider.groups.map(function (g) { return { key: g.key, label: g.key, figures: g }; }));
    latencyGroups = latencyGroups.filter(function (g) { return g.figures.requests > 0; });
    columns(document.querySelector("[data-chart=latency]"), latencyGroups.map(function (g) { return { key: g.key, label: g.label }; }), [
      { name: "p50", color: COLORS.accent, values: latencyGroups.map(function (g) { return g.figures.latencyMs.p50 || 0; }) },
      { name: "p95", color: COLORS.alt, values: latencyGroups.map(function (g) { return g.figures.latencyMs.p95 || 0; }) },
      { name: "p99", color: COLORS.warn, values: latencyGroups.map(function (g) { return g.figures.latencyMs.p99 || 0; }) },
    ], { format: function (v) { return Math.round(v) + ""; }, label: "Latency percentiles", width: 400, height: 200 });

    // Per rule: requests blocked, matches flagged and redacted (the usage API's guardrails list).
    columns(document.querySelector("[data-chart=guardrails]"), rules.map(function (r) { return { key: r.rule, label: r.rule }; }), [
      { name: "blocked", color: COLORS.warn, values: rules.map(function (r) { return r.blocked; }) },
      { name: "flagged", color: COLORS.alt, values: rules.map(function (r) { return r.flagged; }) },
      { name: "redacted", color: COLORS.accent, values: rules.map(function (r) { return r.redacted; }) },
    ], { format: count, label: "Guardrail rules", height: 200 });
    document.body.dataset.loaded = "true";
  }

  async function load() {
    var workspace = $("workspace").value;
    var days = Number($("range").value);
    var today = new Date();
    var from = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (days - 1)));
    var dayList = [];
    for (var i = 0; i < days; i++) dayList.push(isoDay(new Date(from.getTime() + i * 86400000)));
    var base = "/admin/workspaces/" + encodeURIComponent(workspace) + "/usage?from=" + isoDay(from) + "&to=" + isoDay(today) + "&groupBy=";
    document.body.dataset.loaded = "false";
    $("load-error").hidden = true;
    try {
      var keysPath = "/admin/workspaces/" + encodeURIComponent(workspace) + "/keys";
      var results = await Promise.all(GROUPINGS.map(function (g) { return api(base + g); }).concat([api(keysPath).catch(function () { return { data: [] }; })]));
      var reports = {};
      GROUPINGS.forEach(function (g, i) { reports[g] = results[i]; });
      // Keys are shown by name; a revoked key (no longer listed) by its id.
      var keyNames = {};
      results[GROUPINGS.length].data.forEach(function (k) { keyNames[k.id] = k.name; });
      render(reports, dayList, keyNames);
    } catch (error) {
      if (error.message === "unauthorized") return;
      $("load-error").hidden = false;
      $("load-error").textContent = "Could not load usage: " + error.message;
    }
  }

  async function start() {
    if (!token()) return showLogin();
    var list;
    try { list = await api("/admin/workspaces"); } catch (error) { if (error.message !== "unauthorized") showLogin(error.message); return; }
    var select = $("workspace");
    select.textContent = "";
    list.data.forEach(function (w) { var o = document.createElement("option"); o.value = w.id; o.textContent = w.name + " (" + w.id + ")"; select.appendChild(o); });
    var wanted = new URLSearchParams(location.search).get("workspace");
    if (wanted && list.data.some(function (w) { return w.id === wanted; })) select.value = wanted;
    $("login").hidden = true;
    $("controls").hidden = false;
    $("dashboard").hidden = false;
    await load();
  }

  $("login").addEventListener("submit", function (event) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("logout").addEventListener("click", function () { signOut(); });
  $("workspace").addEventListener("change", load);
  $("range").addEventListener("change", load);
  start();
})();
`;
