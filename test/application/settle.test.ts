import { describe, expect, it } from 'vitest';
import { settleState } from '../../src/engine/application.js';

describe('waiting for pushes after the fleet', () => {
  const base = { aborted: false, allDelivered: true, quietForMs: 80_000, quietMs: 75_000, pastCap: false };
  it('ends quiet once every ended device has its result and nothing came for a retry interval and an answer time', () => {
    expect(settleState(base)).toBe('quiet');
    expect(settleState({ ...base, quietForMs: 74_999 })).toBeUndefined();
    expect(settleState({ ...base, allDelivered: false })).toBeUndefined();
  });
  it('ends at the settle time when results are still owed, and at once when interrupted', () => {
    expect(settleState({ ...base, allDelivered: false, pastCap: true })).toBe('settle-time');
    expect(settleState({ ...base, aborted: true })).toBe('interrupted');
  });
});
