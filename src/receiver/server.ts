/**
 * The push receiver: an HTTP server (loopback by default) that plays the third-party backend the
 * platform pushes to. It checks `Appid` / `Appkey` (401 when they differ; the keys are never
 * written anywhere), reads each push, answers as its behaviour says (./behaviour.ts) and logs the
 * arrival on the run's virtual clock for the judge (./judge.ts). A broken or hostile platform only
 * ever shows as counted bad pushes: nothing it sends throws.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AIOT_HEADERS, parsePush, PUSH_SENT_HEADER, pushKey, type PushMessage } from '../protocol/aiot.js';
import { Rng } from '../random/rng.js';
import { decide, type ReceiverBehaviour } from './behaviour.js';

export type ArrivalOutcome = 'ok' | 'error' | 'hang' | 'reset' | 'refused';

export interface Arrival {
  /** Virtual ms since the run's start. */
  readonly at: number;
  readonly key: string;
  readonly push: PushMessage;
  readonly outcome: ArrivalOutcome;
  /** HTTP status answered (ok, error, refused). */
  readonly status?: number;
  /** Virtual ms from arrival to the answer's write; Infinity when none was written. */
  readonly answerMs: number;
  /** When the platform says it sent it (PUSH_SENT_HEADER), virtual ms since the run's start. */
  readonly sentAt?: number;
}

export interface ReceiverOptions {
  host?: string;
  port?: number;
  appId: string;
  appKey: string;
  behaviour: ReceiverBehaviour;
  /** The run's virtual clock (ms since the epoch) and its speed (virtual ms per real ms). */
  now: () => number;
  scale: number;
  /** Virtual instant the run starts at (arrival times and down windows count from it). */
  startAt: () => number;
  seed: number;
  /** Arrivals kept; past it they are counted in `dropped` (the judge then says so). */
  maxArrivals?: number;
}

export interface ReceiverLog {
  arrivals: Arrival[];
  /** Bodies that were not a push (400), with the first reason. */
  malformed: number;
  firstMalformed?: string;
  /** Arrivals past maxArrivals, not kept. */
  dropped: number;
}

export interface RunningReceiver {
  readonly url: string;
  readonly log: ReceiverLog;
  close(): Promise<void>;
}

const DEFAULT_MAX_ARRIVALS = 2_000_000;
/** Spec §3.3: a message is at most 4 KB; a little more is read before a body is refused. */
const MAX_PUSH_BYTES = 8 * 1024;

/** The request's body, or why there is none: past the limit the connection is cut. */
function pushBody(req: IncomingMessage): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PUSH_BYTES) {
        resolve('too-large');
        req.destroy();
      } else chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', () => resolve('aborted'));
    req.once('close', () => resolve(req.complete ? Buffer.concat(chunks) : 'aborted'));
  });
}
const RNG_STREAM = 0x9e5;

export async function startReceiver(o: ReceiverOptions): Promise<RunningReceiver> {
  const log: ReceiverLog = { arrivals: [], malformed: 0, dropped: 0 };
  const rng = new Rng(o.seed, RNG_STREAM);
  const max = o.maxArrivals ?? DEFAULT_MAX_ARRIVALS;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const keep = (a: Arrival): void => {
    if (log.arrivals.length < max) log.arrivals.push(a);
    else log.dropped++;
  };
  const write = (res: ServerResponse, status: number, body: string): void => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await pushBody(req);
    const at = o.now() - o.startAt();
    if (body === 'aborted') return;
    if (body === 'too-large') {
      log.malformed++;
      log.firstMalformed ??= `body: over ${MAX_PUSH_BYTES} bytes (a push is at most 4 KB)`;
      return;
    }
    let parsed: ReturnType<typeof parsePush>;
    try {
      parsed = parsePush(JSON.parse(body.toString('utf8')));
    } catch {
      parsed = { error: 'body: not JSON' };
    }
    if ('error' in parsed) {
      log.malformed++;
      log.firstMalformed ??= parsed.error;
      return write(res, 400, JSON.stringify({ error: parsed.error }));
    }
    const push = parsed.push;
    const key = pushKey(push);
    const stamp = Number(req.headers[PUSH_SENT_HEADER]);
    const sent = Number.isFinite(stamp) && stamp > 0 ? { sentAt: stamp - o.startAt() } : {};
    if (req.headers[AIOT_HEADERS.appId] !== o.appId || req.headers[AIOT_HEADERS.appKey] !== o.appKey) {
      keep({ at, key, push, outcome: 'refused', status: 401, answerMs: 0, ...sent });
      return write(res, 401, '{"error":"Appid or Appkey refused"}');
    }
    const action = decide(o.behaviour, at, () => rng.next());
    if (action.kind === 'reset') {
      keep({ at, key, push, outcome: 'reset', answerMs: Infinity, ...sent });
      req.socket.destroy();
      return;
    }
    if (action.kind === 'hang') {
      keep({ at, key, push, outcome: 'hang', answerMs: Infinity, ...sent });
      return;
    }
    const outcome: ArrivalOutcome = action.status === 200 ? 'ok' : 'error';
    const answer = (): void => {
      keep({ at, key, push, outcome, status: action.status, answerMs: o.now() - o.startAt() - at, ...sent });
      write(res, action.status, action.status === 200 ? '{"code":0}' : '{"error":"backend struggling (on purpose)"}');
    };
    if (action.afterMs <= 0) return answer();
    const t = setTimeout(() => {
      timers.delete(t);
      answer();
    }, Math.ceil(action.afterMs / o.scale));
    timers.add(t);
  };

  const server = createServer((req, res) => {
    if (req.method !== 'POST') return write(res, 405, '{"error":"pushes are POSTed"}');
    void handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const hostText = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostText}:${addr.port}/aiot/push`,
    log,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      })),
  };
}
