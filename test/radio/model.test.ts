/**
 * The radio model against its timers, with a fake clock: instants are plain numbers, stepped in
 * bounded loops over simulated days. Oracles enumerate the timer instants explicitly instead of
 * reusing the model's arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/random/rng.js';
import {
  canTalk,
  connectDelayMs,
  DEFAULT_RRC_SETUP,
  isReachable,
  nextReachable,
  nextUplinkWake,
  radioConfigOf,
  RRC_INACTIVITY_MS,
  validateRadioMode,
  type RadioConfig,
} from '../../src/radio/model.js';
import { DRX_CYCLES_MS, EDRX_CYCLES_MS, isValidT3324, isValidT3412, PTW_MS } from '../../src/radio/timers.js';
import type { RadioMode } from '../../src/scenario/types.js';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const DAY = 24 * H;
/** A virtual epoch instant well away from 0, like the real clock's. */
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0);
const NEVER = -Infinity;
const STEADY = { pattern: 'steady' } as const;

type PsmConfig = Extract<RadioConfig, { mode: 'psm' }>;

function psm(t3412Ms: number, t3324Ms: number, phaseMs: number): PsmConfig {
  return { mode: 'psm', t3412Ms, t3324Ms, phaseMs, rrcSetupMs: 1500 };
}

/** The first instant ≡ phase (mod period) at or after `from`, by remainder arithmetic. */
function firstFrom(phase: number, period: number, from: number): number {
  return from + ((((phase - from) % period) + period) % period);
}

/** Every TAU wake in [from, to), enumerated by stepping a period at a time. */
function tauWakes(cfg: { t3412Ms: number; phaseMs: number }, from: number, to: number): number[] {
  const out: number[] = [];
  for (let w = firstFrom(cfg.phaseMs, cfg.t3412Ms, from); w < to; w += cfg.t3412Ms) out.push(w);
  return out;
}

function oraclePsmAwake(cfg: { t3412Ms: number; t3324Ms: number; phaseMs: number }, wakes: number[], at: number, last: number): boolean {
  const span = RRC_INACTIVITY_MS + cfg.t3324Ms;
  if (at >= last && at < last + span) return true;
  return wakes.some((w) => at >= w && at < w + span);
}

