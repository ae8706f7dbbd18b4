import { describe, expect, it } from 'vitest';
import {
  dbmOf,
  linkConfigOf,
  MIN_BITRATE_BPS,
  NB_IOT_BITRATE,
  NB_IOT_RTT,
  paceChunk,
  serializationMs,
  signalRateShare,
  transferTimeMs,
  type LinkConfig,
} from '../../src/radio/link.js';

const KIB = 1024;
const T0 = Date.UTC(2025, 2, 1);

describe('signal', () => {
  it('maps AT+CSQ rssi to dBm = −113 + 2·rssi, 99 to no signal', () => {
    expect(dbmOf(0)).toBe(-113);
    expect(dbmOf(14)).toBe(-85);
    expect(dbmOf(31)).toBe(-51);
    expect(dbmOf(99)).toBe(-Infinity);
    for (const bad of [-1, 32, 50, 98, 100, NaN, Infinity]) expect(() => dbmOf(bad)).toThrow(/^signal: rssi must be 0–31 or 99/);
  });

  it('leaves the full rate at −85 dBm or better, 10 % at −113 dBm, linear between, none at 99', () => {
    expect(signalRateShare(31)).toBe(1);
    expect(signalRateShare(14)).toBe(1);
    expect(signalRateShare(0)).toBeCloseTo(0.1, 12);
    expect(signalRateShare(7)).toBeCloseTo(0.55, 12); // −99 dBm, halfway
    expect(signalRateShare(13)).toBeCloseTo(0.1 + (0.9 * 26) / 28, 12);
    expect(signalRateShare(99)).toBe(0);
    for (let r = 1; r <= 14; r++) expect(signalRateShare(r)).toBeGreaterThan(signalRateShare(r - 1));
  });
});

describe('linkConfigOf', () => {
  it('applies the signal to the drawn rate', () => {
    expect(linkConfigOf(30_000, 500, 20, 1, 0)).toEqual({ bitrateBps: 30_000, rttMs: 500 });
    expect(linkConfigOf(30_000, 500, 7, 1, 0).bitrateBps).toBeCloseTo(16_500, 6);
    expect(linkConfigOf({ dist: 'fixed', value: 30_000 }, 500, 0, 1, 0).bitrateBps).toBeCloseTo(3_000, 6);
  });

  it('signal 99 means no link: nothing ever arrives', () => {
    const link = linkConfigOf(30_000, 500, 99, 1, 0);
    expect(link.bitrateBps).toBe(0);
    expect(transferTimeMs(link, 1)).toBe(Infinity);
    expect(transferTimeMs(link, 0)).toBe(Infinity);
    expect(paceChunk(link, 16 * KIB, T0)).toBe(Infinity);
  });

  it('draws per device, deterministically for a seed, within the distributions', () => {
    const bitrate = { dist: 'uniform' as const, min: 20_000, max: 60_000 };
    const rtt = { dist: 'uniform' as const, min: 200, max: 2_000 };
    const links = Array.from({ length: 5000 }, (_, i) => linkConfigOf(bitrate, rtt, 25, 77, i));
    expect(Array.from({ length: 5000 }, (_, i) => linkConfigOf(bitrate, rtt, 25, 77, i))).toEqual(links);
    const other = Array.from({ length: 5000 }, (_, i) => linkConfigOf(bitrate, rtt, 25, 78, i));
    expect(other.filter((l, i) => l.bitrateBps !== links[i]!.bitrateBps).length).toBeGreaterThan(4900);
    const rates = links.map((l) => l.bitrateBps);
    const rtts = links.map((l) => l.rttMs);
    expect(Math.min(...rates)).toBeGreaterThanOrEqual(20_000);
    expect(Math.max(...rates)).toBeLessThan(60_000);
    expect(Math.max(...rates) - Math.min(...rates)).toBeGreaterThan(39_000);
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(200);
    expect(Math.max(...rtts)).toBeLessThan(2_000);
    // Rate and RTT come from separate streams: not the same uniform.
    const sameU = links.filter((l) => Math.abs((l.bitrateBps - 20_000) / 40_000 - (l.rttMs - 200) / 1_800) < 1e-9).length;
    expect(sameU).toBe(0);
  });

  it('clamps draws to a bitrate of at least 1 bit/s and an RTT of at least 0', () => {
    const link = linkConfigOf({ dist: 'normal', mean: -1000, stddev: 1 }, { dist: 'normal', mean: -50, stddev: 1 }, 31, 1, 0);
    expect(link).toEqual({ bitrateBps: MIN_BITRATE_BPS, rttMs: 0 });
    expect(() => linkConfigOf({ dist: 'normal', mean: NaN, stddev: 1 }, 100, 31, 1, 0)).toThrow(/^link\.bitrate: /);
  });

  it('has NB-IoT defaults in the tens of kbit/s and under a second of median RTT', () => {
    const links = Array.from({ length: 2000 }, (_, i) => linkConfigOf(NB_IOT_BITRATE, NB_IOT_RTT, 31, 5, i));
    const rates = links.map((l) => l.bitrateBps).sort((a, b) => a - b);
    const median = rates[1000]!;
    expect(median).toBeGreaterThan(20_000);
    expect(median).toBeLessThan(30_000);
    expect(rates[rates.length - 1]!).toBeLessThanOrEqual(127_000);
  });
});

