/**
 * The end-of-run summary printed to the console: a compact, aligned digest of a Report in the
 * spirit of k6's end-of-test summary. It sees only the report; free text is still scrubbed of
 * anything that looks like a credential, in case one slipped into a URL or an error line.
 */
import { profileLine } from './profile.js';
import { formatMs } from '../config/units.js';
import { shardRows } from './shard-rows.js';
import { applicationLines } from './application-console.js';
import { verdictStatus, type HarnessReport, type OperationReport, type Report, type TransitionStep, type TransitionsReport, type VerdictReport, type VerdictTraceLine } from './types.js';
import { cmp, count, num, percent } from './format.js';
import { withMeaning } from '../protocol/meanings.js';
import { bottleneckVerdict } from './bottleneck.js';

export interface SummaryOptions {
  /** ANSI colours (off by default: logs and pipes get plain text). */
  color?: boolean;
}

type Paint = (text: string) => string;

interface Palette {
  bold: Paint;
  dim: Paint;
  green: Paint;
  red: Paint;
  yellow: Paint;
}

const PLAIN: Palette = { bold: (s) => s, dim: (s) => s, green: (s) => s, red: (s) => s, yellow: (s) => s };

function ansi(code: number): Paint {
  return (s) => `\u001b[${code}m${s}\u001b[0m`;
}

const ANSI: Palette = { bold: ansi(1), dim: ansi(2), green: ansi(32), red: ansi(31), yellow: ansi(33) };

/** Outcomes listed per operation before "+N more". */
const TOP_OUTCOMES = 3;
/** Steps of a sample trace shown before eliding the middle. */
const TRACE_HEAD = 6;
const TRACE_TAIL = 2;

export function formatSummary(report: Report, options: SummaryOptions = {}): string {
  const p = options.color === true ? ANSI : PLAIN;
  const sections = [
    header(report, p),
    operations(report.operations, p, report.dialect),
    devices(report.devices, p),
    transitions(report.transitions, p, report.devices.total),
    verdicts(report.verdicts, p, report.violationsFile, report.devices.total),
    applicationLines(report.application),
    wireLines(report.wire, p),
    harness(report.harness, p, report.timeScale === 'max'),
    expectations(report, p),
    errors(report.errors, p),
    hints(report, p),
    [verdict(report, p)],
  ];
  return sections
    .filter((lines) => lines.length > 0)
    .map((lines) => lines.join('\n'))
    .join('\n\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Sections

/** Why the figures look as they do, and what to do (report.hints). */
function hints(r: Report, p: Palette): string[] {
  if (!r.hints || r.hints.length === 0) return [];
  return [p.bold('hints'), ...r.hints.map((h) => `  ${p.yellow(scrub(h))}`)];
}

function header(r: Report, p: Palette): string[] {
  const rows: [string, string][] = [
    ['target', scrub(r.target)],
    ['dialect', `${r.dialect} · seed ${r.seed} · time scale ${r.timeScale === 'max' ? '×max' : `×${num(r.timeScale)}`}`],
    ['devices', `${count(r.devices.total)} (${count(r.devices.started)} started)`],
    ['duration', `${formatMs(r.durationMs)} real · ${formatMs(r.virtualDurationMs)} virtual · ended by ${r.endedBy}`],
    ['started', r.startedAt],
    ...(r.probe ? [['probe', scrub(r.probe.note)] as [string, string]] : []),
    ...(r.profile !== undefined && r.profile.length > 0 ? [['profile', profileLine(r.profile)] as [string, string]] : []),
    ...shardRows(r),
  ];
  return [p.bold(`ota-swarm · ${scrub(r.scenario)}`), ...rows.map(([k, v]) => `  ${p.dim(k.padEnd(9))} ${v}`)];
}

function operations(ops: Record<string, OperationReport>, p: Palette, dialect: string): string[] {
  const names = Object.keys(ops);
  if (names.length === 0) return [`${p.bold('operations')}  none recorded`];
  const head = ['operation', 'count', 'errors', 'p50', 'p90', 'p99', 'max', 'svc p99', 'queued p99', 'outcomes'];
  const rows = names.map((name) => {
    const o = ops[name]!;
    return [
      name,
      count(o.count),
      o.errors === 0 ? '0' : `${count(o.errors)} (${percent(o.errors, o.count)})`,
      formatMs(o.latencyMs.p50),
      formatMs(o.latencyMs.p90),
      formatMs(o.latencyMs.p99),
      formatMs(o.latencyMs.max),
      formatMs(o.serviceMs.p99),
      o.queuedMs === undefined ? '—' : formatMs(o.queuedMs.p99),
      topOutcomes(o.byOutcome, (label) => withMeaning(dialect, name, label)),
    ];
  });
  const lines = table([head, ...rows], ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']);
  const errorRows = new Set(names.map((n, i) => (ops[n]!.errors > 0 ? i + 1 : -1)));
  return [
    p.bold('operations') + p.dim('  latency from the moment the device meant to act; svc = from the socket write; queued = the wait between'),
    ...lines.map((line, i) => `  ${i === 0 ? p.dim(line) : errorRows.has(i) ? p.yellow(line) : line}`),
    ...unfinishedLines(ops).map((l) => `  ${p.yellow(l)}`),
  ];
}

/** Requests the end caught unanswered: not in the counts above, so said here. */
export function unfinishedLines(ops: Record<string, OperationReport>): string[] {
  return Object.keys(ops)
    .filter((n) => ops[n]!.unfinished !== undefined)
    .map((n) => {
      const u = ops[n]!.unfinished!;
      return `${n}: ${count(u.inFlight)} in flight and ${count(u.queued)} queued when the run ended (unanswered, not counted above)`;
    });
}

function devices(d: Report['devices'], p: Palette): string[] {
  const states = Object.entries(d.byFinalState).sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]));
  const inStates = states.reduce((sum, [, n]) => sum + n, 0);
  const rows = states.map(([state, n]) => [state, count(n), percent(n, d.total)]);
  if (d.total > inStates) rows.push(['(no state)', count(d.total - inStates), percent(d.total - inStates, d.total)]);
  if (rows.length === 0) return [`${p.bold('devices by final state')}  none`];
  return [p.bold('devices by final state'), ...table(rows, ['l', 'r', 'r']).map((l) => `  ${l}`)];
}

