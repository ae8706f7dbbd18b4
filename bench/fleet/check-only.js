#!/usr/bin/env node
// Benchmark (c): what a request costs the load generator, ota-swarm against autocannon, in the
// same run and against the same reference server (its own process, bench catalog).
//
// Both send the same two calls per device: POST /ota/device/version, then GET /ota/south/check,
// answered errno 0 and errno 11 ("no task"). autocannon repeats them for one device over 50
// connections for --duration seconds; ota-swarm drives --devices devices of
// bench/fleet/scenarios/check-only.yaml (50 connections, 50 in flight), each a state machine whose
// every request goes through histograms and a transition log. Requests are counted by the
// server (its /admin/counters, reset before each tool); CPU is the tool's whole process (every
// thread) by getrusage at exit. Rounds alternate the tools so drift on a shared machine hits both.
//
//   node bench/fleet/check-only.js [--duration 10] [--connections 50] [--devices 40000] [--rounds 2] [--workers 1]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FLEET, figure, numberFlag, printTable, ratio, requireBenchPackage, requireDist, round, saveResult, mib } from './lib/common.js';
import { runMeasured, runTrouble } from './lib/proc.js';
import { startReferenceServer } from './lib/server.js';
import { demoKey, finalStates, runOtaSwarm } from './lib/ota-swarm.js';

const NAME = 'check-only';
const SCENARIO = join(FLEET, 'scenarios', 'check-only.yaml');
const CATALOG = join(FLEET, 'catalogs', 'million.yaml');
const AUTOCANNON_CHILD = join(FLEET, 'lib', 'autocannon-child.js');
const AUTOCANNON_DEVICE = '600100000';
const GOAL_RATIO = 0.5;

