/**
 * A few thousand malformed requests (seeded, bounded): each gets a documented error or a 4xx,
 * never a 5xx or a crash, and the server still answers a good request afterwards.
 */
import { connect } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/random/rng.js';
import { luatQuery, onenet, start, type TestServer } from './helpers.js';

let s: TestServer;
let agent: Agent;
beforeAll(async () => {
  s = await start({ seed: 3 });
  agent = new Agent({ connections: 16, keepAliveTimeout: 5_000 });
});
afterAll(async () => {
  await agent.close();
  await s.close();
});

const rng = new Rng(20240611, 1);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)] as T;
const junk = (max: number): string => {
  const n = Math.floor(rng.next() * max);
  let out = '';
  for (let i = 0; i < n; i++) out += String.fromCharCode(32 + Math.floor(rng.next() * 95));
  return out;
};

const PATHS = [
  '/ota/south/check',
  '/ota/device/version',
  '/ota/south/report',
  '/ota/south/download/',
  '/ota/south/download/ota_x/check',
  '/ota/south/device/download/ota_x/progress',
  '/ota/south/device/download//progress',
  '/api/site/firmware_upgrade',
  '/admin/catalog',
  '/admin/devices/',
  '/admin/tasks/x/explode',
  '/admin/faults',
  '/',
  '//ota//south//check',
  '/ota/south/download/%zz',
  '/ota/south/download/../../etc/passwd',
];
const KEYS = ['dev_id', 'manuf', 'model', 'type', 'version', 'cdn', 'signals', 'powers', 'token', 'imei', 'IMEI', 'mac', 'uid', 'project_key', 'firmware_name', 'core_version', 'dfota', '__proto__', 'constructor'];
const VALUES = ['', '1', '2', '-1', '522700001', '999999999999999999999', 'V1.0', 'true', 'false', '%', '%zz', '%E0%A4%A', '\u0000', 'a'.repeat(3000), '1e9', 'null', '[]', '{}'];

function randomQuery(): string {
  const parts: string[] = [];
  const n = Math.floor(rng.next() * 10);
  for (let i = 0; i < n; i++) {
    const k = rng.chance(0.8) ? pick(KEYS) : encodeURIComponent(junk(10));
    const v = rng.chance(0.7) ? pick(VALUES) : junk(30);
    parts.push(`${k}=${v.includes('%') ? v : encodeURIComponent(v)}`);
  }
  if (rng.chance(0.1)) parts.push('&&&==&');
  return parts.join('&');
}

function randomHeaders(): Record<string, string> {
  const h: Record<string, string> = {};
  if (rng.chance(0.5)) h['authorization'] = pick([s.auth(), s.auth().slice(0, 40), junk(80), 'Bearer ' + junk(20), `Bearer ${s.adminToken}`, 'version=2018-10-31&res=products%2F198290&et=1&method=md5&sign=%%%']);
  if (rng.chance(0.3)) h['range'] = pick(['bytes=0-', 'bytes=-', 'bytes=a-b', 'bytes=99999999999999999999-1', junk(40), 'bytes=0-1,2-3', '-0', '=']);
  if (rng.chance(0.3)) h['content-type'] = pick(['application/json', 'text/plain', junk(20)]);
  return h;
}

const BODIES = ['{', '{"step":', '{"step":"x"}', '{"step":1e309}', '[]', 'null', '"str"', '{"result":[1]}', '{"f_version":{}}', '{"ids":"x"}', '{"devices":5}', '\u0000\u0001', '{"__proto__":{"step":1}}'];