/** `all 3,000 devices` or `1,500 of 3,000 devices`: every section counts devices against the same total. */
function ofDevices(n: number, total: number): string {
  return n === total ? `all ${count(n)} device${n === 1 ? '' : 's'}` : `${count(n)} of ${count(total)} devices`;
}

function transitions(t: TransitionsReport, p: Palette, total: number): string[] {
  const ok = t.violations === 0;
  const mark = ok ? p.green('✓') : p.red('✗');
  const lines = [`${p.bold('transitions')}  ${mark} ${ofDevices(t.checked, total)} checked, each its whole state sequence · ${count(t.violations)} violation${t.violations === 1 ? '' : 's'}`];
  const rules = Object.entries(t.byRule).filter(([, n]) => n > 0);
  if (rules.length > 0) lines.push(`  by rule: ${rules.map(([rule, n]) => `${rule} ${count(n)}`).join(' · ')}`);
  const first = t.samples[0];
  if (first !== undefined) {
    lines.push(`  first: ${scrub(first.device)} ${first.rule}: ${scrub(first.detail)}`);
    lines.push(`    ${shortTrace(first.trace)}`);
  }
  if (t.serverAgreement?.status === 'not-judged') {
    lines.push(`  server agreement ${p.yellow('–')} not judged (${scrub(t.serverAgreement.reason ?? 'no reason given')})`);
  } else if (t.serverAgreement !== undefined) {
    const a = t.serverAgreement;
    const agreeMark = a.disagreements === 0 ? p.green('✓') : p.red('✗');
    const sample = a.checked < total ? ' (a sample: not every device is looked up)' : '';
    lines.push(`  server agreement ${agreeMark} ${ofDevices(a.checked, total)} compared with the server's record${sample} · ${count(a.disagreements)} disagree`);
    const s = a.samples[0];
    if (s !== undefined) lines.push(`    e.g. ${scrub(s.device)}: device ${s.device_state}, server ${s.server_state}`);
  }
  return lines;
}

/** Trace lines of the first violating device shown per rule. */
const VERDICT_TRACE_LINES = 8;