export async function checkOnly(argv) {
  requireDist();
  requireBenchPackage('autocannon');
  const durationS = numberFlag(argv, 'duration', 10);
  const connections = numberFlag(argv, 'connections', 50, { integer: true });
  const devices = numberFlag(argv, 'devices', 40_000, { integer: true });
  const rounds = numberFlag(argv, 'rounds', 2, { integer: true });
  const workers = numberFlag(argv, 'workers', 1, { integer: true });
  const say = (line) => process.stderr.write(`[c] ${line}\n`);

  const { buildAuthorization } = await import('../../dist/protocol/token.js');
  const server = await startReferenceServer({ catalog: CATALOG });
  try {
    const et = Math.floor(Date.now() / 1000) + 10 * 365 * 86_400;
    const authorization = buildAuthorization(await demoKey(), { res: 'products/198290', et, method: 'sha1' });
    const headers = { authorization, 'content-type': 'application/json' };
    const versionPath = `/ota/device/version?dev_id=${AUTOCANNON_DEVICE}`;
    const checkPath = `/ota/south/check?dev_id=${AUTOCANNON_DEVICE}&manuf=101&model=10101&type=2&version=V1.0&signals=20&powers=80&cdn=false`;
    const requests = [
      { method: 'POST', path: versionPath, body: JSON.stringify({ s_version: 'V1.0' }) },
      { method: 'GET', path: checkPath },
    ];
    // The calls must answer what ota-swarm's devices get, or the comparison is of different work.
    const v = await (await fetch(`${server.url}${versionPath}`, { method: 'POST', headers, body: requests[0].body })).json();
    const c = await (await fetch(`${server.url}${checkPath}`, { headers })).json();
    if (v.errno !== 0 || c.errno !== 11) throw new Error(`probe: version answered ${JSON.stringify(v)}, check ${JSON.stringify(c)} (expected errno 0 and 11)`);

    const autocannon = async (job, deadlineMs) => {
      await server.reset();
      const run = await runMeasured({ args: [AUTOCANNON_CHILD], env: { OTA_BENCH_AUTOCANNON: JSON.stringify({ url: server.url, headers, requests, ...job }) }, deadlineMs });
      const line = run.stdout.trim().split('\n').pop() ?? '';
      const own = line.startsWith('{') ? JSON.parse(line) : undefined;
      if (!own) throw new Error(`autocannon gave no result: ${run.stderr.trim().split('\n').pop() ?? `exit ${run.code}`}`);
      return { run, own, served: (await server.requestsServed()).total };
    };
    const otaSwarm = async (n) => {
      await server.reset();
      const r = await runOtaSwarm({ scenario: SCENARIO, target: server.url, devices: n, workers, deadlineMs: 180_000 });
      if (!r.report) throw new Error(`ota-swarm wrote no report: ${r.run.stderr.trim().split('\n').pop() ?? `exit ${r.run.code}`}`);
      return { ...r, served: (await server.requestsServed()).total };
    };

    // Baselines: each tool started for one request's worth of work; what it costs is start-up.
    say('baselines: autocannon for 1 request, ota-swarm for 1 device');
    const acBase = await autocannon({ connections: 1, amount: 1 }, 60_000);
    const otaBase = await otaSwarm(1);

    const ac = { requests: 0, cpuS: 0, peakRss: 0, errors: 0, trouble: [] };
    const ota = { requests: 0, cpuS: 0, peakRss: 0, errors: 0, trouble: [], states: [], lagP99: [] };
    for (let round = 1; round <= rounds; round++) {
      say(`round ${round}/${rounds}: autocannon, ${connections} connections, ${durationS} s`);
      const a = await autocannon({ connections, duration: durationS }, (durationS + 60) * 1000);
      ac.requests += a.served;
      ac.cpuS += a.run.cpuS;
      ac.peakRss = Math.max(ac.peakRss, a.run.peakRssBytes);
      ac.errors += a.own.errors + a.own.timeouts + a.own.non2xx;
      const at = runTrouble('autocannon', a.run);
      if (at) ac.trouble.push(at);
      say(`  autocannon: ${a.served} requests served, ${a.run.cpuS.toFixed(2)} CPU-s, ${mib(a.run.peakRssBytes)} peak RSS`);

      say(`round ${round}/${rounds}: ota-swarm, ${devices} devices, ${workers} worker(s)`);
      const o = await otaSwarm(devices);
      ota.requests += o.served;
      ota.cpuS += o.run.cpuS;
      ota.peakRss = Math.max(ota.peakRss, o.run.peakRssBytes);
      ota.errors += Object.values(o.report.operations).reduce((n, op) => n + op.errors, 0);
      ota.states.push(finalStates(o.report));
      ota.lagP99.push(o.report.harness.scheduleLagMs.p99);
      const ot = runTrouble('ota-swarm', o.run);
      if (ot) ota.trouble.push(ot);
      say(`  ota-swarm: ${o.served} requests served (report: ${o.requests}), ${o.run.cpuS.toFixed(2)} CPU-s, ${mib(o.run.peakRssBytes)} peak RSS, ${o.report.durationMs} ms`);
    }

    const net = (tool, base, n) => ratio(tool.requests - n * base.served, tool.cpuS - n * base.run.cpuS);
    const acGross = ratio(ac.requests, ac.cpuS);
    const otaGross = ratio(ota.requests, ota.cpuS);
    const acNet = net(ac, acBase, rounds);
    const otaNet = net(ota, otaBase, rounds);
    const r = ratio(otaNet, acNet);
    const rGross = ratio(otaGross, acGross);
    const figures = [
      figure('(c) check-only', 'autocannon: requests / CPU-s', `${Math.round(acNet)} (${Math.round(acGross)} with start-up)`),
      figure('(c) check-only', 'ota-swarm: requests / CPU-s', `${Math.round(otaNet)} (${Math.round(otaGross)} with start-up)`),
      figure('(c) check-only', 'ota-swarm / autocannon', `${round(r, 2)} (${round(rGross, 2)} with start-up)`, `>= ${GOAL_RATIO}`, r >= GOAL_RATIO),
      figure('(c) check-only', 'requests (autocannon, ota-swarm)', `${ac.requests}, ${ota.requests} in ${rounds} round(s)`),
      figure('(c) check-only', 'CPU-s (autocannon, ota-swarm)', `${round(ac.cpuS, 2)}, ${round(ota.cpuS, 2)} (start-up ${round(acBase.run.cpuS, 2)}, ${round(otaBase.run.cpuS, 2)} per run)`),
    ];
    const notes = [...ac.trouble, ...ota.trouble];
    if (ac.errors > 0) notes.push(`autocannon: ${ac.errors} errors, timeouts or non-2xx answers`);
    if (ota.errors > 0) notes.push(`ota-swarm: ${ota.errors} errors`);
    return {
      figures,
      notes,
      details: {
        durationS,
        connections,
        devices,
        rounds,
        workers,
        autocannon: { ...ac, baseline: { cpuS: acBase.run.cpuS, peakRssBytes: acBase.run.peakRssBytes }, perCpuS: { net: acNet, gross: acGross } },
        otaSwarm: { ...ota, baseline: { cpuS: otaBase.run.cpuS, peakRssBytes: otaBase.run.peakRssBytes }, perCpuS: { net: otaNet, gross: otaGross } },
        ratio: { net: r, gross: rGross },
        measuredBy: 'requests: server counters; CPU and peak RSS: getrusage of the tool process at exit (all threads, start-up included); net = minus a one-request baseline run of the same tool',
      },
    };
  } finally {
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await checkOnly(process.argv.slice(2));
  printTable(result.figures);
  for (const n of result.notes) console.log(`note: ${n}`);
  console.log(`results: ${saveResult(process.argv, NAME, result)}`);
}
