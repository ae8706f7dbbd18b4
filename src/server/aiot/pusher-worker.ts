/** The worker side of ./pusher-thread.ts: a Pusher on the shared virtual clock, fed by the server. */
import { parentPort, workerData } from 'node:worker_threads';
import { ScaledClock } from '../../time/clock.js';
import { Pusher } from './pusher.js';
import type { PusherThreadData, ToPusher } from './pusher-thread.js';

const port = parentPort;
if (!port) throw new Error('pusher-worker.js runs inside a worker thread only');
const data = workerData as PusherThreadData;
const pusher = new Pusher({ url: data.url, appId: data.appId, appKey: data.appKey, policy: data.policy, clock: new ScaledClock(data.origin), bugs: new Set(data.bugs) });
port.on('message', (m: ToPusher) => {
  if (m.type === 'push') pusher.push(m.msg);
  else pusher.close();
});
