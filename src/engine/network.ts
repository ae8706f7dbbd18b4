/**
 * The only part of the harness that touches sockets: sends a dialect's HttpRequest over a
 * keep-alive undici Pool and hands back an HttpResult. Never throws: a refused connection, a reset,
 * a timeout or a garbled answer is a result like any other.
 */
import { Pool, type Dispatcher } from 'undici';
import type { HttpRequest } from '../dialect/types.js';

/** Bodies up to this size fit in the total time limit as it is. */
const BODY_TIME_FREE_BYTES = 64 * 1024;
/** The slowest a large announced body may arrive (64 KiB/s) before it counts as timed out. */
const BODY_FLOOR_BYTES_PER_MS = 64;

export type RawResult =
  | {
      kind: 'response';
      status: number;
      headers: Record<string, string | undefined>;
      body: Buffer;
      cut?: boolean;
      /** performance.now() when the answer's headers arrived. */
      headersAt: number;
    }
  | {
      kind: 'error';
      code: string;
      /** A 2xx answer whose body broke off (a reset mid-body): the part that arrived, for a download to keep. */
      partial?: { status: number; headers: Record<string, string | undefined>; body: Buffer };
    };

export interface NetworkOptions {
  origin: string;
  connections: number;
  /**
   * Largest body accepted when the request does not say (`HttpRequest.maxAnswerBytes`, set by
   * the dialect); a bigger one is cut and reported as BODY_TOO_LARGE.
   */
  maxBodyBytes: number;
}

/**
 * OnWritten (./transport.ts) is called when undici takes the request onto a connection and
 * writes it to the socket (its `onConnect` / `onRequestStart` hook runs just before the write).
 */
import type { OnWritten } from './transport.js';
export type { OnWritten };

/** undici's request options plus ours, read and stripped by the stamping interceptor. */
type StampedOptions = Dispatcher.RequestOptions & { onWritten?: OnWritten };

export class Network {
  private readonly pool: Pool;
  /** The pool behind an interceptor that stamps the socket write of `pool.request` calls. */
  private readonly stamped: Dispatcher;
  private aborted = false;

