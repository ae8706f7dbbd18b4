/**
 * The HTTP side of the server: node:http, no framework. Routes a request, reads its body (bounded),
 * applies the endpoint's fault knobs around the call, writes the answer, counts it and records it
 * in the device's history. Decisions are made elsewhere (onenet/, luat/, admin/); this module only
 * moves bytes.
 *
 * Choices:
 * - Fault order per request: stall (the request is never processed nor answered) → body → latency
 *   (real ms) → injected error (instead of processing) → the call → drop (processed, socket
 *   destroyed unanswered) → the answer, paced by bytesPerSecond and cut after resetAfterBytes.
 *   Injected errors, stalls and drops are counted; only drops reach a device's history.
 * - Transport answers: unknown path 404, wrong method 405, body over 64 KiB 413, admin without the
 *   bearer token 401, admin from a non-loopback client 403 — all `{"error": ...}`.
 * - An exception in a call is answered errno 7 (OneNET JSON calls) or 500, and logged in one line.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isAdminAuthorized } from '../admin/bearer.js';
import { handleAdmin } from '../admin/api.js';
import type { EndpointFaults, EndpointName } from '../faults/config.js';
import { errnoAnswer, type ErrnoTable } from '../onenet/messages.js';
import { codeAnswer } from '../luat/calls.js';
import { matchRoute, type Route } from '../router.js';
import type { ServerState } from '../server-state.js';
import { json, type Answer, type Outcome, type RequestContext } from './answer.js';
import { readBody } from './body.js';
import { parseQuery } from './query.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const NOT_FOUND = json(404, { error: 'not found' });
const TOO_LARGE = json(413, { error: 'body too large (limit 64 KiB)' });
const UNAUTHORIZED = json(401, { error: 'unauthorized: send Authorization: Bearer <admin token>' });
const FORBIDDEN = json(403, { error: 'the admin API answers loopback clients only' });
/** Admin bodies carry up to 10000 ids (POST /admin/devices/query). */
const ADMIN_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
/** Pacing of slow bodies: one slice every this many ms. */
const PACE_MS = 50;

/** Which errno table an endpoint's codes come from (for injected codes and internal errors). */
const ERRNO_TABLE: Partial<Record<EndpointName, ErrnoTable>> = {
  check: 'check',
  tokenCheck: 'token',
  progress: 'token',
  report: 'report',
  reportVersion: 'version',
  queryVersion: 'version',
};

export interface HttpCoreOptions {
  adminToken: string;
  allowRemoteAdmin: boolean;
  quiet: boolean;
  /** Called just before a call is made, with its request's headers (the clock of `--time-scale max`). */
  onRequest?: (headers: IncomingHttpHeaders) => void;
}

export interface HttpCore {
  readonly server: Server;
  /** Ends every connection, stalled or not, and every pending timer. */
  close(): Promise<void>;
}

const isLoopback = (addr: string | undefined): boolean => addr !== undefined && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));

