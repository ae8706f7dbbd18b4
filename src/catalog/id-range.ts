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

/**
 * The ids a range hands out as runs of one shape: text before the trailing digits (`stem`), the
 * number of trailing digits, and their values as an interval. Two id strings are equal exactly when
 * stem, length and value are, so ranges written in different notations (`522700000..522700019` and
 * `5227{00005..00099}`) compare on the ids they really produce. BigInt: prefix digits plus counter
 * can pass 2^53.
 */
interface IdRun {
  stem: string;
  digits: number;
  lo: bigint;
  hi: bigint;
}

function runsOf(r: IdRange, count: number): IdRun[] {
  const trail = /\d*$/.exec(r.prefix)?.[0] ?? '';
  const stem = r.prefix.slice(0, r.prefix.length - trail.length);
  if (r.width === -1) return [{ stem, digits: trail.length, lo: trail === '' ? 0n : BigInt(trail), hi: trail === '' ? 0n : BigInt(trail) }];
  const last = Math.min(r.last, r.first + count - 1);
  if (last < r.first) return [];
  const head = trail === '' ? 0n : BigInt(trail);
  if (r.width > 0) {
    const scale = 10n ** BigInt(r.width);
    return [{ stem, digits: trail.length + r.width, lo: head * scale + BigInt(r.first), hi: head * scale + BigInt(last) }];
  }
  // Unpadded counter: one run per number of digits (9 and 10 are ids of different lengths).
  const runs: IdRun[] = [];
  for (let d = Math.max(1, String(r.first).length); d <= String(last).length; d++) {
    const from = Math.max(r.first, d === 1 ? 0 : 10 ** (d - 1));
    const to = Math.min(last, 10 ** d - 1);
    const scale = 10n ** BigInt(d);
    runs.push({ stem, digits: trail.length + d, lo: head * scale + BigInt(from), hi: head * scale + BigInt(to) });
  }
  return runs;
}

/**
 * The first and last id two ranges both hand out, counting only the first `countA` / `countB` ids of
 * each (a cohort takes ids from the start of its range), or undefined when they share none.
 */
export function sharedIds(a: IdRange, countA: number, b: IdRange, countB: number): { first: string; last: string } | undefined {
  for (const x of runsOf(a, countA)) {
    for (const y of runsOf(b, countB)) {
      if (x.stem !== y.stem || x.digits !== y.digits) continue;
      const lo = x.lo > y.lo ? x.lo : y.lo;
      const hi = x.hi < y.hi ? x.hi : y.hi;
      if (lo > hi) continue;
      const text = (v: bigint): string => x.stem + (x.digits === 0 ? '' : String(v).padStart(x.digits, '0'));
      return { first: text(lo), last: text(hi) };
    }
  }
  return undefined;
}
