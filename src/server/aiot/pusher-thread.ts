/**
 * The pusher (./pusher.ts) in a thread of its own: a platform's push service does not wait behind
 * its device traffic, and in one event loop with thousands of device requests a push's answer is
 * read late, counted a timeout and sent again (a duplicate the receiver did not cause). The
 * server posts each push; the thread keeps the schedule on the shared virtual clock. The named
 * bugs are those on when the server started.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PushMessage, PushRetryPolicy } from '../../protocol/aiot.js';
import type { ClockOrigin } from '../../time/clock.js';
import { workerFileUrl } from '../thread.js';

export interface PusherThreadData {
  url: string;
  appId: string;
  appKey: string;
  policy: PushRetryPolicy;
  origin: ClockOrigin;
  bugs: string[];
}

export type ToPusher = { type: 'push'; msg: PushMessage } | { type: 'close' };

export interface PushSink {
  push(msg: PushMessage): void;
  close(): Promise<void> | void;
}

export class PusherThread implements PushSink {
  private readonly worker: Worker;
  private closed = false;

  constructor(data: PusherThreadData) {
    const file = workerFileUrl(import.meta.url, './pusher-worker.js');
    if (!existsSync(fileURLToPath(file))) throw new Error(`aiot pusher: ${fileURLToPath(file)} is missing; run \`npm run build\` first`);
    this.worker = new Worker(file, { workerData: data });
    this.worker.unref();
    // A pusher that dies takes its cache with it; the receiver's rules then show the missing pushes.
    this.worker.on('error', () => {
      this.closed = true;
    });
  }

  push(msg: PushMessage): void {
    if (!this.closed) this.worker.postMessage({ type: 'push', msg } satisfies ToPusher);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }
}