export function createHttpCore(getState: () => ServerState, options: HttpCoreOptions): HttpCore {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closing) fn();
    }, ms);
    timers.add(t);
  };

  const logError = (where: string, err: unknown): void => {
    if (!options.quiet) process.stderr.write(`ota-swarm serve: internal error in ${where}: ${err instanceof Error ? err.message : String(err)}\n`);
  };

  /** Writes an answer; `faults` pace or cut the body. Returns the body bytes it set out to send. */
  const send = (res: ServerResponse, answer: Answer, faults: EndpointFaults | undefined, state: ServerState): void => {
    if (res.destroyed) return;
    let status: number;
    let headers: Record<string, string | number>;
    let body: Buffer | string;
    switch (answer.kind) {
      case 'json':
        status = answer.status;
        headers = { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(answer.body) };
        body = answer.body;
        break;
      case 'file':
        status = answer.status;
        headers = answer.headers as Record<string, string | number>;
        body = answer.bytes;
        break;
      case 'byte':
        // No Content-Length: the platform's one-byte error bodies go out chunked.
        status = 200;
        headers = { 'content-type': 'application/octet-stream' };
        body = String(answer.code);
        break;
    }
    const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    state.store.counters.bytesServed += size;
    const cut = faults?.resetAfterBytes;
    const bps = faults?.bytesPerSecond;
    if ((cut === undefined || cut >= size) && bps === undefined) {
      res.writeHead(status, headers);
      if (answer.kind === 'byte') {
        res.write(body);
        res.end();
      } else res.end(body);
      return;
    }
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const limit = cut !== undefined && cut < size ? cut : size;
    res.writeHead(status, headers);
    const finish = (): void => {
      if (limit < size) {
        state.store.counters.faults.resets++;
        res.socket?.destroy();
      } else res.end();
    };
    if (bps === undefined) {
      if (limit === 0) {
        res.flushHeaders();
        later(0, finish);
      } else res.write(bytes.subarray(0, limit), () => later(0, finish));
      return;
    }
    state.store.counters.faults.throttled++;
    const slice = Math.max(1, Math.round((bps * PACE_MS) / 1000));
    let sent = 0;
    const pump = (): void => {
      if (res.destroyed) return;
      if (sent >= limit) return finish();
      const end = Math.min(limit, sent + slice);
      res.write(bytes.subarray(sent, end));
      sent = end;
      later(PACE_MS, pump);
    };
    res.flushHeaders();
    pump();
  };

  const finishCall = (res: ServerResponse, route: Route, outcome: Outcome, faults: EndpointFaults | undefined, state: ServerState): void => {
    const { answer, owner } = outcome;
    const counters = state.store.counters;
    if (faults?.dropRate !== undefined && state.dice.chance(route.endpoint, 'drop', faults.dropRate)) {
      counters.faults.dropped++;
      counters.answer(route.endpoint, 'dropped');
      if (owner) state.store.record(owner, route.endpoint, outcome.summary ?? '', `${answer.label} (dropped)`);
      res.socket?.destroy();
      return;
    }
    // Counted by status alone for files, so a run of ranged downloads does not grow the counters.
    counters.answer(route.endpoint, answer.kind === 'file' ? (answer.status === 206 ? 'http:206' : 'http:200') : answer.label);
    if (owner) state.store.record(owner, route.endpoint, outcome.summary ?? '', answer.label);
    send(res, answer, faults, state);
  };

  const callSafely = (route: Route, ctx: RequestContext, state: ServerState): Outcome => {
    options.onRequest?.(ctx.headers);
    try {
      return route.call(state, ctx);
    } catch (err) {
      logError(route.endpoint, err);
      const table = ERRNO_TABLE[route.endpoint];
      return { answer: table ? errnoAnswer(table, 7) : json(500, { error: 'internal error' }) };
    }
  };

  /** The error an endpoint answers when a fault injects one. */
  const injectedError = (endpoint: EndpointName, f: EndpointFaults): Answer => {
    if (f.errorCode !== undefined) {
      const table = ERRNO_TABLE[endpoint];
      if (table) return errnoAnswer(table, f.errorCode);
      if (endpoint === 'luat') return codeAnswer(f.errorCode);
      return { kind: 'byte', code: f.errorCode, label: `byte:${f.errorCode}` };
    }
    const status = f.errorStatus ?? 503;
    return json(status, { error: 'injected fault' });
  };

  const slowPath = async (req: IncomingMessage, res: ServerResponse, route: Route, path: string, rawQuery: string, param: string, faults: EndpointFaults | undefined): Promise<void> => {
    const endpoint = route.endpoint;
    let state = getState();
    if (faults?.stallRate !== undefined && state.dice.chance(endpoint, 'stall', faults.stallRate)) {
      state.store.counters.faults.stalled++;
      state.store.counters.answer(endpoint, 'stalled');
      req.resume();
      return;
    }
    let body: Buffer | undefined;
    if (route.needsBody) {
      const read = await readBody(req);
      if (read === 'aborted') return;
      if (read === 'too-large') {
        state.store.counters.answer(endpoint, 'http:413');
        send(res, TOO_LARGE, undefined, state);
        return;
      }
      body = read;
    }
    if (faults?.latency !== undefined) {
      const ms = state.dice.latency(endpoint, faults.latency);
      state.store.counters.faults.delayed++;
      if (ms > 0) await new Promise<void>((resolve) => later(ms, resolve));
      if (closing || res.destroyed) return;
      state = getState();
    }
    if (faults?.errorRate !== undefined && state.dice.chance(endpoint, 'error', faults.errorRate)) {
      const answer = injectedError(endpoint, faults);
      state.store.counters.faults.injectedErrors++;
      state.store.counters.answer(endpoint, `fault ${answer.label}`);
      send(res, answer, undefined, state);
      return;
    }
    const ctx: RequestContext = { method: req.method ?? 'GET', path, query: parseQuery(rawQuery), headers: req.headers, body, param };
    finishCall(res, route, callSafely(route, ctx, state), faults, state);
  };

  const admin = async (req: IncomingMessage, res: ServerResponse, rest: string, rawQuery: string): Promise<void> => {
    const state = getState();
    state.store.counters.request('admin');
    if (!options.allowRemoteAdmin && !isLoopback(req.socket.remoteAddress)) return send(res, FORBIDDEN, undefined, state);
    if (!isAdminAuthorized(req.headers.authorization, options.adminToken)) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, UNAUTHORIZED, undefined, state);
    }
    let body: Buffer | undefined;
    const method = req.method ?? 'GET';
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      const read = await readBody(req, ADMIN_BODY_LIMIT_BYTES);
      if (read === 'aborted') return;
      if (read === 'too-large') return send(res, json(413, { error: 'body too large (limit 4 MiB)' }), undefined, state);
      body = read;
    }
    let answer: Answer;
    try {
      answer = handleAdmin(state, method, rest, parseQuery(rawQuery), body);
    } catch (err) {
      logError('admin', err);
      answer = json(500, { error: 'internal error' });
    }
    getState().store.counters.answer('admin', `http:${answer.kind === 'json' ? answer.status : 200}`);
    send(res, answer, undefined, getState());
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    req.on('error', noop);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    const match = matchRoute(method, path);
    const state = getState();
    switch (match.kind) {
      case 'not-found':
        state.store.counters.request('unknown');
        return send(res, NOT_FOUND, undefined, state);
      case 'method':
        state.store.counters.request('unknown');
        res.setHeader('allow', match.allow);
        return send(res, json(405, { error: `method not allowed (use ${match.allow})` }), undefined, state);
      case 'admin':
        admin(req, res, match.param, rawQuery).catch((err: unknown) => fail(res, 'admin', err));
        return;
      case 'route':
        break;
    }
    const route = match.route;
    state.store.counters.request(route.endpoint);
    // The server's own service time, arrival to last byte handed to the socket; a request never
    // answered (stalled, dropped, client gone) has none.
    const arrived = performance.now();
    res.once('finish', () => getState().store.counters.service.record(route.endpoint, performance.now() - arrived));
    const faults = state.resolved[route.endpoint];
    if (faults === undefined && !route.needsBody) {
      // The hot path: no body, no faults, no promise.
      const ctx: RequestContext = { method, path, query: parseQuery(rawQuery), headers: req.headers, body: undefined, param: match.param };
      finishCall(res, route, callSafely(route, ctx, state), undefined, state);
      return;
    }
    slowPath(req, res, route, path, rawQuery, match.param, faults).catch((err: unknown) => fail(res, route.endpoint, err));
  };

  const fail = (res: ServerResponse, where: string, err: unknown): void => {
    logError(where, err);
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(500, { 'content-type': JSON_TYPE });
      res.end('{"error":"internal error"}');
    } else res.destroy();
  };

  const server = createServer(
    {
      keepAliveTimeout: 65_000,
      headersTimeout: 20_000,
      requestTimeout: 60_000,
      maxHeaderSize: 16 * 1024,
    },
    onRequest,
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    const body = '{"error":"bad request"}';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });

  const close = (): Promise<void> =>
    new Promise((resolve) => {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
      sockets.clear();
    });

  return { server, close };
}

const noop = (): void => {};