describe('pacing', () => {
  const size = 200 * KIB;
  const ideal = ((size * 8) / 30_000) * 1000; // size ÷ rate, ms

  it('a 200 KiB transfer at 30 kbit/s takes rtt + 200·1024·8/30000 s exactly', () => {
    expect(ideal).toBeCloseTo(54_613.333, 2);
    expect(transferTimeMs({ bitrateBps: 30_000, rttMs: 0 }, size)).toBe(ideal);
    expect(transferTimeMs({ bitrateBps: 30_000, rttMs: 700 }, size)).toBe(700 + ideal);
    const oneTrip = transferTimeMs({ bitrateBps: 30_000, rttMs: 600 }, size);
    expect(Math.abs(oneTrip - ideal) / ideal).toBeLessThan(0.05);
    expect(serializationMs({ bitrateBps: 30_000, rttMs: 600 }, size)).toBe(ideal);
    expect(transferTimeMs({ bitrateBps: 30_000, rttMs: 0 }, 0)).toBe(0);
  });

  it('holds a chunked download open for size ÷ rate within 5 % (chunks of 16 KiB, 100 ms RTT)', () => {
    const link: LinkConfig = { bitrateBps: 30_000, rttMs: 100 };
    let at = T0;
    let left = size;
    let chunks = 0;
    while (left > 0 && chunks < 1000) {
      const bytes = Math.min(16 * KIB, left);
      const done = paceChunk(link, bytes, at);
      expect(done - at).toBeCloseTo(100 + ((bytes * 8) / 30_000) * 1000, 2); // ulp at epoch scale is ~0.2 µs
      at = done;
      left -= bytes;
      chunks++;
    }
    expect(chunks).toBe(13);
    const open = at - T0;
    expect(open).toBeCloseTo(13 * 100 + ideal, 2);
    expect(Math.abs(open - ideal) / ideal).toBeLessThan(0.05);
  });

  it('streams the pieces of one answer at the line rate, adding up to the whole transfer', () => {
    const link: LinkConfig = { bitrateBps: 30_000, rttMs: 800 };
    let at = T0 + link.rttMs; // first byte after one round trip
    for (let sent = 0; sent < size; sent += 4 * KIB) at += serializationMs(link, 4 * KIB);
    expect(at - T0).toBeCloseTo(transferTimeMs(link, size), 1);
  });

  it('a poor signal slows the same download down', () => {
    const good = linkConfigOf(30_000, 0, 20, 1, 0);
    const poor = linkConfigOf(30_000, 0, 0, 1, 0);
    expect(transferTimeMs(poor, size)).toBeCloseTo(transferTimeMs(good, size) * 10, 6);
  });

  it('rejects negative or non-finite byte counts', () => {
    const link: LinkConfig = { bitrateBps: 30_000, rttMs: 0 };
    for (const bad of [-1, NaN, Infinity]) expect(() => transferTimeMs(link, bad)).toThrow(/^bytes: /);
  });
});
