#!/usr/bin/env node
// One process's share of the lwm2m bench: `--devices` LwM2M devices (the dialect's machine and
// wire over the CoAP transport, a UDP socket each) register at `--rate` a second against the
// responder, sleep in queue mode, Update once on their wake and de-register. Prints JSON lines:
// {phase:'baseline'|'registered'|'end', ...} with memory, CPU and datagram counts.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, numberFlag } from './lib/common.js';

const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const { lwm2mMachine } = await dist('device/lwm2m/machine.js');
const { decodeLwm2m, encodeLwm2m } = await dist('dialect/lwm2m/wire.js');
const { CoapTransport } = await dist('engine/coap-transport.js');
const { loopbackSourceOf } = await dist('engine/udp.js');
const { DEFAULT_DEVICE_SETTINGS, NO_FAULTS } = await dist('device/types.js');
const { DEFAULT_LWM2M_SETTINGS } = await dist('device/lwm2m/types.js');

const argv = process.argv.slice(2);
const devices = numberFlag(argv, 'devices', 1000, { integer: true });
const offset = Number(argv[argv.indexOf('--offset') + 1] ?? 0);
const port = numberFlag(argv, 'port', 5683, { integer: true });
const rate = numberFlag(argv, 'rate', 1000);
const sleepMs = numberFlag(argv, 'sleep', 5000);
const deadlineMs = numberFlag(argv, 'deadline', 120_000);

const gc = globalThis.gc ?? (() => {});
const memory = () => {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
};
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const settings = { ...DEFAULT_DEVICE_SETTINGS, maxAttempts: 3, retryDelayMs: 1000, lwm2m: { ...DEFAULT_LWM2M_SETTINGS, awakeMs: 100, wakeEveryMs: sleepMs, maxWakes: 1 } };
const transport = new CoapTransport({
  server: { host: '127.0.0.1', port },
  timing: settings.retransmit,
  now: () => performance.now(),
  realMsUntil: (v) => Math.max(0, v - performance.now()),
  seenCompleteAfterMs: 240_000,
  seed: offset + 1,
  isAllowedHost: (h) => h === '127.0.0.1',
  sourceOf: (slot) => loopbackSourceOf(1 + Math.floor(offset / 1000), slot),
});

say({ phase: 'baseline', memory: memory(), cpu: process.cpuUsage() });
const t0 = performance.now();
const end = t0 + deadlineMs;
let registered = 0;
let asleep = 0;
let reported = false;
let lastRegisteredAt = 0;
const regLatency = [];
const finals = {};

async function device(slot) {
  const i = offset + slot;
  const profile = { index: i, id: `urn:imei:${String(860000000000000 + i)}`, cohort: 'bench', version: '1.0.0', manuf: 'm', model: 'x', core: '', taskType: 1, battery: 80, signal: 20, seed: i + 1, behaviour: NO_FAULTS };
  const intended = t0 + (slot / rate) * 1000;
  await new Promise((r) => setTimeout(r, Math.max(0, intended - performance.now())));
  let step = lwm2mMachine.start(profile, settings, performance.now());
  let first = true;
  while (performance.now() < end) {
    const a = step.action;
    if (a.type === 'stop') break;
    if (a.type === 'sleep') {
      if (step.state.kind === 'asleep' && first) {
        first = false;
        if (++asleep === devices && !reported) {
          reported = true;
          say({ phase: 'registered', registered, memory: memory(), cpu: process.cpuUsage(), at: performance.now() - t0 });
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, a.until - performance.now())));
      step = lwm2mMachine.onTimer(step.state, profile, settings, performance.now());
      continue;
    }
    const x = await transport.exchange(slot, encodeLwm2m(a.request), { timeoutMs: 10_000, paceMs: 0 });
    const answer = decodeLwm2m(a.request, x.result);
    if (a.request.op === 'register' && answer.type === 'created') {
      registered++;
      lastRegisteredAt = performance.now() - t0;
      regLatency.push(performance.now() - intended);
    }
    step = lwm2mMachine.onAnswer(step.state, answer, profile, settings, performance.now());
  }
  finals[step.state.kind] = (finals[step.state.kind] ?? 0) + 1;
  transport.release(slot);
}

await Promise.all(Array.from({ length: devices }, (_, s) => device(s)));
regLatency.sort((a, b) => a - b);
const q = (p) => regLatency[Math.min(regLatency.length - 1, Math.floor(p * regLatency.length))] ?? NaN;
say({
  phase: 'end',
  cpu: process.cpuUsage(),
  datagrams: transport.datagramsSent + transport.datagramsReceived,
  registered,
  finals,
  registerMs: { p50: q(0.5), p99: q(0.99), max: regLatency.at(-1) ?? NaN },
  lastRegisteredAt,
  at: performance.now() - t0,
});
await transport.close();
process.exit(0);
