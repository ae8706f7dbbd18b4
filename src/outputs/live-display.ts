/**
 * The live view of a run on a terminal: a progress bar of devices done, devices by state, request
 * rate, errors, p99 so far and time left, redrawn in place by cli-progress. When stdout is not a
 * terminal, a plain line every few seconds instead (CI logs stay readable).
 */
import cliProgress from 'cli-progress';
import type { LiveProgress } from '../engine/run.js';
import { stateCategory, STATE_CATEGORIES } from '../dialect/categories.js';
import { formatMs } from '../config/units.js';
import { nextDoneMark, timeLeftText, type DoneMark } from './eta.js';

export interface LiveDisplay {
  update(p: LiveProgress): void;
  stop(): void;
}

const nf = new Intl.NumberFormat('en-US');

function byCategory(dialect: string, states: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind in states) {
    const cat = kind === 'asleep' ? 'asleep' : stateCategory(dialect, kind);
    out[cat] = (out[cat] ?? 0) + (states[kind] as number);
  }
  return out;
}

export function statesLine(dialect: string, states: Record<string, number>): string {
  const cats = byCategory(dialect, states);
  return STATE_CATEGORIES.filter((c) => (cats[c] ?? 0) > 0)
    .map((c) => `${c} ${nf.format(cats[c] as number)}`)
    .join(' · ');
}

export function latencyLine(p: LiveProgress): string {
  const ops = Object.entries(p.live.operations).filter(([, o]) => o.count > 0);
  if (ops.length === 0) return 'no answers yet';
  return ops.map(([name, o]) => `${name} ${formatMs(o.latencyMs.p99)}`).join(' · ');
}

function rate(p: LiveProgress, last: { requests: number; at: number }): number {
  const dt = (p.elapsedMs - last.at) / 1000;
  const r = dt > 0 ? (p.requests - last.requests) / dt : 0;
  last.requests = p.requests;
  last.at = p.elapsedMs;
  return Math.round(r);
}

/** Requests on the wire (written, not answered) and those still waiting in the harness, apart. */
export function requestsLine(p: LiveProgress): string {
  return `in flight ${nf.format(p.inFlight)} · queued ${nf.format(p.queued)}`;
}

/** Plain lines for logs: one every call. `mark`: when a device last finished (see ./eta.ts). */
export function plainLine(p: LiveProgress, dialect: string, reqPerSec: number, mark?: DoneMark): string {
  return `  ${(p.elapsedMs / 1000).toFixed(0).padStart(4)}s  done ${p.stopped}/${p.total}  ${reqPerSec}/s  ${requestsLine(p)}  errors ${p.errors}  p99 ${latencyLine(p)}  [${statesLine(dialect, p.live.states)}]  ${timeLeftText(p, mark)}`;
}

export function createLiveDisplay(dialect: string, out: NodeJS.WriteStream = process.stderr): LiveDisplay {
  const last = { requests: 0, at: 0 };
  let mark: DoneMark | undefined;
  if (!out.isTTY) {
    return {
      update: (p) => {
        mark = nextDoneMark(mark, p);
        out.write(`${plainLine(p, dialect, rate(p, last), mark)}\n`);
      },
      stop: () => {},
    };
  }
  const multi = new cliProgress.MultiBar(
    { stream: out, clearOnComplete: false, hideCursor: true, autopadding: true, format: '{text}', forceRedraw: true },
    cliProgress.Presets.shades_classic,
  );
  // Every payload field the format names is given here: cli-progress draws a frame at once, and
  // a field it has no value for is printed as its raw `{rest}` placeholder.
  const bar = multi.create(1, 0, { text: '', rest: 'starting' }, { format: ' devices [{bar}] {percentage}% {value}/{total} · {rest}' });
  const states = multi.create(1, 0, { text: '' });
  const lat = multi.create(1, 0, { text: '' });
  let stopped = false;
  return {
    update(p) {
      bar.setTotal(p.total);
      mark = nextDoneMark(mark, p);
      bar.update(p.stopped, { rest: `${nf.format(rate(p, last))} req/s · errors ${nf.format(p.errors)} · ${requestsLine(p)} · ${timeLeftText(p, mark)}` });
      states.update(0, { text: ` states  ${statesLine(dialect, p.live.states) || 'starting'}` });
      lat.update(0, { text: ` p99     ${latencyLine(p)}` });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      multi.stop();
    },
  };
}
