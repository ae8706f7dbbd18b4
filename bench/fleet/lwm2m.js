#!/usr/bin/env node
// (m) LwM2M in queue mode: N devices (the lwm2m dialect's machine, wire and CoAP transport)
// register at R a second against a minimal loopback responder (./lwm2m-responder.js), sleep,
// Update once on their wake and de-register; once with each `target.lwm2m.sleepingSocket`:
// - close: a sleeping device lets its socket go (only awake devices hold one), so the fleet runs in
//   `--processes` shard processes (default 1: the responder has the other core);
// - keep: every device keeps its socket asleep (the witness of what a server sends a sleeper),
//   so a process holds at most what its open-files limit allows and the fleet is split to fit.
// Each shard process runs with --expose-gc. Figures per mode: memory per registered device (RSS
// and heap above each shard's baseline, measured when all its devices are registered and asleep),
// datagrams per CPU-second of the harness, registrations a second achieved, and whether the
// harness was the bottleneck by the report's own rule (src/metrics/harness-rule.ts): the
// registers' lateness p99 (intent → socket write) and the event-loop lag p99 within 1 ms + 5 % of
// the register service p99 (write → answer).
//
//   node bench/fleet/lwm2m.js [--devices 100000] [--rate 5000] [--modes close,keep] [--processes 1] [--result FILE]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FLEET, ROOT, figure, kib, numberFlag, printTable, requireDist, round, saveResult } from './lib/common.js';

const NAME = 'lwm2m';
requireDist();
const argv = process.argv.slice(2);
const devices = numberFlag(argv, 'devices', 100_000, { integer: true });
const rate = numberFlag(argv, 'rate', 5_000);
const processes = numberFlag(argv, 'processes', 1, { integer: true });
const modes = (argv.includes('--modes') ? argv[argv.indexOf('--modes') + 1] : 'close,keep').split(',');
for (const m of modes) if (m !== 'close' && m !== 'keep') throw new Error(`--modes: close and/or keep, not ${m}`);
const { toleranceMs } = await import(pathToFileURL(join(ROOT, 'dist/metrics/harness-rule.js')).href);
const limits = readFileSync('/proc/self/limits', 'utf8');
const soft = Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? 1024);
const registerSpanMs = (devices / rate) * 1000;
const sleepMs = Math.ceil(registerSpanMs + 10_000);

