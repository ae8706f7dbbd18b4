/**
 * The script inside report.html: reads the chart specs (see charts.ts) from the page's JSON
 * element and draws each with uPlot. It decides nothing about the data; it formats axes, stacks
 * nothing (sums come precomputed) and exposes what it drew as `window.__charts` (id, kind, series,
 * points, colours) so a headless browser can check that every chart has data.
 *
 * Plain ES2017 in a string (no template literals inside, so it embeds verbatim). The one
 * substitution is durationText's own source, so axes read as the console does (`1m 10s`).
 */
import { durationText } from '../../config/units.js';
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var drawn = [];
  var plots = {};
  window.__charts = drawn;
  window.__uplot = plots;
  var source = document.getElementById('report-charts');
  var specs = source ? JSON.parse(source.textContent || '[]') : [];
  var dpr = window.devicePixelRatio || 1;

  function num(v, digits) { return String(Number(v.toPrecision(digits))); }
  function fmtMs(v) {
    if (v == null) return '\u2013';
    if (v >= 60000) return durationText(v / 1000);
    if (v >= 1000) return num(v / 1000, 3) + 's';
    return num(v, 3) + 'ms';
  }
  function fmtCount(v) {
    if (v == null) return '\u2013';
    return Math.abs(v) >= 100 ? String(Math.round(v)) : num(v, 3);
  }
  var durationText = ${durationText.toString()};
  function fmtDur(s) {
    if (s == null) return '\u2013';
    return durationText(s);
  }
  // x = 1/(1-p): 1 -> 0%, 10 -> 90%, 100 -> 99%, 1000 -> 99.9% ...
  function pctTick(x) {
    if (x <= 1) return '0%';
    var decimals = Math.max(0, Math.round(Math.log10(x)) - 2);
    return (100 - 100 / x).toFixed(decimals) + '%';
  }
  function pctLegend(x) {
    if (x == null) return '\u2013';
    return (x <= 1 ? 0 : Number((100 - 100 / x).toFixed(5))) + '%';
  }
  var DURATION_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 172800, 432000, 864000, 1728000, 4320000, 8640000, 17280000, 43200000];

  function widthOf(el) { return Math.max(320, Math.floor(el.clientWidth || 800)); }

  function latencyOptions(spec, el) {
    var last = spec.x[spec.x.length - 1];
    var decades = [];
    for (var d = 1; d <= last * 1.0001; d *= 10) decades.push(d);
    var series = [{ label: 'percentile', value: function (u, v) { return pctLegend(v); } }];
    spec.series.forEach(function (s, i) {
      var isMarks = i === spec.series.length - 1 && spec.marks;
      series.push(isMarks ? {
        label: s.label, stroke: s.color, width: 0, paths: function () { return null; },
        points: { show: true, size: 9, width: 2, stroke: s.color, fill: '#ffffff' },
        value: function (u, v) { return fmtMs(v); }
      } : {
        label: s.label, stroke: s.color, width: 2, points: { show: false },
        value: function (u, v) { return fmtMs(v); }
      });
    });
    return {
      width: widthOf(el), height: 280, title: spec.title,
      scales: {
        x: { time: false, distr: 3, log: 10 },
        y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.12 : 1]; } }
      },
      axes: [
        { label: spec.xLabel, splits: function () { return decades; }, values: function (u, splits) { return splits.map(pctTick); } },
        { label: spec.yLabel, size: 64, values: function (u, splits) { return splits.map(fmtMs); } }
      ],
      series: series,
      hooks: { draw: [function (u) { drawMarks(u, spec.marks || []); }] }
    };
  }

  function drawMarks(u, marks) {
    var ctx = u.ctx;
    ctx.save();
    ctx.font = 'bold ' + Math.round(11 * dpr) + 'px system-ui, sans-serif';
    ctx.fillStyle = '#7a1519';
    ctx.textBaseline = 'bottom';
    marks.forEach(function (m, i) {
      var cx = u.valToPos(m.x, 'x', true);
      var cy = u.valToPos(m.y, 'y', true);
      ctx.textAlign = i === marks.length - 1 ? 'right' : 'left';
      var dx = (i === marks.length - 1 ? -8 : 8) * dpr;
      ctx.fillText(m.label, cx + dx, cy - 6 * dpr);
    });
    ctx.restore();
  }

  function rateOptions(spec, el) {
    // Errors get their own axis on the right: a burst of a few errors/s must not vanish under
    // thousands of requests/s.
    var series = [{ label: spec.xLabel, value: function (u, v) { return fmtDur(v); } }];
    var errorColor = '#d0312d';
    spec.series.forEach(function (s) {
      var isErrors = s.label.indexOf('errors') === 0;
      if (isErrors) errorColor = s.color;
      series.push({ label: s.label, stroke: s.color, width: isErrors ? 2 : 1.5, scale: isErrors ? 'err' : 'y',
        value: function (u, v) { return fmtCount(v); } });
    });
    var fromZero = function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; };
    return {
      width: widthOf(el), height: 240, title: spec.title,
      scales: { x: { time: false }, y: { range: fromZero }, err: { range: fromZero } },
      axes: [
        { label: spec.xLabel, incrs: DURATION_INCRS, values: function (u, splits) { return splits.map(fmtDur); } },
        { label: spec.yLabel, size: 64, values: function (u, splits) { return splits.map(fmtCount); } },
        { scale: 'err', side: 1, label: 'errors/s', size: 56, stroke: errorColor, grid: { show: false },
          values: function (u, splits) { return splits.map(fmtCount); } }
      ],
      series: series
    };
  }

  function stackedOptions(spec, el) {
    var series = [{ label: spec.xLabel, value: function (u, v) { return fmtDur(v); } }];
    spec.series.forEach(function (s) {
      series.push({ label: s.label, stroke: s.color, fill: s.color, width: 1, points: { show: false },
        value: function (u, v, si, idx) { return idx == null ? '\u2013' : String(s.raw[idx]); } });
    });
    return {
      width: widthOf(el), height: 280, title: spec.title,
      scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.05 : 1]; } } },
      axes: [
        { label: spec.xLabel, incrs: DURATION_INCRS, values: function (u, splits) { return splits.map(fmtDur); } },
        { label: spec.yLabel, size: 64, values: function (u, splits) { return splits.map(fmtCount); } }
      ],
      series: series
    };
  }

  var BUILDERS = { latency: latencyOptions, rate: rateOptions, stacked: stackedOptions };

  specs.forEach(function (spec) {
    var el = document.getElementById(spec.id);
    if (!el) { console.error('report: no element for chart ' + spec.id); return; }
    try {
      var opts = BUILDERS[spec.kind](spec, el);
      var data = [spec.x].concat(spec.series.map(function (s) { return s.values; }));
      var u = new uPlot(opts, data, el);
      plots[spec.id] = u;
      var points = 0;
      spec.series.forEach(function (s) { s.values.forEach(function (v) { if (v != null) points++; }); });
      drawn.push({ id: spec.id, kind: spec.kind, series: spec.series.length, points: points,
        colors: spec.series.map(function (s) { return s.color; }) });
    } catch (e) {
      console.error('report: chart ' + spec.id + ' failed: ' + (e && e.message ? e.message : e));
    }
  });

  var pending = 0;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      Object.keys(plots).forEach(function (id) {
        var el = document.getElementById(id);
        if (el) plots[id].setSize({ width: widthOf(el), height: plots[id].height });
      });
    }, 100);
  });
})();
`;
