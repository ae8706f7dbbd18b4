/**
 * Watching a run's workers so that none is lost in silence. A worker that throws, exits or runs
 * out of memory rejects its task; a worker that hangs (a loop that never yields) rejects nothing,
 * so each worker's live posts (live.ts, once a second) double as its heartbeat: one silent for
 * longer than the watchdog is declared hung and its thread terminated. A worker still running a
 * grace period after a stop is terminated too. Either way what it measured up to its last post is
 * kept, and its devices are reported as lost with it rather than as never started.
 */
import type { MessagePort } from 'node:worker_threads';
import type { MetricsSnapshot } from '../metrics/recorder.js';
import { formatMs } from '../config/units.js';
import { ProgressField, PROGRESS_FIELDS } from './progress.js';
import type { LivePost } from './live.js';

/** Why a worker's shard came back without a result. */
export type WorkerLoss =
  /** Its task rejected: it threw, exited, or ran out of memory. */
  | { kind: 'died'; message: string }
  /** Silent past the watchdog; terminated. */
  | { kind: 'hung'; silentMs: number }
  /** Still running a grace period after the run was told to stop; terminated. */
  | { kind: 'no-stop'; graceMs: number };

export type ShardSettlement<T> = { worker: number; status: 'fulfilled'; value: T } | { worker: number; status: 'lost'; loss: WorkerLoss };

/** The final state given to every device of a lost worker. */
export const LOST_WITH_WORKER = 'lost-with-worker';

/** Real ms a worker may stay silent before it is declared hung (RunOptions.watchdogMs overrides). */
export const DEFAULT_WATCHDOG_MS = 60_000;

/** Last post and last sign of life of each worker, fed by the workers' live ports. */
export class WorkerWatch {
  private readonly heard: number[];
  private readonly posts = new Map<number, LivePost>();

  constructor(
    workers: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    const t = now();
    this.heard = Array.from({ length: workers }, () => t);
  }

  listen(worker: number, port: MessagePort): void {
    port.on('message', (post: LivePost) => {
      this.heard[worker] = this.now();
      this.posts.set(worker, post);
    });
    // A listener refs the port again: the watch must not keep the process alive.
    port.unref();
  }

  silentFor(worker: number, at: number): number {
    return at - (this.heard[worker] ?? at);
  }

  /** Counts the main thread's own stall (`ms` it could not look) for no worker: their posts waited in its queue. */
  forgive(ms: number): void {
    for (let w = 0; w < this.heard.length; w++) this.heard[w] = (this.heard[w] as number) + ms;
  }

  lastPost(worker: number): LivePost | undefined {
    return this.posts.get(worker);
  }
}

export interface SuperviseOptions {
  /** Non-zero once the run was told to stop. */
  stopFlag: Int32Array;
  graceMs: number;
  silentMs: number;
  now?: () => number;
  tickMs?: number;
}

/**
 * Starts every shard and waits until each has a result or is lost. `start` gets the signal that
 * terminates its thread. A task that does not settle within a grace period after its abort is
 * given up on, so the run always ends.
 */
