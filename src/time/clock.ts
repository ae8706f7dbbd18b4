/**
 * Virtual time. Device timers, sleeps, ban windows and token expiry run on a virtual clock that
 * goes `scale` times faster than real time from a shared origin, so a worker and the embedded
 * server that are given the same origin and scale agree on every instant. Latencies are always
 * measured in real time (performance.now()), never on this clock.
 */

export interface Clock {
  /** Virtual milliseconds since the unix epoch. */
  now(): number;
  /** How many virtual ms pass per real ms. */
  readonly scale: number;
  /** Real ms (performance.now() timeline) at which virtual instant `v` happens. */
  realAt(v: number): number;
}

export interface ClockOrigin {
  /** Virtual instant (ms since epoch) at the origin. */
  virtualMs: number;
  /** Wall-clock ms since epoch (Date.now()) at the origin; shared across threads and processes. */
  wallMs: number;
  scale: number;
}

/** A clock that follows the wall clock, sped up by `scale`. */
export class ScaledClock implements Clock {
  readonly scale: number;
  private readonly originVirtual: number;
  private readonly originPerf: number;

  constructor(origin: ClockOrigin) {
    if (!(origin.scale > 0) || !Number.isFinite(origin.scale)) throw new RangeError(`time scale must be > 0, got ${origin.scale}`);
    this.scale = origin.scale;
    this.originVirtual = origin.virtualMs;
    // Translate the wall-clock origin onto this thread's monotonic timeline once.
    this.originPerf = performance.now() - (Date.now() - origin.wallMs);
  }

  now(): number {
    return this.originVirtual + (performance.now() - this.originPerf) * this.scale;
  }

  realAt(v: number): number {
    return this.originPerf + (v - this.originVirtual) / this.scale;
  }
}

export const originNow = (scale: number, virtualMs = Date.now()): ClockOrigin => ({ virtualMs, wallMs: Date.now(), scale });

/** A clock a test moves by hand. */
export class ManualClock implements Clock {
  readonly scale = 1;
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  realAt(v: number): number {
    return v;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