describe('PSM', () => {
  it('wakes exactly at phase + k·T3412, every period, over a simulated week', () => {
    for (const [t3412, phaseInPeriod] of [
      [H, 1_234_567],
      [10 * MIN, 0],
      [24 * H, 23 * H + 59 * MIN],
      [320 * H, 17 * H],
      [2 * S, 1999],
    ] as const) {
      const cfg = psm(t3412, 10 * S, phaseInPeriod);
      const expected = tauWakes(cfg, T0, T0 + 7 * DAY);
      const seen: number[] = [];
      let notAtWake = 0;
      let t = T0;
      for (let guard = 0; guard < 400_000 && t < T0 + 7 * DAY; guard++) {
        const w = nextUplinkWake(cfg, t);
        if (w >= T0 + 7 * DAY) break;
        if (nextUplinkWake(cfg, w) !== w) notAtWake++; // at a wake, that wake
        seen.push(w);
        t = w + 1;
      }
      expect(notAtWake).toBe(0);
      expect(seen).toEqual(expected);
      if ((7 * DAY) % t3412 === 0) expect(seen.length).toBe((7 * DAY) / t3412);
    }
  });

  it('wakes on the lattice from fractional instants too', () => {
    const cfg = psm(H, 10 * S, 500);
    const rng = new Rng(7, 1);
    for (let i = 0; i < 2000; i++) {
      const after = T0 + rng.next() * 3 * DAY;
      const w = nextUplinkWake(cfg, after);
      expect(w).toBeGreaterThanOrEqual(after);
      expect(w - after).toBeLessThan(H);
      expect((w - 500) % H).toBe(0);
    }
  });

  it('never talks outside its awake windows (property test against enumerated windows)', () => {
    const rng = new Rng(42, 3);
    let awake = 0;
    let asleep = 0;
    for (let round = 0; round < 20; round++) {
      const t3412 = [10 * MIN, H, 2 * H, 24 * H][round % 4] as number;
      const t3324 = [0, 2 * S, 62 * S, 6 * MIN][(round >> 2) % 4] as number;
      const cfg = psm(t3412, t3324, Math.floor(rng.next() * t3412));
      const wakes = tauWakes(cfg, T0 - 2 * DAY, T0 + 4 * DAY);
      for (let i = 0; i < 1000; i++) {
        const at = T0 + rng.next() * 2 * DAY;
        // Last activity: none, long ago, just before, or at a wake.
        const kind = rng.int(0, 3);
        const last = kind === 0 ? NEVER : kind === 1 ? at - rng.next() * DAY : kind === 2 ? at - rng.next() * (RRC_INACTIVITY_MS + t3324 + 5 * S) : (wakes[rng.int(0, wakes.length - 1)] as number);
        const expected = oraclePsmAwake(cfg, wakes, at, last);
        expect(canTalk(cfg, at, last)).toBe(expected);
        expect(isReachable(cfg, at, last)).toBe(expected);
        if (expected) awake++;
        else asleep++;
      }
    }
    // Both outcomes occurred, so the comparison could have caught either mistake.
    expect(awake).toBeGreaterThan(1000);
    expect(asleep).toBeGreaterThan(1000);
  });

  it('a simulated device talks only at its wakes, for a day', () => {
    const cfg = psm(H, 20 * S, 7 * MIN);
    let last = NEVER;
    let talked = 0;
    let t = T0;
    for (let guard = 0; guard < 100; guard++) {
      const wake = nextUplinkWake(cfg, t);
      if (wake >= T0 + DAY) break;
      // Between the previous window and this wake the device is asleep.
      if (last !== NEVER) {
        for (let k = 1; k < 10; k++) {
          const between = last + RRC_INACTIVITY_MS + cfg.t3324Ms + ((wake - last - RRC_INACTIVITY_MS - cfg.t3324Ms) * k) / 10;
          expect(canTalk(cfg, between, last)).toBe(false);
          expect(nextReachable(cfg, between, last)).toBe(wake);
        }
      }
      // At the wake: three exchanges 4 s apart, each one activity.
      let now = wake;
      for (let x = 0; x < 3; x++) {
        expect(canTalk(cfg, now, last)).toBe(true);
        talked++;
        last = now + 500;
        now = last + 4 * S;
      }
      // Reachable until the awake span after the last exchange runs out, then not.
      expect(isReachable(cfg, last + RRC_INACTIVITY_MS + cfg.t3324Ms - 1, last)).toBe(true);
      expect(isReachable(cfg, last + RRC_INACTIVITY_MS + cfg.t3324Ms, last)).toBe(false);
      t = wake + 1;
    }
    expect(talked).toBe(24 * 3);
  });

  it('nextReachable is the earliest reachable instant: now when awake, else the next wake', () => {
    const rng = new Rng(5, 9);
    const cfg = psm(H, 30 * S, 12 * MIN);
    for (let i = 0; i < 3000; i++) {
      const after = T0 + rng.next() * DAY;
      const last = rng.chance(0.3) ? NEVER : after - rng.next() * 2 * MIN + (rng.chance(0.2) ? 5 * MIN : 0);
      const r = nextReachable(cfg, after, last);
      expect(r).toBeGreaterThanOrEqual(after);
      expect(isReachable(cfg, r, last)).toBe(true);
      if (r > after) {
        expect(isReachable(cfg, after, last)).toBe(false);
        expect(isReachable(cfg, r - 1 > after ? r - 1 : after, last)).toBe(false);
        // It is a wake, or the (future) last activity.
        expect(r === last || (r - 12 * MIN) % H === 0).toBe(true);
        expect(r - after).toBeLessThanOrEqual(H);
      }
    }
  });

  it('a device whose awake span covers T3412 never sleeps', () => {
    const cfg = psm(10 * S, 2 * S, 0);
    for (let at = T0; at < T0 + 10 * MIN; at += 333) expect(canTalk(cfg, at, NEVER)).toBe(true);
  });
});

