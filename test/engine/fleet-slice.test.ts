import { describe, expect, it } from 'vitest';
import { fleetIndexOf, parseSliceFlag, resolveSlice, SliceError, sliceFromEnv, sliceSize, WHOLE_FLEET, workerStripe, type FleetSlice } from '../../src/engine/fleet-slice.js';
import { arrivalTimeOf } from '../../src/scenario/arrival.js';
import type { ArrivalSpec } from '../../src/scenario/types.js';

const indices = (total: number, slice: FleetSlice): number[] => Array.from({ length: sliceSize(total, slice) }, (_, k) => fleetIndexOf(slice, k));

describe('fleet slices', () => {
  it('reads --shard i/N and refuses what is not one, naming the flag', () => {
    expect(parseSliceFlag('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseSliceFlag(' 0 / 1 ')).toEqual({ index: 0, count: 1 });
    expect(() => parseSliceFlag('4/4')).toThrow(/--shard: shard index 4 is not below the shard count 4/);
    expect(() => parseSliceFlag('1/0')).toThrow(/--shard: the shard count must be 1\.\.10000/);
    expect(() => parseSliceFlag('1-4')).toThrow(SliceError);
    expect(() => parseSliceFlag('-1/4')).toThrow(/not i\/N/);
  });

  it('reads JOB_COMPLETION_INDEX with OTA_SWARM_SHARDS, and says which is missing', () => {
    expect(sliceFromEnv({})).toBeUndefined();
    expect(sliceFromEnv({ JOB_COMPLETION_INDEX: '3', OTA_SWARM_SHARDS: '10' })).toEqual({ index: 3, count: 10 });
    expect(() => sliceFromEnv({ JOB_COMPLETION_INDEX: '3' })).toThrow(/OTA_SWARM_SHARDS is not/);
    expect(() => sliceFromEnv({ OTA_SWARM_SHARDS: '3' })).toThrow(/JOB_COMPLETION_INDEX is not/);
    expect(() => sliceFromEnv({ JOB_COMPLETION_INDEX: 'x', OTA_SWARM_SHARDS: '3' })).toThrow(/JOB_COMPLETION_INDEX: "x"/);
    expect(() => sliceFromEnv({ JOB_COMPLETION_INDEX: '3', OTA_SWARM_SHARDS: '3' })).toThrow(/JOB_COMPLETION_INDEX\/OTA_SWARM_SHARDS: shard index 3/);
    // The flag wins: re-running one shard of a Job by hand.
    expect(resolveSlice('1/2', { JOB_COMPLETION_INDEX: '3', OTA_SWARM_SHARDS: '10' })).toEqual({ index: 1, count: 2 });
  });

  it('cuts every fleet into slices that take each device exactly once', () => {
    for (let total = 0; total <= 40; total++) {
      for (let count = 1; count <= 7; count++) {
        const all = Array.from({ length: count }, (_, index) => indices(total, { index, count })).flat().sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: total }, (_, i) => i));
      }
    }
  });

  it('stripes a slice over worker threads without loss or overlap', () => {
    const total = 103;
    const slice = { index: 2, count: 5 };
    for (let workers = 1; workers <= 4; workers++) {
      const got = Array.from({ length: workers }, (_, w) => {
        const s = workerStripe(total, slice, w, workers);
        return Array.from({ length: s.count }, (_, slot) => s.fleetIndex(slot));
      }).flat().sort((a, b) => a - b);
      expect(got).toEqual(indices(total, slice));
    }
    const whole = workerStripe(10, WHOLE_FLEET, 1, 3);
    expect(Array.from({ length: whole.count }, (_, s) => whole.fleetIndex(s))).toEqual([1, 4, 7]);
  });

  it.each<[string, ArrivalSpec]>([
    ['ramp', { pattern: 'ramp', overMs: 60_000 }],
    ['constant-rate', { pattern: 'constant-rate', perSecond: 50 }],
    ['spread', { pattern: 'spread', overMs: 30_000 }],
    ['beta', { pattern: 'beta', overMs: 30_000, alpha: 2, beta: 5 }],
  ])('%s: the slices\' schedules add up to the unsharded one, each with a quarter of the rate', (_, arrival) => {
    const total = 2000;
    const seed = 9;
    const at = (i: number): number => arrivalTimeOf(arrival, i, total, seed);
    const whole = Array.from({ length: total }, (_, i) => at(i)).sort((a, b) => a - b);
    const slices = Array.from({ length: 4 }, (_, index) => indices(total, { index, count: 4 }).map(at));
    expect(slices.flat().sort((a, b) => a - b)).toEqual(whole);
    // Per second, each slice's arrivals are a quarter of the fleet's (deterministic patterns to
    // within one device; random ones to within their sampling noise).
    const perSecond = (times: number[]): Map<number, number> => {
      const m = new Map<number, number>();
      for (const t of times) m.set(Math.floor(t / 1000), (m.get(Math.floor(t / 1000)) ?? 0) + 1);
      return m;
    };
    const fleet = perSecond(whole);
    const slack = arrival.pattern === 'ramp' || arrival.pattern === 'constant-rate' ? 1 : 12;
    for (const s of slices) for (const [sec, n] of perSecond(s)) expect(Math.abs(n - (fleet.get(sec) ?? 0) / 4)).toBeLessThanOrEqual(slack);
  });
});

describe('a sharded run', () => {
  it('refuses server events against a shared target: every shard would do them', async () => {
    const { runScenario } = await import('../../src/engine/run.js');
    const { loadScenario } = await import('../../src/scenario/load.js');
    const base = loadScenario('scenarios/rollout-onenet.yaml', { targetUrl: 'http://127.0.0.1:9' });
    const scenario = { ...base, server: { ...base.server, events: [{ atMs: 60_000, action: 'lift-bans' as const }] } };
    await expect(runScenario({ scenario, slice: { index: 1, count: 4 }, workers: 1 })).rejects.toThrow(/server\.events: a sharded run against a shared --target would do each event once per shard/);
  });
});
