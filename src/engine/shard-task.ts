/** What the main thread sends a worker, and what comes back (both structured-clone friendly). */
import type { Scenario } from '../scenario/types.js';
import type { ClockOrigin } from '../time/clock.js';
import type { MetricsSnapshot, LagSnapshot } from '../metrics/recorder.js';
import type { TransitionCheck } from '../metrics/transitions.js';
import type { SeriesSnapshot } from '../metrics/series.js';
import type { ShardOutcome } from './shard.js';
import type { FrontierShare } from '../time/frontier.js';
import type { MessagePort } from 'node:worker_threads';
import type { EvidenceBatch } from '../verdicts/evidence.js';
import type { FleetSlice } from './fleet-slice.js';

export interface ShardTask {
  scenario: Scenario;
  /** The dialect's target settings, as its target spec made them (structured-cloned). */
  target: unknown;
  baseUrl: string;
  clock: ClockOrigin;
  runStartVirtual: number;
  /** Under `--time-scale max`: the frontier every worker shares (time/frontier.ts). */
  frontier?: FrontierShare;
  workerIndex: number;
  workers: number;
  /** This process's slice of the fleet (./fleet-slice.ts); the workers stripe it. Absent: the whole fleet. */
  slice?: FleetSlice;
  /** Return every started device's final state, not only the server-agreement sample (--device-finals). */
  allFinals?: boolean;
  /** Int32Array[1]: non-zero tells every worker to stop. */
  stop: SharedArrayBuffer;
  /** Int32Array[workers × PROGRESS_FIELDS]: live counters. */
  progress: SharedArrayBuffer;
  agreementSampleSize: number;
  maxSamples: number;
  /** The folder each worker spills its stopped devices' evidence to (verdicts/spill.ts). */
  evidence: { dir: string };
  /** Dialect plugin modules (file URLs) the worker loads before it looks up the dialect. */
  plugins: string[];
  /** The part file the worker writes its exchange-log records to (exchanges/log-writer.ts); absent: none. */
  exchangeLog?: string;
  /** Where the worker posts live snapshots (LivePost) once a second; transferred. */
  live?: MessagePort;
}

export interface ShardResult {
  workerIndex: number;
  outcome: ShardOutcome;
  metrics: MetricsSnapshot;
  lag: LagSnapshot;
  transitions: TransitionCheck;
  /** Devices (a sample) and the state each ended in, to compare with the server's view. */
  finals: { id: string; state: string }[];
  series: SeriesSnapshot;
  /** The devices' exchanges, for the verdicts (absent when the dialect keeps none). */
  evidence?: EvidenceBatch;
}
