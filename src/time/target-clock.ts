/**
 * The target's clock, as the verdicts need it: day windows (the Luat ban) are counted on the
 * server's own clock, which is the run's virtual clock only when the server shares it.
 * - `shared`: the server runs the same virtual time, `offsetMs` ahead of the run's (the embedded
 *   server: 0; a reference server at the same scale: what its /admin/clock said);
 * - `wall`: the server keeps real time while the run's clock runs `scale` times faster
 *   (`--allow-clock-skew`): an exchange happened on the server at the wall instant it was sent.
 */
import type { ClockOrigin } from './clock.js';

export type TargetClock = { readonly kind: 'shared'; readonly offsetMs: number } | { readonly kind: 'wall'; readonly origin: ClockOrigin & { readonly scale: number } };

export const SHARED_CLOCK: TargetClock = { kind: 'shared', offsetMs: 0 };

/** The target's instant (ms since the epoch) of a run's virtual instant. */
export function targetInstant(c: TargetClock, virtualMs: number): number {
  if (c.kind === 'shared') return virtualMs + c.offsetMs;
  return c.origin.wallMs + (virtualMs - c.origin.virtualMs) / c.origin.scale;
}
