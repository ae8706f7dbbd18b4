/**
 * The run as GitHub-flavoured Markdown: what goes into `$GITHUB_STEP_SUMMARY` so a failed CI job
 * shows its verdict, the failed expectations and the first violating device on the job's page.
 * Shorter than the HTML: no charts, at most one trace.
 *
 * Report text is escaped for table cells and inline code, and `<` `>` `&` become entities: GitHub
 * renders inline HTML in summaries, and a device id is the server's input, not ours.
 */
import { formatMs } from '../config/units.js';
import { scrub, unfinishedLines } from './console.js';
import { plural, transitionRules, verdictOf } from './html/verdict.js';
import { verdictStatus, type Report } from './types.js';
import { percent } from './format.js';

const ICON = { passed: '✅', failed: '❌', interrupted: '⚠️' } as const;
/** Trace steps of the first violating device shown before eliding the rest. */
const TRACE_STEPS = 12;

export function renderMarkdown(report: Report): string {
  const r = report;
  const v = verdictOf(r);
  const out: string[] = [];
  out.push(`## ${ICON[v.kind]} ota-swarm · ${inline(r.scenario)}: **${v.label}**`, '');
  out.push(
    `${inline(r.dialect)} · ${r.devices.total} devices (${r.devices.started} started) · ${formatMs(r.durationMs)} real · ` +
      `${formatMs(r.virtualDurationMs)} virtual · seed ${r.seed} · ended by ${r.endedBy} · target ${code(r.target)}`,
    '',
  );
  for (const reason of v.reasons) out.push(`- ${inline(reason)}`);
  for (const warning of v.warnings) out.push(`- ⚠️ ${inline(warning)}`);
  if (v.reasons.length + v.warnings.length > 0) out.push('');

  if (r.harness.bottleneck) {
    out.push('> [!WARNING]', '> **The harness itself was the bottleneck**: latencies include its own lateness.');
    for (const note of r.harness.notes) out.push(`> - ${inline(note)}`);
    out.push('');
  }

  if (r.expectations.length > 0) {
    out.push('### Expectations', '', '| | expectation | measured |', '|---|---|---|');
    for (const e of r.expectations) out.push(`| ${e.passed ? '✅' : '❌'} | ${code(e.name)} | ${inline(e.detail)} |`);
    out.push('');
  }

  const ops = Object.entries(r.operations);
  if (ops.length > 0) {
    out.push('### Operations', '', '| operation | count | errors | p50 | p90 | p99 | max | service p99 | queued p99 |', '|---|--:|--:|--:|--:|--:|--:|--:|--:|');
    for (const [name, o] of ops) {
      const errors = o.errors === 0 ? '0' : `${o.errors} (${percent(o.errors, o.count)})`;
      const l = o.latencyMs;
      out.push(`| ${inline(name)} | ${o.count} | ${errors} | ${formatMs(l.p50)} | ${formatMs(l.p90)} | ${formatMs(l.p99)} | ${formatMs(l.max)} | ${formatMs(o.serviceMs.p99)} | ${o.queuedMs === undefined ? '—' : formatMs(o.queuedMs.p99)} |`);
    }
    out.push('');
    for (const line of unfinishedLines(r.operations)) out.push(`- ${inline(line)}`);
    if (unfinishedLines(r.operations).length > 0) out.push('');
  }

  const states = Object.entries(r.devices.byFinalState).sort((a, b) => b[1] - a[1]);
  if (states.length > 0) {
    out.push('### Devices by final state', '', '| state | devices | share |', '|---|--:|--:|');
    for (const [state, n] of states) out.push(`| ${inline(state)} | ${n} | ${percent(n, r.devices.total)} |`);
    out.push('');
  }

  const t = r.transitions;
  out.push('### Transitions', '', `${t.violations === 0 ? '✅' : '❌'} ${t.checked} devices checked · ${plural(t.violations, 'violation')}`);
  const breached = transitionRules(t.byRule).filter((x) => x.violations > 0);
  if (breached.length > 0) out.push('', breached.map((x) => `${inline(x.rule)} ${x.violations}`).join(' · '));
  const first = t.samples[0];
  if (first !== undefined) {
    out.push('', `First violating device ${code(first.device)} (${inline(first.rule)}): ${inline(first.detail)}`, '', '```text');
    for (const s of first.trace.slice(0, TRACE_STEPS)) out.push(fence(`${String(s.t).padStart(10)} ms  ${s.state}  (${s.cause})`));
    if (first.trace.length > TRACE_STEPS) out.push(`… ${first.trace.length - TRACE_STEPS} more steps`);
    out.push('```');
  }
  if (t.serverAgreement?.status === 'not-judged') {
    out.push('', `➖ server agreement: not judged (${inline(t.serverAgreement.reason ?? 'no reason given')})`);
  } else if (t.serverAgreement !== undefined) {
    const a = t.serverAgreement;
    out.push('', `${a.disagreements === 0 ? '✅' : '❌'} server agreement: ${a.disagreements} of ${a.checked} devices disagree`);
    for (const s of a.samples.slice(0, 3)) out.push(`- ${code(s.device)}: device ${inline(s.device_state)}, server ${inline(s.server_state)}`);
  }
  out.push('');

  const verdicts = r.verdicts ?? [];
  if (verdicts.length > 0) {
    out.push('### Transition verdicts', '', '| | rule | checked | violating | counted |', '|---|---|--:|--:|---|');
    for (const v of verdicts) {
      const status = verdictStatus(v);
      if (status === 'not-judged') {
        out.push(`| ➖ | ${code(v.rule)} | not judged (${inline(v.reason ?? v.note ?? 'no reason given')}) | | |`);
        continue;
      }
      const counts = Object.entries(v.counts ?? {}).map(([k, n]) => `${inline(k)} ${n}`).join(' · ');
      const partly = status === 'partly-judged' ? ` (partly judged: ${inline(v.reason ?? v.note ?? 'no reason given')})` : '';
      out.push(`| ${v.violations === 0 ? '✅' : '❌'} | ${code(v.rule)}${partly} | ${v.checked} | ${v.violations} | ${counts} |`);
    }
    const broken = verdicts.find((v) => v.samples.length > 0);
    const s = broken?.samples[0];
    if (broken !== undefined && s !== undefined) {
      out.push('', `First device breaking ${code(broken.rule)}: ${code(s.device)}: ${inline(s.detail)}`, '', '```text');
      for (const l of s.trace.slice(0, TRACE_STEPS)) out.push(fence(`${String(l.t).padStart(10)} ms  ${l.request}  =>  ${l.answer}  [${l.state}]`));
      if (s.trace.length > TRACE_STEPS) out.push(`… ${s.trace.length - TRACE_STEPS} more lines`);
      out.push('```');
    }
    out.push('');
  }

  if (r.errors.length > 0) {
    out.push('### Run errors', '');
    for (const e of r.errors) out.push(`- ${code(e)}`);
    out.push('');
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Escaping

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** Report text in running Markdown or a table cell: one line, no HTML, Markdown punctuation made literal. */
function inline(s: string): string {
  return scrub(s)
    .replace(/[\r\n]+/g, ' ')
    .replace(/[&<>]/g, (c) => ENTITIES[c]!)
    .replace(/([\\`*_[\]|#~!])/g, '\\$1');
}

/**
 * Report text as inline code: backticks cannot be escaped inside a code span, so a longer run of
 * them fences it; pipes are escaped (GFM splits table cells on them even inside code).
 */
function code(s: string): string {
  const t = scrub(s).replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((m) => m.length));
  const ticks = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${t}${pad}${ticks}`;
}

/** A line inside a ``` fence: a line of backticks would close it. */
function fence(s: string): string {
  return scrub(s).replace(/```/g, '`\u200b`\u200b`');
}

