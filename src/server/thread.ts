/**
 * The reference server in a worker thread, with an event loop of its own, apart from the
 * harness's. Worker threads run compiled JS: from src/*.ts (vitest) the worker file is taken from
 * dist/ (`npm run build`).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ClockOrigin } from '../time/clock.js';
import type { ServerOptions } from './types.js';

export type ThreadServerOptions = Omit<ServerOptions, 'clock'> & { clock: ClockOrigin };

export interface ThreadServer {
  url: string;
  /** When a CoAP port was asked for. */
  coapUrl?: string;
  adminToken: string;
  close(): Promise<void>;
}

/** Messages between the thread and its worker. */
export type ToWorker = { type: 'close' };
export type FromWorker = { type: 'ready'; url: string; coapUrl?: string; adminToken: string } | { type: 'error'; message: string } | { type: 'closed' };

/** How long close() waits for the worker to close its server before terminating it. */
const CLOSE_GRACE_MS = 5_000;

/** The compiled worker: the .js sibling, under dist/ when this module runs from src/*.ts. */
export function workerFileUrl(here = import.meta.url, name = './thread-worker.js'): URL {
  const sibling = new URL(name, here);
  if (!here.endsWith('.ts')) return sibling;
  const path = fileURLToPath(sibling);
  const at = path.lastIndexOf('/src/');
  if (at < 0) return sibling;
  return pathToFileURL(`${path.slice(0, at)}/dist/${path.slice(at + '/src/'.length)}`);
}

const oneLine = (s: string): string => s.split('\n')[0] ?? s;

export function startServerThread(options: ThreadServerOptions): Promise<ThreadServer> {
  const file = workerFileUrl();
  if (!existsSync(fileURLToPath(file))) {
    return Promise.reject(new Error(`server thread: ${fileURLToPath(file)} is missing; run \`npm run build\` first`));
  }
  return new Promise((resolve, reject) => {
    const worker = new Worker(file, { workerData: options });
    let started = false;
    let exited = false;
    let closing: Promise<void> | undefined;
    worker.once('exit', () => {
      exited = true;
    });
    const close = (): Promise<void> =>
      (closing ??= new Promise<void>((done) => {
        if (exited) return done();
        const timer = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS);
        worker.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        worker.postMessage({ type: 'close' } satisfies ToWorker);
      }));
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'ready' && !started) {
        started = true;
        resolve({ url: msg.url, ...(msg.coapUrl ? { coapUrl: msg.coapUrl } : {}), adminToken: msg.adminToken, close });
      } else if (msg.type === 'error' && !started) {
        started = true;
        reject(new Error(oneLine(msg.message)));
      }
    });
    worker.on('error', (err) => {
      if (!started) {
        started = true;
        reject(new Error(`server thread: ${oneLine(err.message)}`));
      }
    });
    worker.once('exit', (code) => {
      if (!started) {
        started = true;
        reject(new Error(`server thread exited with code ${code} before it listened`));
      }
    });
  });
}
