import { describe, expect, it } from 'vitest';
import { DEFAULT_DEVICE_SETTINGS } from '../../src/device/types.js';
import { expandFleet, seededOrder } from '../../src/scenario/fleet.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/types.js';

const scenario = (cohorts: string, extra = '', devices?: number): Scenario =>
  parseScenario(
    `dialect: onenet\ntarget: { onenet: { productId: "1" } }\n${extra}fleet:\n${devices ? `  devices: ${devices}\n` : ''}  cohorts:\n${cohorts}`,
    'fleet.yaml',
  );

const threeCohorts = scenario(
  [
    '    - { name: a, count: 1000, ids: "522700000..522799999", version: V1.0, battery: { dist: uniform, min: 40, max: 100 }, behaviours: { corruptDownload: 10%, rebootIntoOld: 2.5% } }',
    '    - { name: b, count: 7, ids: "86671404{0000000..0099999}", version: 1.3.1, signal: none, settings: { chunkSize: 1KiB } }',
    '    - { name: c, count: 500, ids: "900..1399", version: V2, signal: { dist: normal, mean: 10, stddev: 30 }, battery: { dist: normal, mean: 50, stddev: 200 } }',
    '',
  ].join('\n'),
  'seed: 42\n',
);

describe('expandFleet', () => {
  const plan = expandFleet(threeCohorts);

  it('gives each cohort its exact count, in order', () => {
    expect(plan.total).toBe(1507);
    const perCohort = [0, 0, 0];
    for (let i = 0; i < plan.total; i++) perCohort[plan.cohortOf(i)]!++;
    expect(perCohort).toEqual([1000, 7, 500]);
    expect([plan.cohortOf(0), plan.cohortOf(999), plan.cohortOf(1000), plan.cohortOf(1006), plan.cohortOf(1007), plan.cohortOf(1506)]).toEqual([0, 0, 1, 1, 2, 2]);
    expect(() => plan.cohortOf(1507)).toThrow(RangeError);
    expect(() => plan.cohortOf(-1)).toThrow(RangeError);
  });

  it('hands out ids from the start of each cohort range, one per device', () => {
    expect(plan.profileOf(0).id).toBe('522700000');
    expect(plan.profileOf(999).id).toBe('522700999');
    expect(plan.profileOf(1000).id).toBe('866714040000000');
    expect(plan.profileOf(1006).id).toBe('866714040000006');
    expect(plan.profileOf(1007).id).toBe('900');
    expect(plan.profileOf(1506).id).toBe('1399');
    const ids = new Set(Array.from({ length: plan.total }, (_, i) => plan.profileOf(i).id));
    expect(ids.size).toBe(plan.total);
  });

  it('copies the cohort fields into each profile', () => {
    expect(plan.profileOf(5)).toMatchObject({ index: 5, cohort: 'a', version: 'V1.0', manuf: '100', model: '10001', core: '3032', taskType: 2 });
    expect(plan.profileOf(1003)).toMatchObject({ index: 1003, cohort: 'b', version: '1.3.1' });
  });

  it('draws battery and signal within bounds, as integers', () => {
    for (let i = 0; i < plan.total; i++) {
      const p = plan.profileOf(i);
      expect(Number.isInteger(p.battery) && Number.isInteger(p.signal)).toBe(true);
      expect(p.battery).toBeGreaterThanOrEqual(0);
      expect(p.battery).toBeLessThanOrEqual(100);
      if (p.cohort === 'a') {
        expect(p.battery).toBeGreaterThanOrEqual(40);
        expect(p.signal).toBe(25);
      } else if (p.cohort === 'b') {
        expect(p.signal).toBe(99);
        expect(p.battery).toBe(100);
      } else {
        expect(p.signal).toBeGreaterThanOrEqual(0);
        expect(p.signal).toBeLessThanOrEqual(31);
      }
    }
    // Wide normals hit both clamps; a uniform spreads over its range.
    const c = Array.from({ length: 500 }, (_, k) => plan.profileOf(1007 + k));
    expect(c.some((p) => p.battery === 0) && c.some((p) => p.battery === 100)).toBe(true);
    expect(c.some((p) => p.signal === 0) && c.some((p) => p.signal === 31)).toBe(true);
    const a = Array.from({ length: 1000 }, (_, k) => plan.profileOf(k).battery);
    expect(Math.min(...a)).toBeLessThan(45);
    expect(Math.max(...a)).toBeGreaterThan(95);
    expect(a.reduce((x, y) => x + y, 0) / a.length).toBeCloseTo(70, -1);
  });

  it('gives behaviours to exact shares of the cohort, spread over it', () => {
    const a = Array.from({ length: 1000 }, (_, k) => plan.profileOf(k).behaviour);
    expect(a.filter((b) => b.corruptDownload).length).toBe(100);
    expect(a.filter((b) => b.rebootIntoOld).length).toBe(25);
    // Not simply the first hundred.
    const corrupt = a.flatMap((b, k) => (b.corruptDownload ? [k] : []));
    expect(corrupt.some((k) => k >= 500)).toBe(true);
    expect(corrupt.some((k) => k < 500)).toBe(true);
    // Other cohorts have none.
    expect(plan.profileOf(1200).behaviour).toEqual({ corruptDownload: false, rebootIntoOld: false });
  });

  it('is a pure function of the seed', () => {
    const again = expandFleet(threeCohorts);
    for (const i of [0, 17, 999, 1000, 1506]) expect(again.profileOf(i)).toEqual(plan.profileOf(i));
    const other = expandFleet({ ...threeCohorts, seed: 43 });
    const differs = (f: (i: number) => unknown) => Array.from({ length: 1000 }, (_, i) => i).some((i) => f(i));
    expect(differs((i) => other.profileOf(i).battery !== plan.profileOf(i).battery)).toBe(true);
    expect(differs((i) => other.profileOf(i).seed !== plan.profileOf(i).seed)).toBe(true);
    expect(differs((i) => other.profileOf(i).behaviour.corruptDownload !== plan.profileOf(i).behaviour.corruptDownload)).toBe(true);
    // Same id assignment whatever the seed.
    expect(other.profileOf(1234).id).toBe(plan.profileOf(1234).id);
  });

  it('gives each device its own seed', () => {
    const seeds = new Set(Array.from({ length: plan.total }, (_, i) => plan.profileOf(i).seed));
    expect(seeds.size).toBeGreaterThan(plan.total - 3);
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
  });

  it('gives each cohort its settings', () => {
    expect(plan.settingsOf(0)).toEqual(DEFAULT_DEVICE_SETTINGS);
    expect(plan.settingsOf(1)).toEqual({ ...DEFAULT_DEVICE_SETTINGS, chunkSize: 1024 });
    expect(plan.settingsOf(0)).toBe(plan.settingsOf(0));
    expect(() => plan.settingsOf(3)).toThrow(RangeError);
  });

  it('skips a cohort sized to nothing', () => {
    const p = expandFleet(scenario('    - { name: none, share: 0%, ids: "1..10", version: V1 }\n    - { name: all, share: 100%, ids: "11..20", version: V1 }\n', '', 10));
    expect(p.total).toBe(10);
    expect(p.cohortOf(0)).toBe(1);
    expect(p.profileOf(0).id).toBe('11');
  });
});

