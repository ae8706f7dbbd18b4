/**
 * The fleet as a plan: any device's profile from its index, in O(1), without building the fleet.
 * Cohorts take consecutive indices in order; every draw is a pure function of (seed, stream,
 * index), so a worker that owns devices 1000–1999 sees exactly what a single process would.
 * Each field fault (docs/faults.md) is carried by exactly round(share × cohort size) devices, picked
 * by a seeded shuffle of the cohort of its own, so the faults are independent of each other.
 */
import { idAt, parseIdRange, sharedIds, type IdRange } from '../catalog/id-range.js';
import type { Behaviour, DeviceProfile, DeviceSettings } from '../device/types.js';
import { draw } from '../random/distribution.js';
import { hashUniform, mix32 } from '../random/rng.js';
import type { CohortSpec, Scenario } from './types.js';

export interface FleetPlan {
  total: number;
  cohorts: CohortSpec[];
  /** Cohort index of global device index i. */
  cohortOf(i: number): number;
  profileOf(i: number): DeviceProfile;
  settingsOf(cohortIndex: number): DeviceSettings;
}

/** AT+CSQ rssi of "no signal"; a cohort whose signal is this gives every device no signal. */
export const NO_SIGNAL = 99;

/** Streams of the per-device draws (distinct from every other stream of the project by value). */
export const FLEET_STREAMS = {
  battery: 0xba77_0001,
  batteryPair: 0xba77_0002,
  signal: 0x5169_0001,
  signalPair: 0x5169_0002,
  deviceSeed: 0xdec5_eed0,
  corruptDownload: 0xbad0_0001,
  rebootIntoOld: 0xbad0_0002,
  answerLoss: 0xbad0_0003,
  disconnect: 0xbad0_0004,
  batteryDies: 0xbad0_0005,
  storageFull: 0xbad0_0006,
  flashFails: 0xbad0_0007,
  longSleep: 0xbad0_0008,
  askAfterBan: 0xbad0_0009,
  dropAcks: 0xbad0_000a,
  natRebind: 0xbad0_000b,
} as const;

/** The behaviours beyond the first two, each picked for its own exact share of the cohort. */
const FAULT_NAMES = ['answerLoss', 'disconnect', 'batteryDies', 'storageFull', 'flashFails', 'longSleep', 'askAfterBan', 'dropAcks', 'natRebind'] as const;
type FaultName = (typeof FAULT_NAMES)[number];

/** How many devices of the cohort carry a fault, and the key of the seeded order that picks them. */
interface FaultPick {
  name: FaultName;
  count: number;
  key: number;
}

/** Behaviour objects are shared: four possible values, no allocation per profile. */
const BEHAVIOURS: readonly Behaviour[] = [
  Object.freeze({ corruptDownload: false, rebootIntoOld: false }),
  Object.freeze({ corruptDownload: true, rebootIntoOld: false }),
  Object.freeze({ corruptDownload: false, rebootIntoOld: true }),
  Object.freeze({ corruptDownload: true, rebootIntoOld: true }),
];

interface CohortPlan {
  spec: CohortSpec;
  start: number;
  range: IdRange;
  settings: DeviceSettings;
  /** Exactly this many devices of the cohort carry each behaviour. */
  corrupt: number;
  rebootOld: number;
  /** Keys of the seeded orders that pick which devices carry them. */
  corruptKey: number;
  rebootKey: number;
  /** The other faults the cohort gives (none for most cohorts). */
  faults: FaultPick[];
}