describe('fuzz', () => {
  it('3000 malformed requests, then a good one', async () => {
    const statuses = new Map<number, number>();
    let clientErrors = 0;
    const one = async (i: number): Promise<void> => {
      const base = rng.chance(0.85) ? pick(PATHS) : `/${junk(60).replace(/[?#\s]/g, '')}`;
      // Mostly the method the path expects, so most requests reach the calls' own checks.
      const expected = base.endsWith('/progress') || base === '/ota/south/report' ? 'POST' : base === '/ota/device/version' ? pick(['GET', 'POST']) : 'GET';
      const method = rng.chance(0.7) ? expected : pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']);
      const path = `${base}${rng.chance(0.8) ? `?${randomQuery()}` : ''}`;
      const headers = randomHeaders();
      let body: string | Buffer | undefined;
      if (method !== 'GET' && method !== 'HEAD') {
        // A handful of 10 MB bodies; most small garbage.
        body = i % 600 === 1 ? Buffer.alloc(10 * 1024 * 1024, 0x7b) : rng.chance(0.1) ? Buffer.alloc(100 * 1024, 0x20) : rng.chance(0.7) ? pick(BODIES) : junk(200);
      }
      try {
        const res = await request(`${s.url}${path}`, { method: method as 'GET', headers, body, dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
        await res.body.dump({ limit: 1024 * 1024 });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      } catch {
        clientErrors++;
      }
    };
    for (let i = 0; i < 3000; i += 30) await Promise.all(Array.from({ length: 30 }, (_, k) => one(i + k)));

    const fiveXX = [...statuses].filter(([st]) => st >= 500);
    expect(fiveXX).toEqual([]);
    if (process.env['FUZZ_DEBUG']) console.log(Object.fromEntries(statuses), { clientErrors });
    const answered = [...statuses.values()].reduce((a, b) => a + b, 0);
    // Client-side refusals (an invalid header value undici will not send) stay rare.
    expect(answered + clientErrors).toBe(3000);
    expect(answered).toBeGreaterThan(2900);
    expect(statuses.get(404)).toBeGreaterThan(0);
    expect(statuses.get(413)).toBeGreaterThan(0);

    // No call threw inside the server (an exception is answered errno 7 on OneNET calls).
    const counters = (await s.admin('GET', '/admin/counters')).json;
    for (const [name, c] of Object.entries(counters.endpoints as Record<string, { answers: Record<string, number> }>)) {
      expect([name, c.answers['errno:7']]).toEqual([name, undefined]);
    }
    expect(counters.endpoints.check.answers['errno:2']).toBeGreaterThan(0);

    const dev = onenet(s, '522700001');
    const token = await dev.token();
    expect((await dev.tokenCheck(token)).json.errno).toBe(0);
    expect((await s.get(luatQuery({ imei: '866714040000042' }))).status).toBe(200);
  });

  it('raw garbage on sockets: bad request lines, huge headers, half requests; the server stays up', async () => {
    const u = new URL(s.url);
    const payloads = [
      'GARBAGE\r\n\r\n',
      'GET /ota/south/check HTTP/9.9\r\n\r\n',
      `GET /${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: x\r\nX: ${'b'.repeat(40000)}\r\n\r\n`,
      'POST /ota/device/version?dev_id=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n{"f',
      'POST /ota/device/version HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      '\u0000\u0001\u0002\u0003',
      'GET /ota/south/check HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    ];
    const answers: string[] = [];
    await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        new Promise<void>((resolve) => {
          const sock = connect(Number(u.port), u.hostname);
          let got = '';
          sock.setTimeout(1500, () => sock.destroy());
          sock.on('connect', () => {
            sock.write(payloads[i % payloads.length] as string);
            if (i % 3 === 0) sock.end();
          });
          sock.on('data', (c) => (got += c.toString('latin1')));
          sock.on('error', () => undefined);
          sock.on('close', () => {
            answers.push(got.slice(0, 12));
            resolve();
          });
        }),
      ),
    );
    expect(answers.some((a) => a.startsWith('HTTP/1.1 4'))).toBe(true);
    expect(answers.some((a) => a.startsWith('HTTP/1.1 5'))).toBe(false);
    expect((await s.check('522700002')).json.errno).toBe(0);
  });
});
