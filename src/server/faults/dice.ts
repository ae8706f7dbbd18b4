/**
 * Seeded draws of the fault knobs: one stream per (endpoint, knob), so turning one knob on does not
 * shift the draws of another, and a run with the same seed and the same request order repeats.
 */
import { draw, type Distribution } from '../../random/distribution.js';
import { Rng } from '../../random/rng.js';
import { ENDPOINT_NAMES, type EndpointName } from './config.js';

export type DrawnKnob = 'latency' | 'error' | 'stall' | 'drop' | 'loss' | 'duplicate' | 'reorder' | 'separate';
const KNOB_INDEX: Readonly<Record<DrawnKnob, number>> = { latency: 0, error: 1, stall: 2, drop: 3, loss: 4, duplicate: 5, reorder: 6, separate: 7 };

export class FaultDice {
  private readonly streams = new Map<number, Rng>();

  constructor(private readonly seed: number) {}

  private rng(endpoint: EndpointName, knob: DrawnKnob): Rng {
    const id = 0xfa000 + ENDPOINT_NAMES.indexOf(endpoint) * 16 + KNOB_INDEX[knob];
    let r = this.streams.get(id);
    if (!r) this.streams.set(id, (r = new Rng(this.seed, id)));
    return r;
  }

  /** True with probability `p` (never for p ≤ 0, always for p ≥ 1, a draw is taken either way). */
  chance(endpoint: EndpointName, knob: DrawnKnob, p: number): boolean {
    return this.rng(endpoint, knob).next() < p;
  }

  /** A latency in ms, never negative. */
  latency(endpoint: EndpointName, d: Distribution): number {
    const r = this.rng(endpoint, 'latency');
    return Math.max(0, draw(d, r.next(), r.next()));
  }
}
