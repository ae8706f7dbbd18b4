/** Number and text formatting shared by the console, HTML and Markdown reports. */

/** A count with thousands separators (a non-integer keeps four significant digits). */
export function count(n: number): string {
  return Number.isInteger(n) ? String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',') : num(n);
}

/** A number as is when whole, else to four significant digits. */
export function num(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(4)));
}

/** `part` as a percentage of `whole` with one decimal; `–` when there is no whole. */
export function percent(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : '–';
}

/** Plain code-point order, the same on every machine (localeCompare is not). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
