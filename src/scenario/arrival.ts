/**
 * When each device first wakes, as a virtual-ms offset from the run's start. Pure and O(1) per
 * device, so workers compute their own devices' times without a shared schedule.
 */
import { betaQuantile } from '../random/beta.js';
import { hashUniform } from '../random/rng.js';
import type { ArrivalSpec } from './types.js';

/** Stream of the `spread` draws. */
export const ARRIVAL_STREAM = 0xa221_7a15;

/** Virtual ms after the start at which device `i` of `total` first wakes. */
export function arrivalTimeOf(arrival: ArrivalSpec, i: number, total: number, seed: number): number {
  switch (arrival.pattern) {
    case 'all-at-once':
      return 0;
    case 'ramp':
      // Rate grows linearly from 0, so arrivals by time t are total·(t/W)²: invert for device i.
      return total > 0 ? arrival.overMs * Math.sqrt(i / total) : 0;
    case 'constant-rate':
      return (i / arrival.perSecond) * 1000;
    case 'spread':
      return arrival.overMs * hashUniform(seed, ARRIVAL_STREAM, i);
    case 'beta':
      // Inversion of the same per-device uniform as spread: a device's time is independent of the
      // fleet size, so workers agree whatever their share.
      return arrival.overMs * betaQuantile(hashUniform(seed, ARRIVAL_STREAM, i), arrival.alpha, arrival.beta);
  }
}

/** An upper bound of every device's arrival time: how long arrivals go on. */
export function arrivalSpanMs(arrival: ArrivalSpec, total: number): number {
  switch (arrival.pattern) {
    case 'all-at-once':
      return 0;
    case 'ramp':
    case 'spread':
    case 'beta':
      return arrival.overMs;
    case 'constant-rate':
      return total > 0 ? ((total - 1) / arrival.perSecond) * 1000 : 0;
  }
}
