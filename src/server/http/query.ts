/** A small, forgiving query-string parser for the hot path (no URL object per request). */

export type Query = Record<string, string>;

/** Pairs read at most; the rest of a hostile query string is ignored. */
const MAX_PAIRS = 64;

function decode(s: string): string | undefined {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * `a=1&b=x%20y` → { a: '1', b: 'x y' }. The first occurrence of a key wins; a pair that does not
 * decode is left out (the caller then sees the parameter as missing).
 */
export function parseQuery(raw: string): Query {
  const q: Query = Object.create(null) as Query;
  if (raw.length === 0) return q;
  let start = 0;
  let pairs = 0;
  while (start < raw.length && pairs < MAX_PAIRS) {
    let amp = raw.indexOf('&', start);
    if (amp < 0) amp = raw.length;
    if (amp > start) {
      pairs++;
      const eq = raw.indexOf('=', start);
      const hasValue = eq >= 0 && eq < amp;
      const key = decode(raw.slice(start, hasValue ? eq : amp));
      const value = hasValue ? decode(raw.slice(eq + 1, amp)) : '';
      if (key !== undefined && value !== undefined && !(key in q)) q[key] = value;
    }
    start = amp + 1;
  }
  return q;
}
