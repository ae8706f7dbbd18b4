#!/usr/bin/env node
// Benchmark (b): the same OneNET OTA flow for --devices devices (default 10,000) driven by
// Artillery 2.0.21 (bench/fleet/artillery-ota.yml, one virtual user per device) and by ota-swarm
// (bench/fleet/scenarios/rollout-10k.yaml), one after the other in the same run, against the same
// reference server in its own process (built-in catalog), reset in between so both start from the
// same state. Both see the devices arrive at the same constant rate over --window seconds.
//
// Figures: memory per virtual device = (peak RSS − peak RSS of the same tool run for one device)
// / devices; requests per CPU-second = requests the server counted / CPU-seconds of the tool's
// process (every thread, getrusage at exit), also net of that one-device run's start-up cost.
//
//   node bench/fleet/artillery.js [--devices 10000] [--window 300]
//
// The default window keeps Artillery below what it can send on one core of a 2-core machine
// (about 1,000 requests a second): a saturated Artillery would pile up virtual users and measure
// its own backlog.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { FLEET, benchPackagePath, figure, kib, mib, numberFlag, printTable, ratio, requireDist, round, saveResult, scratchDir } from './lib/common.js';
import { runMeasured, runTrouble } from './lib/proc.js';
import { startReferenceServer } from './lib/server.js';
import { demoKey, finalStates, runOtaSwarm } from './lib/ota-swarm.js';

const NAME = 'artillery';
const SCRIPT = join(FLEET, 'artillery-ota.yml');
const SCENARIO = join(FLEET, 'scenarios', 'rollout-10k.yaml');
const FIRST_DEVICE = '522700000';

