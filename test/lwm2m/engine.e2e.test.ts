/**
 * The lwm2m dialect through the whole engine (workers, the CoAP transport, the report), against
 * lwm2m-node-lib as the user's server (`target url: coap://…`): every device registers, Updates
 * on its wake and de-registers; the server's handlers saw each of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { createSocket } from 'node:dgram';
import { run } from '../../src/api.js';
import { loadScenario } from '../../src/scenario/load.js';
import { ROOT } from '../e2e/helpers.js';

interface Lwm2mServerLib {
  start(config: object, cb: (e: unknown, info: unknown) => void): void;
  stop(info: unknown, cb: (e?: unknown) => void): void;
  setHandler(info: unknown, type: string, handler: (...args: unknown[]) => void): void;
}
const server = (createRequire(import.meta.url)('lwm2m-node-lib') as { server: Lwm2mServerLib }).server;

let port = 0;
let info: unknown;
const registered = new Set<string>();
const updated = new Set<string>();
const gone = new Set<string>();

beforeAll(async () => {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  info = await new Promise((resolve, reject) =>
    server.start({ port, lifetimeCheckInterval: 60_000, udpWindow: 100, defaultType: 'Device', logLevel: 'FATAL', serverProtocol: 'udp4', deviceRegistry: { type: 'memory' }, types: [] }, (e, i) => (e ? reject(e as Error) : resolve(i))),
  );
  server.setHandler(info, 'registration', (ep, _lt, _v, _b, _p, cb) => (registered.add(String(ep)), (cb as () => void)()));
  server.setHandler(info, 'updateRegistration', (d, _p, cb) => (updated.add((d as { name: string }).name), (cb as () => void)()));
  server.setHandler(info, 'unregistration', (d, cb) => (gone.add((d as { name: string }).name), (cb as () => void)()));
});

afterAll(async () => {
  await new Promise<void>((r) => server.stop(info, () => r()));
});

describe('lwm2m dialect through the engine', () => {
  it('200 queue-mode devices register, Update on their wake and de-register against lwm2m-node-lib', async () => {
    const scenario = loadScenario(`${ROOT}test/lwm2m/fixtures/lwm2m-external.yaml`, { targetUrl: `coap://127.0.0.1:${port}`, allowClockSkew: true });
    const report = await run(scenario, { workers: 1, probe: false });
    expect(report.endedBy).toBe('completed');
    expect(report.devices.byFinalState).toEqual({ 'up-to-date': 200 });
    expect(report.transitions.violations).toBe(0);
    expect(report.operations['register']?.byOutcome).toEqual({ 'coap:2.01': 200 });
    expect(report.operations['update']?.byOutcome).toEqual({ 'coap:2.04': 200 });
    expect(report.operations['deregister']?.byOutcome).toEqual({ 'coap:2.02': 200 });
    expect(registered.size).toBe(200);
    expect(updated.size).toBe(200);
    expect(gone.size).toBe(200);
    const rules = (report.verdicts ?? []).filter((r) => r.rule.startsWith('lwm2m-'));
    expect(rules.map((r) => r.rule).sort()).toEqual(['lwm2m-downlink-schedule', 'lwm2m-no-second-download', 'lwm2m-package-integrity', 'lwm2m-queue-mode', 'lwm2m-result-agreement', 'lwm2m-update-before-downloaded']);
    // Nothing to judge here (no update, no unanswered downlink): each says so, none passes silently;
    // queue mode is judged (every device registered UQ) and kept: lwm2m-node-lib sent nothing.
    for (const r of rules) expect([r.rule, r.status, r.violations]).toEqual([r.rule, r.rule === 'lwm2m-queue-mode' ? 'judged' : 'not-judged', 0]);
  });
});
