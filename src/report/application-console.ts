/**
 * The console lines of the report's `application` section: the north-bound steps, the receiver,
 * the pushes received, their latency from the device's action, the retries with their intervals
 * and the give-ups, against the policy they were judged by. Plain text (no colour): it sits
 * between the verdicts and the harness.
 */
import type { ApplicationReport, HistogramFigure } from './application-types.js';

const round1 = (n: number): number => Math.round(n * 10) / 10;
const dur = (ms: number): string => (ms < 1000 ? `${Math.round(ms)}ms` : ms < 60_000 ? `${round1(ms / 1000)}s` : `${round1(ms / 60_000)}m`);
const spread = (f: HistogramFigure): string => (f.count === 0 ? 'none' : `${f.count} · p50 ${dur(f.summary.p50)} · p99 ${dur(f.summary.p99)} · max ${dur(f.summary.max)}`);

export function applicationLines(a: ApplicationReport | undefined): string[] {
  if (a === undefined) return [];
  const p = a.pushes;
  const pol = a.policy;
  const lines = [
    `application side (${a.platform})  receiver ${a.receiverUrl} · ${a.receiver}`,
    ...a.northbound.map((s) => `  ${s.ok ? '✓' : '✗'} ${s.step}: ${s.detail}`),
    `  policy: a 200 within ${dur(pol.answerWithinMs)}, retry every ${dur(pol.retryEveryMs)}, give up after ${pol.maxFailures} failed retries or ${dur(pol.cacheMs)} (virtual time)`,
    `  pushes: ${p.received.ota_upgrade_progress} progress + ${p.received.ota_upgrade_result} result arrived · ${p.messages} messages, ${p.delivered} delivered · ${p.retries} retries · ${p.duplicatesWithoutCause} duplicates without cause · ${p.givenUp} never answered in time (given up, or still owed at the end)`,
    `  attempts per message: ${Object.entries(p.attemptsPerMessage).sort(([x], [y]) => Number(x) - Number(y)).map(([n, c]) => `${n}×: ${c}`).join(' · ') || 'none'}`,
  ];
  for (const [type, f] of Object.entries(p.latencyMs)) if (f) lines.push(`  ${type} latency from the device's action (virtual): ${spread(f)}`);
  lines.push(`  retry intervals (virtual): ${spread(p.retryIntervalMs)}`);
  if (p.giveUpAfterMs.count > 0) lines.push(`  never answered in time: first to last attempt (virtual): ${spread(p.giveUpAfterMs)}`);
  const odd = [p.unmatched > 0 ? `${p.unmatched} push(es) matched no device action` : '', p.malformed > 0 ? `${p.malformed} malformed` : '', p.dropped > 0 ? `${p.dropped} past the receiver's cap` : ''].filter((s) => s !== '');
  if (odd.length > 0) lines.push(`  ${odd.join(' · ')}`);
  lines.push(`  settled ${dur(a.settle.virtualMs)} after the fleet (${a.settle.endedBy})`);
  for (const n of a.notes ?? []) lines.push(`  note: ${n}`);
  return lines;
}
