/**
 * The CoAP transport against a scripted server on loopback UDP: a device asleep only sees the
 * server's CON (no ACK) and keeps the instants of each retransmission; awake, the next one is
 * delivered to its listen with that record, answered piggybacked, and a further retransmission
 * gets the same answer from the dedup cache. A dropped ACK makes the next retransmission count as
 * new; a message never answered is reported once it has been quiet long enough.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { CoapTransport } from '../../src/engine/coap-transport.js';
import { decodeMessage, encodeMessage, pathOptions, type CoapMessage } from '../../src/coap/message.js';
import { COAP_OPTION } from '../../src/protocol/coap.js';
import type { CoapTransportResult } from '../../src/dialect/coap.js';
import { COAP_RETRANSMIT } from '../../src/device/types.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

const sockets: Socket[] = [];
const transports: CoapTransport[] = [];
afterEach(async () => {
  for (const t of transports.splice(0)) await t.close();
  for (const s of sockets.splice(0)) s.close();
});

interface Server {
  port: number;
  got: CoapMessage[];
  devicePort(): number;
  send(m: CoapMessage): void;
}

async function server(): Promise<Server> {
  const s = createSocket('udp4');
  sockets.push(s);
  const got: CoapMessage[] = [];
  let peer = 0;
  s.on('message', (b, r) => {
    peer = r.port;
    const d = decodeMessage(b);
    if (!d.ok) return;
    got.push(d.message);
    // Register: 2.01 with a location.
    if (d.message.type === 'CON' && d.message.code === '0.02') {
      s.send(encodeMessage({ type: 'ACK', code: '2.01', messageId: d.message.messageId, token: d.message.token, options: [{ number: COAP_OPTION.LOCATION_PATH, value: Buffer.from('rd') }, { number: COAP_OPTION.LOCATION_PATH, value: Buffer.from('9') }], payload: Buffer.alloc(0) }), r.port, r.address);
    }
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, got, devicePort: () => peer, send: (m) => s.send(encodeMessage(m), peer, '127.0.0.1') };
}

const transport = (port: number, seenCompleteAfterMs = 60_000): CoapTransport => {
  const t = new CoapTransport({ server: { host: '127.0.0.1', port }, timing: COAP_RETRANSMIT, now: () => performance.now(), realMsUntil: (v) => Math.max(0, v - performance.now()), seenCompleteAfterMs, seed: 5, isAllowedHost: (h) => h === '127.0.0.1' });
  transports.push(t);
  return t;
};
const get = (messageId: number): CoapMessage => ({ type: 'CON', code: '0.01', messageId, token: Buffer.from([7, 7]), options: pathOptions('/5/0/3'), payload: Buffer.alloc(0) });
const until = async (check: () => boolean, ms = 2_000): Promise<void> => {
  const end = performance.now() + ms;
  while (!check() && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
};
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noOptions = { timeoutMs: 1_000, paceMs: 0 };

async function registeredAsleep(s: Server, t: CoapTransport): Promise<void> {
  const reg = await t.exchange(0, { kind: 'request', code: '0.02', path: '/rd', query: ['ep=x'] }, noOptions);
  expect(reg.result).toMatchObject({ kind: 'response', code: '2.01' });
  expect((await t.exchange(0, { kind: 'sleep' }, noOptions)).result.kind).toBe('done');
  void s;
}

describe('CoAP transport: the device as the server’s peer', () => {
  it('asleep it only sees a CON; awake it answers the next retransmission, with the instants of all', async () => {
    const s = await server();
    const t = transport(s.port);
    await registeredAsleep(s, t);
    const acksBefore = s.got.length;
    s.send(get(77));
    await pause(40);
    s.send(get(77));
    await pause(40);
    expect(s.got.length).toBe(acksBefore); // nothing answered while asleep
    const listening = t.exchange(0, { kind: 'listen', until: performance.now() + 1_000 }, noOptions);
    await pause(20);
    s.send(get(77));
    const heard = (await listening).result as Extract<CoapTransportResult, { kind: 'server-request' }>;
    expect(heard).toMatchObject({ kind: 'server-request', code: '0.01', path: '/5/0/3', ref: { messageId: 77 } });
    // Its record is not complete until the device decides: it may still drop the ACK.
    expect(heard.seen).toBeUndefined();
    const replied = (await t.exchange(0, { kind: 'reply', to: heard.ref, code: '2.05', payload: Buffer.from('2'), contentFormat: 0 }, noOptions)).result;
    expect(replied.seen).toHaveLength(1);
    expect(replied.seen![0]!.at).toHaveLength(3);
    expect(replied.seen![0]!.answered).toBe(true);
    const [a, b, c] = replied.seen![0]!.at;
    expect(b! - a!).toBeGreaterThanOrEqual(35);
    expect(c! - b!).toBeGreaterThanOrEqual(55);
    await until(() => s.got.length > acksBefore);
    expect(s.got.at(-1)).toMatchObject({ type: 'ACK', code: '2.05', messageId: 77 });
    expect(s.got.at(-1)!.payload.toString()).toBe('2');
    // Its ACK lost on the way: the server sends again, the device answers the same from its cache.
    s.send(get(77));
    await until(() => s.got.length > acksBefore + 1);
    expect(s.got.at(-1)).toMatchObject({ type: 'ACK', code: '2.05', messageId: 77 });
  });

  it('a dropped ACK: the next retransmission is delivered again; a never-answered message is reported once quiet', async () => {
    const s = await server();
    const t = transport(s.port, 100);
    await registeredAsleep(s, t);
    s.send(get(90)); // asleep: never answered
    await pause(150);
    const l1 = t.exchange(0, { kind: 'listen', until: performance.now() + 1_000 }, noOptions);
    await pause(10);
    s.send(get(91));
    const first = (await l1).result as Extract<CoapTransportResult, { kind: 'server-request' }>;
    expect(first.ref.messageId).toBe(91);
    expect(first.seen?.find((x) => x.at.length === 1 && !x.answered)).toBeDefined(); // mid 90, quiet for 100 ms
    const sent = s.got.length;
    await t.exchange(0, { kind: 'reply', to: first.ref, code: '0.00', drop: true }, noOptions);
    await pause(30);
    expect(s.got.length).toBe(sent); // nothing sent for a dropped ACK
    const l2 = t.exchange(0, { kind: 'listen', until: performance.now() + 1_000 }, noOptions);
    s.send(get(91));
    const again = (await l2).result as Extract<CoapTransportResult, { kind: 'server-request' }>;
    expect(again).toMatchObject({ kind: 'server-request', ref: { messageId: 91 } });
    expect(again.seen).toBeUndefined(); // delivered, not decided: not reported as answered
    // Dropped again: the record (both transmissions, unanswered) is reported once past the give-up from its first.
    await t.exchange(0, { kind: 'reply', to: again.ref, code: '0.00', drop: true }, noOptions);
    await pause(120);
    const slept = (await t.exchange(0, { kind: 'sleep' }, noOptions)).result;
    const dropped = slept.seen?.find((x) => x.messageId === 91);
    expect(dropped?.answered).toBe(false);
    expect(dropped?.at).toHaveLength(2);
  });

  it('a request heard awake but not yet listened for is handled afresh after a sleep', async () => {
    const s = await server();
    const t = transport(s.port);
    await t.exchange(0, { kind: 'request', code: '0.02', path: '/rd', query: ['ep=x'] }, noOptions); // awake, not listening
    s.send(get(55));
    await pause(30);
    await t.exchange(0, { kind: 'sleep' }, noOptions);
    const l = t.exchange(0, { kind: 'listen', until: performance.now() + 1_000 }, noOptions);
    await pause(10);
    s.send(get(55));
    expect((await l).result).toMatchObject({ kind: 'server-request', ref: { messageId: 55 } });
  });

  it('a quiet window ends in quiet; a listen left open is aborted by the run’s end', async () => {
    const s = await server();
    const t = transport(s.port);
    const quiet = await t.exchange(0, { kind: 'listen', until: performance.now() + 50 }, noOptions);
    expect(quiet.result.kind).toBe('quiet');
    const open = t.exchange(1, { kind: 'listen', until: performance.now() + 10_000 }, noOptions);
    t.abortAll();
    expect((await open).result).toEqual({ kind: 'error', code: 'ABORTED' });
  });

  it('pulls an http:// package by ranges into the digest, as the HTTP dialects do', async () => {
    const body = Buffer.from(Array.from({ length: 3_000 }, (_, i) => i & 0xff));
    const web = createServer((req, res) => {
      const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
      const start = Number(m?.[1] ?? 0);
      const end = Math.min(body.length - 1, Number(m?.[2] ?? body.length - 1));
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${body.length}` });
      res.end(body.subarray(start, end + 1));
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}/fw.bin`;
    const s = await server();
    const t = transport(s.port);
    let last: CoapTransportResult | undefined;
    for (let start = 0; start < body.length; start += 1_024) {
      last = (await t.exchange(0, { kind: 'http-range', url, start, end: start + 1_023 }, noOptions)).result;
    }
    expect(last).toEqual({ kind: 'http', status: 206, total: 3_000, held: 3_000, md5: createHash('md5').update(body).digest('hex') });
    web.close();
  });

  it('refuses a package host that is not loopback', async () => {
    const s = await server();
    const t = transport(s.port);
    const x = await t.exchange(0, { kind: 'request', code: '0.01', path: '/fw', block2: { num: 0, more: false, szx: 6 }, peer: { host: '10.0.0.1', port: 5683 } }, noOptions);
    expect(x.result).toEqual({ kind: 'error', code: 'NOT_LOOPBACK' });
  });

  it('sleepingSocket close: asleep it holds no socket and hears nothing; it wakes on a new port with its message ids going on; what it left unanswered is cut short', async () => {
    const s = await server();
    const t = new CoapTransport({ server: { host: '127.0.0.1', port: s.port }, timing: COAP_RETRANSMIT, now: () => performance.now(), realMsUntil: (v) => Math.max(0, v - performance.now()), seenCompleteAfterMs: 60_000, seed: 5, isAllowedHost: (h) => h === '127.0.0.1' });
    transports.push(t);
    const reg = await t.exchange(0, { kind: 'request', code: '0.02', path: '/rd', query: ['ep=x'] }, noOptions);
    expect(reg.result).toMatchObject({ kind: 'response', code: '2.01' });
    const firstPort = s.devicePort();
    const firstMid = s.got.at(-1)!.messageId;
    // A server request the device takes and leaves unacknowledged (its cohort drops the ACK), then it sleeps.
    const l = t.exchange(0, { kind: 'listen', until: performance.now() + 1_000 }, noOptions);
    await pause(10);
    s.send(get(60));
    const heard = (await l).result as Extract<CoapTransportResult, { kind: 'server-request' }>;
    await t.exchange(0, { kind: 'reply', to: heard.ref, code: '0.00', drop: true }, noOptions);
    const slept = (await t.exchange(0, { kind: 'sleep', release: true }, noOptions)).result;
    expect(slept.seen).toEqual([expect.objectContaining({ messageId: 60, answered: false, cut: true })]);
    // Asleep with its socket closed: the server's retransmission goes nowhere, and nothing is recorded for it.
    const before = s.got.length;
    s.send(get(60));
    await pause(30);
    expect(s.got.length).toBe(before);
    // Its wake: a new source port, and the message id after its last one (a modem's ids do not restart with its NAT port).
    const update = await t.exchange(0, { kind: 'request', code: '0.02', path: '/rd/9' }, noOptions);
    expect(update.result).toMatchObject({ kind: 'response', code: '2.01' });
    expect(s.devicePort()).not.toBe(firstPort);
    expect(s.got.at(-1)!.messageId).toBe((firstMid + 1) & 0xffff);
    expect(update.result.seen).toBeUndefined();
  });

  it('a sleep that keeps its socket still witnesses what reaches the device asleep (the default)', async () => {
    const s = await server();
    // Asleep for more than an ACK_TIMEOUT (10 ms here) before the server's CON: a fault of the server's, witnessed.
    const t = new CoapTransport({ server: { host: '127.0.0.1', port: s.port }, timing: { ...COAP_RETRANSMIT, ackTimeoutMs: 10 }, now: () => performance.now(), realMsUntil: (v) => Math.max(0, v - performance.now()), seenCompleteAfterMs: 50, seed: 5, isAllowedHost: (h) => h === '127.0.0.1' });
    transports.push(t);
    await registeredAsleep(s, t);
    await pause(30);
    s.send(get(61));
    await pause(80);
    const l = await t.exchange(0, { kind: 'listen', until: performance.now() + 20 }, noOptions);
    expect(l.result.seen).toEqual([expect.objectContaining({ messageId: 61, asleep: true })]);
  });

  it('counts on the wire what no operation shows: datagrams each way, the device’s own retransmissions, socket errors', async () => {
    const silent = createSocket('udp4'); // takes datagrams, answers none
    sockets.push(silent);
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const t = new CoapTransport({ server: { host: '127.0.0.1', port: silent.address().port }, timing: { ackTimeoutMs: 10, randomFactor: 1, maxRetransmit: 2 }, now: () => performance.now(), realMsUntil: (v) => Math.max(0, v - performance.now()), seenCompleteAfterMs: 1_000, seed: 5, isAllowedHost: (h) => h === '127.0.0.1' });
    transports.push(t);
    const x = await t.exchange(0, { kind: 'request', code: '0.02', path: '/rd', query: ['ep=x'] }, noOptions);
    expect(x.result).toEqual({ kind: 'error', code: 'TIMEOUT' });
    expect(t.wireCounts()).toMatchObject({ 'datagrams sent': 3, 'datagrams received': 0, 'retransmissions by the devices': 2, 'socket errors': 0 });
    // Still counted once the device stopped and its socket closed.
    t.release(0);
    expect(t.wireCounts()['retransmissions by the devices']).toBe(2);
  });

  it('the run’s end breaks off a listen but not what the device saw: its unanswered records go out with the aborted result, cut short', async () => {
    const s = await server();
    const t = transport(s.port, 60_000);
    await registeredAsleep(s, t);
    const l1 = t.exchange(0, { kind: 'listen', until: performance.now() + 1_000 }, noOptions);
    await pause(10);
    s.send(get(70));
    const heard = (await l1).result as Extract<CoapTransportResult, { kind: 'server-request' }>;
    await t.exchange(0, { kind: 'reply', to: heard.ref, code: '0.00', drop: true }, noOptions); // left unanswered
    const l2 = t.exchange(0, { kind: 'listen', until: performance.now() + 5_000 }, noOptions);
    await pause(10);
    t.abortAll();
    const x = await l2;
    expect(x.aborted).toBe(true);
    expect(x.evidence).toBe(true);
    expect(x.result).toMatchObject({ kind: 'error', code: 'ABORTED', seen: [expect.objectContaining({ messageId: 70, answered: false, cut: true })] });
  });

  it('a device asleep when the run ends hands over what it saw and had not reported (its leftover, cut short); nothing when it saw nothing', async () => {
    const s = await server();
    const t = transport(s.port, 60_000);
    await registeredAsleep(s, t);
    expect(t.leftover(0)).toBeUndefined();
    s.send(get(80)); // reaches it asleep: seen, not answered, its record not complete for 60 s
    await pause(40);
    expect(t.leftover(0)).toMatchObject({ kind: 'error', code: 'ABORTED', seen: [expect.objectContaining({ messageId: 80, answered: false, cut: true })] });
    expect(t.leftover(0)).toBeUndefined(); // handed over once
  });
});

