import { describe, expect, it } from 'vitest';
import { formatMs } from '../../src/config/units.js';
import { renderHtml } from '../../src/report/html.js';
import type { ChartSpec } from '../../src/report/html/charts.js';
import { HOSTILE_DEVICE, HOSTILE_SCENARIO, buildReport, emptyReport, passingReport, troubledReport } from './fixtures/reports.js';

const troubled = troubledReport();
const passing = passingReport();
const troubledHtml = renderHtml(troubled);
const passingHtml = renderHtml(passing);

/** The chart specs the page carries, parsed back from its JSON element. */
function chartSpecs(html: string): ChartSpec[] {
  const m = /<script type="application\/json" id="report-charts">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]!) as ChartSpec[];
}

/** The text of an element by id, tags stripped (good enough for flat sections). */
function section(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  expect(start, `section #${id}`).toBeGreaterThan(-1);
  const end = html.indexOf('</section>', start);
  return html.slice(start, end).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

/** What the page must show for a report string (the renderer's escaping, written out independently). */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function chartDivs(html: string): string[] {
  return [...html.matchAll(/<div class="chart" id="([^"]+)"><\/div>/g)].map((m) => m[1]!);
}

describe('renderHtml: a self-contained page', () => {
  it('shows the target profile in the header, values with their sources', () => {
    const html = renderHtml({ ...passing, profile: [{ key: 'onenet.tokenTtl', value: '36h', source: 'scenario' }] });
    expect(html).toContain('<span>target profile: <b>tokenTtl 36h (scenario)</b></span>');
  });

  it('loads nothing from anywhere: no external src/href, no link, library inlined, a CSP that forbids fetches', () => {
    for (const html of [troubledHtml, passingHtml]) {
      expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
      expect(html).not.toMatch(/<script[^>]*\bsrc=/i);
      expect(html).not.toMatch(/<link\b/i);
      expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
      expect(html).toContain('var uPlot=');
      expect(html).toContain('.uplot');
      expect(html).toContain(`content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"`);
      expect(html.startsWith('<!doctype html>')).toBe(true);
    }
  });

  it('has every section, in the order a reviewer reads them, verdict first', () => {
    const ids = ['verdict', 'expectations', 'operations', 'over-time', 'final-states', 'transitions', 'harness'];
    const at = ids.map((id) => troubledHtml.indexOf(`id="${id}"`));
    for (const [i, pos] of at.entries()) expect(pos, ids[i]).toBeGreaterThan(-1);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it('carries one chart per operation plus real, virtual and state charts, each with a container', () => {
    const specs = chartSpecs(troubledHtml);
    const ops = Object.keys(troubled.operations);
    expect(specs.map((s) => s.id)).toEqual([...ops.map((_, i) => `chart-latency-${i}`), 'chart-real', 'chart-virtual', 'chart-states']);
    expect(chartDivs(troubledHtml)).toEqual(specs.map((s) => s.id));
    for (const s of specs) {
      expect(s.x.length).toBeGreaterThan(0);
      for (const series of s.series) expect(series.values).toHaveLength(s.x.length);
    }
    expect(specs.filter((s) => s.kind === 'latency').map((s) => s.title.split(':')[0])).toEqual(ops);
  });
});

describe('renderHtml: the verdict', () => {
  it('FAILED, with every reason: failed expectations, the violation, the disagreement; and the bottleneck as a warning', () => {
    const v = section(troubledHtml, 'verdict');
    expect(troubledHtml).toContain('class="verdict verdict-failed"');
    expect(v).toContain('FAILED');
    for (const e of troubled.expectations.filter((x) => !x.passed)) expect(v).toContain(esc(`expectation failed: ${e.name} (${e.detail})`));
    expect(v).toContain('1 transition violation (illegal-transition 1)');
    expect(v).toContain('1 device whose final state the server sees differently');
    expect(v).toContain('the harness itself was the bottleneck');
    expect(troubledHtml).toMatch(/<title>FAILED · rollout-onenet/);
  });

  it('says when a run had no wall clock (--time-scale max): no schedule lag to show', () => {
    const html = renderHtml({ ...passingReport(), timeScale: 'max' });
    expect(html).toContain('×max (as fast as the logic allows)');
    expect(html).toContain('not measured (×max)');
    expect(renderHtml(passingReport())).not.toContain('not measured (×max)');
  });

  it('PASSED for a clean run, with no reasons', () => {
    expect(passingHtml).toContain('class="verdict verdict-passed"');
    expect(passingHtml).not.toContain('<ul class="reasons">');
    expect(section(passingHtml, 'verdict')).toContain('PASSED');
  });

  it('INTERRUPTED for a cut-short run', () => {
    const html = renderHtml(emptyReport());
    expect(html).toContain('class="verdict verdict-interrupted"');
    expect(section(html, 'verdict')).toContain('the run was interrupted');
  });

  it('names run errors', () => {
    const r = passingReport();
    r.errors = ['worker 1 died: out of memory'];
    r.endedBy = 'error';
    r.passed = false;
    const v = section(renderHtml(r), 'verdict');
    expect(v).toContain('FAILED');
    expect(v).toContain('the run ended in error');
    expect(v).toContain('error: worker 1 died: out of memory');
  });
});

describe('renderHtml: the tables', () => {
  it('lists every expectation with its measurement and mark', () => {
    const s = section(troubledHtml, 'expectations');
    for (const e of troubled.expectations) {
      expect(s).toContain(esc(e.name));
      expect(s).toContain(esc(e.detail));
    }
    expect((s.match(/✗/g) ?? []).length).toBe(troubled.expectations.filter((e) => !e.passed).length);
  });

  it('shows each operation with count, errors and its percentiles', () => {
    const s = section(troubledHtml, 'operations');
    for (const [name, o] of Object.entries(troubled.operations)) {
      expect(s).toContain(name);
      const row = s.slice(s.indexOf(` ${name} `));
      for (const v of [o.latencyMs.p50, o.latencyMs.p90, o.latencyMs.p99, o.latencyMs.p999, o.latencyMs.max, o.serviceMs.p99]) expect(row).toContain(formatMs(v));
    }
    const check = troubled.operations['check']!;
    expect(s).toContain(`${check.errors.toLocaleString('en-US')} (${((check.errors / check.count) * 100).toFixed(1)}%)`);
    expect(s).toContain('code:43');
  });

  it('shows devices by final state with shares', () => {
    const s = section(troubledHtml, 'final-states');
    for (const [state, n] of Object.entries(troubled.devices.byFinalState)) {
      expect(s).toMatch(new RegExp(`${state} ${n.toLocaleString('en-US')} ${((n / troubled.devices.total) * 100).toFixed(1)}%`));
    }
  });

  it('shows every transition rule, the violating device with its full trace, and server agreement', () => {
    const s = section(troubledHtml, 'transitions');
    for (const rule of ['initial-state', 'illegal-transition', 'final-state', 'repeat']) expect(s).toContain(rule);
    const v = troubled.transitions.samples[0]!;
    expect(s).toContain(v.device);
    expect(s).toContain(v.detail);
    for (const step of v.trace) expect(s).toContain(step.state);
    expect(s).toContain('1:08.020');
    expect(s).toContain('+3.11s');
    expect(s).toContain('2,000 devices compared with the server · 1 disagree');
    expect(s).toContain('dev-100911');
  });

  it('raises the red banner with the notes when the harness was the bottleneck, and only then', () => {
    const s = section(troubledHtml, 'harness');
    expect(troubledHtml).toContain('class="banner banner-bad" id="bottleneck"');
    expect(s).toContain('The harness itself was the bottleneck');
    for (const note of troubled.harness.notes) expect(s).toContain(esc(note));
    expect(s).toContain(formatMs(troubled.harness.scheduleLagMs.p99));
    expect(s).toContain(formatMs(troubled.harness.eventLoopLagMs.max));
    expect(passingHtml).not.toContain('id="bottleneck"');
    expect(section(passingHtml, 'harness')).toContain('the harness kept up');
  });

  it('one bottleneck verdict: back-pressure while the harness ran late is seen, not put on the target; with the harness keeping up it is', () => {
    const held = 'devices were held back 12 time(s) while the send queue was full: the target was slower than the fleet';
    const late = troubledReport();
    late.harness = { ...late.harness, notes: [...late.harness.notes, held] };
    const s = section(renderHtml(late), 'harness');
    expect(s).toContain('devices were held back 12 time(s) while the send queue was full');
    expect(s).not.toContain('the target was slower');
    expect(s).toContain('a late harness fills its own send queue');
    const kept = passingReport();
    kept.harness = { ...kept.harness, notes: [held] };
    expect(section(renderHtml(kept), 'harness')).toContain('Bottleneck: target');
  });
});

describe('renderHtml: degraded input', () => {
  it('without time series: a note instead of the charts over time; latency charts stay', () => {
    const r = passingReport({ timeseries: false });
    const html = renderHtml(r);
    expect(section(html, 'over-time')).toContain('carries no time series');
    const specs = chartSpecs(html);
    expect(specs.every((s) => s.kind === 'latency')).toBe(true);
    expect(specs).toHaveLength(Object.keys(r.operations).length);
    expect(chartDivs(html)).toEqual(specs.map((s) => s.id));
  });

  it('with no operations and no devices started: notes, no charts', () => {
    const html = renderHtml(emptyReport());
    expect(section(html, 'operations')).toContain('No requests were recorded');
    expect(chartSpecs(html)).toEqual([]);
    expect(chartDivs(html)).toEqual([]);
    expect(section(html, 'final-states')).toContain('not-started');
  });

  it('an unreadable histogram gives a note for that operation, not a crash', () => {
    const r = passingReport({ timeseries: false });
    r.operations['check']!.histogram = 'not base64 at all!';
    const html = renderHtml(r);
    expect(section(html, 'operations')).toContain('check: the latency histogram in report.json cannot be read');
    expect(chartSpecs(html)).toHaveLength(Object.keys(r.operations).length - 1);
  });

  it('empty time series and a state series of unknown categories render', () => {
    const r = passingReport();
    r.timeseries!.virtual = { bucketSeconds: 60, t: [], requests: [], errors: [], arrivals: [] };
    r.timeseries!.states = { t: [0, 1, 2], byCategory: { 'weird-state': [1, 2, 3], asleep: [5, 4, 3] } };
    const html = renderHtml(r);
    expect(section(html, 'over-time')).toContain('no buckets recorded');
    const states = chartSpecs(html).find((s) => s.id === 'chart-states')!;
    expect(states.series.map((s) => s.label)).toEqual(['weird-state', 'asleep']);
    expect(states.series[0]!.values).toEqual([6, 6, 6]);
  });
});

describe('renderHtml: escaping', () => {
  const hostile = buildReport({ hostile: true, troubled: true });
  const html = renderHtml(hostile);

  it('writes device ids, labels, expectation text and the scenario name as text, never as markup', () => {
    expect(html).not.toContain(HOSTILE_DEVICE);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>code:99</b>');
    expect(html).not.toContain('alert(2)</script>');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;dev');
    expect(html).toContain('&lt;b&gt;code:99&lt;/b&gt;');
    expect(html).toContain('rollout&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(html).toContain('check.p50 &lt; 1ms &amp; &lt;script&gt;');
    // Exactly the three script elements the page itself has.
    expect((html.match(/<script\b/gi) ?? []).length).toBe(3);
    expect((html.match(/<\/script>/gi) ?? []).length).toBe(3);
  });

  it('keeps the chart JSON inside its element: no "</" in it, and it parses back to the same names', () => {
    const m = /<script type="application\/json" id="report-charts">([\s\S]*?)<\/script>/.exec(html)!;
    expect(m[1]).not.toContain('</');
    expect(m[1]).not.toContain('<');
    const specs = JSON.parse(m[1]!) as ChartSpec[];
    expect(specs.length).toBeGreaterThan(0);
    const r = buildReport({ hostile: true });
    r.operations = { [HOSTILE_SCENARIO]: r.operations['check']! };
    const specsWithHostileOp = chartSpecs(renderHtml(r));
    expect(specsWithHostileOp[0]!.title.startsWith(`${HOSTILE_SCENARIO}:`)).toBe(true);
  });

  it('scrubs credentials from the target and error lines', () => {
    const r = passingReport();
    r.target = 'http://user:hunter2@127.0.0.1:8080/?token=s3cret';
    r.errors = ['GET /check?access_key=abc123 failed'];
    const out = renderHtml(r);
    for (const secret of ['hunter2', 's3cret', 'abc123']) expect(out).not.toContain(secret);
  });
});

describe('queued and unfinished requests in the HTML report', () => {
  it('has a queued p99 column and lists the requests the end caught unanswered', () => {
    const r = passingReport();
    const op = Object.keys(r.operations)[0]!;
    r.operations[op] = { ...r.operations[op]!, queuedMs: { p50: 1, p90: 2, p99: 38, p999: 40, max: 41, mean: 3 }, unfinished: { inFlight: 3, queued: 9 } };
    const html = renderHtml(r);
    expect(html).toContain('<th class="num">queued p99</th>');
    expect(html).toContain('38.0ms');
    expect(html).toContain('id="unfinished"');
    expect(html).toContain(`<li><b>${op}</b>: 3 in flight, 9 queued</li>`);
    expect(passingHtml).not.toContain('id="unfinished"');
  });
});
