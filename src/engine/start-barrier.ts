/**
 * The start barrier of a run spread over machines: every slice (./fleet-slice.ts) is given one
 * agreed wall-clock instant (`--start-at`, or `OTA_SWARM_START_AT` which the Kubernetes manifests
 * set), starts its virtual time there, and reports how late it actually started. No coordinator:
 * the machines' clocks are the coordination, so each slice also measures its clock against the
 * target's `Date` header (one-second resolution, hence "within ±1 s", not a millisecond figure).
 */
import type { StartReport } from '../report/types.js';

export const START_AT_FLAG = '--start-at';
export const START_AT_ENV = 'OTA_SWARM_START_AT';
/** An instant further ahead than this is a mistake (a date typed wrong), not a plan. */
export const MAX_WAIT_MS = 24 * 3600_000;
/** How long the skew check waits for the target's answer. */
const SKEW_TIMEOUT_MS = 3000;

export class StartAtError extends Error {}

/** An ISO 8601 instant with a zone → epoch ms; throws StartAtError naming where it came from. */
export function parseStartAt(text: string, where: string, nowMs: number): number {
  const ms = Date.parse(text.trim());
  if (!Number.isFinite(ms) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(text.trim())) throw new StartAtError(`${where}: "${text}" is not an ISO 8601 instant (e.g. 2026-12-01T12:00:00Z)`);
  // A time without a zone would be read in the machine's own zone: machines disagree on it.
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(text.trim())) throw new StartAtError(`${where}: "${text}" has no time zone (write e.g. 2026-12-01T12:00:00Z)`);
  if (ms - nowMs > MAX_WAIT_MS) throw new StartAtError(`${where}: ${text} is more than 24 h ahead`);
  return ms;
}

/** The flag wins over the environment. */
export function resolveStartAt(flag: string | undefined, env: NodeJS.ProcessEnv, nowMs: number): number | undefined {
  if (flag !== undefined) return parseStartAt(flag, START_AT_FLAG, nowMs);
  const fromEnv = env[START_AT_ENV];
  return fromEnv !== undefined && fromEnv.trim() !== '' ? parseStartAt(fromEnv, START_AT_ENV, nowMs) : undefined;
}

/** Real ms to wait before handing the workers their devices, so they are ready at `startAtMs`. */
export function waitBeforeStart(startAtMs: number, nowMs: number, leadMs: number): number {
  return Math.max(0, startAtMs - leadMs - nowMs);
}

/** Sleeps `ms` (bounded by MAX_WAIT_MS); an abort ends the wait early. */
export function sleepUntilStart(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.min(ms, MAX_WAIT_MS));
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The target's clock against ours: its `Date` header and our clock at the middle of the exchange. */
export type SkewReading = { serverMs: number; localMs: number } | { failed: string };

/** Reads the target's `Date` header (a HEAD of its base URL). I/O only; judged by judgeStart. */
export async function readDateHeader(baseUrl: string): Promise<SkewReading> {
  const before = Date.now();
  try {
    const res = await fetch(baseUrl, { method: 'HEAD', signal: AbortSignal.timeout(SKEW_TIMEOUT_MS) });
    const after = Date.now();
    await res.body?.cancel().catch(() => {});
    const date = res.headers.get('date');
    if (date === null) return { failed: 'the target sent no Date header' };
    const serverMs = Date.parse(date);
    if (!Number.isFinite(serverMs)) return { failed: `the target's Date header "${date.slice(0, 40)}" is not a date` };
    return { serverMs, localMs: (before + after) / 2 };
  } catch (err) {
    return { failed: `the target did not answer a HEAD ${baseUrl} (${err instanceof Error ? err.message.split('\n')[0] : String(err)})` };
  }
}

/** Skew beyond this (ms) is worth a note: the Date header's own resolution is one second. */
export const SKEW_NOTE_MS = 2000;

export interface StartFacts {
  startAtMs: number;
  /** Wall ms when this slice handed its workers their devices. */
  startedWallMs: number;
  /** Real ms the workers are given to start before the first device is due. */
  leadMs: number;
  /** Undefined: the embedded server shares this process's clock, so there is nothing to compare. */
  skew: SkewReading | undefined;
}

/** The harness section's start figures: how late this slice started, and its clock against the target's. */
export function judgeStart(f: StartFacts): StartReport {
  const lateByMs = Math.max(0, Math.round(f.startedWallMs + f.leadMs - f.startAtMs));
  const report: StartReport = { at: new Date(f.startAtMs).toISOString(), lateByMs };
  if (f.skew === undefined) {
    report.clockSkew = { notJudged: 'the embedded server runs on this process\'s clock' };
  } else if ('failed' in f.skew) {
    report.clockSkew = { notJudged: f.skew.failed };
  } else {
    // The header is truncated to the second: the server's instant lies in [serverMs, serverMs + 1000).
    const skewMs = Math.round(f.skew.serverMs + 500 - f.skew.localMs);
    report.clockSkew = { ms: skewMs, resolutionMs: 1000 };
  }
  return report;
}

/** One line each for the harness notes: a late start and a clock that disagrees with the target's. */
export function startNotes(s: StartReport): string[] {
  const notes: string[] = [];
  if (s.lateByMs > 0) notes.push(`this shard started ${s.lateByMs} ms after the agreed start (${s.at}): its first devices were late by as much`);
  if (s.clockSkew && 'ms' in s.clockSkew && Math.abs(s.clockSkew.ms) > SKEW_NOTE_MS) {
    notes.push(`this machine's clock is ${Math.abs(s.clockSkew.ms)} ms ${s.clockSkew.ms > 0 ? 'behind' : 'ahead of'} the target's Date header (±1 s): the shards' shared start is only as good as their clocks`);
  }
  return notes;
}
