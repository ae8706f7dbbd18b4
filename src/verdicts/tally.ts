/**
 * One rule's verdict over a run judged in batches: checked and violations summed, counts merged,
 * the first few violations kept as samples, every violation handed on as a line, and at the end
 * the rule's status. Pure: the caller writes the lines.
 *
 * Status: a rule that checked no device was not judged, and says why (what the rule itself said,
 * e.g. "no admin API", or that no device was one it applies to); one that checked devices with a
 * note (the server's view missing, defaults used, evidence cut) was partly judged; else judged.
 */
import type { VerdictReport, VerdictStatus, VerdictTraceLine } from '../report/types.js';
import type { DeviceEvidence } from './evidence.js';
import type { Rule, RuleOutcome } from './rule.js';

/** One violation as violations.jsonl holds it. */
export interface ViolationLine {
  device: string;
  rule: string;
  reason: string;
  trace: VerdictTraceLine[];
}

export class RuleTally {
  private checked = 0;
  private violations = 0;
  private readonly counts: Record<string, number> = {};
  /** Notes and could-not-judge reasons, each once, in the order first given. */
  private readonly notes = new Set<string>();
  private readonly notJudged = new Set<string>();
  private readonly samples: VerdictReport['samples'] = [];

  constructor(
    readonly rule: Rule,
    private readonly maxSamples: number,
  ) {}

  /** Adds one batch's outcome; returns its violations as lines (traced only here, one device at a time). */
  add(o: RuleOutcome, traceOf: (d: DeviceEvidence) => VerdictTraceLine[]): ViolationLine[] {
    this.checked += o.checked;
    this.violations += o.violations.length;
    for (const [k, n] of Object.entries(o.counts ?? {})) this.counts[k] = (this.counts[k] ?? 0) + n;
    if (o.note !== undefined) this.notes.add(o.note);
    if (o.notJudged !== undefined) this.notJudged.add(o.notJudged);
    return o.violations.map((v) => {
      const line: ViolationLine = { device: v.device.id, rule: this.rule.name, reason: v.detail, trace: traceOf(v.device) };
      if (this.samples.length < this.maxSamples) this.samples.push({ device: line.device, detail: line.reason, trace: line.trace });
      return line;
    });
  }

  /** The rule's report; `runNotes` are what limits every rule (evidence cut or lost), `judged` the devices given. */
  report(runNotes: readonly string[], judged: number): VerdictReport {
    const summary = this.checked > 0 ? this.rule.summary?.(this.counts) : undefined;
    if (summary !== undefined) this.notes.add(summary);
    const own = [...this.notJudged, ...this.notes];
    const notes = [...own, ...runNotes];
    let status: VerdictStatus;
    let reason: string | undefined;
    if (this.checked === 0) {
      status = 'not-judged';
      // Only what says why nothing was judged: a note on how the judging went ("judged with the
      // documented ...") would read as the reason and mislead.
      const why = [...this.notJudged];
      reason = [...(why.length > 0 ? why : [judged === 0 ? 'no device left evidence to judge' : `none of the ${judged.toLocaleString('en-US')} devices judged is one it applies to`]), ...runNotes].join('; ');
    } else if (notes.length > 0) {
      status = 'partly-judged';
      reason = notes.join('; ');
    } else {
      status = 'judged';
    }
    return {
      rule: this.rule.name,
      description: this.rule.description,
      status,
      ...(reason !== undefined ? { reason } : {}),
      checked: this.checked,
      violations: this.violations,
      ...(Object.keys(this.counts).length > 0 ? { counts: this.counts } : {}),
      ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
      samples: this.samples,
    };
  }
}
