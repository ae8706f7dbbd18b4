/**
 * report.html: one self-contained page rendered from a Report alone. Verdict first, then what a
 * reviewer asks next: which expectation failed, how latency is distributed, what happened over
 * time, which device went wrong and how, and whether the harness itself was to blame.
 *
 * The page needs no network: uPlot and its CSS are inlined, the chart data sits in a JSON script
 * element, and a Content-Security-Policy forbids every fetch. Every string from the report is
 * escaped (device ids, outcome labels and error lines come from the server under test) and
 * scrubbed of credential-looking text.
 */
import { applicationLines } from './application-console.js';
import { bottleneckVerdict } from './bottleneck.js';
import { profileLine } from './profile.js';
import { formatMs } from '../config/units.js';
import { scrub } from './console.js';
import { chartLibrary, type ChartLibrary } from './html/assets.js';
import { latencyChart, rateChart, statesChart, type ChartOrNote, type ChartSpec } from './html/charts.js';
import { CLIENT_SCRIPT } from './html/client.js';
import { escapeHtml, jsonForScript } from './html/escape.js';
import { REPORT_CSS } from './html/style.js';
import { plural, transitionRules, verdictOf } from './html/verdict.js';
import { verdictStatus, type HarnessReport, type OperationReport, type Report, type TransitionStep, type TransitionViolation, type VerdictReport } from './types.js';
import { cmp, count, num, percent } from './format.js';
import { outcomeMeaning } from '../protocol/meanings.js';
import { shardRows } from './shard-rows.js';

/** Outcome labels listed per operation. */
const TOP_OUTCOMES = 4;
/** Trace steps shown per violating device before the rest is elided. */
const MAX_TRACE_STEPS = 200;

/** Renders the report page with the uPlot build from node_modules. */
export function renderHtml(report: Report): string {
  return renderHtmlWith(report, chartLibrary());
}

