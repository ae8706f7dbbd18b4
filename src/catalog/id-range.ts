/**
 * Device ids in ranges, so a million-device catalog is one line: `522700000..522799999` or, with a
 * fixed prefix and zero-padded counter, `86671404{0000000..0099999}`. Pure.
 */

export interface IdRange {
  /** Text before the counter. */
  prefix: string;
  first: number;
  last: number;
  /** Digits of the counter, zero-padded; 0 = no padding. */
  width: number;
  /** The text it was parsed from, for messages and JSON. */
  source: string;
}

const BRACED = /^([^{}]*)\{(\d+)\.\.(\d+)\}$/;
const PLAIN = /^(\d+)\.\.(\d+)$/;
const SINGLE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Parses a range; throws a RangeError with a one-line reason. A lone id is a range of one. */
export function parseIdRange(text: string): IdRange {
  const src = text.trim();
  let m = BRACED.exec(src);
  if (m) {
    const [, prefix = '', a = '', b = ''] = m;
    if (a.length !== b.length) throw new RangeError(`id range ${src}: both bounds need the same number of digits`);
    return check({ prefix, first: Number(a), last: Number(b), width: a.length, source: src });
  }
  m = PLAIN.exec(src);
  if (m) {
    const [, a = '', b = ''] = m;
    return check({ prefix: '', first: Number(a), last: Number(b), width: 0, source: src });
  }
  if (SINGLE.test(src)) {
    // A lone numeric id is a range of one; any other id is a literal prefix with an empty counter.
    if (/^\d{1,15}$/.test(src)) return { prefix: '', first: Number(src), last: Number(src), width: 0, source: src };
    return { prefix: src, first: 0, last: 0, width: -1, source: src };
  }
  throw new RangeError(`id range "${src}": expected FIRST..LAST, PREFIX{FIRST..LAST} or a single id`);
}

function check(r: IdRange): IdRange {
  if (!Number.isSafeInteger(r.first) || !Number.isSafeInteger(r.last)) throw new RangeError(`id range ${r.source}: bounds too large`);
  if (r.last < r.first) throw new RangeError(`id range ${r.source}: last is below first`);
  return r;
}

export const rangeSize = (r: IdRange): number => r.last - r.first + 1;

/** The id at position `i` (0-based) of the range. */
export function idAt(r: IdRange, i: number): string {
  if (r.width === -1) return r.prefix;
  const n = r.first + i;
  return r.prefix + (r.width > 0 ? String(n).padStart(r.width, '0') : String(n));
}

/** Position of `id` in the range, or -1. */
export function indexOf(r: IdRange, id: string): number {
  if (r.width === -1) return id === r.prefix ? 0 : -1;
  if (!id.startsWith(r.prefix)) return -1;
  const digits = id.slice(r.prefix.length);
  if (!/^\d{1,16}$/.test(digits)) return -1;
  if (r.width > 0 ? digits.length !== r.width : digits.length > 1 && digits.startsWith('0')) return -1;
  const n = Number(digits);
  return n >= r.first && n <= r.last ? n - r.first : -1;
}
