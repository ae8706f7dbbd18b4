#!/usr/bin/env node
// The LwM2M server of `serve` under a queue-mode fleet: datagrams per server CPU-second and heap
// per registered device, for N devices (default 100,000). The server runs in this process (so its
// heap can be measured after a GC), the devices in a child process (this script with --child) on a
// few UDP sockets, offering Registers at a fixed rate, bounded in count and time.
//
//   npm run build && node --expose-gc bench/server/lwm2m.js [--devices 100000] [--rate 5000] [--update-rate 2000] [--sockets 16]
//
// Phases: (1) N Registers (binding UQ) at --rate a second; (2) heap per registered device after GC;
// (3) once all sleep, a campaign covers them all: 3 commands held PENDING per device, heap again;
// (4) N Updates at --update-rate: the server sends the held Observe / Observe / Write to each, the device
// ACKs each with a piggybacked 2.05. Server CPU per phase is this process's (nothing else runs
// here), datagrams are the server's own counts.
import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { figure, kib, numberFlag, printTable, requireDist, round, saveResult } from '../fleet/lib/common.js';

const argv = process.argv.slice(2);
const DEVICES = numberFlag(argv, 'devices', 100_000, { integer: true });
const RATE = numberFlag(argv, 'rate', 5_000);
// Each Update brings three downlink exchanges: 8 datagrams, against a Register's 2.
const UPDATE_RATE = numberFlag(argv, 'update-rate', 2_000);
const SOCKETS = numberFlag(argv, 'sockets', 16, { integer: true });
const EP = (i) => `bench-${String(i).padStart(7, '0')}`;
const PHASE_LIMIT_MS = 10 * 60_000;

if (argv.includes('--child')) await child();
else await parent();

async function parent() {
  requireDist();
  if (typeof globalThis.gc !== 'function') {
    console.error('bench: run with node --expose-gc (heap per device needs a GC before each reading)');
    process.exit(2);
  }
  const { startServer } = await import('../../dist/server/index.js');
  const catalog = {
    seed: 1,
    lwm2m: { schedule: 'huawei', commandTtlSec: 172_800, packages: [{ id: 'fw', version: '2.0.0', size: 65_536, seed: 9 }], campaigns: [] },
  };
  // ×10: the 93 s awake window passes in 9.3 real s, and the Huawei schedule (10 s first resend,
  // TIMEOUT at 80 s) leaves a busy server 1 real s per round trip before it retransmits; at ×100 a
  // saturated server timed its own CONs out (its queueing delay passed 0.8 s).
  const server = await startServer({ coapPort: 0, timeScale: 10, quiet: true, catalog });
  const admin = async (method, path, body) => {
    const r = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return r.json();
  };
  const heap = () => {
    globalThis.gc();
    globalThis.gc();
    return process.memoryUsage().heapUsed;
  };
  const baseline = heap();
  const kid = fork(fileURLToPath(import.meta.url), ['--child', '--devices', String(DEVICES), '--rate', String(RATE), '--update-rate', String(UPDATE_RATE), '--sockets', String(SOCKETS), '--target', server.coapUrl], { stdio: 'inherit' });
  const ask = (msg) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`child phase ${msg.phase} over ${PHASE_LIMIT_MS} ms`)), PHASE_LIMIT_MS);
      kid.once('message', (m) => {
        clearTimeout(t);
        resolve(m);
      });
      kid.send(msg);
    });
  const counters = async () => (await admin('GET', '/admin/lwm2m')).counters;
  const phase = async (name) => {
    const before = await counters();
    const cpu0 = process.cpuUsage();
    const r = await ask({ phase: name });
    const cpu = process.cpuUsage(cpu0);
    const after = await counters();
    const datagrams = after.datagramsIn - before.datagramsIn + (after.datagramsOut - before.datagramsOut);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    return { ...r, datagrams, serverCpuS: cpuS, datagramsPerCpuS: datagrams / cpuS };
  };
  try {
    const reg = await phase('register');
    const summary1 = await admin('GET', '/admin/lwm2m');
    const perRegistered = (heap() - baseline) / DEVICES;
    await new Promise((r) => setTimeout(r, 9_600));
    await admin('POST', '/admin/lwm2m/campaigns', { endpoints: `bench-{0000000..${String(DEVICES - 1).padStart(7, '0')}}`, package: 'fw' });
    const held = await admin('GET', '/admin/lwm2m');
    const perHeld = (heap() - baseline) / DEVICES;
    const upd = await phase('update');
    const summary2 = await admin('GET', '/admin/lwm2m');
    const rows = [
      figure('lwm2m', 'registrations answered', `${reg.answered} / ${DEVICES} (${reg.retransmissions} retransmitted)`),
      figure('lwm2m', 'registrations / s (offered, answered)', `${RATE}, ${round(reg.answeredPerS)}`, '>= 95% of the offered 5000/s', reg.answeredPerS >= Math.min(5_000, RATE) * 0.95),
      figure('lwm2m', 'server datagrams / CPU-s (register)', round(reg.datagramsPerCpuS)),
      figure('lwm2m', `server datagrams / CPU-s (update + 3 downlinks, ${UPDATE_RATE}/s)`, round(upd.datagramsPerCpuS)),
      figure('lwm2m', 'heap / registered device', kib(perRegistered), '<= 2 KiB', perRegistered <= 2048),
      figure('lwm2m', 'heap / device, 3 commands held', kib(perHeld), '<= 2 KiB', perHeld <= 2048),
      figure('lwm2m', 'commands PENDING after campaign', held.commands.PENDING),
      figure('lwm2m', 'commands after updates', Object.entries(summary2.commands).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')),
    ];
    printTable(rows);
    const file = saveResult(argv, 'lwm2m-server', { devices: DEVICES, rate: RATE, sockets: SOCKETS, register: reg, update: upd, heapPerRegisteredDevice: perRegistered, heapPerDeviceHeld: perHeld, registrations: summary1.registrations, commandsAfter: summary2.commands, figures: rows });
    console.log(`results: ${file}`);
  } finally {
    kid.kill();
    await server.close();
  }
}

