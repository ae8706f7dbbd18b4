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
  scale: TimeScale;
}

/** A clock that follows the wall clock, sped up by `scale`. */
export class ScaledClock implements Clock {
  readonly scale: number;
  private readonly originVirtual: number;
  private readonly originPerf: number;

  constructor(origin: ClockOrigin) {
    if (typeof origin.scale !== 'number' || !(origin.scale > 0) || !Number.isFinite(origin.scale)) {
      throw new RangeError(`time scale must be a number > 0, got ${origin.scale}`);
    }
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

export const originNow = (scale: TimeScale, virtualMs = Date.now()): ClockOrigin => ({ virtualMs, wallMs: Date.now(), scale });

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

/**
 * `--time-scale`: virtual ms per real ms, or `max`: no wall clock at all, virtual time moves as
 * fast as the devices' logic and the server's answers allow (see ./frontier.ts).
 */
export type TimeScale = number | 'max';

/** `×60`, `×max`: how reports and banners show a time scale. */
export const timeScaleLabel = (scale: TimeScale): string => (scale === 'max' ? '×max' : `×${scale}`);

/**
 * The server's clock under `--time-scale max`: no wall clock drives it; each request says the
 * virtual instant it was sent at (VIRTUAL_TIME_HEADER) and is judged at that instant. A request
 * without one (curl, the admin API) is judged at the latest instant seen, never earlier than the
 * origin. Handlers run synchronously between `enter` and the answer, so one field is enough.
 */
export class RequestClock implements Clock {
  readonly scale = Infinity;
  private latest: number;
  private current: number;

  constructor(originVirtual: number) {
    this.latest = originVirtual;
    this.current = originVirtual;
  }

  now(): number {
    return this.current;
  }

  /** No real instant corresponds to a virtual one when nothing keeps time. */
  realAt(): number {
    return performance.now();
  }

  /** The instant the request being handled was sent at (undefined or garbage: the latest seen). */
  enter(sentVirtual: number | undefined): void {
    if (sentVirtual !== undefined && Number.isFinite(sentVirtual)) {
      this.current = sentVirtual;
      if (sentVirtual > this.latest) this.latest = sentVirtual;
    } else this.current = this.latest;
  }
}