/** Renders the report page around the given chart library (pure). */
export function renderHtmlWith(report: Report, lib: ChartLibrary): string {
  const charts: ChartSpec[] = [];
  const place = (c: ChartOrNote): string => {
    if ('note' in c) return `<p class="note">${text(c.note)}</p>`;
    charts.push(c.chart);
    return `<div class="chart" id="${c.chart.id}"></div>`;
  };
  const body = [
    header(report),
    verdictSection(report),
    expectationsSection(report),
    operationsSection(report, place),
    overTimeSection(report, place),
    finalStatesSection(report),
    transitionsSection(report),
    verdictsSection(report),
    applicationSection(report),
    harnessSection(report.harness, report.timeScale === 'max'),
    errorsSection(report.errors),
    notesSection(report),
    footer(report, lib),
  ].join('\n');
  const title = `${verdictOf(report).label} · ${scrub(report.scenario)} · ota-swarm report`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${text(title)}</title>
<style>${lib.css}</style>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
${body}
</main>
<script type="application/json" id="report-charts">${jsonForScript(charts)}</script>
<script>/* ${lib.name} ${lib.version}, MIT licence, © Leon Sorokin */
${lib.script}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------
// Sections

function header(r: Report): string {
  const meta: [string, string][] = [
    ['target', r.target],
    ['dialect', r.dialect],
    ['seed', String(r.seed)],
    ['time scale', r.timeScale === 'max' ? '×max (as fast as the logic allows)' : `×${num(r.timeScale)}`],
    ['devices', `${count(r.devices.total)} (${count(r.devices.started)} started)`],
    ['duration', `${formatMs(r.durationMs)} real · ${formatMs(r.virtualDurationMs)} virtual`],
    ['ended by', r.endedBy],
    ['started', r.startedAt],
    ...(r.profile !== undefined && r.profile.length > 0 ? [['target profile', profileLine(r.profile)] as [string, string]] : []),
    ...shardRows(r),
  ];
  return `<header>
<h1>ota-swarm · ${text(r.scenario)}</h1>
<p class="meta">${meta.map(([k, v]) => `<span>${k}: <b>${text(v)}</b></span>`).join(' ')}</p>
</header>`;
}

function verdictSection(r: Report): string {
  const v = verdictOf(r);
  const list = (cls: string, items: string[]): string =>
    items.length === 0 ? '' : `<ul class="${cls}">${items.map((i) => `<li>${text(i)}</li>`).join('')}</ul>`;
  return `<section id="verdict" class="verdict verdict-${v.kind}">
<div class="verdict-label">${v.label}</div>
${list('reasons', v.reasons)}
${list('warnings', v.warnings)}
</section>
${tiles(r)}`;
}

function tiles(r: Report): string {
  const ops = Object.values(r.operations);
  const requests = ops.reduce((n, o) => n + o.count, 0);
  const errors = ops.reduce((n, o) => n + o.errors, 0);
  const succeeded = ownCount(r.devices.byFinalState, 'succeeded');
  const expectationsHeld = r.expectations.filter((e) => e.passed).length;
  const items: [string, string][] = [
    [`${count(succeeded)} / ${count(r.devices.total)}`, `devices succeeded (${percent(succeeded, r.devices.total)})`],
    [count(requests), `requests · ${count(errors)} errors (${percent(errors, requests)})`],
    [`${expectationsHeld} / ${r.expectations.length}`, 'expectations held'],
    [count(r.transitions.violations), `transition violations in ${count(r.transitions.checked)} devices`],
  ];
  return `<div class="tiles">${items.map(([b, s]) => `<div class="tile"><b>${text(b)}</b><span>${text(s)}</span></div>`).join('')}</div>`;
}

function expectationsSection(r: Report): string {
  const rows = r.expectations.map(
    (e) => `<tr class="${e.passed ? '' : 'row-bad'}"><td>${mark(e.passed)}</td><td><code>${text(e.name)}</code></td><td>${text(e.detail)}</td></tr>`,
  );
  const content =
    rows.length === 0
      ? '<p class="note">The scenario sets no expectations.</p>'
      : `<table><thead><tr><th></th><th>expectation</th><th>measured</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  return `<section id="expectations"><h2>Expectations</h2>${content}</section>`;
}

function operationsSection(r: Report, place: (c: ChartOrNote) => string): string {
  const names = Object.keys(r.operations);
  if (names.length === 0) return `<section id="operations"><h2>Operations</h2><p class="note">No requests were recorded.</p></section>`;
  const head = ['operation', 'count', 'errors', 'p50', 'p90', 'p99', 'p99.9', 'max', 'service p99', 'queued p99', 'outcomes'];
  const rows = names.map((name) => operationRow(name, r.operations[name]!, r.dialect));
  const charts = names.map((name, i) => place(latencyChart(`chart-latency-${i}`, name, r.operations[name]!)));
  return `<section id="operations"><h2>Operations</h2>
<p class="meta">Latency runs from the moment a device meant to act to the answer (it includes any lateness of the harness); service time from the request's write to its connection to the answer; queued is the wait between the two, the harness's own.</p>
<table><thead><tr>${head.map((h, i) => `<th class="${i > 0 && i < 10 ? 'num' : ''}">${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>
${unfinishedNote(r.operations)}
<h3>Latency by percentile</h3>
<div class="charts">${charts.join('\n')}</div>
</section>`;
}

/** Requests the run's end caught unanswered, said beside the table they are not counted in. */
function unfinishedNote(ops: Record<string, OperationReport>): string {
  const items = Object.keys(ops)
    .filter((n) => ops[n]!.unfinished !== undefined)
    .map((n) => `<li><b>${text(n)}</b>: ${count(ops[n]!.unfinished!.inFlight)} in flight, ${count(ops[n]!.unfinished!.queued)} queued</li>`);
  return items.length === 0 ? '' : `<p class="note" id="unfinished">Requests the end of the run caught unanswered (not counted above):</p><ul>${items.join('')}</ul>`;
}

function operationRow(name: string, o: OperationReport, dialect: string): string {
  const l = o.latencyMs;
  const cells = [
    count(o.count),
    o.errors === 0 ? '0' : `${count(o.errors)} (${percent(o.errors, o.count)})`,
    formatMs(l.p50),
    formatMs(l.p90),
    formatMs(l.p99),
    formatMs(l.p999),
    formatMs(l.max),
    formatMs(o.serviceMs.p99),
    o.queuedMs === undefined ? '—' : formatMs(o.queuedMs.p99),
  ];
  const outcomes = Object.entries(o.byOutcome).sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]));
  const shown = outcomes.slice(0, TOP_OUTCOMES).map(([label, n]) => {
    const meaning = outcomeMeaning(dialect, name, label);
    return `<code>${text(label)}</code>${meaning === undefined ? '' : ` ${text(meaning)}`} ${count(n)}`;
  });
  if (outcomes.length > TOP_OUTCOMES) shown.push(`+${outcomes.length - TOP_OUTCOMES} more`);
  const cell = (c: string, i: number): string => `<td class="num${i === 1 && o.errors > 0 ? ' bad' : ''}">${text(c)}</td>`;
  return `<tr><td><b>${text(name)}</b></td>${cells.map(cell).join('')}<td>${shown.join(' · ')}</td></tr>`;
}

