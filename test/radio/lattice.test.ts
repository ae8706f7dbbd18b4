import { describe, expect, it } from 'vitest';
import { lastOnLattice, modulo, nextOnLattice } from '../../src/radio/lattice.js';
import { Rng } from '../../src/random/rng.js';

describe('lattice', () => {
  it('brackets any instant, integer or fractional, at epoch scale', () => {
    const rng = new Rng(2024, 7);
    const wrong: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const period = [1280, 2560, 20480, 10485760, 3_600_000, 2000][i % 6] as number;
      const phase = rng.int(0, period - 1);
      const onLattice = phase + rng.int(1e5, 1e9) * period;
      const t = rng.chance(0.3) ? onLattice : onLattice + (rng.next() - 0.5) * (rng.chance(0.5) ? 1e-3 : period);
      const next = nextOnLattice(phase, period, t);
      const last = lastOnLattice(phase, period, t);
      if (!(next >= t && next - t < period)) wrong.push(`next ${next} for ${t}`);
      if (!(last <= t && t - last < period)) wrong.push(`last ${last} for ${t}`);
      if (t === onLattice && (next !== t || last !== t)) wrong.push(`${t} is on the lattice`);
      if ((next - phase) % period !== 0 || (last - phase) % period !== 0) wrong.push(`off the lattice near ${t}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('works for instants before the phase and at ±Infinity', () => {
    expect(nextOnLattice(500, 1000, -1200)).toBe(-500);
    expect(lastOnLattice(500, 1000, -1200)).toBe(-1500);
    expect(nextOnLattice(500, 1000, Infinity)).toBe(Infinity);
    expect(lastOnLattice(500, 1000, -Infinity)).toBe(-Infinity);
  });

  it('modulo stays in [0, m)', () => {
    expect(modulo(-1, 10)).toBe(9);
    expect(modulo(25, 10)).toBe(5);
    expect(modulo(-1e-20, 10)).toBe(0);
    expect(modulo(-10, 10)).toBe(0);
  });
});
