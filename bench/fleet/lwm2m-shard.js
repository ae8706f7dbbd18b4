#!/usr/bin/env node
// One process's share of the lwm2m bench: `--devices` LwM2M devices (the dialect's machine and
// wire over the CoAP transport) register at `--rate` a second against the responder, sleep in
// queue mode, Update once on their wake and de-register. `--sleeping-socket keep|close`: a
// sleeping device keeps its UDP socket (one per device), or lets it go (target.lwm2m.sleepingSocket).
// Prints JSON lines: {phase:'baseline'|'registered'|'end', ...} with memory, CPU, datagram counts,
// and the registers' lateness (intent → socket write), service (write → answer) and event-loop lag.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ROOT, numberFlag } from './lib/common.js';

const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const { lwm2mMachine } = await dist('device/lwm2m/machine.js');
const { decodeLwm2m, encodeLwm2m } = await dist('dialect/lwm2m/wire.js');
const { CoapTransport } = await dist('engine/coap-transport.js');
const { loopbackSourceOf } = await dist('engine/udp.js');
const { TimerHeap } = await dist('engine/timer-heap.js');
const { DEFAULT_DEVICE_SETTINGS, NO_FAULTS } = await dist('device/types.js');
const { DEFAULT_LWM2M_SETTINGS } = await dist('device/lwm2m/types.js');

const argv = process.argv.slice(2);
const devices = numberFlag(argv, 'devices', 1000, { integer: true });
const offset = Number(argv[argv.indexOf('--offset') + 1] ?? 0);
const port = numberFlag(argv, 'port', 5683, { integer: true });
const rate = numberFlag(argv, 'rate', 1000);
const sleepMs = numberFlag(argv, 'sleep', 5000);
const deadlineMs = numberFlag(argv, 'deadline', 120_000);
const sleepingSocket = argv.includes('--sleeping-socket') ? argv[argv.indexOf('--sleeping-socket') + 1] : 'keep';
if (sleepingSocket !== 'keep' && sleepingSocket !== 'close') throw new Error(`--sleeping-socket: keep or close, not ${sleepingSocket}`);

const gc = globalThis.gc ?? (() => {});
const memory = () => {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
};
/** Descriptors the process holds (its sockets among them); undefined off Linux. */
const openDescriptors = () => {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
};
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const settings = { ...DEFAULT_DEVICE_SETTINGS, maxAttempts: 3, retryDelayMs: 1000, lwm2m: { ...DEFAULT_LWM2M_SETTINGS, awakeMs: 100, wakeEveryMs: sleepMs, maxWakes: 1, sleepingSocket } };
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
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const t0 = performance.now();
const end = t0 + deadlineMs;
let registered = 0;
let asleep = 0;
let stopped = 0;
let lastRegisteredAt = 0;
const regLatency = [];
const regLateness = [];
const regService = [];
const finals = {};

// Devices are driven as the engine drives them (src/engine/shard.ts): their steps in one array, their
// wake instants in one timer heap under a single timer, so what a sleeping device costs here is its
// machine state, not a suspended function and a timer of its own.
const steps = new Array(devices);
const sleptOnce = new Uint8Array(devices);
const heap = new TimerHeap(devices);
const intendedOf = (slot) => t0 + (slot / rate) * 1000;
const profileOf = (slot) => {
  const i = offset + slot;
  return { index: i, id: `urn:imei:${String(860000000000000 + i)}`, cohort: 'bench', version: '1.0.0', manuf: 'm', model: 'x', core: '', taskType: 1, battery: 80, signal: 20, seed: i + 1, behaviour: NO_FAULTS };
};
let allStopped;
const finished = new Promise((r) => (allStopped = r));
let timer;
let timerAt = Infinity;

function arm() {
  if (heap.size === 0) return;
  const due = heap.peekDue();
  if (due >= timerAt) return;
  clearTimeout(timer);
  timerAt = due;
  timer = setTimeout(tick, Math.max(0, due - performance.now()));
}

function tick() {
  timerAt = Infinity;
  const now = performance.now();
  while (heap.size > 0 && heap.peekDue() <= now) {
    const slot = heap.pop();
    act(slot, steps[slot] === undefined ? lwm2mMachine.start(profileOf(slot), settings, now) : lwm2mMachine.onTimer(steps[slot].state, profileOf(slot), settings, now));
  }
  arm();
}

function stop(slot, kind) {
  finals[kind] = (finals[kind] ?? 0) + 1;
  steps[slot] = null;
  transport.release(slot);
  if (++stopped === devices) allStopped();
}

function act(slot, step) {
  const a = step.action;
  if (a.type === 'stop' || performance.now() >= end) return stop(slot, step.state.kind);
  steps[slot] = step;
  if (a.type === 'sleep') {
    if (step.state.kind === 'asleep' && sleptOnce[slot] === 0) {
      sleptOnce[slot] = 1;
      if (++asleep === devices) {
        // Measured once the registering is over and the heap has settled: a second of quiet and full collections, so the
        // young generation and the garbage of the burst are not counted as what the sleeping devices hold.
        setTimeout(() => {
          gc();
          gc();
          say({ phase: 'registered', registered, memory: memory(), cpu: process.cpuUsage(), at: performance.now() - t0, descriptors: openDescriptors() });
        }, 1000);
      }
    }
    heap.schedule(slot, a.until);
    arm();
    return;
  }
  let written;
  const request = a.request;
  void transport.exchange(slot, encodeLwm2m(request), { timeoutMs: 10_000, paceMs: 0, onWritten: (at) => (written ??= at) }).then((x) => {
    const answer = decodeLwm2m(request, x.result);
    const now = performance.now();
    if (request.op === 'register' && answer.type === 'created' && sleptOnce[slot] === 0) {
      registered++;
      lastRegisteredAt = now - t0;
      regLatency.push(now - intendedOf(slot));
      regLateness.push((written ?? now) - intendedOf(slot));
      regService.push(now - (written ?? now));
    }
    act(slot, lwm2mMachine.onAnswer(step.state, answer, profileOf(slot), settings, now));
  });
}

for (let slot = 0; slot < devices; slot++) heap.schedule(slot, intendedOf(slot));
arm();
await finished;
clearTimeout(timer);
loopDelay.disable();
for (const xs of [regLatency, regLateness, regService]) xs.sort((a, b) => a - b);
const quantile = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
const q = (p) => quantile(regLatency, p);
say({
  phase: 'end',
  cpu: process.cpuUsage(),
  datagrams: transport.datagramsSent + transport.datagramsReceived,
  registered,
  finals,
  registerMs: { p50: q(0.5), p99: q(0.99), max: regLatency.at(-1) ?? NaN },
  registerLatenessMs: { p50: quantile(regLateness, 0.5), p99: quantile(regLateness, 0.99), max: regLateness.at(-1) ?? NaN },
  registerServiceMs: { p50: quantile(regService, 0.5), p99: quantile(regService, 0.99) },
  eventLoopLagMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
  lastRegisteredAt,
  at: performance.now() - t0,
});
await transport.close();
process.exit(0);
