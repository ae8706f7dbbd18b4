import { createHash } from 'node:crypto';
import { generate } from 'coap-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeBlock, encodeBlock } from '../../../src/protocol/coap.js';
import { start, type TestServer } from '../helpers.js';
import { DEFAULT_CATALOG } from '../../../src/catalog/default.js';
import { prepareCatalog } from '../../../src/catalog/load.js';
import { DEFAULT_LWM2M } from '../../../src/server/lwm2m/index.js';
import { pathOf, TestCoapClient } from './coap-client.js';

let server: TestServer | undefined;
let client: TestCoapClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = server = undefined;
});

async function open(o: Parameters<typeof start>[0] = {}): Promise<{ s: TestServer; c: TestCoapClient }> {
  server = await start({ coapPort: 0, timeScale: 1000, ...o });
  client = await TestCoapClient.open(server.coapUrl as string);
  return { s: server, c: client };
}

async function download(c: TestCoapClient, id: string, szx = 6, from = 0, upto = Infinity, retryMs = 100): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  for (let num = from; num < upto; num++) {
    const a = await c.request(['fw', id], { block2: encodeBlock({ num, more: false, szx }), retryMs, attempts: 100 });
    expect(a.code).toBe('2.05');
    parts.push(a.payload);
    const b2 = a.options.find((o) => o.name === 'Block2');
    if (!decodeBlock(b2?.value as Buffer).more) break;
  }
  return parts;
}