function overTimeSection(r: Report, place: (c: ChartOrNote) => string): string {
  const ts = r.timeseries;
  if (ts === undefined) {
    return `<section id="over-time"><h2>Over time</h2><p class="note">This report carries no time series, so there are no charts over time.</p></section>`;
  }
  return `<section id="over-time"><h2>Over time</h2>
<div class="charts">
${place(rateChart('chart-real', 'Requests, errors and arrivals · real time', 'real time', ts.real))}
${place(rateChart('chart-virtual', 'Requests, errors and arrivals · virtual time', 'virtual time', ts.virtual))}
</div>
<h3>Devices by state</h3>
${place(statesChart('chart-states', ts.states))}
</section>`;
}

function finalStatesSection(r: Report): string {
  const d = r.devices;
  const states = Object.entries(d.byFinalState).sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]));
  const inStates = states.reduce((n, [, c]) => n + c, 0);
  if (d.total > inStates) states.push(['(no state)', d.total - inStates]);
  if (states.length === 0) return `<section id="final-states"><h2>Devices by final state</h2><p class="note">No devices.</p></section>`;
  const widest = Math.max(...states.map(([, n]) => n), 1);
  const rows = states.map(
    ([state, n]) =>
      `<tr><td>${text(state)}</td><td class="num">${count(n)}</td><td class="num">${percent(n, d.total)}</td><td><span class="bar" style="width:${Math.round((n / widest) * 240)}px"></span></td></tr>`,
  );
  return `<section id="final-states"><h2>Devices by final state</h2>
<table class="narrow"><thead><tr><th>state</th><th class="num">devices</th><th class="num">share</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>
</section>`;
}

function transitionsSection(r: Report): string {
  const t = r.transitions;
  const rules = transitionRules(t.byRule).map(
    ({ rule, violations }) =>
      `<tr class="${violations > 0 ? 'row-bad' : ''}"><td>${mark(violations === 0)}</td><td>${text(rule)}</td><td class="num">${count(violations)}</td></tr>`,
  );
  const samples = t.samples.map((s, i) => violationDetails(s, i === 0));
  const more = t.violations > t.samples.length ? `<p class="meta">The first ${t.samples.length} violating devices are shown; ${count(t.violations - t.samples.length)} more violations are counted above.</p>` : '';
  return `<section id="transitions"><h2>Transitions</h2>
<p>${mark(t.violations === 0)} ${count(t.checked)} devices checked · ${plural(t.violations, 'violation')}${t.unfinished > 0 ? ` · ${count(t.unfinished)} unfinished (the run stopped before they were done)` : ''}</p>
<table class="narrow"><thead><tr><th></th><th>rule</th><th class="num">violations</th></tr></thead><tbody>${rules.join('')}</tbody></table>
${samples.length > 0 ? `<h3>Violating devices</h3>${samples.join('\n')}${more}` : ''}
${serverAgreement(r)}
</section>`;
}

function violationDetails(v: TransitionViolation, open: boolean): string {
  const steps = v.trace.slice(0, MAX_TRACE_STEPS).map((s, i) => traceRow(s, i, i === 0 ? undefined : v.trace[i - 1]!.t));
  const elided = v.trace.length > MAX_TRACE_STEPS ? `<p class="meta">${count(v.trace.length - MAX_TRACE_STEPS)} later steps not shown.</p>` : '';
  return `<details class="violation"${open ? ' open' : ''}><summary><code>${text(v.device)}</code> · <b>${text(v.rule)}</b>: ${text(v.detail)}</summary>
<table class="narrow trace"><thead><tr><th class="num">#</th><th class="num">virtual time</th><th class="num">after</th><th>state entered</th><th>cause</th></tr></thead><tbody>${steps.join('')}</tbody></table>${elided}
</details>`;
}

function traceRow(s: TransitionStep, i: number, previous: number | undefined): string {
  const after = previous === undefined ? '' : `+${formatMs(Math.max(0, s.t - previous))}`;
  return `<tr><td class="num">${i + 1}</td><td class="num">${text(clock(s.t))}</td><td class="num">${text(after)}</td><td>${text(s.state)}</td><td><code>${text(s.cause)}</code></td></tr>`;
}

