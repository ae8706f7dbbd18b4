/**
 * The network against a hostile loopback server (issue 11.8): an endless body and a slow drip
 * cost a bounded amount, each ends as a clearly labelled error, and the send instant is the
 * socket write, not the moment a request joined undici's queue (issue 10.8).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Network, errorCode } from '../../src/engine/network.js';

let server: Server;
let origin: string;
/** Bytes the endless answers managed to write before the client hung up. */
let endlessWritten = 0;
const drips = new Set<NodeJS.Timeout>();

/** Writes 64 KiB slices for as long as the client reads (never ends the body). */
function endless(res: ServerResponse): void {
  const slice = Buffer.alloc(64 * 1024, 0x41);
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const pump = (): void => {
    while (!res.destroyed) {
      endlessWritten += slice.length;
      if (!res.write(slice)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    res.on('error', () => {});
    if (req.url === '/endless') return endless(res);
    if (req.url === '/drip') {
      // One byte every 20 ms: never idle long enough for an idle timeout.
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 20);
      drips.add(t);
      return;
    }
    if (req.url === '/big-slow') {
      // A 512 KiB file announced up front, sent in 8 slices 50 ms apart (~350 ms in all).
      res.writeHead(200, { 'content-length': String(512 * 1024) });
      let left = 8;
      const t = setInterval(() => {
        if (res.destroyed) return clearInterval(t);
        res.write(Buffer.alloc(64 * 1024, 0x42));
        if (--left === 0) {
          clearInterval(t);
          res.end();
        }
      }, 50);
      drips.add(t);
      return;
    }
    if (req.url === '/declared') {
      // Announces 1 GiB: refused at the headers.
      res.writeHead(200, { 'content-length': String(1024 ** 3) });
      res.write(Buffer.alloc(1024));
      return;
    }
    if (req.url?.startsWith('/hold')) {
      setTimeout(() => res.end('{"errno":0}'), 60).unref();
      return;
    }
    res.end('{"errno":0}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const t of drips) clearInterval(t);
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const get = (path: string, maxAnswerBytes?: number) => ({ method: 'GET' as const, path, headers: {}, ...(maxAnswerBytes ? { maxAnswerBytes } : {}) });
const MiB = 1024 * 1024;

describe('Network against a hostile server', () => {
  for (const paced of [false, true]) {
    const how = paced ? 'paced (streamed) path' : 'plain path';
    it(`an endless body stops at the request's own cap, not the network default (${how})`, async () => {
      // The network's default is 300 MB, as in a worker; the request says 64 KiB (a JSON answer).
      const n = new Network({ origin, connections: 1, maxBodyBytes: 300 * MiB });
      endlessWritten = 0;
      const r = await n.send(get('/endless', 64 * 1024), 5_000, paced ? 1 : 0);
      expect(r).toEqual({ kind: 'error', code: 'BODY_TOO_LARGE' });
      await n.close();
      // What the server got out before the client hung up: the cap plus socket buffers, far from 300 MB.
      expect(endlessWritten).toBeGreaterThan(64 * 1024);
      expect(endlessWritten).toBeLessThan(32 * MiB);
    });

    it(`a slow drip ends as TIMEOUT at the total limit, though no single gap is idle that long (${how})`, async () => {
      const n = new Network({ origin, connections: 1, maxBodyBytes: 300 * MiB });
      // The bytes that did arrive may come with it (a download resumes from them): the label is what counts.
      expect(await n.send(get('/drip', 64 * 1024), 300, paced ? 1 : 0)).toMatchObject({ kind: 'error', code: 'TIMEOUT' });
      await n.close();
    });

    it(`a declared length over the cap is refused at the headers (${how})`, async () => {
      const n = new Network({ origin, connections: 1, maxBodyBytes: 300 * MiB });
      expect(await n.send(get('/declared', 64 * 1024), 2_000, paced ? 1 : 0)).toEqual({ kind: 'error', code: 'BODY_TOO_LARGE' });
      await n.close();
    });
  }

  it('a large announced file still flowing gets time for its bytes past the total limit (a firmware is no drip)', async () => {
    const n = new Network({ origin, connections: 1, maxBodyBytes: 300 * MiB });
    // 150 ms alone would cut it; 512 KiB at the 64 KiB/s floor adds 8 s.
    const r = await n.send(get('/big-slow', MiB), 150, 0);
    expect(r.kind === 'response' ? r.body.length : r).toBe(512 * 1024);
    await n.close();
  });

  it('reads an error with a numeric code (an AbortError) as a label, never throwing', () => {
    expect(errorCode(Object.assign(new Error('aborted'), { name: 'AbortError', code: 20 }))).toBe('ABORTED');
  });

  it('stamps the send at the socket write: a request queued behind a busy connection is written later', async () => {
    // One connection, three requests of 60 ms each at once: the third waits for two answers.
    const n = new Network({ origin, connections: 1, maxBodyBytes: MiB });
    const handed = performance.now();
    const written: number[] = [];
    const all = await Promise.all([0, 1, 2].map((i) => n.send(get(`/hold/${i}`), 5_000, 0, (at) => written.push(at))));
    expect(all.every((r) => r.kind === 'response')).toBe(true);
    expect(written).toHaveLength(3);
    written.sort((a, b) => a - b);
    // Each later write waited at least one answer (60 ms of server time) behind the one before.
    expect(written[1]! - written[0]!).toBeGreaterThanOrEqual(55);
    expect(written[2]! - handed).toBeGreaterThanOrEqual(110);
    await n.close();
  });

  it('stamps the write on the streamed path too, once per request', async () => {
    const n = new Network({ origin, connections: 1, maxBodyBytes: MiB });
    const written: number[] = [];
    const [a, b] = await Promise.all([0, 1].map((i) => n.send({ ...get(`/hold/p${i}`), fault: { cutAfterBytes: 1000 } }, 5_000, 0, (at) => written.push(at))));
    expect(a?.kind).toBe('response');
    expect(b?.kind).toBe('response');
    expect(written).toHaveLength(2);
    expect(Math.abs(written[1]! - written[0]!)).toBeGreaterThanOrEqual(55);
    await n.close();
  });

  it('never stamps a request that was not written (refused connection)', async () => {
    const n = new Network({ origin: 'http://127.0.0.1:1', connections: 1, maxBodyBytes: MiB });
    let stamped = 0;
    const r = await n.send(get('/'), 2_000, 0, () => stamped++);
    expect(r.kind).toBe('error');
    expect(stamped).toBe(0);
    await n.close();
  });
});
