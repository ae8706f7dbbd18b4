import { describe, expect, it } from 'vitest';
import { derivedTimes } from '../../../src/protocol/coap.js';
import { DedupCache } from '../../../src/server/coap/dedup.js';

describe('deduplication over EXCHANGE_LIFETIME', () => {
  const life = derivedTimes().exchangeLifetimeMs;
  it('remembers (peer, mid) with its answer for 247 s, then forgets it', () => {
    expect(life).toBe(247_000);
    const d = new DedupCache(life);
    const ack = Buffer.from([1, 2, 3]);
    d.remember('127.0.0.1:1', 7, 0, ack);
    expect(d.lookup('127.0.0.1:1', 7, 1_000)?.answer).toEqual(ack);
    expect(d.lookup('127.0.0.1:2', 7, 1_000)).toBeUndefined();
    expect(d.lookup('127.0.0.1:1', 8, 1_000)).toBeUndefined();
    expect(d.lookup('127.0.0.1:1', 7, life - 1)).toBeDefined();
    expect(d.lookup('127.0.0.1:1', 7, life)).toBeUndefined();
    expect(d.size).toBe(0);
  });
});
