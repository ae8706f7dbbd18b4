import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Network, errorCode } from '../../src/engine/network.js';

let server: Server;
let origin: string;
const seen: string[] = [];
const FILE = Buffer.alloc(10_000, 7);

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    if (req.url === '/file') {
      res.writeHead(200, { 'content-length': FILE.length });
      res.end(FILE);
    } else if (req.url === '/broken') {
      // Promises the whole file, sends 3,000 bytes, then resets the connection.
      res.writeHead(206, { 'content-length': FILE.length, 'content-range': `bytes 0-${FILE.length - 1}/${FILE.length}` });
      res.write(FILE.subarray(0, 3_000), () => setTimeout(() => res.socket?.resetAndDestroy(), 50));
    } else if (req.url === '/slow') {
      setTimeout(() => res.end('late'), 2_000).unref();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"errno":0}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const get = (path: string) => ({ method: 'GET' as const, path, headers: {} });

describe('Network', () => {
  it('answers with status, headers and body', async () => {
    const n = new Network({ origin, connections: 2, maxBodyBytes: 1e6 });
    const r = await n.send(get('/json'), 2_000);
    expect(r).toMatchObject({ kind: 'response', status: 200, headers: { 'content-type': 'application/json' } });
    expect(r.kind === 'response' && r.body.toString()).toBe('{"errno":0}');
    await n.close();
  });

  it('an answer reset mid-body is an error that carries the bytes that arrived (plain and paced)', async () => {
    const n = new Network({ origin, connections: 2, maxBodyBytes: 1e6 });
    for (const pace of [0, 20]) {
      const r = await n.send(get('/broken'), 2_000, pace);
      expect(r, `pace ${pace}`).toMatchObject({ kind: 'error', code: 'ECONNRESET', partial: { status: 206, headers: { 'content-range': 'bytes 0-9999/10000' } } });
      expect(r.kind === 'error' && r.partial?.body.length).toBe(3_000);
    }
    await n.close();
  });

  it('a lost answer: the server saw the request, the device gets ANSWER_LOST', async () => {
    const n = new Network({ origin, connections: 2, maxBodyBytes: 1e6 });
    const before = seen.length;
    const r = await n.send({ ...get('/json?lost'), fault: { loseAnswer: true } }, 2_000);
    expect(r).toEqual({ kind: 'error', code: 'ANSWER_LOST' });
    expect(seen.slice(before)).toEqual(['/json?lost']);
    await n.close();
  });

  it('a link cut after N bytes keeps exactly the first N', async () => {
    const n = new Network({ origin, connections: 2, maxBodyBytes: 1e6 });
    const r = await n.send({ ...get('/file'), fault: { cutAfterBytes: 4321 } }, 2_000);
    expect(r.kind).toBe('response');
    if (r.kind === 'response') {
      expect(r.cut).toBe(true);
      expect(r.body.length).toBe(4321);
    }
    const whole = await n.send({ ...get('/file'), fault: { cutAfterBytes: FILE.length } }, 2_000);
    expect(whole.kind === 'response' && whole.cut).toBeFalsy();
    await n.close();
  });

  it('a body over the limit is refused, not buffered', async () => {
    const n = new Network({ origin, connections: 2, maxBodyBytes: 100 });
    expect(await n.send(get('/file'), 2_000)).toEqual({ kind: 'error', code: 'BODY_TOO_LARGE' });
    await n.close();
  });

  it('a slow answer times out as TIMEOUT', async () => {
    const n = new Network({ origin, connections: 2, maxBodyBytes: 1e6 });
    expect(await n.send(get('/slow'), 200)).toEqual({ kind: 'error', code: 'TIMEOUT' });
    await n.close();
  });

  it('a refused connection and a garbled answer are results, not exceptions', async () => {
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const refused = new Network({ origin: `http://127.0.0.1:${port}`, connections: 1, maxBodyBytes: 1e6 });
    expect(await refused.send(get('/'), 2_000)).toEqual({ kind: 'error', code: 'ECONNREFUSED' });
    await refused.close();

    const garbage = createNetServer((s) => s.once('data', () => s.end('nonsense\r\n\r\n')));
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    const g = new Network({ origin: `http://127.0.0.1:${(garbage.address() as { port: number }).port}`, connections: 1, maxBodyBytes: 1e6 });
    const r = await g.send(get('/'), 2_000);
    expect(r.kind).toBe('error');
    expect(r).toEqual({ kind: 'error', code: 'BAD_RESPONSE' });
    await g.close();
    await new Promise((res) => garbage.close(res));
  });

  it('after abortAll every send fails at once as ABORTED', async () => {
    const n = new Network({ origin, connections: 2, maxBodyBytes: 1e6 });
    const pending = n.send(get('/slow'), 5_000);
    n.abortAll();
    expect(await pending).toEqual({ kind: 'error', code: 'ABORTED' });
    expect(await n.send(get('/json'), 1_000)).toEqual({ kind: 'error', code: 'ABORTED' });
    await n.close();
  });

  it('maps undici failures to stable labels', () => {
    expect(errorCode({ code: 'UND_ERR_HEADERS_TIMEOUT' })).toBe('TIMEOUT');
    expect(errorCode({ code: 'UND_ERR_SOCKET' })).toBe('ECONNRESET');
    expect(errorCode({ code: 'HPE_INVALID_CONSTANT' })).toBe('BAD_RESPONSE');
    expect(errorCode({ cause: { code: 'ECONNREFUSED' } })).toBe('ECONNREFUSED');
    expect(errorCode(new Error('x'))).toBe('UNKNOWN');
  });
});
