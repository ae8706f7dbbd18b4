/**
 * Human units in YAML and flags: durations (`250ms`, `30s`, `5m`, `2h`, `1d`, or a number of ms),
 * sizes (`16KiB`, `1MiB`, `512B`, or a number of bytes), shares (`90%` or 0.9), time scales (a number
 * or `max`). Each parser
 * returns undefined for bad text so the caller can name the field in its error.
 */

import type { TimeScale } from '../time/clock.js';

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = DURATION.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * (DURATION_MS[m[2] ?? 'ms'] ?? 1);
}

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$/i;
const SIZE_BYTES: Record<string, number> = { b: 1, kb: 1000, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };

export function parseSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = SIZE.exec(v);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (SIZE_BYTES[(m[2] ?? 'b').toLowerCase()] ?? 1));
}

/** A share as a fraction in [0, 1]: `25%` or 0.25. */
export function parseShare(v: unknown): number | undefined {
  if (typeof v === 'number') return v >= 0 && v <= 1 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
  if (!m) return undefined;
  const f = Number(m[1]) / 100;
  return f <= 1 ? f : undefined;
}

export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(3)}ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  return durationText(ms / 1000);
}

/**
 * Seconds as a person reads a duration: `45s`, `2.5s`, `1m 10s`, `2h 5m`, `3d 4h`: never a
 * decimal minute (`1.17min` reads as 1 min 17 s but is 1 min 10 s). Two units at most, the
 * smaller rounded. Self-contained ES5 with no outside names on purpose: report.html's script
 * embeds this function's source, so the page's axes and the console say the same thing.
 */
export function durationText(seconds: number): string {
  if (!isFinite(seconds)) return String(seconds);
  var sign = seconds < 0 ? '-' : '';
  var s = Math.abs(seconds);
  if (Math.round(s * 10) / 10 < 60) return sign + String(Number(s.toPrecision(s < 10 ? 2 : 3))) + 's';
  var whole = Math.round(s);
  if (whole < 3600) return sign + Math.floor(whole / 60) + 'm' + (whole % 60 ? ' ' + (whole % 60) + 's' : '');
  var minutes = Math.round(s / 60);
  if (minutes < 1440) return sign + Math.floor(minutes / 60) + 'h' + (minutes % 60 ? ' ' + (minutes % 60) + 'm' : '');
  var hours = Math.round(s / 3600);
  return sign + Math.floor(hours / 24) + 'd' + (hours % 24 ? ' ' + (hours % 24) + 'h' : '');
}

/** Largest numeric time scale: a day in under 0.1 s; beyond it, `max` is the honest choice. */
export const MAX_NUMERIC_TIME_SCALE = 1_000_000;

/** A time scale as a flag or field gives it: a number in (0, 1e6] or `max`; undefined otherwise. */
export function parseTimeScale(v: unknown): TimeScale | undefined {
  if (v === 'max') return 'max';
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 && n <= MAX_NUMERIC_TIME_SCALE ? n : undefined;
}
