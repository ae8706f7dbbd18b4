/**
 * Under `--time-scale max` a request carries the virtual instant it was sent at, so the reference
 * server can judge it then (ban day, token expiry, diff build) without a wall clock. Shared by the
 * harness, which writes it, and the server, which reads it only when started with `max`.
 */
export const VIRTUAL_TIME_HEADER = 'x-ota-swarm-virtual-ms';

/** The header's value for an instant: whole microseconds are plenty and keep it short. */
export const formatVirtualTime = (virtualMs: number): string => (Math.round(virtualMs * 1000) / 1000).toString();

/** The instant a request was sent at, or undefined when it carries none (or not a number). */
export function parseVirtualTime(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 32) return undefined;
  const v = Number(value);
  return Number.isFinite(v) && v >= 0 ? v : undefined;
}