describe('DRX', () => {
  it('is reachable exactly at phase + k·cycle over a simulated day, for every cycle', () => {
    for (const cycle of DRX_CYCLES_MS) {
      const phase = 1000 % cycle;
      const cfg: RadioConfig = { mode: 'drx', cycleMs: cycle, phaseMs: phase, rrcSetupMs: 1000 };
      let t = T0;
      let count = 0;
      let previous = -Infinity;
      const wrong: string[] = [];
      for (let guard = 0; guard < 100_000; guard++) {
        const r = nextReachable(cfg, t, NEVER);
        if (r >= T0 + DAY) break;
        if (!(r >= t && r - t < cycle)) wrong.push(`from ${t}: ${r} not within a cycle`);
        if ((r - phase) % cycle !== 0) wrong.push(`${r} off the occasions`);
        if (previous !== -Infinity && r - previous !== cycle) wrong.push(`${r} not a cycle after ${previous}`);
        if (!isReachable(cfg, r, NEVER)) wrong.push(`${r} unreachable`);
        if (isReachable(cfg, r - 1, NEVER) || isReachable(cfg, r + 1, NEVER) || isReachable(cfg, r + 0.5, NEVER)) wrong.push(`reachable next to ${r}`);
        previous = r;
        count++;
        t = r + 1;
      }
      expect(wrong.slice(0, 5)).toEqual([]);
      // The paging occasions in [T0, T0 + day), counted independently.
      let expected = 0;
      for (let po = firstFrom(phase, cycle, T0); po < T0 + DAY; po += cycle) expected++;
      expect(count).toBe(expected);
    }
  });

  it('next reachable instant from any instant lies within one cycle', () => {
    const rng = new Rng(11, 2);
    for (const cycle of DRX_CYCLES_MS) {
      const cfg: RadioConfig = { mode: 'drx', cycleMs: cycle, phaseMs: rng.int(0, cycle - 1), rrcSetupMs: 1000 };
      for (let i = 0; i < 2000; i++) {
        const after = T0 + rng.next() * DAY;
        const r = nextReachable(cfg, after, NEVER);
        expect(r).toBeGreaterThanOrEqual(after);
        expect(r - after).toBeLessThan(cycle);
        expect((r - cfg.phaseMs) % cycle).toBe(0);
      }
    }
  });

  it('is reachable at any instant while still connected after activity', () => {
    const cfg: RadioConfig = { mode: 'drx', cycleMs: 2560, phaseMs: 100, rrcSetupMs: 1000 };
    const last = T0 + 777;
    expect(isReachable(cfg, last + 3, last)).toBe(true);
    expect(nextReachable(cfg, last + 3, last)).toBe(last + 3);
    expect(isReachable(cfg, last + RRC_INACTIVITY_MS - 1, last)).toBe(true);
    const after = last + RRC_INACTIVITY_MS + 1;
    expect(isReachable(cfg, after, last)).toBe(false);
    const r = nextReachable(cfg, after, last);
    expect((r - 100) % 2560).toBe(0);
    // Activity ahead of `after`: reachable from then, if that comes before the next occasion.
    expect(nextReachable(cfg, T0 + 101, T0 + 300)).toBe(T0 + 300);
    expect(canTalk(cfg, T0 + 12345.5, NEVER)).toBe(true);
    expect(nextUplinkWake(cfg, T0 + 12345.5)).toBe(T0 + 12345.5);
  });
});

