/**
 * Live counters each worker publishes in shared memory, read by the main thread for progress
 * lines without messages or locks (Atomics on an Int32Array per worker).
 */
export const ProgressField = {
  started: 0,
  stopped: 1,
  /** Requests written to a connection and not yet answered (never above the in-flight cap). */
  inFlight: 2,
  requests: 3,
  errors: 4,
  /** Requests a device has made that wait in the harness (in-flight slot, free connection). */
  queued: 5,
} as const;

export const PROGRESS_FIELDS = 6;

export interface ProgressTotals {
  started: number;
  stopped: number;
  inFlight: number;
  requests: number;
  errors: number;
  queued: number;
}

/** Sums the counters of all workers. */
export function readProgress(counters: Int32Array, workers: number): ProgressTotals {
  const t: ProgressTotals = { started: 0, stopped: 0, inFlight: 0, requests: 0, errors: 0, queued: 0 };
  for (let w = 0; w < workers; w++) {
    const base = w * PROGRESS_FIELDS;
    t.started += Atomics.load(counters, base + ProgressField.started);
    t.stopped += Atomics.load(counters, base + ProgressField.stopped);
    t.inFlight += Atomics.load(counters, base + ProgressField.inFlight);
    t.requests += Atomics.load(counters, base + ProgressField.requests);
    t.errors += Atomics.load(counters, base + ProgressField.errors);
    t.queued += Atomics.load(counters, base + ProgressField.queued);
  }
  return t;
}
