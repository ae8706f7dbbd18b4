import { describe, expect, it } from 'vitest';
import { canTalk, nextUplinkWake, radioConfigOf, type RadioConfig } from '../../src/radio/model.js';
import { DAY_MS, firstWakeMs, patternInstantMs, validateWakePattern, type WakePattern } from '../../src/radio/wake.js';
import { betaCdf } from '../../src/random/beta.js';
import type { RadioMode } from '../../src/scenario/types.js';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
/** 2025-03-01 01:00 UTC plus a fraction, as the engine's start instant often is. */
const START = Date.UTC(2025, 2, 1, 1, 0, 0) + 0.375;
const DEVICES = 10_000;
const PSM_1H: RadioMode = { mode: 'psm', t3412: H, t3324: 10 * S };
const NEVER = -Infinity;

function fleet(mode: RadioMode, pattern: WakePattern, seed = 1, start = START): { cfgs: RadioConfig[]; wakes: number[] } {
  const cfgs: RadioConfig[] = [];
  const wakes: number[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const cfg = radioConfigOf(mode, 1500, seed, i, pattern, start);
    cfgs.push(cfg);
    wakes.push(firstWakeMs(cfg, pattern, seed, i, start));
  }
  return { cfgs, wakes };
}

function stats(xs: number[]): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const x of xs) {
    min = Math.min(min, x);
    max = Math.max(max, x);
    sum += x;
  }
  return { min, max, mean: sum / xs.length };
}

describe('steady', () => {
  it('puts each PSM device on its own T3412 phase, uniform over [0, T3412)', () => {
    const { cfgs, wakes } = fleet(PSM_1H, { pattern: 'steady' });
    const phases = cfgs.map((c) => (c.mode === 'psm' ? c.phaseMs : NaN));
    const { min, max, mean } = stats(phases);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(min).toBeLessThan(0.002 * H);
    expect(max).toBeLessThan(H);
    expect(max).toBeGreaterThan(0.998 * H);
    expect(Math.abs(mean / H - 0.5)).toBeLessThan(0.01);
    // Ten equal buckets each hold about a tenth (binomial sd ≈ 30).
    const buckets = new Array<number>(10).fill(0);
    for (const p of phases) buckets[Math.floor((p / H) * 10)]!++;
    for (const b of buckets) expect(Math.abs(b - DEVICES / 10)).toBeLessThan(150);
    // The first wake is the device's first TAU at or after the start, and it may talk then.
    for (let i = 0; i < DEVICES; i++) {
      const w = wakes[i]!;
      const cfg = cfgs[i]!;
      expect(w >= START && w < START + H).toBe(true);
      expect(nextUplinkWake(cfg, START)).toBe(w);
      expect(canTalk(cfg, w, NEVER)).toBe(true);
    }
    const offsets = stats(wakes.map((w) => w - START));
    expect(Math.abs(offsets.mean / H - 0.5)).toBeLessThan(0.01);
  });

  it('starts devices without a periodic timer at the run start', () => {
    for (const mode of [{ mode: 'always-on' }, { mode: 'drx', cycleMs: 2560 }, { mode: 'edrx', cycleMs: 81920, ptwMs: 10240 }] as RadioMode[]) {
      const cfg = radioConfigOf(mode, 1500, 1, 5, { pattern: 'steady' }, START);
      expect(firstWakeMs(cfg, { pattern: 'steady' }, 1, 5, START)).toBe(START);
    }
  });
});

describe('outage recovery', () => {
  it('reconnects every device within the window, spread across it, and keeps PSM TAUs on that phase', () => {
    const windowMs = 10 * MIN;
    const pattern: WakePattern = { pattern: 'outage-recovery', windowMs };
    const { cfgs, wakes } = fleet(PSM_1H, pattern);
    const offsets = wakes.map((w) => w - START);
    const { min, max, mean } = stats(offsets);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(windowMs);
    expect(min).toBeLessThan(0.01 * windowMs);
    expect(max).toBeGreaterThan(0.99 * windowMs);
    expect(Math.abs(mean / windowMs - 0.5)).toBeLessThan(0.01);
    for (let i = 0; i < 200; i++) {
      const cfg = cfgs[i]!;
      // The TAU timer restarted at the reconnect: the next wakes follow one period apart.
      expect(nextUplinkWake(cfg, wakes[i]! + 1) - wakes[i]!).toBeCloseTo(H, 3);
      expect(canTalk(cfg, wakes[i]!, NEVER)).toBe(true);
    }
  });

  it('synchronised (TR 37.868 model 2): reconnects follow Beta(3,4) over the window, PSM TAUs on that phase', () => {
    const windowMs = 10 * S;
    const pattern: WakePattern = { pattern: 'synchronised', windowMs };
    const { cfgs, wakes } = fleet(PSM_1H, pattern);
    const offsets = wakes.map((w) => w - START).sort((a, b) => a - b);
    const { min, max, mean } = stats(offsets);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(windowMs);
    expect(Math.abs(mean / windowMs - 3 / 7)).toBeLessThan(0.01);
    let d = 0;
    offsets.forEach((x, k) => {
      d = Math.max(d, Math.abs((k + 1) / offsets.length - betaCdf(x / windowMs, 3, 4)));
    });
    expect(d).toBeLessThan(1.63 / Math.sqrt(offsets.length) + 1 / windowMs);
    for (let i = 0; i < 200; i++) expect(nextUplinkWake(cfgs[i]!, wakes[i]! + 1) - wakes[i]!).toBeCloseTo(H, 3);
    expect(fleet(PSM_1H, pattern).wakes).toEqual(wakes);
    expect(() => validateWakePattern({ pattern: 'synchronised', windowMs: 0 })).toThrow(/^wake\.windowMs: /);
  });

  it('reconnects non-PSM devices within the window too', () => {
    const pattern: WakePattern = { pattern: 'outage-recovery', windowMs: 30 * S };
    const { wakes } = fleet({ mode: 'drx', cycleMs: 1280 }, pattern);
    const { min, max } = stats(wakes.map((w) => w - START));
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(30 * S);
    expect(max - min).toBeGreaterThan(29 * S);
  });

  it('with a window longer than T3412, a PSM device wakes at its first TAU, inside the window', () => {
    const { wakes } = fleet({ mode: 'psm', t3412: 10 * MIN, t3324: 0 }, { pattern: 'outage-recovery', windowMs: 2 * H });
    const { min, max } = stats(wakes.map((w) => w - START));
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(10 * MIN);
  });
});

