/**
 * The promise the report makes about latency (issue 10.8): its p99 "from send" matches the
 * server's own service p99 within 5 % + 1 ms, unless the report says the harness bent it.
 */
import type { Report } from '../../src/report/types.js';

export const tolerance = (serverMs: number): number => 0.05 * serverMs + 1;

/** Whether the report flags the harness for this operation (or for every operation at once). */
export function flaggedFor(report: Report, op: string): boolean {
  return report.harness.bottleneck && report.harness.notes.some((n) => n.startsWith(`${op}:`) || /^(schedule lag|event-loop)/.test(n));
}

/**
 * `undefined` when the figure is true or the report owns up to bending it; else why not, in words
 * (so a failing test says what it saw).
 */
export function untruth(report: Report, op: string, figure: 'serviceMs' | 'latencyMs', percentile: 'p50' | 'p99', serverMs: number): string | undefined {
  const measured = report.operations[op]?.[figure][percentile];
  if (measured === undefined) return `${op}: no ${figure} in the report`;
  const off = Math.abs(measured - serverMs);
  if (off <= tolerance(serverMs) || flaggedFor(report, op)) return undefined;
  return `${op} ${figure}.${percentile} ${measured.toFixed(2)} ms vs the server's ${serverMs.toFixed(2)} ms (off by ${off.toFixed(2)} > ${tolerance(serverMs).toFixed(2)}), and the harness was not flagged: ${JSON.stringify(report.harness)}`;
}