  constructor(private readonly opts: NetworkOptions) {
    this.pool = new Pool(opts.origin, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: 10_000 },
    });
    // A pool-level error must never become an unhandled 'error' event in a worker.
    this.pool.on('connectionError', () => {});
    this.stamped = this.pool.compose((dispatch) => (opts, handler) => {
      const { onWritten, ...rest } = opts as StampedOptions;
      return dispatch(rest, onWritten === undefined ? handler : stampWrite(handler, onWritten));
    });
  }

  /**
   * `paceMs`: the real time the body should take to arrive, as over the device's radio link; the
   * body is read no faster, so the connection stays open as long as it would in the field.
   */
  async send(req: HttpRequest, timeoutMs: number, paceMs = 0, onWritten?: OnWritten): Promise<RawResult> {
    if (this.aborted) return { kind: 'error', code: 'ABORTED' };
    const limit = req.maxAnswerBytes ?? this.opts.maxBodyBytes;
    if (paceMs === 0 && req.fault === undefined) return this.dispatchPlain(req, timeoutMs, limit, onWritten);
    // The whole exchange, from the write to the last byte, gets `timeoutMs` plus the link's time:
    // undici's own timeouts are idle ones, which a body dripping a byte at a time never trips.
    const deadline = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const written: OnWritten = (at) => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timedOut = true;
        deadline.abort();
      }, timeoutMs + paceMs);
      onWritten?.(at);
    };
    try {
      const options: StampedOptions = {
        method: req.method,
        path: req.path,
        headers: req.headers,
        body: req.body ?? null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs + paceMs,
        signal: deadline.signal,
        onWritten: written,
        // Paced: buffer almost nothing, so the parser waits on our reads and the connection
        // stays busy (open, unavailable to other requests) for the link's whole transfer time.
        ...(paceMs > 0 ? { highWaterMark: 1024 } : {}),
      };
      const res = await this.stamped.request(options);
      const headersAt = performance.now();
      if (req.fault?.loseAnswer) {
        // The server has processed the request and answered; the device never hears it. Destroying
        // an unread body makes undici emit an AbortError: without a listener it would be uncaught.
        res.body.on('error', () => {});
        res.body.destroy();
        return { kind: 'error', code: 'ANSWER_LOST' };
      }
      if (declaredTooLarge(res.headers['content-length'], limit)) {
        res.body.on('error', () => {});
        res.body.destroy();
        return { kind: 'error', code: 'BODY_TOO_LARGE' };
      }
      const cutAt = req.fault?.cutAfterBytes;
      const read = await readBody(res.body, limit, cutAt, paceMs > 0 ? { startAt: headersAt, totalMs: paceMs, bytes: Number(res.headers['content-length']) || 0 } : undefined);
      if (read === undefined) return { kind: 'error', code: 'BODY_TOO_LARGE' };
      const headers = flatHeaders(res.headers);
      if (read.broken !== undefined) return brokenOff(this.aborted ? 'ABORTED' : timedOut ? 'TIMEOUT' : errorCode(read.broken), res.statusCode, headers, read.body);
      return read.cut
        ? { kind: 'response', status: res.statusCode, headers, body: read.body, cut: true, headersAt }
        : { kind: 'response', status: res.statusCode, headers, body: read.body, headersAt };
    } catch (err) {
      return { kind: 'error', code: this.aborted ? 'ABORTED' : timedOut ? 'TIMEOUT' : errorCode(err) };
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /**
   * The common case (no pacing, no fault) straight on undici's dispatcher: the answer is
   * gathered from the handler's callbacks, without a body stream and its promises per request,
   * which is most of what a small JSON answer costs the client.
   */
  private dispatchPlain(req: HttpRequest, timeoutMs: number, limit: number, onWritten: OnWritten | undefined): Promise<RawResult> {
    return new Promise<RawResult>((resolve) => {
      let status = 0;
      let headers: Record<string, string | undefined> = {};
      let headersAt = 0;
      const chunks: Buffer[] = [];
      let size = 0;
      let abort: ((err?: Error) => void) | undefined;
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (r: RawResult): void => {
        if (done) return;
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        resolve(r);
      };
      try {
        this.pool.dispatch(
          { method: req.method, path: req.path, headers: req.headers, body: req.body ?? null, headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
          {
            // Called on the connection, just before the request is written to its socket.
            onConnect: (a) => {
              abort = a;
              // A total limit from the write on (undici's are idle limits: a drip resets them).
              if (timer !== undefined) return;
              timer = setTimeout(() => {
                finish({ kind: 'error', code: 'TIMEOUT' });
                abort?.(new Error('request timed out'));
              }, timeoutMs);
              onWritten?.(performance.now());
            },
            onHeaders: (statusCode, raw) => {
              status = statusCode;
              headers = rawHeaders(raw);
              headersAt = performance.now();
              if (declaredTooLarge(headers['content-length'], limit)) {
                finish({ kind: 'error', code: 'BODY_TOO_LARGE' });
                abort?.(new Error('body too large'));
                return false;
              }
              // A large announced body (a firmware file) gets time for its bytes on top of the
              // limit, at a floor rate: the limit alone would fail a big file still flowing.
              const announced = Number(headers['content-length']);
              if (timer !== undefined && Number.isFinite(announced) && announced > BODY_TIME_FREE_BYTES) {
                clearTimeout(timer);
                timer = setTimeout(() => {
                  finish({ kind: 'error', code: 'TIMEOUT' });
                  abort?.(new Error('request timed out'));
                }, timeoutMs + announced / BODY_FLOOR_BYTES_PER_MS);
              }
              return true;
            },
            onData: (chunk) => {
              size += chunk.length;
              if (size > limit) {
                finish({ kind: 'error', code: 'BODY_TOO_LARGE' });
                abort?.(new Error('body too large'));
                return false;
              }
              chunks.push(chunk);
              return true;
            },
            onComplete: () => {
              const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
              finish({ kind: 'response', status, headers, body, headersAt });
            },
            onError: (err) => {
              const code = this.aborted ? 'ABORTED' : errorCode(err);
              finish(status === 0 ? { kind: 'error', code } : brokenOff(code, status, headers, Buffer.concat(chunks, size)));
            },
          },
        );
      } catch (err) {
        finish({ kind: 'error', code: this.aborted ? 'ABORTED' : errorCode(err) });
      }
    });
  }

  /** Fails every request in flight and every later one at once (the pool is destroyed). */
  abortAll(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.pool.destroy().catch(() => {});
  }

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => {});
  }
}

/** An error after the headers: the bytes of a 2xx body that did arrive go with it. */
function brokenOff(code: string, status: number, headers: Record<string, string | undefined>, body: Buffer): RawResult {
  if (status < 200 || status >= 300 || body.length === 0 || code === 'BODY_TOO_LARGE') return { kind: 'error', code };
  return { kind: 'error', code, partial: { status, headers, body } };
}

