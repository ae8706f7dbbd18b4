#!/usr/bin/env node
// Benchmark (a): a million PSM devices over a simulated day, at a time scale that fits the day in
// under ten minutes (default ×160: 540 s), bench/fleet/scenarios/million-day.yaml. The reference
// server runs in its own process (`ota-swarm serve --catalog bench/fleet/catalogs/million.yaml
// --time-scale K`), so the harness's memory and CPU are the harness's alone.
//
// Figures: peak RSS of the harness process (getrusage at exit: main thread and every worker)
// in all and per device (goal: at most 1.5 KB a device, 1.5 GB in all); schedule lag p99 from the
// report (how late device timers fired; goal: at most 10 ms); requests made; devices by final
// state. Reported as measured, goals met or not.
//
//   node bench/fleet/million.js [--devices 1000000] [--time-scale 160|max] [--workers N]
//
// At `--time-scale max` the server runs with `--time-scale max` too and the day takes as long as the
// work does; the schedule lag is then not measured (nothing is scheduled on a wall clock).
//
// Try it at --devices 100000 first.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FLEET, figure, flag, kib, mib, numberFlag, printTable, requireDist, round, saveResult } from './lib/common.js';
import { readProc, runTrouble } from './lib/proc.js';
import { startReferenceServer } from './lib/server.js';
import { finalStates, runOtaSwarm } from './lib/ota-swarm.js';

const NAME = 'million';
const SCENARIO = join(FLEET, 'scenarios', 'million-day.yaml');
const IDLE_SCENARIO = join(FLEET, 'scenarios', 'check-only.yaml');
const CATALOG = join(FLEET, 'catalogs', 'million.yaml');
const DAY_S = 86_400;
const GOAL_BYTES_PER_DEVICE = 1.5 * 1024;
const GOAL_TOTAL_BYTES = 1.5 * 1024 ** 3;
const GOAL_LAG_P99_MS = 10;
const PROGRESS_EVERY_MS = 60_000;