/** The verdict section as the run's summary prints it, in plain text (a replay's report prints the same). */
export const verdictLines = (list: readonly VerdictReport[], file: string | undefined, total: number): string[] => verdicts(list, PLAIN, file, total);

function verdicts(list: readonly VerdictReport[] | undefined, p: Palette, file: string | undefined, total: number): string[] {
  if (list === undefined) return [];
  if (list.length === 0) return [`${p.bold('transition verdicts')}  no rule for this dialect`];
  const bad = list.reduce((n, v) => n + v.violations, 0);
  const unjudged = list.filter((v) => verdictStatus(v) === 'not-judged').length;
  const lines = [
    `${p.bold('transition verdicts')}  ${bad === 0 ? p.green('✓') : p.red('✗')} ${list.length} rule${list.length === 1 ? '' : 's'} · ${count(bad)} violation${bad === 1 ? '' : 's'}${unjudged > 0 ? ` · ${unjudged} not judged` : ''}`,
  ];
  if (file !== undefined) lines.push(`  every violation: ${scrub(file)} (beside report.json)`);
  const width = Math.max(...list.map((v) => v.rule.length));
  for (const v of list) {
    const status = verdictStatus(v);
    const why = scrub(v.reason ?? v.note ?? 'no reason given');
    // A rule that could not judge is neither a pass nor a failure: it says so, and why.
    if (status === 'not-judged') {
      lines.push(`  ${p.yellow('–')} ${v.rule.padEnd(width)}  not judged (${why})`);
      continue;
    }
    const counts = Object.entries(v.counts ?? {}).map(([k, n]) => `${scrub(k)} ${count(n)}`);
    const tail = counts.length > 0 ? p.dim(`  ${counts.join(' · ')}`) : '';
    lines.push(`  ${v.violations === 0 ? p.green('✓') : p.red('✗')} ${v.rule.padEnd(width)}  ${ofDevices(v.checked, total)} checked · ${count(v.violations)} violating${tail}`);
    if (status === 'partly-judged') lines.push(`      ${p.dim(`partly judged (${why})`)}`);
    const first = v.samples[0];
    if (first === undefined) continue;
    lines.push(`      ${scrub(first.device)}: ${scrub(first.detail)}`);
    for (const line of verdictTrace(first.trace)) lines.push(`        ${p.dim(line)}`);
    if (v.samples.length > 1) lines.push(`      also: ${v.samples.slice(1).map((x) => scrub(x.device)).join(', ')}${v.violations > v.samples.length ? ` and ${count(v.violations - v.samples.length)} more` : ''}`);
  }
  return lines;
}

function verdictTrace(trace: readonly VerdictTraceLine[]): string[] {
  const line = (l: VerdictTraceLine): string => `${formatMs(l.t).padStart(8)}  ${scrub(l.request)} → ${scrub(l.answer)} ⇒ ${l.state}`;
  if (trace.length <= VERDICT_TRACE_LINES) return trace.map(line);
  return [...trace.slice(0, VERDICT_TRACE_LINES - 3).map(line), `… ${trace.length - VERDICT_TRACE_LINES + 1} more …`, ...trace.slice(-2).map(line)];
}

/** The transport's own counts, one line: `wire  datagrams sent 1,200 · ...`. */
function wireLines(wire: Report['wire'], p: Palette): string[] {
  if (wire === undefined) return [];
  return [`${p.bold('wire')}  ${Object.entries(wire).map(([name, n]) => `${name} ${n.toLocaleString('en-US')}`).join(' · ')}`];
}

const utilisation = (h: HarnessReport): string => (h.eventLoopUtilization === undefined ? '' : ` · event loop busy ${Math.round(h.eventLoopUtilization * 100)}%`);