describe('eDRX', () => {
  function oracleInPtw(cfg: { cycleMs: number; ptwMs: number; phaseMs: number }, at: number): boolean {
    // The window that opened last: one period back from the next opening after `at`.
    const start = firstFrom(cfg.phaseMs, cfg.cycleMs, Math.floor(at) + 1) - cfg.cycleMs;
    return at >= start && at < start + cfg.ptwMs;
  }

  it('opens its PTW at phase + k·cycle, over a simulated day', () => {
    for (const [cycle, ptw] of [
      [20480, 2560],
      [81920, 10240],
      [655360, 40960],
      [10485760, 20480],
    ] as const) {
      const phase = 12345 % cycle;
      const cfg: RadioConfig = { mode: 'edrx', cycleMs: cycle, ptwMs: ptw, phaseMs: phase, rrcSetupMs: 1000 };
      const openings: number[] = [];
      let t = T0;
      for (let guard = 0; guard < 10_000; guard++) {
        const r = nextReachable(cfg, t, NEVER);
        if (r >= T0 + DAY) break;
        expect(r).toBeGreaterThanOrEqual(t);
        if (r > t) {
          openings.push(r);
          expect(isReachable(cfg, r - 1, NEVER)).toBe(false);
          expect(isReachable(cfg, r + ptw - 1, NEVER)).toBe(true);
          expect(isReachable(cfg, r + ptw, NEVER)).toBe(false);
        }
        t = r + ptw; // sleep through the window (r === t: already inside one at the start)
      }
      const expected: number[] = [];
      for (let s = firstFrom(phase, cycle, T0 + 1); s < T0 + DAY; s += cycle) expected.push(s);
      expect(openings).toEqual(expected);
    }
  });

  it('next reachable instant is inside the PTW and within one cycle, from any instant', () => {
    const rng = new Rng(3, 3);
    let waited = 0;
    for (let round = 0; round < 30; round++) {
      const cycle = EDRX_CYCLES_MS[round % EDRX_CYCLES_MS.length] as number;
      const ptws = PTW_MS.filter((p) => p < cycle);
      const ptw = ptws[rng.int(0, ptws.length - 1)] as number;
      const cfg = { mode: 'edrx' as const, cycleMs: cycle, ptwMs: ptw, phaseMs: rng.int(0, cycle - 1), rrcSetupMs: 1000 };
      for (let i = 0; i < 300; i++) {
        const after = T0 + rng.next() * 2 * DAY;
        const r = nextReachable(cfg, after, NEVER);
        expect(r).toBeGreaterThanOrEqual(after);
        expect(r - after).toBeLessThan(cycle);
        expect(oracleInPtw(cfg, r)).toBe(true);
        expect(isReachable(cfg, after, NEVER)).toBe(oracleInPtw(cfg, after));
        if (r > after) {
          waited++;
          expect((r - cfg.phaseMs) % cycle).toBe(0); // the window's opening
        }
      }
    }
    expect(waited).toBeGreaterThan(1000);
  });

  it('is reachable while connected, outside its window', () => {
    const cfg: RadioConfig = { mode: 'edrx', cycleMs: 81920, ptwMs: 10240, phaseMs: 0, rrcSetupMs: 1000 };
    const last = T0 + 30_000 - (T0 % 81920); // 30 s into a cycle: outside the window
    expect(isReachable(cfg, last + 15_000, NEVER)).toBe(false);
    expect(isReachable(cfg, last + 5_000, last)).toBe(true);
    expect(isReachable(cfg, last + RRC_INACTIVITY_MS, last)).toBe(false);
  });
});

describe('always-on', () => {
  it('is always reachable and may always talk', () => {
    const cfg: RadioConfig = { mode: 'always-on', rrcSetupMs: 1200 };
    for (const at of [T0, T0 + 1.5, T0 + DAY]) {
      expect(isReachable(cfg, at, NEVER)).toBe(true);
      expect(canTalk(cfg, at, NEVER)).toBe(true);
      expect(nextReachable(cfg, at, NEVER)).toBe(at);
      expect(nextUplinkWake(cfg, at)).toBe(at);
    }
  });
});

describe('connectDelayMs', () => {
  it('charges the RRC set-up after RRC_INACTIVITY_MS of idleness, nothing before', () => {
    const cfg = psm(H, 10 * S, 0);
    expect(RRC_INACTIVITY_MS).toBe(10_000);
    expect(connectDelayMs(cfg, T0, T0)).toBe(0);
    expect(connectDelayMs(cfg, T0, T0 + RRC_INACTIVITY_MS - 1)).toBe(0);
    expect(connectDelayMs(cfg, T0, T0 + RRC_INACTIVITY_MS)).toBe(1500);
    expect(connectDelayMs(cfg, NEVER, T0)).toBe(1500);
    expect(connectDelayMs({ mode: 'always-on', rrcSetupMs: 800 }, T0, T0 + H)).toBe(800);
  });
});

