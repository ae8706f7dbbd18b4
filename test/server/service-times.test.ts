import { describe, expect, it } from 'vitest';
import { ServiceTimes } from '../../src/server/state/service-times.js';

describe('the server\'s service-time histogram', () => {
  it('reads percentiles within 0.5 % of the samples, never below them', () => {
    const t = new ServiceTimes();
    for (let i = 1; i <= 1000; i++) t.record('check', i / 10); // 0.1 .. 100 ms
    const v = t.view()['check']!;
    expect(v.count).toBe(1000);
    expect(v.p50).toBeGreaterThanOrEqual(50);
    expect(v.p50).toBeLessThanOrEqual(50 * 1.005);
    expect(v.p99).toBeGreaterThanOrEqual(99);
    expect(v.p99).toBeLessThanOrEqual(99 * 1.005);
    expect(v.max).toBe(100);
  });

  it('keeps endpoints apart, in name order, and ignores what is not a duration', () => {
    const t = new ServiceTimes();
    t.record('luat', 5);
    t.record('check', 20);
    t.record('check', Number.NaN);
    t.record('check', -1);
    expect(Object.keys(t.view())).toEqual(['check', 'luat']);
    expect(t.view()['check']).toEqual({ count: 1, p50: 20, p90: 20, p99: 20, max: 20 });
  });
});
