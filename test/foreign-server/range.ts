/**
 * The OneNET platform's own Range rules (spec §1.2), looser than RFC 7233: `bytes=a-b` or `a-b`;
 * `start-`: to the end, start ≥ length means 0; `start-end`: end ≥ length means length−1,
 * start > end means 0; `-n`: the last n bytes, n > length means the whole file; missing or
 * malformed: the whole file; `01-02` reads as `1-2`.
 */
export interface Span {
  start: number;
  /** Inclusive. */
  end: number;
}

export function resolveRange(header: string | undefined, length: number): Span {
  const whole = { start: 0, end: length - 1 };
  if (header === undefined || length === 0) return whole;
  const m = /^\s*(?:bytes\s*=\s*)?(\d{0,15})\s*-\s*(\d{0,15})\s*$/i.exec(header);
  if (!m) return whole;
  const a = m[1] as string;
  const b = m[2] as string;
  if (a === '' && b === '') return whole;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || n > length) return whole;
    return { start: length - n, end: length - 1 };
  }
  let start = Number(a);
  if (b === '') {
    if (start >= length) start = 0;
    return { start, end: length - 1 };
  }
  let end = Number(b);
  if (end >= length) end = length - 1;
  if (start > end) start = 0;
  return { start, end };
}

export const isWhole = (s: Span, length: number): boolean => s.start === 0 && s.end === length - 1;