export async function artilleryVsOtaSwarm(argv) {
  requireDist();
  const artilleryBin = benchPackagePath('artillery', 'bin/run');
  const devices = numberFlag(argv, 'devices', 10_000, { integer: true });
  const windowS = numberFlag(argv, 'window', 300);
  const say = (line) => process.stderr.write(`[b] ${line}\n`);
  const scratch = scratchDir('artillery');
  const { buildAuthorization } = await import('../../dist/protocol/token.js');
  const server = await startReferenceServer();
  try {
    const et = Math.floor(Date.now() / 1000) + 10 * 365 * 86_400;
    const authorization = buildAuthorization(await demoKey(), { res: 'products/198290', et, method: 'sha1' });

    /** Artillery for n virtual users arriving over windowS seconds; requests counted by the server. */
    const artillery = async (n, window) => {
      await server.reset();
      const output = join(scratch, `artillery-${n}.json`);
      const overrides = { config: { phases: [{ duration: window, arrivalCount: n }] } };
      const run = await runMeasured({
        args: [artilleryBin, 'run', '--target', server.url, '--overrides', JSON.stringify(overrides), '--output', output, SCRIPT],
        env: { ARTILLERY_DISABLE_TELEMETRY: 'true', OTA_BENCH_AUTHORIZATION: authorization, OTA_BENCH_FIRST_DEVICE: FIRST_DEVICE },
        deadlineMs: (window * 2 + 180) * 1000,
      });
      let counters = {};
      try {
        counters = JSON.parse(readFileSync(output, 'utf8')).aggregate.counters;
      } catch {
        counters = {};
      }
      const served = await server.requestsServed();
      return { run, counters, served: served.total, succeeded: served.tasks.succeeded ?? 0, byEndpoint: served.byEndpoint };
    };
    /** ota-swarm for n devices arriving at the same constant rate. */
    const otaSwarm = async (n, window) => {
      await server.reset();
      const scenario = YAML.parse(readFileSync(SCENARIO, 'utf8'));
      scenario.fleet.devices = n;
      scenario.arrival = { pattern: 'constant-rate', rate: `${n / window}/s` };
      const file = join(scratch, `rollout-${n}.yaml`);
      writeFileSync(file, YAML.stringify(scenario));
      const r = await runOtaSwarm({ scenario: file, target: server.url, adminToken: server.adminToken, deadlineMs: (window * 2 + 180) * 1000 });
      const served = await server.requestsServed();
      return { ...r, served: served.total, succeeded: served.tasks.succeeded ?? 0, byEndpoint: served.byEndpoint };
    };

    say('baselines: each tool for 1 device');
    const artBase = await artillery(1, 1);
    const otaBase = await otaSwarm(1, 1);
    say(`  artillery: ${artBase.served} requests, ${artBase.run.cpuS.toFixed(2)} CPU-s, ${mib(artBase.run.peakRssBytes)}; ota-swarm: ${otaBase.served} requests, ${otaBase.run.cpuS.toFixed(2)} CPU-s, ${mib(otaBase.run.peakRssBytes)}`);

    say(`artillery: ${devices} virtual users over ${windowS} s`);
    const art = await artillery(devices, windowS);
    say(`  ${art.served} requests served, ${art.succeeded} tasks succeeded, ${art.run.cpuS.toFixed(1)} CPU-s, ${mib(art.run.peakRssBytes)} peak RSS, ${art.run.wallS.toFixed(0)} s`);
    say(`ota-swarm: ${devices} devices over ${windowS} s`);
    const ota = await otaSwarm(devices, windowS);
    say(`  ${ota.served} requests served, ${ota.succeeded} tasks succeeded, ${ota.run.cpuS.toFixed(1)} CPU-s, ${mib(ota.run.peakRssBytes)} peak RSS, ${ota.run.wallS.toFixed(0)} s`);

    const perDevice = (r, base) => (r.run.peakRssBytes - base.run.peakRssBytes) / devices;
    const netRate = (r, base) => ratio(r.served - base.served, r.run.cpuS - base.run.cpuS);
    const artMem = perDevice(art, artBase);
    const otaMem = perDevice(ota, otaBase);
    const artRate = netRate(art, artBase);
    const otaRate = netRate(ota, otaBase);
    const artGross = ratio(art.served, art.run.cpuS);
    const otaGross = ratio(ota.served, ota.run.cpuS);
    const B = '(b) vs Artillery';
    const figures = [
      figure(B, 'memory / device: Artillery', `${kib(artMem)} (peak ${mib(art.run.peakRssBytes)}, idle ${mib(artBase.run.peakRssBytes)})`),
      figure(B, 'memory / device: ota-swarm', `${kib(otaMem)} (peak ${mib(ota.run.peakRssBytes)}, idle ${mib(otaBase.run.peakRssBytes)})`),
      figure(B, 'memory / device: Artillery ÷ ota-swarm', `${round(ratio(artMem, otaMem), 2)}`),
      figure(B, 'requests / CPU-s: Artillery', `${Math.round(artRate)} (${Math.round(artGross)} with start-up)`),
      figure(B, 'requests / CPU-s: ota-swarm', `${Math.round(otaRate)} (${Math.round(otaGross)} with start-up)`),
      figure(B, 'requests / CPU-s: ota-swarm ÷ Artillery', `${round(ratio(otaRate, artRate), 2)} (${round(ratio(otaGross, artGross), 2)} with start-up)`),
      figure(B, 'requests; upgrades done (Artillery)', `${art.served}; ${art.succeeded} of ${devices}; ${round(art.run.cpuS, 1)} CPU-s, ${round(art.run.wallS)} s`),
      figure(B, 'requests; upgrades done (ota-swarm)', `${ota.served}; ${ota.succeeded} of ${devices}; ${round(ota.run.cpuS, 1)} CPU-s, ${round(ota.run.wallS)} s`),
    ];
    const notes = [runTrouble('Artillery', art.run), runTrouble('ota-swarm', ota.run)].filter(Boolean);
    if (art.succeeded < devices) notes.push(`Artillery: only ${art.succeeded} of ${devices} upgrades completed on the server (vusers.failed ${art.counters['vusers.failed'] ?? '?'})`);
    if (ota.succeeded < devices) notes.push(`ota-swarm: only ${ota.succeeded} of ${devices} upgrades completed on the server (${finalStates(ota.report)})`);
    return {
      figures,
      notes,
      details: {
        devices,
        windowS,
        artillery: { served: art.served, byEndpoint: art.byEndpoint, succeeded: art.succeeded, counters: art.counters, cpuS: art.run.cpuS, peakRssBytes: art.run.peakRssBytes, wallS: art.run.wallS, baseline: { served: artBase.served, cpuS: artBase.run.cpuS, peakRssBytes: artBase.run.peakRssBytes }, memoryPerDeviceBytes: artMem, requestsPerCpuS: { net: artRate, gross: artGross } },
        otaSwarm: { served: ota.served, byEndpoint: ota.byEndpoint, succeeded: ota.succeeded, finalStates: finalStates(ota.report), scheduleLagP99Ms: ota.report?.harness.scheduleLagMs.p99, cpuS: ota.run.cpuS, peakRssBytes: ota.run.peakRssBytes, wallS: ota.run.wallS, baseline: { served: otaBase.served, cpuS: otaBase.run.cpuS, peakRssBytes: otaBase.run.peakRssBytes }, memoryPerDeviceBytes: otaMem, requestsPerCpuS: { net: otaRate, gross: otaGross } },
        measuredBy: 'requests: server counters (reset before each tool); CPU and peak RSS: getrusage of the tool process at exit (all threads); idle = the same tool run for one device',
      },
    };
  } finally {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await artilleryVsOtaSwarm(process.argv.slice(2));
  printTable(result.figures);
  for (const n of result.notes) console.log(`note: ${n}`);
  console.log(`results: ${saveResult(process.argv, NAME, result)}`);
}
