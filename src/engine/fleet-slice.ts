/**
 * A fleet slice: one MACHINE's (process's, pod's) part of a fleet run over several machines
 * (`run --shard i/N`, or `JOB_COMPLETION_INDEX` with `OTA_SWARM_SHARDS` in a Kubernetes Indexed
 * Job). Not to be confused with ./shard.ts, one worker THREAD's part inside one process: a slice
 * is cut first, then each process stripes its slice over its worker threads.
 *
 * Slice i of N takes the devices whose fleet index is i, i+N, i+2N, ... Every draw of a device
 * (profile, faults, arrival instant) is a pure function of (seed, fleet index, fleet size), so the
 * same seed gives the same devices wherever they run, and because the slices interleave, every
 * arrival pattern (ramp, constant rate, spread) splits into N schedules whose union is the
 * unsharded one, like k6's execution segments, with each slice carrying 1/N of the rate.
 */

export interface FleetSlice {
  /** 0-based index of this slice. */
  index: number;
  /** How many slices the fleet is cut into. */
  count: number;
}

/** Where the slice came from, for error lines. */
export const SHARD_FLAG = '--shard';
export const SHARD_INDEX_ENV = 'JOB_COMPLETION_INDEX';
export const SHARD_COUNT_ENV = 'OTA_SWARM_SHARDS';
/** More slices than this is a typo, not a cluster. */
export const MAX_SLICES = 10_000;

/** The whole fleet as one slice. */
export const WHOLE_FLEET: FleetSlice = Object.freeze({ index: 0, count: 1 });

/** A slice problem as one line naming the flag or the variable. */
export class SliceError extends Error {}

const INTEGER = /^\s*(\d{1,9})\s*$/;

function checked(index: number, count: number, where: string): FleetSlice {
  if (count < 1 || count > MAX_SLICES) throw new SliceError(`${where}: the shard count must be 1..${MAX_SLICES}, got ${count}`);
  if (index >= count) throw new SliceError(`${where}: shard index ${index} is not below the shard count ${count} (indices are 0..${count - 1})`);
  return { index, count };
}

/** `i/N` (0-based i) → slice; throws SliceError naming --shard. */
export function parseSliceFlag(text: string): FleetSlice {
  const m = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*$/.exec(text);
  if (!m) throw new SliceError(`${SHARD_FLAG}: "${text}" is not i/N (0-based index i of N shards, e.g. 0/4)`);
  return checked(Number(m[1]), Number(m[2]), SHARD_FLAG);
}

/**
 * The slice a Kubernetes Indexed Job gives this pod: `JOB_COMPLETION_INDEX` (set by Kubernetes)
 * and `OTA_SWARM_SHARDS` (the Job's completions, set by the manifest). Undefined when neither is
 * set; a SliceError when only one is, or either is not a number.
 */
export function sliceFromEnv(env: NodeJS.ProcessEnv): FleetSlice | undefined {
  const index = env[SHARD_INDEX_ENV];
  const count = env[SHARD_COUNT_ENV];
  if (index === undefined && count === undefined) return undefined;
  if (index === undefined) throw new SliceError(`${SHARD_COUNT_ENV} is set but ${SHARD_INDEX_ENV} is not: which shard is this?`);
  if (count === undefined) throw new SliceError(`${SHARD_INDEX_ENV} is set but ${SHARD_COUNT_ENV} is not: set it to the Job's completions`);
  const i = INTEGER.exec(index);
  if (!i) throw new SliceError(`${SHARD_INDEX_ENV}: "${index}" is not a shard index`);
  const n = INTEGER.exec(count);
  if (!n) throw new SliceError(`${SHARD_COUNT_ENV}: "${count}" is not a shard count`);
  return checked(Number(i[1]), Number(n[1]), `${SHARD_INDEX_ENV}/${SHARD_COUNT_ENV}`);
}

/** The flag wins over the environment (a user re-running one shard of a Job by hand). */
export function resolveSlice(flag: string | undefined, env: NodeJS.ProcessEnv): FleetSlice | undefined {
  return flag !== undefined ? parseSliceFlag(flag) : sliceFromEnv(env);
}

/** Devices in the slice of a fleet of `total`. */
export function sliceSize(total: number, slice: FleetSlice): number {
  return Math.max(0, Math.ceil((total - slice.index) / slice.count));
}

/** Fleet index of the slice's `local`-th device. */
export function fleetIndexOf(slice: FleetSlice, local: number): number {
  return slice.index + local * slice.count;
}

/**
 * One worker thread's stripe of the slice (./shard.ts runs it): the slice's devices workerIndex,
 * workerIndex + workers, ... as a count and each slot's fleet index.
 */
export function workerStripe(total: number, slice: FleetSlice, workerIndex: number, workers: number): { count: number; fleetIndex(slot: number): number } {
  return {
    count: Math.max(0, Math.ceil((sliceSize(total, slice) - workerIndex) / workers)),
    fleetIndex: (slot) => fleetIndexOf(slice, workerIndex + slot * workers),
  };
}

export const isWholeFleet = (slice: FleetSlice): boolean => slice.count === 1;

/** `shard 2/4`, as reports and errors name a slice (0-based, as JOB_COMPLETION_INDEX is). */
export const sliceLabel = (slice: FleetSlice): string => `shard ${slice.index}/${slice.count}`;
