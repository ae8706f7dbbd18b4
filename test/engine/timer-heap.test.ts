import { describe, expect, it } from 'vitest';
import { TimerHeap } from '../../src/engine/timer-heap.js';
import { Rng } from '../../src/random/rng.js';

describe('TimerHeap', () => {
  it('pops slots in due order', () => {
    const h = new TimerHeap(5);
    h.schedule(0, 50);
    h.schedule(1, 10);
    h.schedule(2, 30);
    h.schedule(3, 20);
    h.schedule(4, 40);
    const order: number[] = [];
    while (h.size > 0) order.push(h.pop());
    expect(order).toEqual([1, 3, 2, 4, 0]);
    expect(h.pop()).toBe(-1);
    expect(h.peekDue()).toBe(Infinity);
  });

  it('moves a slot scheduled again instead of holding it twice', () => {
    const h = new TimerHeap(3);
    h.schedule(0, 100);
    h.schedule(1, 200);
    h.schedule(0, 300);
    expect(h.size).toBe(2);
    expect(h.pop()).toBe(1);
    expect(h.peekDue()).toBe(300);
    h.schedule(0, 5);
    expect(h.peekDue()).toBe(5);
  });

  it('cancels a pending timer', () => {
    const h = new TimerHeap(3);
    h.schedule(0, 1);
    h.schedule(1, 2);
    h.schedule(2, 3);
    h.cancel(0);
    h.cancel(0);
    expect(h.size).toBe(2);
    expect(h.pop()).toBe(1);
    expect(h.pop()).toBe(2);
  });

  it('agrees with a sorted list under random schedules, moves and cancels', () => {
    const n = 2000;
    const h = new TimerHeap(n);
    const due = new Map<number, number>();
    const rng = new Rng(7);
    for (let i = 0; i < 20_000; i++) {
      const slot = rng.int(0, n - 1);
      const r = rng.next();
      if (r < 0.7) {
        const t = Math.floor(rng.next() * 1e6);
        h.schedule(slot, t);
        due.set(slot, t);
      } else if (r < 0.85) {
        h.cancel(slot);
        due.delete(slot);
      } else if (h.size > 0) {
        const min = Math.min(...due.values());
        expect(h.peekDue()).toBe(min);
        const s = h.pop();
        expect(due.get(s)).toBe(min);
        due.delete(s);
      }
      expect(h.size).toBe(due.size);
    }
  });
});
