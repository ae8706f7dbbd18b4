/**
 * The link under a device's connection: a bitrate and a round-trip time, drawn per device from its
 * cohort's distributions, the rate lowered by poor signal. Downloads are paced to it, so a package
 * holds its connection open for as long as it would in the field.
 *
 * - `dbmOf(rssi)`: AT+CSQ rssi 0–31 → dBm = −113 + 2·rssi (27.007); 99 (no signal) → −Infinity.
 * - `signalRateShare(rssi)`: the share of the drawn bitrate the signal leaves. A model, not a
 *   measurement: full rate at −85 dBm or better, falling linearly to 10 % at −113 dBm (rssi 0),
 *   and 0 (no link) for rssi 99. Real NB-IoT falls further at the cell edge (coverage enhancement
 *   repeats each block up to thousands of times); the 10 % floor keeps runs finite.
 * - `linkConfigOf(bitrate, rtt, signalRssi, seed, deviceIndex)`: the device's `LinkConfig`.
 *   A draw is clamped to a bitrate of at least 1 bit/s and an RTT of at least 0 ms.
 * - `serializationMs(link, bytes)`: bytes at the link's rate, no round trip: for pacing pieces of
 *   one answer as they stream in.
 * - `transferTimeMs(link, bytes)`: one request and its answer of `bytes`: rtt + bytes·8/bitrate
 *   (in ms). `bytes` is what the caller counts: payload only, HTTP/TCP/IP headers are not added
 *   (a ranged request's few hundred header bytes are under 2 % of a 16 KiB chunk).
 * - `paceChunk(link, bytes, startedAtMs)`: the virtual instant a chunk (one ranged request of
 *   `bytes`, as DeviceSettings.chunkSize) started at `startedAtMs` is complete:
 *   startedAtMs + transferTimeMs.
 * With no link (bitrate 0) nothing completes: transfer times are Infinity.
 * The per-transfer functions allocate nothing (called per chunk for up to a million devices).
 */
import { draw, type Distribution } from '../random/distribution.js';
import { hashUniform } from '../random/rng.js';

export interface LinkConfig {
  /** Bits per second after the signal's share; 0 = no link. */
  readonly bitrateBps: number;
  readonly rttMs: number;
}

/** rssi meaning "not known or not detectable" (27.007 +CSQ). */
export const RSSI_NONE = 99;
/** Signal at or above which the link runs at its full drawn rate. */
export const FULL_RATE_DBM = -85;
/** The weakest reportable signal (rssi 0), where the rate falls to FLOOR_RATE_SHARE. */
export const FLOOR_DBM = -113;
export const FLOOR_RATE_SHARE = 0.1;
export const MIN_BITRATE_BPS = 1;

/** Random streams of the link draws (two uniforms each: n = 2·index and 2·index + 1). */
export const BITRATE_STREAM = 0x6269_7472;
export const RTT_STREAM = 0x7274_746d;

/** Order-of-magnitude NB-IoT defaults (Cat-NB1/NB2 downlink, a loaded cell), not measurements. */
export const NB_IOT_BITRATE: Distribution = { dist: 'lognormal', median: 25_000, p99: 80_000, max: 127_000 };
export const NB_IOT_RTT: Distribution = { dist: 'lognormal', median: 600, p99: 3_000, max: 10_000 };

function checkRssi(rssi: number): void {
  if (rssi === RSSI_NONE) return;
  if (!(Number.isFinite(rssi) && rssi >= 0 && rssi <= 31)) throw new RangeError(`signal: rssi must be 0–31 or 99 (none), got ${rssi}`);
}

/** dBm of an AT+CSQ rssi; −Infinity for 99 (no signal). */
export function dbmOf(rssi: number): number {
  checkRssi(rssi);
  return rssi === RSSI_NONE ? -Infinity : -113 + 2 * rssi;
}

/** Share (0–1) of the drawn bitrate left by the signal (see the module comment). */
export function signalRateShare(rssi: number): number {
  const dbm = dbmOf(rssi);
  if (dbm === -Infinity) return 0;
  if (dbm >= FULL_RATE_DBM) return 1;
  return FLOOR_RATE_SHARE + ((1 - FLOOR_RATE_SHARE) * (dbm - FLOOR_DBM)) / (FULL_RATE_DBM - FLOOR_DBM);
}

function drawFinite(d: Distribution, seed: number, stream: number, deviceIndex: number, field: string): number {
  const v = draw(d, hashUniform(seed, stream, 2 * deviceIndex), hashUniform(seed, stream, 2 * deviceIndex + 1));
  if (!Number.isFinite(v)) throw new RangeError(`${field}: the distribution drew ${v}, not a finite number`);
  return v;
}

/** The link of device `deviceIndex`: bitrate (bit/s) and RTT (ms) drawn, the signal applied. */
export function linkConfigOf(bitrate: Distribution, rtt: Distribution, signalRssi: number, seed: number, deviceIndex: number): LinkConfig {
  const share = signalRateShare(signalRssi);
  const drawnBps = Math.max(MIN_BITRATE_BPS, drawFinite(bitrate, seed, BITRATE_STREAM, deviceIndex, 'link.bitrate'));
  const rttMs = Math.max(0, drawFinite(rtt, seed, RTT_STREAM, deviceIndex, 'link.rtt'));
  return { bitrateBps: drawnBps * share, rttMs };
}

function checkBytes(bytes: number): void {
  if (!(bytes >= 0 && Number.isFinite(bytes))) throw new RangeError(`bytes: must be a finite number >= 0, got ${bytes}`);
}

/** ms to put `bytes` on the link at its rate; no round trip. */
export function serializationMs(link: LinkConfig, bytes: number): number {
  checkBytes(bytes);
  if (!(link.bitrateBps > 0)) return Infinity;
  return (bytes * 8 * 1000) / link.bitrateBps;
}

/** ms for one request and its `bytes`-long answer: rtt + bytes·8/bitrate·1000 (payload only). */
export function transferTimeMs(link: LinkConfig, bytes: number): number {
  return link.rttMs + serializationMs(link, bytes);
}

/** Virtual instant a chunk of `bytes` requested at `startedAtMs` has fully arrived. */
export function paceChunk(link: LinkConfig, bytes: number, startedAtMs: number): number {
  return startedAtMs + transferTimeMs(link, bytes);
}
