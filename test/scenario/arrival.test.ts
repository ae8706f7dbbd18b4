import { describe, expect, it } from 'vitest';
import { arrivalSpanMs, arrivalTimeOf } from '../../src/scenario/arrival.js';
import type { ArrivalSpec } from '../../src/scenario/types.js';

const times = (a: ArrivalSpec, total: number, seed = 1): number[] => Array.from({ length: total }, (_, i) => arrivalTimeOf(a, i, total, seed));

describe('arrivalTimeOf', () => {
  it('all-at-once: every device at 0', () => {
    expect(times({ pattern: 'all-at-once' }, 100).every((t) => t === 0)).toBe(true);
    expect(arrivalSpanMs({ pattern: 'all-at-once' }, 100)).toBe(0);
  });

  it('ramp: monotone, from 0 to near the end of the window, rate growing linearly', () => {
    const ramp: ArrivalSpec = { pattern: 'ramp', overMs: 60_000 };
    const t = times(ramp, 1000);
    expect(t[0]).toBe(0);
    for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThan(t[i - 1]!);
    expect(t[999]!).toBeLessThan(60_000);
    expect(t[999]!).toBeGreaterThan(59_900);
    // A quarter of the devices by half the window (arrivals ∝ t²), half by W/√2.
    expect(t.filter((x) => x < 30_000).length).toBe(250);
    expect(arrivalTimeOf(ramp, 500, 1000, 1)).toBeCloseTo(60_000 / Math.SQRT2, 6);
    expect(arrivalSpanMs(ramp, 1000)).toBe(60_000);
  });

  it('constant-rate: i / rate seconds, monotone', () => {
    const a: ArrivalSpec = { pattern: 'constant-rate', perSecond: 500 };
    expect(arrivalTimeOf(a, 0, 1000, 1)).toBe(0);
    expect(arrivalTimeOf(a, 1, 1000, 1)).toBe(2);
    expect(arrivalTimeOf(a, 999, 1000, 1)).toBe(1998);
    const t = times(a, 1000);
    for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThan(t[i - 1]!);
    expect(arrivalSpanMs(a, 1000)).toBe(1998);
    expect(arrivalTimeOf({ pattern: 'constant-rate', perSecond: 0.5 }, 3, 10, 1)).toBe(6000);
  });

  it('spread: inside the window, covering it, the same for a seed and different for another', () => {
    const a: ArrivalSpec = { pattern: 'spread', overMs: 10_000 };
    const t = times(a, 2000, 42);
    expect(t.every((x) => x >= 0 && x < 10_000)).toBe(true);
    expect(Math.min(...t)).toBeLessThan(100);
    expect(Math.max(...t)).toBeGreaterThan(9_900);
    // Each second of the window gets about a tenth of the devices.
    for (let s = 0; s < 10; s++) {
      const n = t.filter((x) => x >= s * 1000 && x < (s + 1) * 1000).length;
      expect(n).toBeGreaterThan(140);
      expect(n).toBeLessThan(260);
    }
    expect(times(a, 2000, 42)).toEqual(t);
    expect(times(a, 2000, 43)).not.toEqual(t);
    // A device's time does not depend on the fleet size: workers agree whatever their share.
    expect(arrivalTimeOf(a, 17, 2000, 42)).toBe(arrivalTimeOf(a, 17, 50, 42));
    expect(arrivalSpanMs(a, 2000)).toBe(10_000);
  });
});