export async function superviseShards<T>(starts: readonly ((signal: AbortSignal) => Promise<T>)[], watch: WorkerWatch, o: SuperviseOptions): Promise<ShardSettlement<T>[]> {
  const now = o.now ?? (() => performance.now());
  const tickMs = o.tickMs ?? 100;
  const settled: (ShardSettlement<T> | undefined)[] = starts.map(() => undefined);
  const aborts = starts.map(() => new AbortController());
  const verdicts: ({ loss: WorkerLoss; at: number } | undefined)[] = starts.map(() => undefined);
  let wake: () => void = () => {};
  starts.forEach((start, worker) => {
    const settle = (s: ShardSettlement<T>): void => {
      if (settled[worker] !== undefined) return;
      settled[worker] = s;
      wake();
    };
    let running: Promise<T>;
    try {
      running = start((aborts[worker] as AbortController).signal);
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (value) => settle(verdicts[worker] ? { worker, status: 'lost', loss: verdicts[worker].loss } : { worker, status: 'fulfilled', value }),
      (err: unknown) => settle({ worker, status: 'lost', loss: verdicts[worker]?.loss ?? { kind: 'died', message: oneLine(err) } }),
    );
  });
  let stopSeenAt: number | undefined;
  let lastTick = now();
  while (settled.some((s) => s === undefined)) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, tickMs);
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const t = now();
    // The main thread itself was held up (a long synchronous stretch): the workers' posts are
    // waiting in its queue, not missing.
    const stall = t - lastTick - tickMs;
    if (stall > o.silentMs / 4) watch.forgive(stall);
    lastTick = t;
    if (stopSeenAt === undefined && Atomics.load(o.stopFlag, 0) !== 0) stopSeenAt = t;
    settled.forEach((s, worker) => {
      if (s !== undefined) return;
      const verdict = verdicts[worker];
      if (verdict !== undefined) {
        // Aborted but the task never settled: give it up rather than wait for ever.
        if (t - verdict.at > o.graceMs) settled[worker] = { worker, status: 'lost', loss: verdict.loss };
        return;
      }
      const silent = watch.silentFor(worker, t);
      let loss: WorkerLoss | undefined;
      if (silent > o.silentMs) loss = { kind: 'hung', silentMs: silent };
      else if (stopSeenAt !== undefined && t - stopSeenAt > o.graceMs) loss = { kind: 'no-stop', graceMs: o.graceMs };
      if (loss === undefined) return;
      verdicts[worker] = { loss, at: t };
      (aborts[worker] as AbortController).abort();
    });
  }
  return settled as ShardSettlement<T>[];
}

/** A lost worker's share of the run: its devices, and what it measured before it was lost. */
export interface LostShard {
  worker: number;
  loss: WorkerLoss;
  devices: number;
  /** Devices it had started (shared counters: true up to the moment it was lost). */
  started: number;
  /** Requests it had made (shared counters). */
  requests: number;
  /** Its last live post's metrics: the requests kept with their latencies. */
  metrics?: MetricsSnapshot;
}

/** Devices of worker `w`: the fleet is dealt round-robin (global index = w + slot × workers). */
export const shardSize = (total: number, workers: number, w: number): number => Math.max(0, Math.ceil((total - w) / workers));

export function lostShards<T>(settled: readonly ShardSettlement<T>[], watch: WorkerWatch, progress: Int32Array, total: number, workers: number): LostShard[] {
  return settled.flatMap((s): LostShard[] => {
    if (s.status !== 'lost') return [];
    const base = s.worker * PROGRESS_FIELDS;
    const metrics = watch.lastPost(s.worker)?.metrics;
    return [
      {
        worker: s.worker,
        loss: s.loss,
        devices: shardSize(total, workers, s.worker),
        started: Atomics.load(progress, base + ProgressField.started),
        requests: Atomics.load(progress, base + ProgressField.requests),
        ...(metrics ? { metrics } : {}),
      },
    ];
  });
}

/** One line for the report's errors. */
export function describeLoss(l: LostShard): string {
  const why =
    l.loss.kind === 'died'
      ? `failed: ${l.loss.message}`
      : l.loss.kind === 'hung'
        ? `hung (silent for ${formatMs(l.loss.silentMs)}) and was terminated`
        : `did not stop within ${formatMs(l.loss.graceMs)} of the stop and was terminated`;
  const kept = l.metrics ? Object.values(l.metrics.operations).reduce((n, o) => n + o.count, 0) : 0;
  const requests =
    l.requests === 0
      ? 'it had made no request'
      : `of its ${l.requests} requests, ${kept} are kept with their latencies (those before its last live post)`;
  return `worker ${l.worker} ${why}: its ${l.devices} devices (${l.started} started) are reported ${LOST_WITH_WORKER}; ${requests}`;
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
