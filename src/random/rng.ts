/**
 * Seeded, splittable randomness. Runs repeat for a seed: every draw comes from a stream keyed by
 * (seed, stream id), never from Math.random.
 */

/** 32-bit mix (a murmur3 finaliser); the building block of the streams. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A uniform draw in [0, 1) that is a pure function of its inputs. */
export function hashUniform(seed: number, stream: number, n = 0): number {
  const h = mix32(mix32(mix32(seed >>> 0) ^ (stream >>> 0)) ^ Math.imul(n >>> 0, 0x9e3779b1));
  return h / 4294967296;
}

/** A mutable generator (mulberry32) for hot loops that draw many values in sequence. */
export class Rng {
  private s: number;
  constructor(seed: number, stream = 0) {
    this.s = mix32((seed >>> 0) ^ mix32(stream >>> 0 || 0x6d2b79f5)) || 1;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Current state, to snapshot a stream. */
  get state(): number {
    return this.s;
  }
}
