/**
 * The verdict of a run and the reasons for it, in words: what the top of the HTML report, the
 * Markdown summary and the JUnit "run completed" case say. The engine decides `passed`; this only
 * explains it, so the reasons mirror the engine's rule (not interrupted, no run error, every
 * expectation held, no transition violation, no server disagreement, no verdict violated).
 */
import type { Report } from '../types.js';
import { scrub } from '../console.js';
import type { CrashState, TransitionRule } from '../../metrics/transitions.js';

export type VerdictKind = 'passed' | 'failed' | 'interrupted';

export interface Verdict {
  kind: VerdictKind;
  /** PASSED, FAILED or INTERRUPTED. */
  label: string;
  /** Why it failed (or was cut short), one line each, most important first. */
  reasons: string[];
  /** Things worth a look that did not decide the verdict. */
  warnings: string[];
}

export function verdictOf(r: Report): Verdict {
  const kind: VerdictKind = r.interrupted || r.endedBy === 'interrupted' ? 'interrupted' : r.passed ? 'passed' : 'failed';
  const reasons: string[] = [];
  const failed = r.expectations.filter((e) => !e.passed);
  if (kind === 'interrupted') reasons.push('the run was interrupted: figures cover only the part that ran');
  if (r.endedBy === 'error') reasons.push('the run ended in error');
  for (const e of r.errors) reasons.push(`error: ${scrub(e)}`);
  for (const e of failed) reasons.push(`expectation failed: ${scrub(e.name)} (${scrub(e.detail)})`);
  if (r.transitions.violations > 0) {
    const rules = Object.entries(r.transitions.byRule)
      .filter(([, n]) => n > 0)
      .map(([rule, n]) => `${rule} ${n}`)
      .join(', ');
    reasons.push(`${plural(r.transitions.violations, 'transition violation')}${rules === '' ? '' : ` (${rules})`}`);
  }
  for (const v of r.verdicts ?? []) {
    if (v.violations > 0) reasons.push(`verdict ${v.rule}: ${plural(v.violations, 'violating device')} of ${v.checked} (${scrub(v.samples[0]?.detail ?? v.description)})`);
  }
  const disagreements = r.transitions.serverAgreement?.disagreements ?? 0;
  if (disagreements > 0) reasons.push(`${plural(disagreements, 'device')} whose final state the server sees differently`);
  if (kind === 'failed' && reasons.length === 0) reasons.push('the run did not pass (no recorded reason)');

  const warnings: string[] = [];
  if (r.harness.bottleneck) warnings.push('the harness itself was the bottleneck: latencies include its own lateness (see harness health)');
  const totalErrors = Object.values(r.operations).reduce((n, o) => n + o.errors, 0);
  const totalRequests = Object.values(r.operations).reduce((n, o) => n + o.count, 0);
  if (kind === 'passed' && totalErrors > 0) warnings.push(`${plural(totalErrors, 'request error')} of ${totalRequests} requests (no expectation bounds them)`);
  if (r.expectations.length === 0) warnings.push('the scenario sets no expectations');
  const agreement = r.transitions.serverAgreement;
  if (agreement?.status === 'not-judged' && kind !== 'interrupted') warnings.push(`final states not compared with the server: ${scrub(agreement.reason ?? 'no reason given')}`);

  return { kind, label: kind.toUpperCase(), reasons, warnings };
}

export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Every rule the transition checker applies; a record so the compiler notices a new one. */
const KNOWN_RULES: Record<Exclude<TransitionRule, CrashState>, true> = { 'initial-state': true, 'illegal-transition': true, 'final-state': true, repeat: true };

/**
 * The rules to list with their counts: every known rule (byRule names only the breached ones, and
 * a rule that held should show as held) and any other the report names.
 */
export function transitionRules(byRule: Record<string, number>): { rule: string; violations: number }[] {
  const names = [...Object.keys(KNOWN_RULES), ...Object.keys(byRule).filter((r) => !Object.hasOwn(KNOWN_RULES, r)).sort()];
  return names.map((rule) => ({ rule, violations: Object.hasOwn(byRule, rule) ? byRule[rule]! : 0 }));
}
