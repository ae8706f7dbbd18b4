/** The replay's report: per device, the first call the server now answers differently, side by side. Pure. */
import type { HarnessReport, OperationReport } from '../report/types.js';
import type { DeviceReplay } from './drive.js';
import { answerLine } from './compare.js';
import type { ReplayVerdicts } from './verdicts.js';
import { verdictLines } from '../report/console.js';

export interface ReplayReport {
  format: 1;
  log: string;
  logFormat: string;
  target: string;
  timeScale: number;
  devices: number;
  calls: number;
  replayed: number;
  /** Devices with at least one call answered differently. */
  differingDevices: number;
  perDevice: DeviceReplay[];
  /** Two histograms per operation (from intent, from the send), merged as in any run. */
  operations: Record<string, OperationReport>;
  /** Whether the replaying process itself bent the figures (event-loop lag, late wakes), as in a run. */
  harness: HarnessReport;
  /** Lines of the log that were not replayed, and why. */
  notes: string[];
  /** Every verdict rule of the replayed dialects, judged as in a run (src/replay/verdicts.ts), or why not. */
  verdicts: ReplayVerdicts;
  /** The transition rules of a run: never silent, not judged here and why. */
  transitions: { status: 'not-judged'; reason: string };
  passed: boolean;
}

/** The console text: one line a device that answered the same, a side-by-side block for one that did not. */
export function formatReplay(r: ReplayReport, maxDevices = 20): string {
  const lines: string[] = [];
  lines.push(`replay of ${r.log} (${r.logFormat}) against ${r.target}: ${r.devices} device(s), ${r.replayed} of ${r.calls} calls replayed at ×${r.timeScale}`);
  const differing = r.perDevice.filter((d) => d.first !== undefined || d.stopped !== undefined);
  if (differing.length === 0) lines.push('every answer as logged');
  for (const d of differing.slice(0, maxDevices)) {
    if (d.stopped !== undefined) lines.push(`device ${d.device}: stopped after ${d.replayed} of ${d.calls} calls: ${d.stopped}`);
    const f = d.first;
    if (f === undefined) continue;
    lines.push(`device ${d.device}: first difference at call ${f.index + 1} of ${d.calls} (${f.where}), ${f.op}: ${f.fields.join(', ')} (${d.differing} call(s) differ)`);
    lines.push(`  request: ${f.request}`);
    lines.push(`  logged:  ${answerLine(f.logged)}`);
    lines.push(`  now:     ${answerLine(f.now)}`);
  }
  if (differing.length > maxDevices) lines.push(`... and ${differing.length - maxDevices} more device(s) (the JSON report lists all)`);
  for (const [op, o] of Object.entries(r.operations)) {
    lines.push(`${op}: ${o.count} calls, p50 ${o.latencyMs.p50.toFixed(1)} ms, p99 ${o.latencyMs.p99.toFixed(1)} ms from intent, p99 ${o.serviceMs.p99.toFixed(1)} ms from the send (${o.errors} errors)`);
  }
  if (r.harness.bottleneck) lines.push('harness: the replaying process was a bottleneck; the latencies above include its own delay:');
  for (const n of r.harness.notes) lines.push(`  - ${n}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push(`transition rules: ${r.transitions.reason}`);
  lines.push(...verdictLines(r.verdicts.rules, undefined, r.devices));
  for (const file of r.verdicts.violationsFiles) lines.push(`every violation: ${file}`);
  if (r.verdicts.error !== undefined) lines.push(r.verdicts.error);
  const violating = r.verdicts.rules.filter((v) => v.violations > 0).map((v) => v.rule);
  const why = [...(r.differingDevices > 0 ? [`${r.differingDevices} device(s) answered differently`] : []), ...(violating.length > 0 ? [`verdicts violated: ${violating.join(', ')}`] : []), ...(r.verdicts.error !== undefined ? ['the verdicts could not be judged'] : []), ...(r.perDevice.some((d) => d.stopped !== undefined) ? ['a device could not go on'] : [])];
  lines.push(r.passed ? 'PASSED: the server answers as logged' : `FAILED: ${why.join('; ')}`);
  return lines.join('\n');
}
