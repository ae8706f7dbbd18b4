/**
 * The report of a run: what `report.json` holds and what `run()` returns. Every latency figure is
 * derived from a histogram the report carries, so reports can be merged without loss.
 */

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface OperationReport {
  /** Requests that got an answer or failed (every attempt counts). */
  count: number;
  /** Transport failures, 5xx, and answers the dialect could not read. */
  errors: number;
  /** Counts per outcome label: `errno:0`, `code:43`, `http:503`, `net:ECONNRESET`, ... */
  byOutcome: Record<string, number>;
  /**
   * Real milliseconds from the moment the device meant to act to the answer: includes any time the
   * harness itself was late (scheduling lag, queueing behind the in-flight cap). This is the figure
   * a device would see; thresholds read it.
   */
  latencyMs: LatencySummary;
  /**
   * Real milliseconds from the instant the request was written to a connection's socket to the
   * answer: the server's share plus the loopback round trip (see harness for event-loop lag).
   */
  serviceMs: LatencySummary;
  /**
   * Real milliseconds from the moment the device meant to act to the write: the harness's own
   * wait (late timer, in-flight slot, free connection). Requests never written (refused
   * connection) are not in it. Absent in reports written before it existed.
   */
  queuedMs?: LatencySummary;
  /** HdrHistogram (µs), compressed base64, of latencyMs. */
  histogram: string;
  /** HdrHistogram (µs), compressed base64, of serviceMs. */
  serviceHistogram: string;
  /** HdrHistogram (µs), compressed base64, of queuedMs. */
  queuedHistogram?: string;
  /**
   * Requests the run's end caught unanswered, not counted in `count`: `inFlight` were written and
   * awaited their answer, `queued` were still waiting to be written. Absent when none.
   */
  unfinished?: { inFlight: number; queued: number };
}

export interface TransitionStep {
  /** Virtual ms since the run's virtual origin. */
  t: number;
  /** State entered. */
  state: string;
  /** What caused it: the answer's outcome label, `timer`, or `start`. */
  cause: string;
}

export interface TransitionViolation {
  device: string;
  rule: string;
  detail: string;
  trace: TransitionStep[];
}

export interface TransitionsReport {
  /** Devices whose whole sequence was checked. */
  checked: number;
  violations: number;
  /** Violations counted per rule. */
  byRule: Record<string, number>;
  /** Devices whose last state is not final (the run stopped before they were done). */
  unfinished: number;
  /** The first few violating devices, with their traces. */
  samples: TransitionViolation[];
  /**
   * Final states compared with the server's own view (admin API). `status` not-judged (with the
   * reason) when the target has none or it failed; absent in reports of older versions.
   */
  serverAgreement?: { status?: VerdictStatus; reason?: string; checked: number; disagreements: number; samples: { device: string; device_state: string; server_state: string }[] };
}

/** One line of a device's trace in a verdict: an exchange as the device saw it. */
export interface VerdictTraceLine {
  /** Virtual ms since the run's start when the request went out. */
  t: number;
  request: string;
  answer: string;
  /** The state the device went to on the answer. */
  state: string;
}

/**
 * Whether a rule could judge: every device it applies to (`judged`), only part of what it checks
 * (`partly-judged`: no server view, documented defaults, evidence cut), or nothing at all
 * (`not-judged`: it applied to no device, or needs what the target does not give).
 */
export type VerdictStatus = 'judged' | 'partly-judged' | 'not-judged';

/**
 * The transition verdicts: per rule (verdicts/rules/), whether the devices and the server did
 * what the protocol says, judged from the devices' own exchanges and the server's view. Every
 * rule of the dialect is listed, judged or not.
 */
export interface VerdictReport {
  rule: string;
  /** What the rule checks, in words. */
  description: string;
  /** Absent only in reports written before statuses existed (read them with `verdictStatus`). */
  status: VerdictStatus;
  /** Why it was partly judged or not judged. */
  reason?: string;
  /** Devices the rule applied to. */
  checked: number;
  /** Devices that break it. */
  violations: number;
  /** What the rule counted on the way (duplicates recorded, expected failures, bans by waits, ...). */
  counts?: Record<string, number>;
  /** Why it judged only part of what it checks (no server view, evidence capped, ...). */
  note?: string;
  /** The first few violating devices, with their traces (every one is in `Report.violationsFile`). */
  samples: { device: string; detail: string; trace: VerdictTraceLine[] }[];
}

/** A verdict's status, also for reports written before statuses existed. */
export function verdictStatus(v: VerdictReport): VerdictStatus {
  const s = (v as Partial<VerdictReport>).status;
  if (s !== undefined) return s;
  if (v.checked === 0) return 'not-judged';
  return v.note !== undefined ? 'partly-judged' : 'judged';
}

export interface ExpectationResult {
  /** As written in the scenario, e.g. `check.p99 < 200ms`. */
  name: string;
  passed: boolean;
  /** The measured value and the bound, in words. */
  detail: string;
}

export interface LagSummary {
  p50: number;
  p99: number;
  max: number;
}

