/**
 * What the main thread knows of a run while it goes: each worker posts its latest metrics
 * snapshot and its devices by state once a second over a MessagePort; the feed keeps the latest of
 * each and merges them on demand (histograms merged, never percentiles).
 */
import type { MessagePort } from 'node:worker_threads';
import type { OperationReport } from '../report/types.js';
import { mergeSnapshots, operationsReport, type MetricsSnapshot } from '../metrics/recorder.js';

export interface LivePost {
  worker: number;
  metrics: MetricsSnapshot;
  /** State kind → devices in it; `asleep` = not woken yet. */
  states: Record<string, number>;
}

export interface LiveView {
  operations: Record<string, OperationReport>;
  states: Record<string, number>;
}

export class LiveFeed {
  private readonly latest = new Map<number, LivePost>();

  listen(port: MessagePort): void {
    port.on('message', (post: LivePost) => this.latest.set(post.worker, post));
    port.unref();
  }

  view(): LiveView {
    const posts = [...this.latest.values()];
    const states: Record<string, number> = {};
    for (const p of posts) for (const k in p.states) states[k] = (states[k] ?? 0) + (p.states[k] as number);
    return { operations: operationsReport(mergeSnapshots(posts.map((p) => p.metrics))), states };
  }
}

export const LIVE_EVERY_MS = 1000;