function serverAgreement(r: Report): string {
  const a = r.transitions.serverAgreement;
  if (a === undefined) return '<h3>Server agreement</h3><p class="note">Final states were not compared with the server (it has no admin view, or the run was interrupted).</p>';
  if (a.status === 'not-judged') return `<h3>Server agreement</h3><p class="note not-judged">– not judged (${text(a.reason ?? 'no reason given')})</p>`;
  const rows = a.samples.map(
    (s) => `<tr class="row-bad"><td><code>${text(s.device)}</code></td><td>${text(s.device_state)}</td><td>${text(s.server_state)}</td></tr>`,
  );
  const table =
    rows.length === 0 ? '' : `<table><thead><tr><th>device</th><th>device says</th><th>server says</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  return `<h3>Server agreement</h3><p>${mark(a.disagreements === 0)} ${count(a.checked)} devices compared with the server · ${count(a.disagreements)} disagree</p>${table}`;
}

function verdictsSection(r: Report): string {
  const list = r.verdicts;
  if (list === undefined) return '';
  if (list.length === 0) return '<section id="verdicts"><h2>Transition verdicts</h2><p class="note">This dialect has no verdict rule.</p></section>';
  const bad = list.reduce((n, v) => n + v.violations, 0);
  const unjudged = list.filter((v) => verdictStatus(v) === 'not-judged').length;
  const rows = list.map((v) => {
    const status = verdictStatus(v);
    const why = v.reason ?? v.note;
    if (status === 'not-judged') {
      return `<tr class="row-unjudged"><td>–</td><td><b>${text(v.rule)}</b><br><span class="meta">${text(v.description)}</span></td><td colspan="3" class="not-judged">not judged (${text(why ?? 'no reason given')})</td></tr>`;
    }
    const counts = Object.entries(v.counts ?? {}).map(([k, n]) => `${text(k)} ${count(n)}`).join(' · ');
    const partly = status === 'partly-judged' ? ` · <i>partly judged (${text(why ?? 'no reason given')})</i>` : '';
    return `<tr class="${v.violations > 0 ? 'row-bad' : ''}"><td>${mark(v.violations === 0)}</td><td><b>${text(v.rule)}</b><br><span class="meta">${text(v.description)}${partly}</span></td><td class="num">${count(v.checked)}</td><td class="num">${count(v.violations)}</td><td>${counts}</td></tr>`;
  });
  const samples = list.flatMap((v) => v.samples.map((s, i) => verdictDetails(v, s, i === 0 && v === list.find((x) => x.violations > 0))));
  // Relative: the file sits beside report.html in the run folder.
  const file = r.violationsFile !== undefined ? `<p>Every violating device, with its trace: <a href="${text(encodeURIComponent(r.violationsFile))}">${text(r.violationsFile)}</a> (one JSON line each).</p>` : '';
  return `<section id="verdicts"><h2>Transition verdicts</h2>
<p>${mark(bad === 0)} ${plural(list.length, 'rule')} judged the devices' exchanges and the server's view · ${plural(bad, 'violating device')}${unjudged > 0 ? ` · ${unjudged} not judged` : ''}</p>
${file}
<table><thead><tr><th></th><th>rule</th><th class="num">checked</th><th class="num">violating</th><th>counted</th></tr></thead><tbody>${rows.join('')}</tbody></table>
${samples.length > 0 ? `<h3>Violating devices</h3>${samples.join('\n')}` : ''}
</section>`;
}

function verdictDetails(v: VerdictReport, s: VerdictReport['samples'][number], open: boolean): string {
  const rows = s.trace.map(
    (l, i) => `<tr><td class="num">${i + 1}</td><td class="num">${text(clock(l.t))}</td><td><code>${text(l.request)}</code></td><td><code>${text(l.answer)}</code></td><td>${text(l.state)}</td></tr>`,
  );
  return `<details class="violation"${open ? ' open' : ''}><summary><code>${text(s.device)}</code> · <b>${text(v.rule)}</b>: ${text(s.detail)}</summary>
<table class="narrow trace"><thead><tr><th class="num">#</th><th class="num">virtual time</th><th>request</th><th>answer</th><th>state</th></tr></thead><tbody>${rows.join('')}</tbody></table>
</details>`;
}

/** `unscheduled`: under --time-scale max no timer has a wall-clock instant to be late for. */
function harnessSection(h: HarnessReport, unscheduled: boolean): string {
  // One verdict, as on the console (./bottleneck.ts): back-pressure while the harness ran late is
  // shown as seen, without putting it on the target.
  const verdict = bottleneckVerdict(h);
  const list = (notes: readonly string[]): string => (notes.length > 0 ? `<ul>${notes.map((n) => `<li>${text(n)}</li>`).join('')}</ul>` : '');
  const alsoSeen = verdict.alsoSeen.length > 0 ? `<p>Also seen${verdict.alsoSeenWhy !== undefined ? ` (${text(verdict.alsoSeenWhy)})` : ''}:</p>${list(verdict.alsoSeen)}` : '';
  const banner = h.bottleneck
    ? `<div class="banner banner-bad" id="bottleneck">The harness itself was the bottleneck of this run: its latencies include the harness's own lateness, so they overstate the server's.${list(verdict.evidence)}${verdict.whatToDo.length > 0 ? `<p>What it means, what to do:</p>${list(verdict.whatToDo)}` : ''}${alsoSeen}</div>`
    : '';
  const notes = h.bottleneck ? '' : `${verdict.limit === 'target' ? `<p>Bottleneck: ${text(verdict.headline)}</p>${list(verdict.evidence)}` : ''}${list(verdict.alsoSeen)}`;
  const lagRow = (name: string, l: HarnessReport['eventLoopLagMs']): string =>
    `<tr><td>${name}</td><td class="num">${formatMs(l.p50)}</td><td class="num">${formatMs(l.p99)}</td><td class="num">${formatMs(l.max)}</td></tr>`;
  return `<section id="harness"><h2>Harness health</h2>
${banner}
<p>${mark(!h.bottleneck)} ${plural(h.workers, 'worker')}${h.eventLoopUtilization === undefined ? '' : ` · busiest event loop busy ${Math.round(h.eventLoopUtilization * 100)}% of the run`}${h.bottleneck ? '' : ' · the harness kept up'}</p>
<table class="narrow"><thead><tr><th>lag</th><th class="num">p50</th><th class="num">p99</th><th class="num">max</th></tr></thead><tbody>
${lagRow('event-loop lag (workers)', h.eventLoopLagMs)}
${unscheduled ? '<tr><td>scheduling lag (device timers)</td><td class="num" colspan="3">not measured (×max)</td></tr>' : lagRow('scheduling lag (device timers)', h.scheduleLagMs)}
</tbody></table>${notes}
</section>`;
}

/** The probe before the fleet and the hints (report.probe, report.hints). */
function notesSection(r: Report): string {
  const items = [...(r.probe ? [r.probe.note] : []), ...(r.hints ?? [])];
  if (items.length === 0) return '';
  return `<section id="notes"><h2>Probe and hints</h2><ul>${items.map((e) => `<li>${text(e)}</li>`).join('')}</ul></section>`;
}

/** The application side (pushes, retries, north-bound steps) as the console shows it. */
function applicationSection(r: Report): string {
  const lines = applicationLines(r.application);
  return lines.length === 0 ? '' : `<section id="application"><h2>Application side</h2><pre>${text(lines.join('\n'))}</pre></section>`;
}

function errorsSection(errors: readonly string[]): string {
  if (errors.length === 0) return '';
  return `<section id="errors"><h2>Run errors</h2><ul>${errors.map((e) => `<li><code>${text(e)}</code></li>`).join('')}</ul></section>`;
}

function footer(r: Report, lib: ChartLibrary): string {
  return `<footer>Rendered by ota-swarm from report.json (format ${r.format}). Charts: ${text(lib.name)} ${text(lib.version)} (MIT), inlined.</footer>`;
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Report text, scrubbed of credentials and escaped for HTML. */
function text(s: string): string {
  return escapeHtml(scrub(s));
}

/** Virtual ms since the origin as h:mm:ss.mmm (m:ss.mmm under an hour): steps stay comparable. */
export function clock(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const milli = total % 1000;
  const sec = Math.floor(total / 1000) % 60;
  const min = Math.floor(total / 60_000) % 60;
  const hours = Math.floor(total / 3_600_000);
  const tail = `${String(sec).padStart(2, '0')}.${String(milli).padStart(3, '0')}`;
  return hours > 0 ? `${hours}:${String(min).padStart(2, '0')}:${tail}` : `${min}:${tail}`;
}

function mark(ok: boolean): string {
  return ok ? '<span class="ok">✓</span>' : '<span class="bad">✗</span>';
}

function ownCount(counts: Record<string, number>, key: string): number {
  return Object.hasOwn(counts, key) ? counts[key]! : 0;
}




