import { describe, expect, it } from 'vitest';
import { sumCounts, sumRecords } from '../../src/metrics/counts.js';

describe('named counts across workers and shards', () => {
  it('adds by name; a part that counted nothing adds nothing; none at all is undefined, not zeros', () => {
    expect(sumRecords([{ a: 1, b: 2 }, { b: 3, c: 4 }])).toEqual({ a: 1, b: 5, c: 4 });
    expect(sumCounts([{ 'datagrams sent': 3 }, undefined, { 'datagrams sent': 4, 'socket errors': 1 }])).toEqual({ 'datagrams sent': 7, 'socket errors': 1 });
    expect(sumCounts([undefined, undefined])).toBeUndefined();
    expect(sumCounts([])).toBeUndefined();
  });
});
