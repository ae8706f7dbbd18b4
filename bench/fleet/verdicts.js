#!/usr/bin/env node
// (v) Verdict memory per device: N synthetic OneNET devices' evidence (a whole upgrade each, one in
// a thousand answering its 201 twice) spilled the way a worker spills it (verdicts/spill.ts), then
// judged by every OneNET rule the way a run judges it (verdicts/run.ts: batches read back from the
// spill file, every violation streamed to violations.jsonl). Memory is sampled all along; the
// figure is the peak heap above the baseline, divided by the devices. Bounded memory means that
// figure falls as N grows (a constant plus one batch), and every device is judged.
//
//   node bench/fleet/verdicts.js [--devices 1000000] [--result FILE]
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { rmSync, statSync } from 'node:fs';
import { figure, kib, memoryPeaks, mib, numberFlag, printTable, requireDist, round, saveResult, scratchDir, ROOT } from './lib/common.js';

const NAME = 'verdicts';

/** One device's evidence: reportVersion, check, tokenCheck, 12 ranged downloads, progress, results, reportVersion. */
function deviceEvidence(i) {
  const id = String(522700000 + i);
  const token = `ota_${i.toString(36).padStart(12, '0')}`;
  const xs = [];
  let t = i % 10_000;
  const push = (op, outcome, state, facts) => {
    xs.push({ decided: t, sent: t, answered: t + 20, op, outcome, state, facts });
    t += 40;
  };
  push('reportVersion', 'errno:0', 'checking', { version: 'V1.0', errno: 0 });
  push('check', 'errno:0', 'token-checking', { version: 'V1.0', manuf: '101', model: '10101', signal: 25, battery: 100, errno: 0, offerToken: token, offerMd5: 'cebe3d1d00000000', offerSize: 196608, offerSignal: 5, offerPower: 20 });
  push('tokenCheck', 'errno:0', 'downloading', { token, errno: 0 });
  for (let k = 0; k < 12; k++) {
    const start = k * 16384;
    push('download', 'bytes', k === 11 ? 'reporting-downloaded' : 'downloading', { token, start, end: start + 16383, status: 206, bytes: 16384, rangeStart: start, held: start + 16384, ...(k === 11 ? { md5: 'cebe3d1d00000000' } : {}) });
  }
  push('result', 'errno:0', 'rebooting', { token, step: 101, errno: 0 });
  push('result', 'errno:0', 'reporting-new-version', { token, step: 201, errno: 0 });
  if (i % 1000 === 0) push('result', 'errno:0', 'reporting-new-version', { token, step: 201, errno: 0 });
  push('reportVersion', 'errno:0', 'succeeded', { version: 'V2.0', errno: 0 });
  return {
    id,
    index: i,
    cohort: 'c',
    profile: { version: 'V1.0', manuf: '101', model: '10101', core: '', signal: 25, battery: 100, taskType: 2 },
    behaviour: { corruptDownload: false, rebootIntoOld: false },
    final: { kind: 'succeeded', code: 201, version: 'V2.0' },
    exchanges: xs,
    truncated: 0,
  };
}

export async function verdictsBench(argv) {
  requireDist();
  const devices = numberFlag(argv, 'devices', 1_000_000, { integer: true });
  const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
  const { EvidenceSpill } = await dist('verdicts/spill.js');
  const { runVerdicts } = await dist('verdicts/run.js');
  const { openViolationsFile } = await dist('verdicts/violations-file.js');
  const { parseScenario } = await dist('scenario/load.js');
  const scenario = parseScenario(['dialect: onenet', 'target: { onenet: { productId: "198290" } }', 'fleet:', '  cohorts:', '    - { name: c, count: 2, ids: "1..9", version: V1.0 }'].join('\n'), 'bench.yaml');
  const scratch = scratchDir('verdicts');
  try {
    const memory = memoryPeaks();
    const { base, sample } = memory;

    // A running device's evidence, held in memory until it stops (what a worker holds per live device).
    const held = Array.from({ length: 10_000 }, (_, i) => deviceEvidence(i));
    global.gc?.();
    const heldBytes = (process.memoryUsage().heapUsed - base.heapUsed) / held.length;
    held.length = 0;
    global.gc?.();

    // The worker side: every stopped device spilled.
    const file = join(scratch, 'worker-0.jsonl');
    const spill = new EvidenceSpill(file);
    const t0 = performance.now();
    for (let i = 0; i < devices; i++) {
      spill.append(deviceEvidence(i));
      if (i % 5000 === 0) sample();
    }
    spill.close();
    const spillMs = performance.now() - t0;
    const spillPeakHeap = memory.peak.heap;
    global.gc?.();

    // The main thread: judged in batches, every violation to violations.jsonl.
    const judgeBase = memory.restartHeap();
    const out = await openViolationsFile(join(scratch, 'violations.jsonl'));
    const t1 = performance.now();
    const verdicts = await runVerdicts({ scenario, batches: [{ file, seen: devices, stored: devices, originVirtual: 0 }], events: [], originVirtual: 0, violations: (l) => out.write(l) });
    await out.close();
    const judgeMs = performance.now() - t1;
    memory.stop();
    const { heap: peakHeap, rss: peakRss } = memory.peak;
    const one = verdicts.find((v) => v.rule === 'one-success-per-task');
    const expected = Math.ceil(devices / 1000);
    const perDevice = (peakHeap - base.heapUsed) / devices;
    const figures = [
      figure('(v) verdicts', `devices judged (one-success-per-task checked)`, `${one?.checked} of ${devices}`, `= ${devices}`, one?.checked === devices),
      figure('(v) verdicts', 'violations found (1 in 1,000 seeded)', `${one?.violations} of ${expected}`, `= ${expected}`, one?.violations === expected),
      figure('(v) verdicts', 'peak heap above baseline ÷ devices, judging', kib(perDevice), '<= 0.25 KiB at 1,000,000', devices < 1_000_000 ? undefined : perDevice <= 256),
      figure('(v) verdicts', 'peak heap, spilling / judging', `${mib(spillPeakHeap - base.heapUsed)} / ${mib(peakHeap - judgeBase)}`),
      figure('(v) verdicts', 'heap per running device (held until it stops)', kib(heldBytes)),
      figure('(v) verdicts', 'spill file per device', kib(statSync(file).size / devices)),
      figure('(v) verdicts', 'spill / judge time', `${round(spillMs / 1000, 1)} s / ${round(judgeMs / 1000, 1)} s`),
    ];
    return {
      figures,
      notes: global.gc ? [] : ['run with node --expose-gc for steadier baselines'],
      details: { devices, baseHeapBytes: base.heapUsed, peakHeapBytes: peakHeap, peakRssBytes: peakRss, rssAboveBaseBytes: peakRss - base.rss, heapPerRunningDeviceBytes: heldBytes, spillBytes: statSync(file).size, spillMs, judgeMs, measuredBy: 'process.memoryUsage() sampled every 20 ms and every 5,000 devices spilled' },
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await verdictsBench(process.argv.slice(2));
  printTable(result.figures);
  for (const n of result.notes) console.log(`note: ${n}`);
  console.log(`results: ${saveResult(process.argv, NAME, result)}`);
}
