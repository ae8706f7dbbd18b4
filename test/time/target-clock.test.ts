/** Whether a run and its target share a clock (src/engine/clock-check.ts) and the target's instant of a virtual one. */
import { describe, expect, it } from 'vitest';
import { decideTargetClock } from '../../src/engine/clock-check.js';
import { targetInstant } from '../../src/time/target-clock.js';

const origin = { virtualMs: 5_000_000, wallMs: 1_000_000, scale: 10_000 };
const facts = { origin, embedded: false, allowSkew: false, url: 'http://127.0.0.1:1' };

describe('decideTargetClock', () => {
  it('the embedded server, a max run and a ×1 run share the clock', () => {
    expect(decideTargetClock({ ...facts, embedded: true })).toEqual({ clock: { kind: 'shared', offsetMs: 0 } });
    expect(decideTargetClock({ ...facts, origin: { ...origin, scale: 'max' } })).toEqual({ clock: { kind: 'shared', offsetMs: 0 } });
    expect(decideTargetClock({ ...facts, origin: { ...origin, scale: 1 } })).toEqual({ clock: { kind: 'shared', offsetMs: 0 } });
  });

  it('a target at the same scale shares it, offset by what its /admin/clock said', () => {
    expect(decideTargetClock({ ...facts, adminClock: { scale: 10_000, virtualNow: 9_000 }, runNowAtAdmin: 5_000 })).toEqual({ clock: { kind: 'shared', offsetMs: 4_000 } });
  });

  it('a target with another scale or none shown is refused unless the skew is allowed; then its wall clock counts', () => {
    expect(decideTargetClock({ ...facts, adminClock: { scale: 1 } })).toHaveProperty('refuse', expect.stringMatching(/^--time-scale 10000: .* says its clock runs at scale 1, not the run's ×10000; /));
    expect(decideTargetClock(facts)).toHaveProperty('refuse', expect.stringMatching(/does not show its clock/));
    expect(decideTargetClock({ ...facts, allowSkew: true })).toEqual({ clock: { kind: 'wall', origin } });
  });
});

describe('targetInstant', () => {
  it('maps a virtual instant to the wall instant it happened at, or shifts it by the offset', () => {
    expect(targetInstant({ kind: 'wall', origin }, origin.virtualMs + 86_400_000)).toBe(origin.wallMs + 8_640);
    expect(targetInstant({ kind: 'shared', offsetMs: -5 }, 100)).toBe(95);
  });
});
