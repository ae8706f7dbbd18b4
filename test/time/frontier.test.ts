/** The frontier of --time-scale max: floors, the lookahead window, the barrier, and waking waiters. */
import { describe, expect, it } from 'vitest';
import { Frontier } from '../../src/time/frontier.js';

const START = 1_800_000_000_000;

describe('Frontier', () => {
  it('starts every worker at the run start, with no barrier', () => {
    const f = new Frontier(Frontier.share(3, START, 1000));
    expect(f.lowestFloor()).toBe(START);
    expect(f.limit()).toBe(START + 1000);
  });

  it('lets a worker act up to the lookahead past the slowest, never at or past the barrier', () => {
    const f = new Frontier(Frontier.share(2, START, 1000));
    f.publish(0, START + 5000);
    expect(f.lowestFloor()).toBe(START);
    f.publish(1, START + 300.7);
    // Floors are whole ms, rounded down: a worker is only ever held back by the rounding.
    expect(f.lowestFloor()).toBe(START + 300);
    expect(f.limit()).toBe(START + 1300);
    f.setBarrier(START + 800);
    expect(f.limit()).toBe(START + 800);
    f.setBarrier(Infinity);
    expect(f.limit()).toBe(START + 1300);
  });

  it('reads Infinity once every worker is done', () => {
    const f = new Frontier(Frontier.share(2, START, 10));
    f.publish(0, Infinity);
    expect(f.lowestFloor()).toBe(START);
    f.publish(1, Infinity);
    expect(f.lowestFloor()).toBe(Infinity);
    expect(f.limit()).toBe(Infinity);
  });

  it('wakes a waiter when another party publishes, and at once when it already has', async () => {
    const share = Frontier.share(2, START, 10);
    const a = new Frontier(share);
    const b = new Frontier(share);
    const v = a.version();
    let woke = false;
    const waiting = a.changed(v).then(() => (woke = true));
    await new Promise((r) => setImmediate(r));
    expect(woke).toBe(false);
    b.publish(1, START + 50);
    await waiting;
    expect(woke).toBe(true);
    // Published after the version was read: no wait at all.
    const stale = a.version() - 1;
    await a.changed(stale);
    // Publishing the same floor again changes nothing, so wakes nobody.
    const before = a.version();
    b.publish(1, START + 50.9);
    expect(a.version()).toBe(before);
  });

  it('refuses a lookahead under a millisecond', () => {
    expect(() => Frontier.share(1, START, 0.5)).toThrow(/at least 1 ms/);
  });
});
