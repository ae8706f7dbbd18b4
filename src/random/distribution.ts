/**
 * Named distributions for latencies, timers, battery and signal: one shape shared by scenarios
 * and the server's fault knobs. Drawing is pure given a uniform source.
 */
import { Type, type Static } from '@sinclair/typebox';

export const DistributionSchema = Type.Union([
  Type.Number(),
  Type.Object({ dist: Type.Literal('fixed'), value: Type.Number() }, { additionalProperties: false }),
  Type.Object({ dist: Type.Literal('uniform'), min: Type.Number(), max: Type.Number() }, { additionalProperties: false }),
  Type.Object(
    { dist: Type.Literal('normal'), mean: Type.Number(), stddev: Type.Number({ minimum: 0 }), min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()) },
    { additionalProperties: false },
  ),
  Type.Object(
    // Parameters of the value itself: median and the p99/p50 spread factor, easier to read than μ/σ.
    { dist: Type.Literal('lognormal'), median: Type.Number({ exclusiveMinimum: 0 }), p99: Type.Number({ exclusiveMinimum: 0 }), max: Type.Optional(Type.Number()) },
    { additionalProperties: false },
  ),
  Type.Object(
    { dist: Type.Literal('pareto'), scale: Type.Number({ exclusiveMinimum: 0 }), shape: Type.Number({ exclusiveMinimum: 0 }), max: Type.Optional(Type.Number()) },
    { additionalProperties: false },
  ),
]);

export type Distribution = Static<typeof DistributionSchema>;

const Z99 = 2.3263478740408408;

/** Draws one value; `u1`, `u2` are independent uniforms in [0, 1). */
export function draw(d: Distribution, u1: number, u2: number): number {
  if (typeof d === 'number') return d;
  switch (d.dist) {
    case 'fixed':
      return d.value;
    case 'uniform':
      return d.min + (d.max - d.min) * u1;
    case 'normal':
      return clamp(d.mean + d.stddev * gauss(u1, u2), d.min, d.max);
    case 'lognormal': {
      const sigma = Math.log(Math.max(d.p99 / d.median, 1)) / Z99;
      return clamp(d.median * Math.exp(sigma * gauss(u1, u2)), undefined, d.max);
    }
    case 'pareto':
      return clamp(d.scale / Math.pow(1 - u1, 1 / d.shape), undefined, d.max);
  }
}

/** Box–Muller: a standard normal from two uniforms. */
function gauss(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

function clamp(x: number, min: number | undefined, max: number | undefined): number {
  if (min !== undefined && x < min) return min;
  if (max !== undefined && x > max) return max;
  return x;
}

/** The distribution's mean where it has a closed form; for reports and sanity checks. */
export function meanOf(d: Distribution): number | undefined {
  if (typeof d === 'number') return d;
  switch (d.dist) {
    case 'fixed':
      return d.value;
    case 'uniform':
      return (d.min + d.max) / 2;
    case 'normal':
      return d.min === undefined && d.max === undefined ? d.mean : undefined;
    case 'lognormal': {
      const sigma = Math.log(Math.max(d.p99 / d.median, 1)) / Z99;
      return d.max === undefined ? d.median * Math.exp((sigma * sigma) / 2) : undefined;
    }
    case 'pareto':
      return d.max === undefined && d.shape > 1 ? (d.shape * d.scale) / (d.shape - 1) : undefined;
  }
}