describe('rollout start', () => {
  it('wakes every device at once, at the start, in every mode', () => {
    for (const mode of [PSM_1H, { mode: 'psm', t3412: { dist: 'uniform', min: H, max: 24 * H }, t3324: 2 * S }, { mode: 'always-on' }, { mode: 'drx', cycleMs: 10240 }] as RadioMode[]) {
      for (let i = 0; i < 500; i++) {
        const cfg = radioConfigOf(mode, 1500, 3, i, { pattern: 'rollout-start' }, START);
        const w = firstWakeMs(cfg, { pattern: 'rollout-start' }, 3, i, START);
        expect(w).toBe(START);
        expect(canTalk(cfg, w, NEVER)).toBe(true);
      }
    }
  });
});

describe('daily alignment', () => {
  const dayStart = Date.UTC(2025, 2, 1);

  it('bunches wakes after the named time of day, within the spread', () => {
    const pattern: WakePattern = { pattern: 'daily-alignment', spreadMs: 10 * MIN, atMsOfDay: 2 * H };
    // Run starts at 01:00: the wakes are at 02:00–02:10 the same day.
    for (const mode of [{ mode: 'psm', t3412: 24 * H, t3324: 2 * S }, { mode: 'always-on' }] as RadioMode[]) {
      const { wakes } = fleet(mode, pattern);
      const { min, max } = stats(wakes);
      expect(min).toBeGreaterThanOrEqual(dayStart + 2 * H);
      expect(max).toBeLessThan(dayStart + 2 * H + 10 * MIN);
      expect(max - min).toBeGreaterThan(9 * MIN);
    }
    // Run starts at 03:00: the next such time is tomorrow.
    const late = dayStart + 3 * H;
    for (const mode of [{ mode: 'psm', t3412: 24 * H, t3324: 2 * S }, { mode: 'always-on' }] as RadioMode[]) {
      const { wakes } = fleet(mode, pattern, 1, late);
      expect(stats(wakes).min).toBeGreaterThanOrEqual(dayStart + DAY_MS + 2 * H);
      expect(stats(wakes).max).toBeLessThan(dayStart + DAY_MS + 2 * H + 10 * MIN);
    }
  });

  it('aligns PSM TAU phases to the time of day, whatever T3412', () => {
    const pattern: WakePattern = { pattern: 'daily-alignment', spreadMs: 5 * MIN, atMsOfDay: 2 * H };
    const { cfgs, wakes } = fleet(PSM_1H, pattern);
    for (let i = 0; i < 1000; i++) {
      const cfg = cfgs[i]!;
      if (cfg.mode !== 'psm') throw new Error('expected psm');
      // TAUs at hh:00–hh:05, the first one in the hour after the start (01:00).
      expect(cfg.phaseMs).toBeLessThan(5 * MIN);
      expect(wakes[i]! - START).toBeLessThan(H);
      expect((wakes[i]! - dayStart) % H).toBeLessThan(5 * MIN);
    }
  });

  it('defaults the time of day to the start, so wakes follow the start within the spread', () => {
    const { wakes } = fleet({ mode: 'always-on' }, { pattern: 'daily-alignment', spreadMs: 3 * MIN });
    const { min, max } = stats(wakes.map((w) => w - START));
    expect(min).toBeGreaterThanOrEqual(-1e-3);
    expect(max).toBeLessThan(3 * MIN);
  });
});

describe('patterns', () => {
  it('are deterministic for a seed', () => {
    const pattern: WakePattern = { pattern: 'outage-recovery', windowMs: H };
    const a = fleet(PSM_1H, pattern, 7).wakes;
    expect(fleet(PSM_1H, pattern, 7).wakes).toEqual(a);
    const b = fleet(PSM_1H, pattern, 8).wakes;
    expect(b.filter((w, i) => w !== a[i]).length).toBeGreaterThan(DEVICES * 0.99);
    expect(patternInstantMs({ pattern: 'steady' }, 1, 0, START)).toBeUndefined();
  });

  it('reject bad parameters with one line naming the field', () => {
    const bad: [WakePattern, RegExp][] = [
      [{ pattern: 'outage-recovery', windowMs: 0 }, /^scenario\.wake\.windowMs: /],
      [{ pattern: 'outage-recovery', windowMs: Infinity }, /^scenario\.wake\.windowMs: /],
      [{ pattern: 'daily-alignment', spreadMs: -1 }, /^scenario\.wake\.spreadMs: /],
      [{ pattern: 'daily-alignment', spreadMs: 0, atMsOfDay: DAY_MS }, /^scenario\.wake\.atMsOfDay: /],
      [{ pattern: 'sometimes' } as unknown as WakePattern, /^scenario\.wake\.pattern: /],
    ];
    for (const [p, re] of bad) expect(() => validateWakePattern(p, 'scenario.wake')).toThrow(re);
    expect(() => validateWakePattern({ pattern: 'daily-alignment', spreadMs: 0, atMsOfDay: 0 })).not.toThrow();
  });
});