/** A Content-Length over the limit: refused at the headers, before a byte of the body is read. */
function declaredTooLarge(contentLength: string | string[] | undefined, limit: number): boolean {
  const n = Number(Array.isArray(contentLength) ? contentLength[0] : contentLength);
  return Number.isFinite(n) && n > limit;
}

/**
 * The handler of one `pool.request`, with its socket write reported: undici 7 calls
 * `onRequestStart` when the request is taken onto a connection, right before the write.
 */
function stampWrite(handler: Dispatcher.DispatchHandler, onWritten: OnWritten): Dispatcher.DispatchHandler {
  const h = handler as Required<Pick<Dispatcher.DispatchHandler, 'onRequestStart'>> & Dispatcher.DispatchHandler;
  return {
    onRequestStart: (controller, context) => {
      onWritten(performance.now());
      return h.onRequestStart(controller, context);
    },
    onRequestUpgrade: (controller, statusCode, headers, socket) => h.onRequestUpgrade?.(controller, statusCode, headers, socket),
    onResponseStart: (controller, statusCode, headers, statusMessage) => h.onResponseStart?.(controller, statusCode, headers, statusMessage),
    onResponseData: (controller, chunk) => h.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => h.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, error) => h.onResponseError?.(controller, error),
  };
}

interface Pace {
  startAt: number;
  totalMs: number;
  /** Expected body size; 0 when unknown (then the whole pace is waited at the end). */
  bytes: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Reads a body up to `limit` (undefined past it), or only its first `cutAt` bytes (then drops the
 * link); with a pace, no byte is taken before the link would have delivered it. A body that breaks
 * off comes back with what arrived and the error (`broken`).
 */
async function readBody(
  body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown; on(event: 'error', listener: () => void): unknown },
  limit: number,
  cutAt?: number,
  pace?: Pace,
): Promise<{ body: Buffer; cut: boolean; broken?: unknown } | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      if (pace) {
        const share = pace.bytes > 0 ? Math.min(1, (size + chunk.length) / pace.bytes) : 0;
        const wait = pace.startAt + pace.totalMs * share - performance.now();
        if (wait > 1) await sleep(wait);
      }
      if (cutAt !== undefined && size + chunk.length > cutAt) {
        chunks.push(chunk.subarray(0, cutAt - size));
        size = cutAt;
        body.on('error', () => {});
        body.destroy();
        return { body: Buffer.concat(chunks, size), cut: true };
      }
      size += chunk.length;
      if (size > limit) {
        body.on('error', () => {});
        body.destroy();
        return undefined;
      }
      chunks.push(chunk);
    }
  } catch (err) {
    return { body: Buffer.concat(chunks, size), cut: false, broken: err };
  }
  if (pace) {
    const wait = pace.startAt + pace.totalMs - performance.now();
    if (wait > 1) await sleep(wait);
  }
  return { body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size), cut: false };
}

/** undici's raw header list (name, value, name, value, ...) as lower-case names; repeats joined. */
function rawHeaders(raw: Buffer[] | string[] | null): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (!raw) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = String(raw[i]).toLowerCase();
    const value = String(raw[i + 1]);
    const prev = out[name];
    out[name] = prev === undefined ? value : `${prev}, ${value}`;
  }
  return out;
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k in h) {
    const v = h[k];
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** One stable label per kind of transport failure, for the outcome counts. */
export function errorCode(err: unknown): string {
  const e = err as { code?: string; name?: string; cause?: { code?: string } };
  // llhttp's parse errors do not always carry a code.
  if (e?.name === 'HTTPParserError') return 'BAD_RESPONSE';
  const code = e?.code ?? e?.cause?.code;
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'TIMEOUT';
    case 'UND_ERR_SOCKET':
      return 'ECONNRESET';
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'ABORTED';
    case 'UND_ERR_INFO':
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_VERSION':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return 'BAD_RESPONSE';
    case undefined:
      return e?.name === 'AbortError' ? 'ABORTED' : 'UNKNOWN';
    default:
      // Some errors carry a numeric code (a DOMException AbortError's is 20).
      if (typeof code !== 'string') return e?.name === 'AbortError' ? 'ABORTED' : 'UNKNOWN';
      return code.startsWith('HPE_') ? 'BAD_RESPONSE' : code.startsWith('UND_ERR_') ? code.slice(8) : code;
  }
}
