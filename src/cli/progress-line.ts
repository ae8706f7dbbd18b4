/** The plain progress line printed while a run goes (when stdout is not a live display). */
import type { ProgressTotals } from '../engine/progress.js';

export function progressLine(p: ProgressTotals & { elapsedMs: number; total: number }): string {
  const secs = p.elapsedMs / 1000;
  const rps = secs > 0 ? Math.round(p.requests / secs) : 0;
  return `  ${secs.toFixed(0).padStart(4)}s  devices ${p.stopped}/${p.total} done, ${p.started - p.stopped} active  requests ${p.requests} (${rps}/s, ${p.errors} errors)  in flight ${p.inFlight}`;
}
