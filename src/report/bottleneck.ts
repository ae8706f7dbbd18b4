/**
 * One verdict on what limited a run, from the harness section of a report: the harness, the
 * target, or neither, with the notes that are its evidence. The report's notes come from two
 * places (the harness's own lateness, and back-pressure: devices held back while the send queue
 * was full, requests waiting for an in-flight slot) and used to be printed side by side, so one
 * run said both "the harness was the bottleneck" and "the target was slower than the fleet".
 *
 * How the two are put together: while the harness runs late its own slowness also fills the send
 * queue (answers are read late, slots are held longer), so back-pressure is no evidence against
 * the target then; it is kept, as "also seen", without the claim. Only when the harness kept up
 * does back-pressure say the target was the limit. Whether the harness was late is the report's
 * own `bottleneck` flag: this module decides wording, not the threshold.
 */
import type { HarnessReport } from './types.js';

export type Limit = 'harness' | 'target' | 'neither';

export interface BottleneckVerdict {
  limit: Limit;
  /** One line: what limited the run, in words. */
  headline: string;
  /** Notes that support the verdict. */
  evidence: string[];
  /** Notes seen but not evidence of the verdict (back-pressure while the harness was late). */
  alsoSeen: string[];
  /** Why `alsoSeen` is not evidence, when there is a reason to give. */
  alsoSeenWhy?: string;
}

/** Notes of back-pressure from the target's pace (see src/engine/run.ts and metrics/recorder.ts). */
const BACK_PRESSURE = [/held back .* send queue was full/i, /waited for a free in-flight slot/i, /target was slower/i];
/** The conclusion run.ts appends to the held-back note, dropped where it does not follow. */
const TARGET_CLAIM = /:\s*the target was slower than the fleet\s*$/i;

export function isBackPressureNote(note: string): boolean {
  return BACK_PRESSURE.some((re) => re.test(note));
}

export function bottleneckVerdict(h: Pick<HarnessReport, 'bottleneck' | 'notes'>): BottleneckVerdict {
  const pressure = h.notes.filter(isBackPressureNote);
  const own = h.notes.filter((n) => !isBackPressureNote(n));
  if (h.bottleneck) {
    return {
      limit: 'harness',
      headline: 'harness — it ran late: latencies include its own lateness and overstate the target\'s',
      evidence: own,
      alsoSeen: pressure.map((n) => n.replace(TARGET_CLAIM, '')),
      ...(pressure.length > 0 ? { alsoSeenWhy: 'not put on the target: a late harness fills its own send queue' } : {}),
    };
  }
  if (pressure.length > 0) {
    return {
      limit: 'target',
      headline: 'target — the harness kept up, and the fleet was held back waiting for the target\'s answers',
      evidence: pressure.map((n) => n.replace(TARGET_CLAIM, '')),
      alsoSeen: own,
    };
  }
  return { limit: 'neither', headline: 'neither — the harness kept up and the target kept pace with the fleet', evidence: [], alsoSeen: own };
}
