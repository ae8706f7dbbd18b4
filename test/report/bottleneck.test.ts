import { describe, expect, it } from 'vitest';
import { bottleneckVerdict, isBackPressureNote } from '../../src/report/bottleneck.js';

describe('bottleneck verdict', () => {
  const lag = 'event-loop lag p99 80.0ms > 50.0ms (max 90ms): the workers were saturated';
  const held = 'devices were held back 3 time(s) while the send queue was full: the target was slower than the fleet';
  it('sorts notes into the harness\'s own lateness and back-pressure', () => {
    expect(isBackPressureNote(held)).toBe(true);
    expect(isBackPressureNote('9 request(s) waited for a free in-flight slot (engine.maxInFlightPerWorker)')).toBe(true);
    expect(isBackPressureNote(lag)).toBe(false);
  });
  it('names exactly one limit', () => {
    expect(bottleneckVerdict({ bottleneck: true, notes: [lag, held] })).toMatchObject({ limit: 'harness', evidence: [lag], alsoSeen: ['devices were held back 3 time(s) while the send queue was full'] });
    expect(bottleneckVerdict({ bottleneck: false, notes: [held] })).toMatchObject({ limit: 'target', evidence: ['devices were held back 3 time(s) while the send queue was full'], alsoSeen: [] });
    expect(bottleneckVerdict({ bottleneck: false, notes: [] })).toMatchObject({ limit: 'neither', evidence: [], alsoSeen: [] });
  });
});
