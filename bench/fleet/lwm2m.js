#!/usr/bin/env node
// (m) LwM2M in queue mode: N devices (the lwm2m dialect's machine, wire and CoAP transport, one UDP
// socket each) register at R a second against a minimal loopback responder (./lwm2m-responder.js),
// sleep, Update once on their wake and de-register. A process holds at most what its open-files
// limit allows (one socket per device), so the fleet is split over shard processes, each started
// with --expose-gc. Figures: memory per registered device (RSS and heap above each shard's
// baseline, measured when all its devices are registered and asleep), datagrams per CPU-second of
// the harness, and whether the harness kept up with R (registrations achieved a second, register
// p99 from intent).
//
//   node bench/fleet/lwm2m.js [--devices 100000] [--rate 5000] [--result FILE]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLEET, figure, kib, numberFlag, printTable, requireDist, round, saveResult } from './lib/common.js';

const NAME = 'lwm2m';
requireDist();
const argv = process.argv.slice(2);
const devices = numberFlag(argv, 'devices', 100_000, { integer: true });
const rate = numberFlag(argv, 'rate', 5_000);
const limits = readFileSync('/proc/self/limits', 'utf8');
const soft = Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? 1024);
const perShard = Math.max(1, Math.min(devices, soft - 256));
const shards = Math.ceil(devices / perShard);
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

const responder = spawn(process.execPath, [join(FLEET, 'lwm2m-responder.js'), '--port', '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  lines(responder, (l) => l.startsWith('ready ') && resolve(Number(l.slice(6))));
  responder.on('exit', () => reject(new Error('responder ended')));
});

process.stderr.write(`lwm2m: ${devices} devices over ${shards} shard process(es) of ≤ ${perShard}, ${rate}/s, sleep ${sleepMs} ms, responder on ${port}\n`);
const results = await Promise.all(
  Array.from({ length: shards }, (_, s) => {
    const n = Math.min(perShard, devices - s * perShard);
    const child = spawn(process.execPath, ['--expose-gc', join(FLEET, 'lwm2m-shard.js'), '--devices', String(n), '--offset', String(s * perShard), '--port', String(port), '--rate', String((rate * n) / devices), '--sleep', String(sleepMs), '--deadline', String(sleepMs + registerSpanMs + 60_000)], {
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
const cpuSec = (c) => (c.user + c.system) / 1e6;
const registered = sum((r) => r.end?.registered ?? 0);
const rssPer = ok ? sum((r) => r.registered.memory.rss - r.baseline.memory.rss) / devices : NaN;
const heapPer = ok ? sum((r) => r.registered.memory.heapUsed + r.registered.memory.external - r.baseline.memory.heapUsed - r.baseline.memory.external) / devices : NaN;
const cpu = ok ? sum((r) => cpuSec(r.end.cpu) - cpuSec(r.baseline.cpu)) : NaN;
const datagrams = sum((r) => r.end?.datagrams ?? 0);
// From the run's start to the last 2.01: the offered rate spreads them over devices / rate seconds.
const spanMs = ok ? Math.max(...results.map((r) => r.end.lastRegisteredAt)) : NaN;
const achieved = registered / (spanMs / 1000);
const p99 = ok ? Math.max(...results.map((r) => r.end.registerMs.p99)) : NaN;
const finals = {};
for (const r of results) for (const [k, v] of Object.entries(r.end?.finals ?? {})) finals[k] = (finals[k] ?? 0) + v;

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
const socketRss = await bareSocketRss(Math.min(2000, perShard));

const figures = [
  figure('(m) lwm2m', 'devices registered / asked', `${registered} / ${devices}`, 'all', registered === devices),
  figure('(m) lwm2m', 'memory per registered device (RSS above baseline)', kib(rssPer), '<= 2 KiB', rssPer <= 2048),
  figure('(m) lwm2m', 'memory per registered device (JS heap + external)', kib(heapPer)),
  figure('(m) lwm2m', 'of which its UDP socket (a bare dgram socket, same process)', kib(socketRss)),
  figure('(m) lwm2m', 'datagrams per CPU-second (harness)', round(datagrams / cpu, 0)),
  figure('(m) lwm2m', `registrations a second achieved (offered ${rate})`, round(achieved, 0), `>= ${round(rate * 0.95, 0)}`, achieved >= rate * 0.95),
  figure('(m) lwm2m', 'register p99 from intent (worst shard)', `${round(p99, 1)} ms`),
];
printTable(figures);
const file = saveResult(argv, NAME, { figures, devices, rate, shards, perShard, finals, results });
process.stdout.write(`results: ${file}\n`);
process.exit(0);