/** `unscheduled`: under --time-scale max no timer has a wall-clock instant to be late for. */
function harness(h: HarnessReport, p: Palette, unscheduled: boolean): string[] {
  const lag = (name: string, l: HarnessReport['eventLoopLagMs']): string => `${name} p99 ${formatMs(l.p99)} (max ${formatMs(l.max)})`;
  const scheduleLag = unscheduled ? 'schedule lag not measured (×max)' : lag('schedule lag', h.scheduleLagMs);
  const lines = [
    `${p.bold('harness')}  ${h.workers} worker${h.workers === 1 ? '' : 's'} · ${lag('event-loop lag', h.eventLoopLagMs)} · ${scheduleLag}${utilisation(h)}`,
  ];
  const v = bottleneckVerdict(h);
  const headline = `  bottleneck: ${v.headline}`;
  lines.push(v.limit === 'harness' ? p.red(p.bold(`  ⚠ BOTTLENECK: ${v.headline}`)) : v.limit === 'target' ? p.yellow(headline) : headline);
  for (const note of v.evidence) lines.push(`    - ${scrub(note)}`);
  if (v.whatToDo.length > 0) lines.push(`  ${p.bold('what it means, what to do:')}`);
  for (const advice of v.whatToDo) lines.push(`    - ${advice}`);
  if (v.alsoSeen.length > 0) lines.push(`  ${p.dim(`also seen${v.alsoSeenWhy !== undefined ? ` (${v.alsoSeenWhy})` : ''}:`)}`);
  for (const note of v.alsoSeen) lines.push(`    - ${scrub(note)}`);
  return lines;
}

function expectations(r: Report, p: Palette): string[] {
  if (r.expectations.length === 0) return [`${p.bold('expectations')}  none`];
  const width = Math.max(...r.expectations.map((e) => e.name.length));
  return [
    p.bold('expectations'),
    ...r.expectations.map((e) => `  ${e.passed ? p.green('✓') : p.red('✗')} ${scrub(e.name).padEnd(width)}  ${p.dim(scrub(e.detail))}`),
  ];
}

function errors(list: readonly string[], p: Palette): string[] {
  if (list.length === 0) return [];
  return [p.bold(p.red('errors')), ...list.map((e) => `  - ${scrub(e)}`)];
}

function verdict(r: Report, p: Palette): string {
  if (r.interrupted || r.endedBy === 'interrupted') return p.bold(p.yellow('INTERRUPTED (partial)'));
  if (r.passed) return p.bold(p.green('PASSED'));
  const failed = r.expectations.filter((e) => !e.passed).length;
  const reasons: string[] = [];
  if (failed > 0) reasons.push(`${failed} of ${r.expectations.length} expectations failed`);
  const broken = (r.verdicts ?? []).filter((v) => v.violations > 0);
  if (broken.length > 0) reasons.push(`verdicts broken: ${broken.map((v) => v.rule).join(', ')}`);
  if (r.endedBy === 'error') reasons.push('the run ended in error');
  else if (r.errors.length > 0) reasons.push(`${r.errors.length} run error${r.errors.length === 1 ? '' : 's'}`);
  return p.bold(p.red(`FAILED${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}`));
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Rows padded to common column widths; 'r' columns right-aligned. */
function table(rows: string[][], align: ('l' | 'r')[]): string[] {
  const widths = align.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  return rows.map((row) =>
    row
      .map((cell, c) => (align[c] === 'r' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

function topOutcomes(byOutcome: Record<string, number>, describe: (label: string) => string): string {
  const sorted = Object.entries(byOutcome).sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]));
  const shown = sorted.slice(0, TOP_OUTCOMES).map(([label, n]) => `${scrub(describe(label))} ${count(n)}`);
  if (sorted.length > TOP_OUTCOMES) shown.push(`+${sorted.length - TOP_OUTCOMES} more`);
  return shown.join(' · ');
}

function shortTrace(trace: readonly TransitionStep[]): string {
  const step = (s: TransitionStep): string => `${s.t === 0 ? '0' : formatMs(s.t)} ${s.state}(${scrub(s.cause)})`;
  if (trace.length <= TRACE_HEAD + TRACE_TAIL) return trace.map(step).join(' → ');
  const head = trace.slice(0, TRACE_HEAD).map(step);
  const tail = trace.slice(trace.length - TRACE_TAIL).map(step);
  return [...head, `… ${trace.length - TRACE_HEAD - TRACE_TAIL} more …`, ...tail].join(' → ');
}





const URL_USERINFO = /(\/\/)[^/@\s]+@/g;
const SECRET_PARAM = /([?&;](?:access_?key|key|token|secret|sign|signature|password|project_?key)=)[^&\s]*/gi;

/** Hides URL user-info and credential-looking query parameters. */
export function scrub(text: string): string {
  return text.replace(URL_USERINFO, '$1***@').replace(SECRET_PARAM, '$1***');
}