export function expandFleet(scenario: Scenario): FleetPlan {
  const seed = scenario.seed >>> 0;
  const cohorts = scenario.fleet.cohorts;
  const plans: CohortPlan[] = [];
  let start = 0;
  cohorts.forEach((spec, k) => {
    plans.push({
      spec,
      start,
      range: parseIdRange(spec.ids),
      settings: Object.freeze({ ...spec.settings, ...(spec.recheck !== undefined ? { recheck: spec.recheck } : {}) }),
      corrupt: Math.round(spec.behaviours.corruptDownload * spec.count),
      rebootOld: Math.round(spec.behaviours.rebootIntoOld * spec.count),
      corruptKey: mix32(seed ^ mix32(FLEET_STREAMS.corruptDownload + k)),
      rebootKey: mix32(seed ^ mix32(FLEET_STREAMS.rebootIntoOld + k)),
      faults: FAULT_NAMES.flatMap((name): FaultPick[] => {
        const b = spec.behaviours[name];
        if (b === undefined) return [];
        const share = typeof b === 'number' ? b : b.share;
        const count = Math.round(share * spec.count);
        return count > 0 ? [{ name, count, key: mix32(seed ^ mix32(FLEET_STREAMS[name] + k)) }] : [];
      }),
    });
    start += spec.count;
  });
  const total = start;
  // A scenario built in code skips the loader's check: two cohorts must never run one device twice.
  for (let b = 1; b < plans.length; b++) {
    for (let a = 0; a < b; a++) {
      const [pa, pb] = [plans[a] as CohortPlan, plans[b] as CohortPlan];
      const shared = sharedIds(pa.range, pa.spec.count, pb.range, pb.spec.count);
      if (shared) throw new RangeError(`cohorts "${pa.spec.name}" and "${pb.spec.name}" both take ids ${shared.first}..${shared.last}`);
    }
  }
  // Cohort ends, for the binary search in cohortOf; empty cohorts are never found.
  const ends = plans.map((p) => p.start + p.spec.count);

  const cohortOf = (i: number): number => {
    if (!(Number.isInteger(i) && i >= 0 && i < total)) throw new RangeError(`device index ${i} is outside the fleet (0..${total - 1})`);
    let lo = 0;
    let hi = ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (i < (ends[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  const profileOf = (i: number): DeviceProfile => {
    const k = cohortOf(i);
    const p = plans[k] as CohortPlan;
    const j = i - p.start;
    const corrupt = p.corrupt > 0 && seededOrder(j, p.spec.count, p.corruptKey) < p.corrupt;
    const rebootOld = p.rebootOld > 0 && seededOrder(j, p.spec.count, p.rebootKey) < p.rebootOld;
    const base = BEHAVIOURS[(corrupt ? 1 : 0) + (rebootOld ? 2 : 0)] as Behaviour;
    const carried = p.faults.filter((f) => seededOrder(j, p.spec.count, f.key) < f.count);
    return {
      index: i,
      id: idAt(p.range, j),
      cohort: p.spec.name,
      version: p.spec.version,
      manuf: p.spec.manuf,
      model: p.spec.model,
      core: p.spec.core,
      taskType: p.spec.taskType,
      battery: clampInt(draw(p.spec.battery, hashUniform(seed, FLEET_STREAMS.battery, i), hashUniform(seed, FLEET_STREAMS.batteryPair, i)), 0, 100),
      signal:
        p.spec.signal === NO_SIGNAL
          ? NO_SIGNAL
          : clampInt(draw(p.spec.signal, hashUniform(seed, FLEET_STREAMS.signal, i), hashUniform(seed, FLEET_STREAMS.signalPair, i)), 0, 31),
      seed: Math.floor(hashUniform(seed, FLEET_STREAMS.deviceSeed, i) * 4294967296),
      behaviour: carried.length === 0 ? base : faultsOf(base, carried, p.spec),
    };
  };

  const settingsOf = (cohortIndex: number): DeviceSettings => {
    const p = plans[cohortIndex];
    if (!p) throw new RangeError(`cohort index ${cohortIndex} is outside 0..${plans.length - 1}`);
    return p.settings;
  };

  return { total, cohorts, cohortOf, profileOf, settingsOf };
}

/** The device's behaviour with the faults it was picked for, their parameters from the cohort. */
function faultsOf(base: Behaviour, carried: readonly FaultPick[], spec: CohortSpec): Behaviour {
  const b: { -readonly [K in keyof Behaviour]: Behaviour[K] } = { ...base };
  const s = spec.behaviours;
  for (const { name } of carried) {
    switch (name) {
      case 'answerLoss':
        if (s.answerLoss) b.answerLoss = { rate: s.answerLoss.rate, ops: s.answerLoss.ops, requeue: s.answerLoss.requeue };
        break;
      case 'disconnect':
        if (s.disconnect) b.disconnect = { at: s.disconnect.at, times: s.disconnect.times, reconnectMs: s.disconnect.reconnectMs };
        break;
      case 'batteryDies':
        if (s.batteryDies) b.batteryDies = { atShare: s.batteryDies.atShare };
        break;
      case 'storageFull':
        b.storageFull = true;
        break;
      case 'flashFails':
        if (s.flashFails) b.flashFails = { code: s.flashFails.code };
        break;
      case 'longSleep':
        if (s.longSleep) b.longSleep = { sleepMs: s.longSleep.sleepMs, staleAuth: s.longSleep.staleAuth };
        break;
      case 'askAfterBan':
        if (s.askAfterBan) b.askAfterBan = { asks: s.askAfterBan.asks };
        break;
      case 'dropAcks':
        if (s.dropAcks) b.dropAcks = { rate: s.dropAcks.rate };
        break;
      case 'natRebind':
        b.natRebind = true;
        break;
    }
  }
  return b;
}

function clampInt(x: number, min: number, max: number): number {
  const n = Math.round(x);
  return n < min ? min : n > max ? max : n;
}

/**
 * Position of `j` in a seeded shuffle of 0..n-1: a four-round Feistel permutation over the
 * smallest even-bit power of two ≥ n, walking the cycle until it lands back inside 0..n-1. The
 * walk ends because a permutation's cycle through j returns to j; it takes under four steps on
 * average since the domain is less than 4n. Taking the devices whose position is below k picks
 * exactly k of them, spread over the cohort rather than the first k.
 */
export function seededOrder(j: number, n: number, key: number): number {
  if (n <= 1) return j;
  let bits = Math.max(2, Math.ceil(Math.log2(n)));
  if (bits % 2 === 1) bits++;
  const half = bits / 2;
  const side = 2 ** half;
  let x = j;
  do {
    let left = Math.floor(x / side);
    let right = x % side;
    for (let round = 0; round < 4; round++) {
      const f = mix32((right ^ mix32(key + round)) >>> 0) % side;
      const next = (left + f) % side;
      left = right;
      right = next;
    }
    x = left * side + right;
  } while (x >= n);
  return x;
}
