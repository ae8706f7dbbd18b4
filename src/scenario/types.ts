/**
 * A scenario after parsing and validation: every unit resolved (ms, bytes, fractions), every
 * default filled. The engine consumes only this; the YAML format lives in ./schema.ts.
 */
import type { Distribution } from '../random/distribution.js';
import type { CutPoint, RetransmitSettings } from '../device/types.js';
import type { WakePattern } from '../radio/wake.js';
import type { TimeScale } from '../time/clock.js';
import type { DeclaredSpec } from '../dialect/declared/types.js';

export type DialectName = 'onenet' | 'luat' | (string & {});

/** Power-saving mode of a cohort's radio (spec §3.1); timers in virtual ms. */
export type RadioMode =
  | { mode: 'always-on' }
  | { mode: 'psm'; t3412: Distribution; t3324: Distribution }
  | { mode: 'drx'; cycleMs: number }
  | { mode: 'edrx'; cycleMs: number; ptwMs: number };

/**
 * Field faults of a cohort: which share of it carries each (a count in the file becomes the share
 * that gives exactly that count), and the fault's own parameters. Absent: nobody. See docs/faults.md.
 */
export interface BehaviourShares {
  /** Share of the cohort whose downloaded image fails its md5 check. */
  corruptDownload: number;
  /** Share of the cohort that boots back into the old version after flashing. */
  rebootIntoOld: number;
  answerLoss?: { share: number; rate: number; ops: string[]; requeue: boolean };
  disconnect?: { share: number; at: CutPoint; times: number; reconnectMs: number };
  batteryDies?: { share: number; atShare: number };
  storageFull?: number;
  flashFails?: { share: number; code: 202 | 203 };
  longSleep?: { share: number; sleepMs: number; staleAuth: boolean };
  askAfterBan?: { share: number; asks: number };
  /** LwM2M: share of devices that leave `rate` of the server's requests unacknowledged. */
  dropAcks?: { share: number; rate: number };
  /** LwM2M: share of devices whose NAT forgets them in PSM (each wake from a new source port). */
  natRebind?: number;
}

/** An admin action on the embedded (or admin-enabled) server at a virtual offset from the run's start. */
export type ServerEvent =
  | { atMs: number; action: 'republish'; package: string }
  | { atMs: number; action: 'lift-bans' }
  | { atMs: number; action: 'campaign'; endpoints: string; package: string; observe: boolean };

export interface CohortSpec {
  name: string;
  /** Devices in this cohort after shares were applied to the fleet size. */
  count: number;
  /** Device ids, assigned in order from the start of this range. */
  ids: string;
  version: string;
  manuf: string;
  model: string;
  /** Luat core version. */
  core: string;
  /** OneNET check `type`: 1 FOTA, 2 SOTA. */
  taskType: 1 | 2;
  /** Percent 0–100. */
  battery: Distribution;
  /** AT+CSQ rssi 0–31 (99 = none). */
  signal: Distribution;
  radio: RadioMode;
  /** RRC connection set-up after the connection went idle, virtual ms; absent = free. */
  rrcSetup?: Distribution;
  /** The radio link: downloads are paced to its rate; absent = as fast as loopback goes. */
  link?: { bitrate: Distribution; rtt: Distribution };
  behaviours: BehaviourShares;
  /** Checks after a successful upgrade (`recheck`): `times`, `everyMs` virtual ms apart; absent: none. */
  recheck?: { times: number; everyMs: number };
  settings: {
    chunkSize: number;
    progressEvery: number;
    requestTimeoutMs: number;
    rebootMs: number;
    maxAttempts: number;
    retryDelayMs: number;
    maxStalledAttempts: number;
    waitBackoffMs: number;
    retransmit: RetransmitSettings;
    /** LwM2M: Observe notifications as CON (`settings.lwm2m.confirmableNotify`); absent: NON. */
    confirmableNotify?: boolean;
  };
}

/** How devices first wake, over virtual time from the run's start. */
export type ArrivalSpec =
  | { pattern: 'all-at-once' }
  /** Arrival rate grows linearly from 0 over `overMs`. */
  | { pattern: 'ramp'; overMs: number }
  /** `perSecond` devices every virtual second until all have arrived. */
  | { pattern: 'constant-rate'; perSecond: number }
  /** Uniformly at random within `overMs`. */
  | { pattern: 'spread'; overMs: number }
  /**
   * `overMs` × Beta(alpha, beta): 3GPP TR 37.868 traffic model 2 (synchronised access after an
   * outage) is alpha 3, beta 4 over 10 s; YAML's `synchronised` names exactly that.
   */
  | { pattern: 'beta'; alpha: number; beta: number; overMs: number };

/** A threshold or expectation as data: `check.p99 < 200ms` → { metric, op, value, unit }. */
export interface Expectation {
  /** The text as written, for the report. */
  text: string;
  /** `check.p99`, `devices.succeeded`, `transitions.violations`, `operations.errors`, ... */
  metric: string;
  op: '<' | '<=' | '>' | '>=' | '==' | '!=';
  value: number;
  /** `ms` for latencies, `%` for a share of devices or requests, `` for counts. */
  unit: 'ms' | '%' | '';
}

import type { ProfileLayer } from '../protocol/profile.js';

export interface Scenario {
  /** File it was read from (for messages), and its name. */
  file: string;
  name: string;
  description: string;
  dialect: DialectName;
  /** The declared dialect the file names (`dialectFile`), as checked: it travels to the workers, which register it. */
  declared?: DeclaredSpec;
  seed: number;
  /** Virtual ms per real ms, or `max` (no wall clock; see time/frontier.ts). */
  timeScale: TimeScale;
  target: {
    url?: string;
    /**
     * The scenario's `target.<dialect>` block, checked by its dialect's target spec (schema, then
     * `resolve`) and kept as that returns it; the dialect reads it (dialect/<name>/target.ts).
     * Absent: the file has none and the dialect needs none.
     */
    block?: unknown;
    /** `target.profile` of the file, parsed (src/protocol/profile.ts). */
    profile?: ProfileLayer;
    /** `--profile key=value` flags: they win over the file. */
    profileFlags?: ProfileLayer;
    /** `--allow-clock-skew`: the run may use a time scale its target does not share (src/engine/clock-check.ts). */
    allowClockSkew?: boolean;
  };
  /** Settings for the embedded server (ignored with a target). */
  server: { catalog?: string; faults?: unknown; bugs: string[]; events?: ServerEvent[] };
  /** The application side: north-bound steps and the push receiver (src/scenario/application.ts). */
  application?: import('./application.js').ApplicationSpec;
  fleet: { devices: number; cohorts: CohortSpec[] };
  arrival: ArrivalSpec;
  /**
   * A named wake pattern (steady PSM phases, outage recovery, daily alignment, rollout start); when
   * set it decides each device's first wake and PSM phase instead of `arrival`.
   */
  wake?: WakePattern;
  stop: {
    /** Real ms after which the run stops, whatever the devices are doing. */
    maxDurationMs: number;
    /** Virtual ms after which the run stops (for soak-style runs), if set. */
    maxVirtualMs?: number;
  };
  engine: {
    /** In-flight requests per worker (p-limit). */
    maxInFlightPerWorker: number;
    /** Keep-alive connections per worker to the target. */
    connectionsPerWorker: number;
    /** `--time-scale max`: virtual ms a worker may run ahead of the slowest (time/frontier.ts). */
    lookaheadMs: number;
  };
  expect: Expectation[];
}
