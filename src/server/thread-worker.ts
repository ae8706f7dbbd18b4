/** The worker side of thread.ts: starts the server from workerData and closes it on request. */
import { parentPort, workerData } from 'node:worker_threads';
import { startServer } from './index.js';
import type { FromWorker, ThreadServerOptions, ToWorker } from './thread.js';

const port = parentPort;
if (!port) throw new Error('thread-worker.js runs inside a worker thread only');
const post = (msg: FromWorker): void => port.postMessage(msg);

try {
  const server = await startServer(workerData as ThreadServerOptions);
  port.on('message', (msg: ToWorker) => {
    if (msg.type !== 'close') return;
    server.close().then(
      () => {
        post({ type: 'closed' });
        port.close();
      },
      () => port.close(),
    );
  });
  post({ type: 'ready', url: server.url, ...(server.coapUrl ? { coapUrl: server.coapUrl } : {}), adminToken: server.adminToken });
} catch (err) {
  post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  port.close();
}
