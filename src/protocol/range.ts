/**
 * The OneNET download's own Range rules (spec §1.2), looser than RFC 7233. Pure: the server
 * applies them, the device tests read them.
 */

export interface ByteSpan {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
  /** Whether the answer is partial (206) or the whole file (200). */
  partial: boolean;
}

const RANGE_SYNTAX = /^\s*(?:bytes\s*=\s*)?(\d*)\s*-\s*(\d*)\s*$/i;

/**
 * Resolves a Range header against a file of `length` bytes (length ≥ 1):
 * - missing or malformed → the whole file (200)
 * - `start-`: start ≥ length means start = 0
 * - `start-end`: end ≥ length means end = length − 1; start > end means start = 0
 * - `-n`: the last n bytes; n > length means the whole file
 * - leading zeros read as decimals (`01-02` is `1-2`)
 * The answer is 206 whenever a well-formed Range was given, even when it covers the whole file.
 */
export function resolveRange(header: string | undefined, length: number): ByteSpan {
  const whole: ByteSpan = { start: 0, end: length - 1, partial: false };
  if (header === undefined || length <= 0) return whole;
  const m = RANGE_SYNTAX.exec(header);
  if (!m) return whole;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return whole;
  // Digits beyond 15 cannot be exact doubles; a value that long is past any file anyway.
  const num = (s: string): number => (s.length > 15 ? Number.MAX_SAFE_INTEGER : parseInt(s, 10));
  if (a === '') {
    const n = num(b);
    if (n === 0) return whole;
    if (n >= length) return { start: 0, end: length - 1, partial: true };
    return { start: length - n, end: length - 1, partial: true };
  }
  let start = num(a);
  if (b === '') {
    if (start >= length) start = 0;
    return { start, end: length - 1, partial: true };
  }
  let end = num(b);
  if (end >= length) end = length - 1;
  if (start > end) start = 0;
  return { start, end, partial: true };
}

export const contentRange = (span: ByteSpan, length: number): string => `bytes ${span.start}-${span.end}/${length}`;
