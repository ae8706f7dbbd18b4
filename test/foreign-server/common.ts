/**
 * What every part of the foreign server shares: the request and answer shapes the pure handlers
 * work on, id ranges, seeded draws and packages. Written from the protocol digest
 * (/work/shared/spec/ota-protocols.md) alone; nothing here comes from ota-swarm's src/.
 */
import { createHash } from 'node:crypto';

export interface Req {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

export interface Res {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Send without Content-Length (chunked): the spec's one-byte download errors carry none. */
  noLength?: boolean;
}

export const json = (value: unknown, status = 200): Res => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify(value)),
});

/** An inclusive range of numeric device ids, `"522700000..522799999"` (a single id is a range of one). */
export interface IdRange {
  lo: bigint;
  hi: bigint;
  digits: number;
}

export function parseRange(text: string): IdRange {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`foreign server: id range ${JSON.stringify(text)} is not "lo..hi"`);
  const lo = BigInt(m[1] as string);
  const hi = BigInt(m[2] ?? (m[1] as string));
  if (hi < lo) throw new Error(`foreign server: id range ${text} ends before it starts`);
  return { lo, hi, digits: (m[1] as string).length };
}

export function inRange(r: IdRange, id: string): boolean {
  if (!/^\d{1,30}$/.test(id) || id.length !== r.digits) return false;
  const n = BigInt(id);
  return n >= r.lo && n <= r.hi;
}

/** A uniform draw in [0, 1) from (seed, salt, id): FNV-1a then murmur3's finaliser. */
export function draw(seed: number, salt: string, id: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const ch of `${salt}\u0000${id}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/** A package's bytes from the seed and its name (xorshift32), and their real md5. */
export interface Package {
  name: string;
  bytes: Buffer;
  md5: string;
}

export function makePackage(seed: number, name: string, size: number): Package {
  const bytes = Buffer.alloc(size);
  let x = Math.floor(draw(seed, 'package', name) * 2 ** 32) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return { name, bytes, md5: createHash('md5').update(bytes).digest('hex') };
}

/** The UTC day (days since the epoch) of a wall-clock instant in ms. */
export const utcDay = (ms: number): number => Math.floor(ms / 86_400_000);

/** One deliberate deviation from the spec, recorded when the server actually commits it. */
export interface BreakEntry {
  device: string;
  brk: string;
  /** Wall-clock ms of the first time. */
  at: number;
  /** How many times it was committed on this device. */
  times: number;
  detail: string;
}

/** Which device got which break: first commit per (device, break), with a count. */
export class BreakLog {
  private readonly map = new Map<string, BreakEntry>();

  record(device: string, brk: string, at: number, detail: string): void {
    const key = `${brk}\u0000${device}`;
    const e = this.map.get(key);
    if (e) e.times++;
    else this.map.set(key, { device, brk, at, times: 1, detail });
  }

  entries(): BreakEntry[] {
    return [...this.map.values()];
  }

  devices(brk: string): Set<string> {
    return new Set(this.entries().filter((e) => e.brk === brk).map((e) => e.device));
  }
}

/**
 * Assigns at most one break to each device: one draw per device against the cumulative shares,
 * so the shares are disjoint and a run repeats for a seed.
 */
export function breakOf<B extends string>(seed: number, id: string, shares: Partial<Record<B, number>>): B | undefined {
  const u = draw(seed, 'break', id);
  let acc = 0;
  for (const [brk, share] of Object.entries(shares) as [B, number | undefined][]) {
    acc += share ?? 0;
    if (u < acc) return brk;
  }
  return undefined;
}