/** The devices: Registers, then Updates, at RATE a second over SOCKETS sockets; ACKs the server's CONs. */
async function child() {
  const { generate, parse } = await import('coap-packet');
  const target = new URL(flagValue('target').replace(/^coap:/, 'http:'));
  const port = Number(target.port);
  const sockets = [];
  const pending = new Map(); // mid → device index
  const location = new Array(DEVICES);
  let answered = 0;
  let onAnswer = () => {};
  for (let s = 0; s < SOCKETS; s++) {
    const sock = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
    await new Promise((r) => sock.bind(0, '127.0.0.1', r));
    sock.on('message', (bytes) => {
      const m = parse(bytes);
      if (m.ack) {
        const k = s * 0x10000 + m.messageId;
        const i = pending.get(k);
        if (i === undefined) return;
        pending.delete(k);
        const loc = m.options.filter((o) => o.name === 'Location-Path').map((o) => o.value.toString());
        if (loc.length === 2) location[i] = loc[1];
        answered++;
        onAnswer();
        return;
      }
      if (m.confirmable) sock.send(generate({ code: '2.05', ack: true, messageId: m.messageId, token: m.token, options: [{ name: 'Observe', value: Buffer.from([1]) }], payload: Buffer.from('0') }), port, target.hostname);
    });
    sockets.push(sock);
  }
  // Message ids per socket (the server deduplicates by address, port and id over 247 s): with
  // 16 sockets, 100,000 requests never reuse one.
  const mids = new Array(SOCKETS).fill(0);
  const key = (s, m) => s * 0x10000 + m;
  const sentAt = new Map(); // key → { bytes, sock, at, tries }
  const send = (i, build) => {
    const s = i % SOCKETS;
    const mid = (mids[s] = (mids[s] + 1) & 0xffff);
    pending.set(key(s, mid), i);
    const bytes = build(mid);
    sentAt.set(key(s, mid), { bytes, sock: sockets[s], at: performance.now(), tries: 1 });
    sockets[s].send(bytes, port, target.hostname);
  };
  /** A CON unanswered for 2 s goes again, at most 4 times (RFC 7252's MAX_RETRANSMIT). */
  const resend = () => {
    const now = performance.now();
    for (const [k, e] of sentAt) {
      if (!pending.has(k)) {
        sentAt.delete(k);
        continue;
      }
      if (now - e.at < 2_000 * e.tries || e.tries > 4) continue;
      e.tries++;
      retransmissions++;
      e.sock.send(e.bytes, port, target.hostname);
    }
  };
  let retransmissions = 0;
  const register = (i) => (m) => generate({ code: '0.02', confirmable: true, messageId: m, token: Buffer.from([i & 0xff]), options: [{ name: 'Uri-Path', value: Buffer.from('rd') }, { name: 'Uri-Query', value: Buffer.from(`ep=${EP(i)}`) }, { name: 'Uri-Query', value: Buffer.from('b=UQ') }, { name: 'Uri-Query', value: Buffer.from('lt=86400') }], payload: Buffer.from('</1/0>,</3/0>,</5/0>') });
  const update = (i) => (m) => generate({ code: '0.02', confirmable: true, messageId: m, token: Buffer.from([i & 0xff]), options: [{ name: 'Uri-Path', value: Buffer.from('rd') }, { name: 'Uri-Path', value: Buffer.from(String(location[i])) }] });
  /** Offers one request per device at RATE a second (in 10 ms slices), waits for the answers or a bound. */
  const run = async (build, rate) => {
    answered = 0;
    retransmissions = 0;
    pending.clear();
    sentAt.clear();
    let lastAnswer = performance.now();
    onAnswer = () => (lastAnswer = performance.now());
    const t0 = performance.now();
    const perSlice = Math.max(1, Math.round(rate / 100));
    for (let i = 0; i < DEVICES; ) {
      const due = t0 + (i / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      for (let k = 0; k < perSlice && i < DEVICES; k++, i++) send(i, build(i));
      // 16-bit message ids: never more than 60,000 in flight.
      while (pending.size > 60_000) await new Promise((r) => setTimeout(r, 5));
      if ((i & 1023) === 0) resend();
    }
    // Bounded: the last retransmission of the last request comes 30 s after it.
    const deadline = performance.now() + 32_000;
    while (answered < DEVICES && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      resend();
    }
    const s = (lastAnswer - t0) / 1000;
    return { answered, retransmissions, seconds: s, answeredPerS: answered / s };
  };
  process.on('message', async (msg) => {
    const r = msg.phase === 'register' ? await run(register, RATE) : await run(update, UPDATE_RATE);
    if (msg.phase === 'update') await new Promise((res) => setTimeout(res, 2_000)); // the downlinks and their ACKs
    process.send(r);
  });
}

function flagValue(name) {
  const i = argv.indexOf(`--${name}`);
  return argv[i + 1];
}
