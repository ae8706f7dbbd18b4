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
  /** When the harness was the limit: what its figures mean for the run, and what to change, one line per kind of evidence. */
  whatToDo: string[];
}

/**
 * What each kind of harness evidence means and what to change, in the order the checks run
 * (src/metrics/harness-rule.ts). The finding is a true one (bench row l and runs of the default
 * scenario on a busy two-core machine: the report's p99 from send sat above the server's own by
 * about the lag the note names), so the advice says what it costs, not that it may be ignored.
 */
const ADVICE: readonly { note: RegExp; advice: string }[] = [
  {
    note: /^schedule lag /,
    advice: 'devices acted late: this machine could not run the fleet on time; run fewer devices (--devices), spread their arrival wider (arrival.over), add workers (--workers, up to the cores) or lower --time-scale',
  },
  {
    note: /^event-loop (lag|utilisation) /,
    advice: 'the workers were saturated, so answers waited to be read: add workers (--workers, up to the cores) or run fewer devices per worker',
  },
  {
    note: /^\S+: event-loop lag /,
    advice:
      'answers waited longer to be read than the 5 % + 1 ms the report promises: percentiles from send measure this machine as well as the target. Against a target that answers in a few ms (loopback, the embedded server) a busy small machine does this; for the target\'s own figures run fewer devices per worker, put the target on another machine, or read its own timing (the reference server: /admin/counters, serviceMs)',
  },
  {
    note: /^\S+: queued /,
    advice: 'requests waited before their write (a late timer, an in-flight slot, a free connection), so percentiles from intended include that wait: if the target can take more, raise engine.maxInFlightPerWorker and engine.connectionsPerWorker',
  },
];

/** One line per kind of evidence present, in ADVICE's order. */
export function adviceFor(evidence: readonly string[]): string[] {
  return ADVICE.filter((a) => evidence.some((n) => a.note.test(n))).map((a) => a.advice);
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
      whatToDo: adviceFor(own),
    };
  }
  if (pressure.length > 0) {
    return {
      limit: 'target',
      headline: 'target — the harness kept up, and the fleet was held back waiting for the target\'s answers',
      evidence: pressure.map((n) => n.replace(TARGET_CLAIM, '')),
      alsoSeen: own,
      whatToDo: [],
    };
  }
  return { limit: 'neither', headline: 'neither — the harness kept up and the target kept pace with the fleet', evidence: [], alsoSeen: own, whatToDo: [] };
}