describe('seededOrder', () => {
  it('is a permutation of 0..n-1 for any n and key', () => {
    for (const n of [1, 2, 3, 5, 16, 17, 100, 1000, 4097]) {
      for (const key of [0, 1, 0xdeadbeef]) {
        const seen = new Set<number>();
        for (let j = 0; j < n; j++) {
          const x = seededOrder(j, n, key);
          expect(x >= 0 && x < n).toBe(true);
          seen.add(x);
        }
        expect(seen.size).toBe(n);
      }
    }
  });

  it('depends on the key', () => {
    const a = Array.from({ length: 100 }, (_, j) => seededOrder(j, 100, 1));
    const b = Array.from({ length: 100 }, (_, j) => seededOrder(j, 100, 2));
    expect(a).not.toEqual(b);
  });
});

describe('expandFleet on a scenario built in code', () => {
  it('refuses cohorts that hand out the same ids, whatever the notation', () => {
    const ok = scenario('    - { name: a, count: 20, ids: "522700000..522799999", version: V1 }\n    - { name: b, count: 10, ids: "5227{00020..99999}", version: V1 }\n');
    expect(expandFleet(ok).total).toBe(30);
    const overlapping: Scenario = { ...ok, fleet: { ...ok.fleet, cohorts: [ok.fleet.cohorts[0]!, { ...ok.fleet.cohorts[1]!, ids: '5227{00005..99999}' }] } };
    expect(() => expandFleet(overlapping)).toThrow('cohorts "a" and "b" both take ids 522700005..522700014');
  });
});