function lines(child, on) {
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      on(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
}

/** One run of the fleet with `mode`: its shard processes against a fresh responder; figures out. */
async function runMode(mode) {
  // Keep: one descriptor per device, so shards of what the open-files limit allows. Close: only awake devices hold one.
  const perShard = mode === 'keep' ? Math.max(1, Math.min(devices, soft - 256)) : Math.ceil(devices / processes);
  const shards = Math.ceil(devices / perShard);
  const responder = spawn(process.execPath, [join(FLEET, 'lwm2m-responder.js'), '--port', '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    lines(responder, (l) => l.startsWith('ready ') && resolve(Number(l.slice(6))));
    responder.on('exit', () => reject(new Error('responder ended')));
  });
  process.stderr.write(`lwm2m (sleepingSocket ${mode}): ${devices} devices over ${shards} shard process(es) of ≤ ${perShard}, ${rate}/s, sleep ${sleepMs} ms, responder on ${port}\n`);
  const results = await Promise.all(
    Array.from({ length: shards }, (_, s) => {
      const n = Math.min(perShard, devices - s * perShard);
      const child = spawn(process.execPath, ['--expose-gc', join(FLEET, 'lwm2m-shard.js'), '--devices', String(n), '--offset', String(s * perShard), '--port', String(port), '--rate', String((rate * n) / devices), '--sleep', String(sleepMs), '--deadline', String(sleepMs + registerSpanMs + 60_000), '--sleeping-socket', mode], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const phases = {};
      lines(child, (l) => {
        try {
          const o = JSON.parse(l);
          phases[o.phase] = o;
        } catch {
          // not a phase line
        }
      });
      return new Promise((resolve) => child.on('exit', () => resolve({ devices: n, ...phases })));
    }),
  );
  responder.kill('SIGTERM');

  const ok = results.every((r) => r.baseline && r.registered && r.end);
  const sum = (f) => results.reduce((a, r) => a + f(r), 0);
  const worst = (f) => (ok ? Math.max(...results.map(f)) : NaN);
  const cpuSec = (c) => (c.user + c.system) / 1e6;
  const registered = sum((r) => r.end?.registered ?? 0);
  const rssPer = ok ? sum((r) => r.registered.memory.rss - r.baseline.memory.rss) / devices : NaN;
  const heapPer = ok ? sum((r) => r.registered.memory.heapUsed + r.registered.memory.external - r.baseline.memory.heapUsed - r.baseline.memory.external) / devices : NaN;
  const cpu = ok ? sum((r) => cpuSec(r.end.cpu) - cpuSec(r.baseline.cpu)) : NaN;
  const datagrams = sum((r) => r.end?.datagrams ?? 0);
  // From the run's start to the last 2.01: the offered rate spreads them over devices / rate seconds.
  const spanMs = worst((r) => r.end.lastRegisteredAt);
  const achieved = registered / (spanMs / 1000);
  const p99 = worst((r) => r.end.registerMs.p99);
  const lateP99 = worst((r) => r.end.registerLatenessMs.p99);
  const serviceP99 = worst((r) => r.end.registerServiceMs.p99);
  const lagP99 = worst((r) => r.end.eventLoopLagMs.p99);
  const bound = toleranceMs(serviceP99);
  const late = !(lateP99 <= bound && lagP99 <= bound);
  const finals = {};
  for (const r of results) for (const [k, v] of Object.entries(r.end?.finals ?? {})) finals[k] = (finals[k] ?? 0) + v;
  const b = `(m) lwm2m ${mode}`;
  const figures = [
    figure(b, 'devices registered / asked', `${registered} / ${devices}`, 'all', registered === devices),
    figure(b, 'shard processes', String(shards)),
    figure(b, 'memory per registered device (RSS above baseline)', kib(rssPer), mode === 'close' ? '<= 2 KiB' : '', mode === 'close' ? rssPer <= 2048 : undefined),
    figure(b, 'memory per registered device (JS heap + external)', kib(heapPer)),
    figure(b, 'datagrams per CPU-second (harness)', round(datagrams / cpu, 0)),
    figure(b, `registrations a second achieved (offered ${rate})`, round(achieved, 0), `>= ${round(rate * 0.95, 0)}`, achieved >= rate * 0.95),
    figure(b, 'register p99 from intent / from write (worst shard)', `${round(p99, 1)} / ${round(serviceP99, 1)} ms`),
    figure(b, 'register lateness p99 (intent → write), event-loop lag p99', `${round(lateP99, 1)} ms, ${round(lagP99, 1)} ms`, `<= ${round(bound, 2)} ms`, !late),
    figure(b, 'harness the bottleneck (the report\'s rule)', late ? 'yes' : 'no', 'no', !late),
  ];
  return { mode, figures, shards, perShard, finals, results };
}

/** What one bare dgram socket costs in RSS, measured here: the floor one socket per device sets. */
async function bareSocketRss(n) {
  const { createSocket } = await import('node:dgram');
  const before = process.memoryUsage().rss;
  const socks = [];
  for (let i = 0; i < n; i++) {
    const s = createSocket('udp4');
    s.on('error', () => {});
    s.bind(0, '127.0.0.1');
    socks.push(s);
  }
  await new Promise((r) => setTimeout(r, 300));
  const per = (process.memoryUsage().rss - before) / n;
  for (const s of socks) s.close();
  return per;
}
const runs = [];
for (const mode of modes) runs.push(await runMode(mode));
const socketRss = await bareSocketRss(2000);
const figures = [...runs.flatMap((r) => r.figures), figure('(m) lwm2m', 'a bare dgram socket (RSS, this process): what keep adds per device', kib(socketRss))];
printTable(figures);
const file = saveResult(argv, NAME, { figures, devices, rate, runs });
process.stdout.write(`results: ${file}\n`);
process.exit(0);