export async function million(argv) {
  requireDist();
  const devices = numberFlag(argv, 'devices', 1_000_000, { integer: true });
  const timeScale = flag(argv, 'time-scale', undefined) === 'max' ? 'max' : numberFlag(argv, 'time-scale', 160);
  const workers = numberFlag(argv, 'workers', undefined, { integer: true });
  const say = (line) => process.stderr.write(`[a] ${line}\n`);
  // Under max, as long as it takes: bounded by the scenario's own 15 min cap.
  const realDayS = timeScale === 'max' ? 900 : DAY_S / timeScale;

  const server = await startReferenceServer({ catalog: CATALOG, timeScale });
  try {
    say('baseline: the harness for 1 device');
    const idle = await runOtaSwarm({ scenario: IDLE_SCENARIO, target: server.url, devices: 1, workers, deadlineMs: 60_000 });
    await server.reset();

    say(`${devices.toLocaleString('en-US')} devices over a virtual day at ×${timeScale}${timeScale === 'max' ? '' : ` (${Math.round(realDayS)} s real)`}`);
    const serverCpu0 = server.cpuS();
    let ticker;
    const t0 = Date.now();
    const r = await runOtaSwarm({
      scenario: SCENARIO,
      target: server.url,
      devices,
      timeScale,
      workers,
      adminToken: server.adminToken,
      deadlineMs: (realDayS + 300) * 1000,
      onStart: (pid) => {
        ticker = setInterval(() => {
          void server
            .requestsServed()
            .then((s) => say(`  ${Math.round((Date.now() - t0) / 1000)} s: ${s.total.toLocaleString('en-US')} requests served, harness RSS ${mib(readProc(pid)?.rssBytes ?? NaN)}`))
            .catch(() => {});
        }, PROGRESS_EVERY_MS);
      },
    });
    clearInterval(ticker);
    const serverCpuS = server.cpuS() - serverCpu0;
    const serverPeakRss = readProc(server.pid)?.hwmBytes ?? NaN;
    const served = await server.requestsServed();
    if (!r.report) throw new Error(`the harness wrote no report: ${r.run.stderr.trim().split('\n').pop() ?? `exit ${r.run.code}`}`);
    const report = r.report;
    const peak = r.run.peakRssBytes;
    const perDevice = peak / devices;
    const perDeviceNet = (peak - idle.run.peakRssBytes) / devices;
    const lag = report.harness.scheduleLagMs;
    const A = timeScale === 'max' ? '(a) million/day ×max' : '(a) million/day';
    const lagFigure =
      timeScale === 'max' ? figure(A, 'schedule lag p99 (max)', 'not measured (×max)')
      : figure(A, 'schedule lag p99 (max)', `${round(lag.p99, 2)} ms (${round(lag.max, 1)} ms)`, `<= ${GOAL_LAG_P99_MS} ms`, lag.p99 <= GOAL_LAG_P99_MS);
    const figures = [
      figure(A, 'devices; time scale; real time', `${devices.toLocaleString('en-US')}; ×${timeScale}; ${round(report.durationMs / 1000)} s (virtual ${round(report.virtualDurationMs / 3_600_000, 1)} h, ended by ${report.endedBy})`),
      figure(A, 'harness peak RSS', `${mib(peak)} (idle ${mib(idle.run.peakRssBytes)})`, `<= ${mib(GOAL_TOTAL_BYTES)}`, peak <= GOAL_TOTAL_BYTES),
      figure(A, 'harness peak RSS / device', `${kib(perDevice)} (${kib(perDeviceNet)} above idle)`, `<= ${kib(GOAL_BYTES_PER_DEVICE)}`, perDevice <= GOAL_BYTES_PER_DEVICE),
      lagFigure,
      figure(A, 'event-loop lag p99', `${round(report.harness.eventLoopLagMs.p99, 2)} ms`),
      figure(A, 'requests made (server counted)', `${r.requests.toLocaleString('en-US')} (${served.total.toLocaleString('en-US')})`),
      figure(A, 'devices by final state', finalStates(report)),
      figure(A, 'CPU-s: harness, server', `${round(r.run.cpuS, 1)}, ${round(serverCpuS, 1)}`),
      figure(A, 'server peak RSS (own process)', mib(serverPeakRss)),
      figure(A, 'check latency p99 (service p99)', report.operations.check ? `${round(report.operations.check.latencyMs.p99, 1)} ms (${round(report.operations.check.serviceMs.p99, 1)} ms)` : 'no checks'),
    ];
    const notes = [runTrouble('harness', r.run), ...report.harness.notes.map((n) => `harness: ${n}`), ...report.errors.map((e) => `run: ${e}`)].filter(Boolean);
    return {
      figures,
      notes,
      details: {
        devices,
        timeScale,
        workers: report.harness.workers,
        peakRssBytes: peak,
        idlePeakRssBytes: idle.run.peakRssBytes,
        bytesPerDevice: perDevice,
        bytesPerDeviceAboveIdle: perDeviceNet,
        rssSeries: r.run.rssSeries.filter((_, i) => i % 25 === 0),
        scheduleLagMs: lag,
        eventLoopLagMs: report.harness.eventLoopLagMs,
        requests: r.requests,
        requestsServed: served.total,
        byEndpoint: served.byEndpoint,
        byFinalState: report.devices.byFinalState,
        transitions: { checked: report.transitions.checked, violations: report.transitions.violations, unfinished: report.transitions.unfinished, serverAgreement: report.transitions.serverAgreement && { checked: report.transitions.serverAgreement.checked, disagreements: report.transitions.serverAgreement.disagreements } },
        durationMs: report.durationMs,
        virtualDurationMs: report.virtualDurationMs,
        endedBy: report.endedBy,
        harnessCpuS: r.run.cpuS,
        serverCpuS,
        serverPeakRssBytes: serverPeakRss,
        requestsPerRealSecond: report.timeseries?.real.requests,
        bottleneck: report.harness.bottleneck,
        measuredBy: 'peak RSS and CPU: getrusage of the harness process at exit (all threads); lags and requests: report.json; server in its own process',
      },
    };
  } finally {
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await million(process.argv.slice(2));
  printTable(result.figures);
  for (const n of result.notes) console.log(`note: ${n}`);
  console.log(`results: ${saveResult(process.argv, NAME, result)}`);
}
