/**
 * The foreign server's I/O: one `node:http` server on loopback that hands each request to the
 * OneNET and Luat handlers (onenet.ts, luat.ts) with its own wall clock (time scale 1). No admin
 * API: what the tests may know beyond the wire is the break log, read in-process.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BreakLog, type BreakEntry, type Req, type Res, json } from './common.js';
import { LuatServer, type LuatConfig } from './luat.js';
import { OnenetServer, type OnenetConfig } from './onenet.js';

export interface ForeignConfig {
  seed: number;
  onenet?: OnenetConfig;
  luat?: LuatConfig;
  /** 127.0.0.1 unless told ::1. */
  host?: '127.0.0.1' | '::1';
  port?: number;
  /** The wall clock in ms; injectable for the server's own unit tests. */
  now?: () => number;
}

export interface ForeignServer {
  url: string;
  onenet?: OnenetServer;
  luat?: LuatServer;
  log: BreakLog;
  /** Requests answered, by status. */
  statuses: Map<number, number>;
  /** Handler exceptions (should stay empty: each is a bug of this server). */
  errors: string[];
  close(): Promise<void>;
}

export type { BreakEntry };

const MAX_BODY = 64 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
        return;
      }
      parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', () => resolve(undefined));
  });
}

function send(res: ServerResponse, a: Res): void {
  for (const [k, v] of Object.entries(a.headers)) res.setHeader(k, v);
  res.statusCode = a.status;
  if (a.noLength) {
    // Chunked: the spec's one-byte download errors have no Content-Length.
    res.write(a.body);
    res.end();
  } else {
    res.setHeader('content-length', String(a.body.length));
    res.end(a.body);
  }
}

export async function startForeignServer(cfg: ForeignConfig): Promise<ForeignServer> {
  const log = new BreakLog();
  const now = cfg.now ?? Date.now;
  const onenet = cfg.onenet ? new OnenetServer(cfg.onenet, cfg.seed, log) : undefined;
  const luat = cfg.luat ? new LuatServer(cfg.luat, cfg.seed, log) : undefined;
  const statuses = new Map<number, number>();
  const errors: string[] = [];

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (body === undefined) {
        if (!res.headersSent && !res.destroyed) send(res, json({ error: 'body too large' }, 413));
        return;
      }
      const url = new URL(req.url ?? '/', 'http://foreign');
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      const r: Req = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body };
      let a: Res;
      try {
        const t = now();
        a = onenet?.handle(r, t) ?? luat?.handle(r, t) ?? json({ error: 'not found' }, 404);
      } catch (err) {
        errors.push(`${r.method} ${r.path}: ${(err as Error).stack ?? String(err)}`);
        a = json({ errno: 7, error: 'internal error' }, 500);
      }
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      send(res, a);
    })();
  });
  // Keep-alive longer than the harness's idle pool, so connections are not dropped under it.
  server.keepAliveTimeout = 30_000;
  const host = cfg.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host === '::1' ? '[::1]' : host}:${port}`;
  const result: ForeignServer = {
    url,
    log,
    statuses,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  if (onenet) result.onenet = onenet;
  if (luat) result.luat = luat;
  return result;
}
