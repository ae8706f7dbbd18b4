#!/usr/bin/env node
// Benchmark (l): are ota-swarm's latency figures true? The reference server in its own process
// adds a fixed 20 ms to every check and measures its own service time per endpoint
// (GET /admin/counters → serviceMs: arrival to last byte, inside the server). ota-swarm runs
// twice against it, the server's counters reset before each:
//
//   light      3,000 devices spread over 30 s (~200 requests/s, the pool never full): the
//              report's check p99 "from send" must be the server's own p99 within 5 % + 1 ms;
//   saturated  8,000 devices at once on 8 connections (~400 checks/s of capacity): requests wait
//              in the harness, and the report must flag it (harness.bottleneck, with the figure).
//
//   node bench/fleet/latency.js [--workers 1] [--light-devices 3000] [--saturated-devices 8000]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FLEET, figure, numberFlag, printTable, requireDist, round, saveResult } from './lib/common.js';
import { startReferenceServer } from './lib/server.js';
import { runOtaSwarm } from './lib/ota-swarm.js';

const NAME = 'latency';
const CATALOG = join(FLEET, 'catalogs', 'million.yaml');
const CHECK_MS = 20;
const tolerance = (serverMs) => 0.05 * serverMs + 1;

async function oneRun(server, scenario, devices, workers, say) {
  await server.reset();
  const { run, report } = await runOtaSwarm({ scenario: join(FLEET, 'scenarios', scenario), target: server.url, devices, workers, deadlineMs: 5 * 60_000 });
  if (!report) throw new Error(`${scenario}: no report (exit ${run.code}): ${run.stderr.trim().split('\n').pop() ?? ''}`);
  const own = (await server.counters()).serviceMs?.check;
  const check = report.operations.check;
  if (!own || !check) throw new Error(`${scenario}: no check figures (server ${JSON.stringify(own)}, report ${Object.keys(report.operations)})`);
  const out = {
    devices,
    seconds: report.durationMs / 1000,
    requestsPerS: Object.values(report.operations).reduce((n, o) => n + o.count, 0) / (report.durationMs / 1000),
    serverP99: own.p99,
    serverCount: own.count,
    sendP99: check.serviceMs.p99,
    intendedP99: check.latencyMs.p99,
    queuedP99: check.queuedMs?.p99,
    offMs: check.serviceMs.p99 - own.p99,
    toleranceMs: tolerance(own.p99),
    bottleneck: report.harness.bottleneck,
    eventLoopLagP99: report.harness.eventLoopLagMs.p99,
    eventLoopUtilization: report.harness.eventLoopUtilization,
    notes: report.harness.notes,
  };
  say(`${scenario}: ${JSON.stringify(out)}`);
  return out;
}

export async function latency(argv) {
  requireDist();
  const workers = numberFlag(argv, 'workers', 1, { integer: true });
  const lightDevices = numberFlag(argv, 'light-devices', 3000, { integer: true });
  const saturatedDevices = numberFlag(argv, 'saturated-devices', 8000, { integer: true });
  const say = (line) => process.stderr.write(`[l] ${line}\n`);
  const server = await startReferenceServer({ catalog: CATALOG, faults: [`check.latency=fixed:${CHECK_MS}ms`] });
  try {
    const light = await oneRun(server, 'latency-light.yaml', lightDevices, workers, say);
    const saturated = await oneRun(server, 'latency-saturated.yaml', saturatedDevices, workers, say);
    const within = Math.abs(light.offMs) <= light.toleranceMs;
    const ms = (x) => (x === undefined ? '—' : `${round(x, 2)} ms`);
    const figures = [
      figure('(l) latency', `light: ${light.devices} devices, ${round(light.requestsPerS)} req/s; check p99 from send vs server's own`, `${ms(light.sendP99)} vs ${ms(light.serverP99)} (off ${ms(light.offMs)}; queued p99 ${ms(light.queuedP99)})`, `within ${ms(light.toleranceMs)}`, within),
      figure('(l) latency', 'light: harness flagged', light.bottleneck ? `yes: ${light.notes[0] ?? ''}` : 'no', 'no', !light.bottleneck),
      figure('(l) latency', `saturated: ${saturated.devices} devices at once on 8 connections; check p99 from send vs server's own`, `${ms(saturated.sendP99)} vs ${ms(saturated.serverP99)} (queued p99 ${ms(saturated.queuedP99)}, from intended ${ms(saturated.intendedP99)})`),
      figure('(l) latency', 'saturated: harness flagged', saturated.bottleneck ? `yes: ${saturated.notes.find((n) => n.startsWith('check:')) ?? saturated.notes[0] ?? ''}` : 'no', 'yes', saturated.bottleneck),
    ];
    const file = saveResult(argv, NAME, { figures, light, saturated, checkMs: CHECK_MS, workers });
    return { figures, file };
  } finally {
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { figures, file } = await latency(process.argv.slice(2));
  printTable(figures);
  process.stdout.write(`results: ${file}\n`);
}