describe("serve's CoAP endpoint over UDP", () => {
  it('registers a device and answers a duplicate CON with the same ACK, processing it once', async () => {
    const { s, c } = await open();
    const reg = c.build(['rd'], { code: '0.02', query: ['ep=dup-1', 'lt=600', 'b=UQ'] });
    c.sendRaw(reg.bytes);
    const first = await c.waitFor((m) => m.ack && m.messageId === reg.messageId);
    expect(first.code).toBe('2.01');
    c.sendRaw(reg.bytes);
    await c.waitFor((m) => m.ack && m.messageId === reg.messageId && m !== first);
    const acks = c.received.filter((m) => m.ack && m.messageId === reg.messageId);
    expect(acks).toHaveLength(2);
    expect(acks[1]?.options).toEqual(acks[0]?.options);
    const view = (await s.admin('GET', '/admin/lwm2m/devices/dup-1')).json;
    expect(view.registrations).toBe(1);
    expect(view.binding).toBe('UQ');
    const summary = (await s.admin('GET', '/admin/lwm2m')).json;
    expect(summary.counters.duplicatesAnswered).toBe(1);
  });

  it('a full registry answers a new endpoint 5.03 with Max-Age, counted in the admin view', async () => {
    const { s, c } = await open({ catalog: { ...prepareCatalog(DEFAULT_CATALOG), lwm2m: { ...DEFAULT_LWM2M, campaigns: [], maxRegistrations: 1 } } });
    expect((await c.request(['rd'], { code: '0.02', query: ['ep=cap-1', 'lt=600', 'b=UQ'] })).code).toBe('2.01');
    const refused = await c.request(['rd'], { code: '0.02', query: ['ep=cap-2', 'lt=600', 'b=UQ'] });
    expect(refused.code).toBe('5.03');
    expect(refused.options.some((o) => o.name === 'Max-Age')).toBe(true);
    const summary = (await s.admin('GET', '/admin/lwm2m')).json;
    expect(summary).toMatchObject({ registrations: 1, endpointsSeen: 1, maxRegistrations: 1 });
    expect(summary.counters.registrationsRefused).toBe(1);
    expect((await s.admin('GET', '/admin/catalog')).json.lwm2m.maxRegistrations).toBe(1);
  });

  it('ACKs a CON notification; the device\'s retransmission of it (the ACK lost) gets the same ACK and is processed once', async () => {
    const { s, c } = await open();
    await c.request(['rd'], { code: '0.02', query: ['ep=lwm2m-000043', 'lt=600', 'b=UQ'] });
    const obs = await c.waitFor((m) => m.confirmable && pathOf(m) === '/5/0/3');
    c.ack(obs, '2.05', '0', 1);
    await c.waitFor((m) => m.confirmable && pathOf(m) === '/5/0/5');
    const notification = generate({ code: '2.05', confirmable: true, messageId: 4242, token: obs.token, options: [{ name: 'Observe', value: Buffer.from([2]) }], payload: Buffer.from('1') });
    c.sendRaw(notification);
    const ack = await c.waitFor((m) => m.ack && m.messageId === 4242);
    expect([ack.code, ack.payload.length]).toEqual(['0.00', 0]);
    c.sendRaw(notification);
    await c.waitFor((m) => m.ack && m.messageId === 4242 && m !== ack);
    await expect.poll(async () => (await s.admin('GET', '/admin/lwm2m')).json.counters.duplicatesAnswered).toBe(1);
    expect((await s.admin('GET', '/admin/lwm2m/devices/lwm2m-000043')).json.firmware.state).toBe(1);
  });

  it('serves a package block-wise, resumable at any block, matching the md5 the admin API gives', async () => {
    const { s, c } = await open();
    const pkg = (await s.admin('GET', '/admin/lwm2m')).json.packages[0];
    expect(pkg.uri).toBe(`${s.coapUrl}/fw/${pkg.id}`);
    // The catalog shows the effective section (built-in here), with the schedule a client judges by.
    const section = (await s.admin('GET', '/admin/catalog')).json.lwm2m;
    expect(section.schedule).toBe('huawei');
    expect(section.packages[0]).toMatchObject({ id: pkg.id, md5: pkg.md5, uri: pkg.uri });
    const head = await download(c, pkg.id, 6, 0, 10);
    const tail = await download(c, pkg.id, 6, 10);
    const md5 = createHash('md5').update(Buffer.concat([...head, ...tail])).digest('hex');
    expect(md5).toBe(pkg.md5);
    expect((await c.request(['fw', 'no-such'])).code).toBe('4.04');
  });

  it('drives the campaign over UDP: the Write of the Package URI reaches the registered device', async () => {
    const { s, c } = await open();
    await c.request(['rd'], { code: '0.02', query: ['ep=lwm2m-000042', 'lt=600', 'b=UQ'] });
    const obs = await c.waitFor((m) => m.confirmable && pathOf(m) === '/5/0/3');
    c.ack(obs, '2.05', '0', 1);
    const obs5 = await c.waitFor((m) => m.confirmable && pathOf(m) === '/5/0/5');
    c.ack(obs5, '2.05', '0', 1);
    const write = await c.waitFor((m) => m.confirmable && pathOf(m) === '/5/0/1');
    expect(write.payload.toString()).toBe(`${s.coapUrl}/fw/lwm2m-fw-2`);
    c.ack(write, '2.04');
    await expect.poll(async () => (await s.admin('GET', '/admin/lwm2m/devices/lwm2m-000042')).json.firmware.phase).toBe('uri-written');
    const view = (await s.admin('GET', '/admin/lwm2m/devices/lwm2m-000042')).json;
    expect(view.commands.map((x: { state: string }) => x.state)).toEqual(['SUCCESSFUL', 'SUCCESSFUL', 'SUCCESSFUL']);
    // The generic device query answers for the lwm2m dialect too (what the client's verdicts read).
    const q = (await s.admin('POST', '/admin/devices/query', { ids: ['lwm2m-000042', 'lwm2m-999999'], dialect: 'lwm2m' })).json;
    expect(q.devices[0]).toMatchObject({ id: 'lwm2m-000042', dialect: 'lwm2m', firmware: { phase: 'uri-written', state: 0, updateResult: 0 } });
    expect(q.devices[1]).toMatchObject({ id: 'lwm2m-999999', error: 'never registered' });
    expect((await s.admin('GET', '/admin/devices/lwm2m-000042?dialect=lwm2m')).json.id).toBe('lwm2m-000042');
  });

  it('survives loss, duplicates and reordering (fault knobs set through the admin API)', async () => {
    const { s, c } = await open();
    const set = await s.admin('PATCH', '/admin/faults', { coap: { loss: 0.2, duplicate: 0.3, reorder: 0.3 } });
    expect(set.status).toBe(200);
    const pkg = (await s.admin('GET', '/admin/lwm2m')).json.packages[0];
    const parts = await download(c, pkg.id, 6, 0, Infinity, 15);
    expect(createHash('md5').update(Buffer.concat(parts)).digest('hex')).toBe(pkg.md5);
    const counters = (await s.admin('GET', '/admin/lwm2m')).json.counters;
    expect(counters.lost).toBeGreaterThan(0);
    expect(counters.duplicated).toBeGreaterThan(0);
    expect(counters.reordered).toBeGreaterThan(0);
  });

  it('late ACKs: the ACK of a request goes out the virtual delay later', async () => {
    const { s, c } = await open();
    await s.admin('PATCH', '/admin/faults', { coap: { lateAck: '2s' } });
    const t0 = performance.now();
    const a = await c.request(['rd'], { code: '0.02', query: ['ep=late-1'], retryMs: 1_000, attempts: 3 });
    expect(a.code).toBe('2.01');
    // 2 virtual s at ×1000 is 2 real ms: only that it came, late-counted.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1);
    expect((await s.admin('GET', '/admin/lwm2m')).json.counters.lateAcks).toBeGreaterThan(0);
  });

  it('separate responses: an empty ACK, then the response as a CON, retransmitted until acknowledged', async () => {
    // ×10: resends 200–300 ms apart and more, so the ACK below lands well before the next one.
    const { s, c } = await open({ timeScale: 10 });
    await s.admin('PATCH', '/admin/faults', { coap: { separate: 1 } });
    const req = c.build(['rd'], { code: '0.02', query: ['ep=sep-1'] });
    c.sendRaw(req.bytes);
    const ack = await c.waitFor((m) => m.ack && m.messageId === req.messageId);
    expect(ack.code).toBe('0.00');
    const response = await c.waitFor((m) => m.confirmable && m.token.equals(req.token));
    expect(response.code).toBe('2.01');
    // Not acknowledged: the same message comes again (2–3 s virtual).
    await c.waitFor((m) => m.confirmable && m.token.equals(req.token) && m !== response);
    c.ack(response);
    const counters = async () => (await s.admin('GET', '/admin/lwm2m')).json.counters;
    await expect.poll(async () => (await counters()).separateRetransmissions).toBeGreaterThan(0);
    const after = c.received.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(c.received.slice(after).filter((m) => m.token.equals(req.token))).toHaveLength(0);
    expect((await counters()).separateResponses).toBe(1);
    expect((await counters()).separateGivenUp).toBe(0);
  });

  it('ignores garbage datagrams and survives them', async () => {
    const { s, c } = await open();
    c.sendRaw(Buffer.from([0xff, 0x00, 0x01]));
    c.sendRaw(Buffer.alloc(0));
    expect((await c.request(['rd'], { code: '0.02', query: ['ep=after-garbage'] })).code).toBe('2.01');
    expect((await s.admin('GET', '/admin/lwm2m')).json.counters.garbage).toBeGreaterThan(0);
  });

  it('delivery: http writes an HTTP Package URI, served with Range and the md5 as ETag', async () => {
    const { s, c } = await open();
    const made = await s.admin('POST', '/admin/lwm2m/campaigns', { endpoints: 'http-ep', package: 'lwm2m-fw-2', delivery: 'http' });
    expect(made.json.uri).toBe(`${s.url}/lwm2m/fw/lwm2m-fw-2`);
    await c.request(['rd'], { code: '0.02', query: ['ep=http-ep', 'b=U'] });
    for (const path of ['/5/0/3', '/5/0/5']) c.ack(await c.waitFor((m) => m.confirmable && pathOf(m) === path), '2.05', '0', 1);
    const write = await c.waitFor((m) => m.confirmable && pathOf(m) === '/5/0/1');
    expect(write.payload.toString()).toBe(`${s.url}/lwm2m/fw/lwm2m-fw-2`);
    const pkg = (await s.admin('GET', '/admin/lwm2m')).json.packages[0];
    const whole = await s.get('/lwm2m/fw/lwm2m-fw-2');
    expect(whole.status).toBe(200);
    expect(createHash('md5').update(whole.body).digest('hex')).toBe(pkg.md5);
    expect(whole.headers['etag']).toBe(`"${pkg.md5}"`);
    const part = await s.get('/lwm2m/fw/lwm2m-fw-2', { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.body).toEqual(whole.body.subarray(100, 200));
    expect((await s.get('/lwm2m/fw/nope')).status).toBe(404);
  });

  it('the admin API adds a campaign and refuses a bad one in one line', async () => {
    const { s } = await open();
    const ok = await s.admin('POST', '/admin/lwm2m/campaigns', { endpoints: 'x-{00..09}', package: 'lwm2m-fw-2' });
    expect(ok.status).toBe(201);
    expect((await s.admin('POST', '/admin/lwm2m/campaigns', { endpoints: 'x-{00..09}', package: 'nope' })).status).toBe(404);
    expect((await s.admin('POST', '/admin/lwm2m/campaigns', { endpoints: 'x-{0..09}', package: 'lwm2m-fw-2' })).json.error).toMatch(/^endpoints: /);
    expect((await s.admin('GET', '/admin/lwm2m/devices/never')).status).toBe(404);
  });
});
