import { describe, expect, it } from 'vitest';
import { nextDoneMark, STALL_AFTER_MS, timeLeftText } from '../../src/outputs/eta.js';

const at = (stopped: number, elapsedMs: number) => ({ stopped, elapsedMs, total: 100, capLeftMs: 600_000 });

describe('time left', () => {
  it('never grows while the count of devices done stands still', () => {
    let mark = nextDoneMark(undefined, at(20, 60_000));
    const seen: number[] = [];
    for (let t = 60_000; t < 60_000 + STALL_AFTER_MS; t += 1000) {
      mark = nextDoneMark(mark, at(20, t));
      const m = /~(\d+)m(?: (\d+)s)? left/.exec(timeLeftText(at(20, t), mark));
      expect(m).not.toBeNull();
      seen.push(Number(m![1]) * 60 + Number(m![2] ?? 0));
    }
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeLessThanOrEqual(seen[i - 1]!);
    expect(timeLeftText(at(20, 60_000 + STALL_AFTER_MS), mark)).toBe('ETA — (no device done in 15.00s; cap 10m)');
  });

  it('says "—" before any device is done, and only the cap once all are', () => {
    expect(timeLeftText(at(0, 5000))).toBe('ETA — (no device done yet; cap 10m)');
    expect(timeLeftText(at(100, 5000))).toBe('cap 10m');
  });

  it('moves the mark only when the count changes', () => {
    const m = nextDoneMark(undefined, at(5, 1000));
    expect(nextDoneMark(m, at(5, 9000))).toBe(m);
    expect(nextDoneMark(m, at(6, 9000))).toEqual({ done: 6, atMs: 9000 });
  });
});