describe('radioConfigOf', () => {
  const psmMode: RadioMode = { mode: 'psm', t3412: { dist: 'uniform', min: 50 * MIN, max: 70 * MIN }, t3324: { dist: 'uniform', min: 5 * S, max: 15 * S } };

  it('draws PSM timers and snaps them to encodable values', () => {
    const t3412s = new Set<number>();
    const t3324s = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const cfg = radioConfigOf(psmMode, DEFAULT_RRC_SETUP, 9, i, STEADY, T0);
      if (cfg.mode !== 'psm') throw new Error('expected psm');
      expect(isValidT3412(cfg.t3412Ms)).toBe(true);
      expect(isValidT3324(cfg.t3324Ms)).toBe(true);
      expect(cfg.phaseMs).toBeGreaterThanOrEqual(0);
      expect(cfg.phaseMs).toBeLessThan(cfg.t3412Ms);
      expect(Number.isInteger(cfg.phaseMs)).toBe(true);
      expect(cfg.rrcSetupMs).toBeGreaterThanOrEqual(1000);
      expect(cfg.rrcSetupMs).toBeLessThan(2000);
      t3412s.add(cfg.t3412Ms);
      t3324s.add(cfg.t3324Ms);
    }
    // 50..70 min holds the encodable 50, 60 and 70 min (10-min unit); 5..15 s the even seconds.
    expect([...t3412s].sort((a, b) => a - b)).toEqual([50 * MIN, 60 * MIN, 70 * MIN]);
    expect([...t3324s].sort((a, b) => a - b)).toEqual([6, 8, 10, 12, 14].map((s) => s * S));
  });

  it('is deterministic for a seed and device, and differs across seeds and devices', () => {
    const a = radioConfigOf(psmMode, DEFAULT_RRC_SETUP, 1, 17, STEADY, T0);
    expect(radioConfigOf(psmMode, DEFAULT_RRC_SETUP, 1, 17, STEADY, T0)).toEqual(a);
    expect(radioConfigOf(psmMode, DEFAULT_RRC_SETUP, 2, 17, STEADY, T0)).not.toEqual(a);
    expect(radioConfigOf(psmMode, DEFAULT_RRC_SETUP, 1, 18, STEADY, T0)).not.toEqual(a);
  });

  it('places DRX and eDRX paging phases uniformly over the cycle', () => {
    let sum = 0;
    for (let i = 0; i < 4000; i++) {
      const cfg = radioConfigOf({ mode: 'edrx', cycleMs: 81920, ptwMs: 10240 }, 1500, 4, i, STEADY, T0);
      if (cfg.mode !== 'edrx') throw new Error('expected edrx');
      expect(cfg).toMatchObject({ cycleMs: 81920, ptwMs: 10240, rrcSetupMs: 1500 });
      expect(cfg.phaseMs).toBeGreaterThanOrEqual(0);
      expect(cfg.phaseMs).toBeLessThan(81920);
      sum += cfg.phaseMs;
    }
    expect(sum / 4000 / 81920).toBeCloseTo(0.5, 1);
    const drx = radioConfigOf({ mode: 'drx', cycleMs: 5120 }, 1500, 4, 3, STEADY, T0);
    expect(drx.mode === 'drx' && drx.phaseMs >= 0 && drx.phaseMs < 5120).toBe(true);
  });

  it('rejects radios a network could not configure, on one line naming the field', () => {
    const bad: [RadioMode, string][] = [
      [{ mode: 'drx', cycleMs: 2000 }, 'radio.cycle: '],
      [{ mode: 'edrx', cycleMs: 30000, ptwMs: 2560 }, 'radio.cycle: '],
      [{ mode: 'edrx', cycleMs: 20480, ptwMs: 3000 }, 'radio.ptw: '],
      [{ mode: 'edrx', cycleMs: 20480, ptwMs: 20480 }, 'radio.ptw: '],
      [{ mode: 'psm', t3412: 65 * MIN, t3324: 10 * S }, 'radio.t3412: '],
      [{ mode: 'psm', t3412: H, t3324: { dist: 'fixed', value: 187 * MIN } }, 'radio.t3324: '],
      [{ mode: 'psm', t3412: { dist: 'normal', mean: NaN, stddev: 1 }, t3324: 10 * S }, 'radio.t3412: '],
    ];
    for (const [mode, prefix] of bad) {
      let message = '';
      try {
        radioConfigOf(mode, 1500, 1, 0, STEADY, T0);
      } catch (e) {
        expect(e).toBeInstanceOf(RangeError);
        message = (e as Error).message;
      }
      expect(message.startsWith(prefix)).toBe(true);
      expect(message).not.toContain('\n');
    }
    expect(() => validateRadioMode({ mode: 'drx', cycleMs: 1280 }, 'fleet.cohorts.0.radio')).not.toThrow();
    expect(() => validateRadioMode({ mode: 'drx', cycleMs: 1281 }, 'fleet.cohorts.0.radio')).toThrow(/^fleet\.cohorts\.0\.radio\.cycle: /);
    expect(() => radioConfigOf({ mode: 'always-on' }, 1500, 1, 0, { pattern: 'outage-recovery', windowMs: 0 }, T0)).toThrow(/^wake\.windowMs: /);
    expect(() => radioConfigOf({ mode: 'always-on' }, 1500, 1, 0, STEADY, NaN)).toThrow(RangeError);
  });

  it('counts a negative RRC set-up draw as 0', () => {
    const cfg = radioConfigOf({ mode: 'always-on' }, { dist: 'normal', mean: -5000, stddev: 1 }, 1, 0, STEADY, T0);
    expect(cfg.rrcSetupMs).toBe(0);
  });
});
