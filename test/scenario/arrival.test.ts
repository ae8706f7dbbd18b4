import { describe, expect, it } from 'vitest';
import { betaCdf } from '../../src/random/beta.js';
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

  it('beta: 3GPP TR 37.868 model 2 (Beta(3,4) over 10 s), mean 3/7 of the window, KS distance small, seeded', () => {
    const n = 20_000;
    const a: ArrivalSpec = { pattern: 'beta', alpha: 3, beta: 4, overMs: 10_000 };
    const t = times(a, n, 7);
    expect(t.every((x) => x >= 0 && x <= 10_000)).toBe(true);
    const mean = t.reduce((s, x) => s + x, 0) / n;
    // Beta(3,4): mean 3/7, sd √(12/(49·8)) ≈ 0.175 of the window; the mean of 20,000 is within ±0.004.
    expect(Math.abs(mean / 10_000 - 3 / 7)).toBeLessThan(0.005);
    // Kolmogorov–Smirnov: sup |F_n − F| below the 1% critical value 1.63/√n.
    const sorted = [...t].sort((x, y) => x - y);
    let d = 0;
    sorted.forEach((x, k) => {
      const f = betaCdf(x / 10_000, 3, 4);
      d = Math.max(d, Math.abs((k + 1) / n - f), Math.abs(k / n - f));
    });
    expect(d).toBeLessThan(1.63 / Math.sqrt(n));
    // Not uniform: the uniform spread of the same draws is far off in the KS sense.
    let dUniform = 0;
    sorted.forEach((x, k) => {
      dUniform = Math.max(dUniform, Math.abs((k + 1) / n - x / 10_000));
    });
    expect(dUniform).toBeGreaterThan(0.1);
    // Mode at (α−1)/(α+β−2) = 2/5 of the window: the second between 3 s and 5 s holds the most.
    const perSecond = Array.from({ length: 10 }, (_, s) => t.filter((x) => x >= s * 1000 && x < (s + 1) * 1000).length);
    expect(perSecond.indexOf(Math.max(...perSecond))).toBeGreaterThanOrEqual(3);
    expect(perSecond.indexOf(Math.max(...perSecond))).toBeLessThanOrEqual(4);
    expect(times(a, n, 7)).toEqual(t);
    expect(times(a, 100, 8)).not.toEqual(t.slice(0, 100));
    expect(arrivalTimeOf(a, 17, n, 7)).toBe(arrivalTimeOf(a, 17, 50, 7));
    expect(arrivalSpanMs(a, n)).toBe(10_000);
  });
});
