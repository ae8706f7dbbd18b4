/**
 * Firmware package bytes, generated from a seed so no large file is ever stored: the same
 * (seed, size) always gives the same bytes and md5, on every machine (the words are written
 * little-endian whatever the host). Images are cached because the server slices one image for
 * every ranged download; the cache is bounded in bytes so republishing many times cannot grow it
 * without limit.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { mix32 } from '../random/rng.js';

export interface PackageImage {
  readonly seed: number;
  readonly size: number;
  readonly bytes: Buffer;
  /** Lower-case hex md5 of `bytes`. */
  readonly md5: string;
}

const BIG_ENDIAN_HOST = endianness() === 'BE';

/** The bytes of a package: an xorshift32 stream seeded from `seed`. Pure; no cache. */
export function generatePackageBytes(seed: number, size: number): Buffer {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`package size must be a non-negative integer, got ${size}`);
  const words = Math.ceil(size / 4);
  // allocUnsafeSlow: a buffer of its own, so the Uint32Array view is aligned at offset 0.
  const buf = Buffer.allocUnsafeSlow(words * 4);
  const view = new Uint32Array(buf.buffer, buf.byteOffset, words);
  let x = mix32((seed >>> 0) ^ 0xa5a5a5a5) || 0x9e3779b9;
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view[i] = x;
  }
  if (BIG_ENDIAN_HOST) buf.swap32();
  return buf.subarray(0, size);
}

export const md5Hex = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('hex');

/** Bytes kept in the cache at most; the oldest images are dropped first. */
const CACHE_LIMIT_BYTES = 768 * 1024 * 1024;
const cache = new Map<string, PackageImage>();
let cachedBytes = 0;

/** The image of (seed, size), generated on first use and kept for the next callers. */
export function packageImage(seed: number, size: number): PackageImage {
  const key = `${seed >>> 0}:${size}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const bytes = generatePackageBytes(seed, size);
  const image: PackageImage = { seed: seed >>> 0, size, bytes, md5: md5Hex(bytes) };
  cache.set(key, image);
  cachedBytes += size;
  for (const [k, old] of cache) {
    if (cachedBytes <= CACHE_LIMIT_BYTES || k === key) break;
    cache.delete(k);
    cachedBytes -= old.size;
  }
  return image;
}

/** The md5 a package of (seed, size) has; what a device compares its assembled image with. */
export const packageMd5 = (seed: number, size: number): string => packageImage(seed, size).md5;

/** A package's seed when the catalog gives none: derived from the catalog seed and the package's name. */
export function defaultPackageSeed(catalogSeed: number, name: string): number {
  let h = mix32(catalogSeed >>> 0);
  for (let i = 0; i < name.length; i++) h = mix32(h ^ name.charCodeAt(i));
  return h;
}

/** The seed a package gets when it is republished: a pure step, so republishing repeats. */
export const nextPublicationSeed = (seed: number): number => mix32((seed >>> 0) ^ 0x5bd1e995) || 1;

/** Empties the cache (tests, or a server that wants its memory back). */
export function clearPackageCache(): void {
  cache.clear();
  cachedBytes = 0;
}