export interface HarnessReport {
  workers: number;
  /** Event-loop delay of the workers (merged), ms. */
  eventLoopLagMs: LagSummary;
  /** How late timers fired against the moment a device was due, real ms (merged). */
  scheduleLagMs: LagSummary;
  /** Event-loop utilisation (busy share, 0..1) of the busiest worker over the run; absent in older reports. */
  eventLoopUtilization?: number;
  /** Whether the harness was the bottleneck of this run, and why. */
  bottleneck: boolean;
  notes: string[];
  /** The encoded lag histograms (HdrHistogram, µs), so shard reports merge without loss; absent in older reports. */
  lagHistograms?: { eventLoop: string; schedule: string };
  /** A run given an agreed start (`--start-at`): how late it started, and its clock against the target's. */
  start?: StartReport;
}

/** The start barrier's figures (engine/start-barrier.ts). */
export interface StartReport {
  /** The agreed start, ISO 8601. */
  at: string;
  /** Real ms after the agreed start that this run's devices could first act (0: on time). */
  lateByMs: number;
  /** This machine's clock against the target's Date header (positive: the target is ahead), or why not measured. */
  clockSkew?: { ms: number; resolutionMs: number } | { notJudged: string };
}

/** Which slice of a fleet spread over machines a report covers (engine/fleet-slice.ts). */
export interface FleetSliceReport {
  /** 0-based, as JOB_COMPLETION_INDEX. */
  index: number;
  count: number;
  /** Devices in this slice (`devices.total` is the same figure). */
  devices: number;
  /** Devices in the whole fleet. */
  fleetDevices: number;
}

/** A report merged from shard reports (`ota-swarm merge`): each shard, and whether it counted. */
export interface MergedFrom {
  shards: number;
  slices: { index: number; source: string; status: 'merged' | 'failed' | 'missing'; reason?: string }[];
}

/**
 * Buckets over time; `t` is the bucket's start in seconds since the run's start (real or virtual,
 * as named). Real buckets are one second; virtual ones widen on long runs to stay a few thousand.
 */
export interface TimeSeries {
  bucketSeconds: number;
  t: number[];
  requests: number[];
  errors: number[];
  /** Devices that woke for the first time in the bucket. */
  arrivals: number[];
}

/** Devices by coarse state, sampled once per real second. */
export interface StateSeries {
  /** Seconds since the run's start (real). */
  t: number[];
  /** Category → count at each sample: asleep, checking, downloading, upgrading, succeeded, failed, banned, other. */
  byCategory: Record<string, number[]>;
}

export interface Report {
  /** Format version of this object. */
  format: 1;
  scenario: string;
  /** Base URL, or `embedded` with the URL it had. */
  target: string;
  dialect: string;
  seed: number;
  /** Virtual ms per real ms, or `max` (no wall clock paced the run). */
  timeScale: number | 'max';
  startedAt: string;
  /** Virtual instant (ms since the epoch) the run's devices count from; transition times are relative to it. */
  virtualStartMs: number;
  durationMs: number;
  /** Virtual ms the run covered. */
  virtualDurationMs: number;
  devices: { total: number; byFinalState: Record<string, number>; started: number };
  operations: Record<string, OperationReport>;
  transitions: TransitionsReport;
  /** Transition verdicts, one per rule of the dialect (absent in reports of older versions). */
  verdicts?: VerdictReport[];
  /** Every violation of every verdict rule, one JSON line each, beside report.json (absent when not written). */
  violationsFile?: string;
  /** The target profile the verdicts and devices followed, each value with its source. */
  profile?: ProfileEntry[];
  expectations: ExpectationResult[];
  harness: HarnessReport;
  /**
   * What the transport counted on the wire that no operation shows, summed over workers (CoAP:
   * datagrams each way, the devices' own retransmissions, CON notifications never acknowledged,
   * socket errors); absent for a transport that counts nothing of the kind (HTTP).
   */
  wire?: Record<string, number>;
  /** Requests, errors and arrivals per second, over real and over virtual time; devices by state. */
  timeseries?: { real: TimeSeries; virtual: TimeSeries; states: StateSeries };
  interrupted: boolean;
  /** Why the run ended: `completed` (every device stopped), `duration`, `interrupted`, `error`. */
  endedBy: 'completed' | 'duration' | 'interrupted' | 'error';
  /** Errors that stopped the run early, one line each. */
  errors: string[];
  /** The probe before the fleet (a target of the user's): its device, each call's outcome, in words. */
  probe?: ProbeReport;
  /** Why the run shows what it shows and what to do about it (e.g. a fleet already upgraded), one line each. */
  hints?: string[];
  /** This run is one slice of a fleet spread over machines (`--shard i/N`). */
  fleetSlice?: FleetSliceReport;
  /** This report was merged from shard reports. */
  merged?: MergedFrom;
  /** Every started device's final state, one JSON line each, beside report.json (`--device-finals`). */
  devicesFile?: string;
  /** The application side: north-bound steps and the pushes received (docs/application-side.md). */
  application?: import('./application-types.js').ApplicationReport;
  passed: boolean;
}

export interface ProbeReport {
  device: string;
  calls: { op: string; outcome: string; meaning?: string }[];
  note: string;
}

/** One value of the target profile (src/protocol/profile.ts) and where it came from. */
export interface ProfileEntry {
  key: string;
  value: string;
  source: 'flag' | 'scenario' | 'admin' | 'documented';
}
