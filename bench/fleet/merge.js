#!/usr/bin/env node
// (m) Merge: `ota-swarm merge` over S synthetic shard reports of D devices each (100 × 100,000 by
// default: a ten-million-device fleet). Each shard folder holds what a real shard writes: report.json
// (six OneNET operations with their three HdrHistograms each, holding the shard's requests: a check
// and 12 download chunks a device; an hour of real and virtual series; eleven verdicts; the lag
// histograms), violations.jsonl (one violation in 10,000 devices) and finals.jsonl (every device,
// sorted). The histograms are drawn once per shard variant from lognormal latencies and recorded
// with counts, so generating is bounded; the merge itself (runMerge, the command's own function:
// read, merge, write report.json, HTML, JUnit, violations.jsonl and finals.jsonl) is timed, and its
// memory sampled every 20 ms.
//
//   node --expose-gc bench/fleet/merge.js [--shards 100] [--devices 100000] [--finals 1|0] [--result FILE]
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import * as hdr from 'hdr-histogram-js';
import { figure, flag, memoryPeaks, mib, numberFlag, printTable, requireDist, round, saveResult, scratchDir, ROOT } from './lib/common.js';

const NAME = 'merge';
/** Distinct histogram sets: shards cycle through them (real shards differ; the merge work does not depend on which). */
const VARIANTS = 8;
/** Distinct latencies recorded per histogram, each with its count. */
const POINTS = 2000;
const OPS = { reportVersion: 2, check: 1, tokenCheck: 1, download: 12, progress: 3, result: 2 };
const HOUR_S = 3600;

/** Deterministic uniform in [0, 1). */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** An encoded histogram of `count` latencies (µs), lognormal around `medianMs`, in POINTS values with counts. */
function histogram(count, medianMs, seed) {
  const h = hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  const next = rng(seed);
  let left = count;
  for (let p = 0; p < POINTS && left > 0; p++) {
    const n = p === POINTS - 1 ? left : Math.min(left, Math.round(count / POINTS));
    const z = Math.sqrt(-2 * Math.log(next() || 1e-9)) * Math.cos(2 * Math.PI * next());
    h.recordValueWithCount(Math.max(1, Math.round(medianMs * 1000 * Math.exp(0.6 * z))), n);
    left -= n;
  }
  return hdr.encodeIntoCompressedBase64(h);
}

function operations(devices, variant) {
  const ops = {};
  let k = 0;
  for (const [op, perDevice] of Object.entries(OPS)) {
    const count = devices * perDevice;
    const seed = variant * 100 + k++;
    const latency = histogram(count, 40 + variant, seed);
    const service = histogram(count, 25 + variant, seed + 7);
    const queued = histogram(count, 5, seed + 13);
    ops[op] = { count, errors: Math.floor(count / 500), byOutcome: { 'errno:0': count - Math.floor(count / 500), 'net:ECONNRESET': Math.floor(count / 500) }, latencyMs: { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 }, serviceMs: { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 }, histogram: latency, serviceHistogram: service, queuedHistogram: queued };
  }
  return ops;
}

const series = (devices) => {
  const per = Math.floor(devices / HOUR_S);
  const fill = (v) => new Array(HOUR_S).fill(v);
  return { bucketSeconds: 1, t: Array.from({ length: HOUR_S }, (_, i) => i), requests: fill(per * 21), errors: fill(Math.floor(per / 20)), arrivals: fill(per) };
};

const RULES = ['final-state-agreement', 'coap-retransmit', 'one-success-per-task', 'own-token', 'resume-from-held', 'restart-on-republish', 'gating', 'failure-codes', 'token-renewal', 'expected-failures', 'stale-task'];

function shardReport(index, shards, devices, variantOps, finals) {
  const lag = histogram(360_000, 1, 99);
  return {
    format: 1,
    scenario: 'bench-merge',
    target: 'http://127.0.0.1:8080',
    dialect: 'onenet',
    seed: 42,
    timeScale: 1,
    startedAt: '2026-12-01T13:00:00.000Z',
    virtualStartMs: Date.parse('2026-12-01T13:00:00.000Z'),
    durationMs: HOUR_S * 1000,
    virtualDurationMs: HOUR_S * 1000,
    devices: { total: devices, byFinalState: { succeeded: devices - 10, failed: 10 }, started: devices },
    operations: variantOps,
    transitions: { checked: devices, violations: 0, byRule: {}, unfinished: 0, samples: [], serverAgreement: { status: 'judged', checked: 2000, disagreements: 0, samples: [] } },
    verdicts: RULES.map((rule, r) => ({ rule, description: rule, status: r % 4 === 1 ? 'not-judged' : 'judged', ...(r % 4 === 1 ? { reason: 'none of the devices judged is one it applies to' } : {}), checked: r % 4 === 1 ? 0 : devices, violations: rule === 'one-success-per-task' ? Math.floor(devices / 10_000) : 0, counts: { seen: devices }, samples: [] })),
    violationsFile: 'violations.jsonl',
    ...(finals ? { devicesFile: 'finals.jsonl' } : {}),
    expectations: [
      { name: 'check.p99 < 500ms', passed: true, detail: '' },
      { name: 'devices.succeeded >= 99%', passed: true, detail: '' },
      { name: 'verdicts.violations == 0', passed: false, detail: '' },
    ],
    harness: { workers: 3, eventLoopLagMs: { p50: 1, p99: 5, max: 20 }, scheduleLagMs: { p50: 1, p99: 5, max: 20 }, bottleneck: false, notes: [], lagHistograms: { eventLoop: lag, schedule: lag }, start: { at: '2026-12-01T13:00:00.000Z', lateByMs: index % 7, clockSkew: { ms: 0, resolutionMs: 1000 } } },
    timeseries: { real: series(devices), virtual: series(devices), states: { t: Array.from({ length: HOUR_S }, (_, i) => i), byCategory: { asleep: new Array(HOUR_S).fill(devices / 2), succeeded: new Array(HOUR_S).fill(devices / 2) } } },
    interrupted: false,
    endedBy: 'completed',
    errors: [],
    fleetSlice: { index, count: shards, devices, fleetDevices: devices * shards },
    passed: false,
  };
}

async function writeShard(dir, index, shards, devices, variantOps, finals) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), JSON.stringify(shardReport(index, shards, devices, variantOps, finals)));
  const violations = [];
  for (let k = 0; k < Math.floor(devices / 10_000); k++) violations.push(`${JSON.stringify({ device: String(522700000 + index + k * 10_000 * shards), rule: 'one-success-per-task', reason: 'two 201 results', trace: [] })}\n`);
  writeFileSync(join(dir, 'violations.jsonl'), violations.join(''));
  if (!finals) return;
  // finals.jsonl: the slice's devices (fleet index index + k·shards), sorted by id as a shard writes it.
  const ids = Array.from({ length: devices }, (_, k) => String(522700000 + index + k * shards)).sort();
  const out = createWriteStream(join(dir, 'finals.jsonl'));
  for (const id of ids) if (!out.write(`{"device":"${id}","state":"succeeded"}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

export async function mergeBench(argv) {
  requireDist();
  const shards = numberFlag(argv, 'shards', 100, { integer: true });
  const devices = numberFlag(argv, 'devices', 100_000, { integer: true });
  const finals = flag(argv, 'finals', '1') !== '0';
  const { runMerge } = await import(pathToFileURL(join(ROOT, 'dist', 'cli', 'merge-command.js')).href);
  const scratch = scratchDir('merge');
  try {
    const t0 = performance.now();
    const variants = Array.from({ length: Math.min(VARIANTS, shards) }, (_, v) => operations(devices, v));
    const dirs = [];
    for (let i = 0; i < shards; i++) {
      const dir = join(scratch, `shard-${i}`);
      await writeShard(dir, i, shards, devices, variants[i % variants.length], finals);
      dirs.push(dir);
    }
    const generateMs = performance.now() - t0;
    const size = (f) => { try { return statSync(f).size; } catch { return 0; } };
    const inputBytes = dirs.reduce((n, d) => n + size(join(d, 'report.json')) + size(join(d, 'finals.jsonl')) + size(join(d, 'violations.jsonl')), 0);
    variants.length = 0;
    const memory = memoryPeaks();
    const { base } = memory;
    const out = join(scratch, 'merged');
    let printed = '';
    const t1 = performance.now();
    const code = await runMerge({ dirs, out }, { out: (t) => (printed += t), err: (t) => (printed += t) });
    const mergeMs = performance.now() - t1;
    memory.stop();
    const { heap: peakHeap, rss: peakRss } = memory.peak;
    const merged = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const finalsLines = finals ? statSync(join(out, 'finals.jsonl')).size / `{"device":"522700000","state":"succeeded"}\n`.length : 0;
    const check = merged.operations.check;
    const figures = [
      figure('(m) merge', `shards × devices merged`, `${shards} × ${devices.toLocaleString('en-US')} = ${merged.devices.total.toLocaleString('en-US')}`, `= ${(shards * devices).toLocaleString('en-US')}`, merged.devices.total === shards * devices && merged.merged.slices.every((s) => s.status === 'merged')),
      figure('(m) merge', 'check requests in the merged histogram', `${check.count.toLocaleString('en-US')}`, `= ${(shards * devices).toLocaleString('en-US')}`, check.count === shards * devices),
      figure('(m) merge', 'finals.jsonl lines (merged, sorted)', finals ? `${Math.round(finalsLines).toLocaleString('en-US')}` : 'none (--finals 0)'),
      figure('(m) merge', 'merge time (read, merge, write all outputs)', `${round(mergeMs / 1000, 1)} s`),
      figure('(m) merge', 'peak heap / RSS above baseline', `${mib(peakHeap - base.heapUsed)} / ${mib(peakRss - base.rss)}`),
      figure('(m) merge', 'input read (reports, finals, violations)', mib(inputBytes)),
      figure('(m) merge', 'exit status (the synthetic shards violate one rule)', String(code), '= 1', code === 1),
    ];
    return {
      figures,
      notes: global.gc ? [] : ['run with node --expose-gc for steadier baselines'],
      details: { shards, devices, generateMs, mergeMs, inputBytes, baseHeapBytes: base.heapUsed, peakHeapBytes: peakHeap, baseRssBytes: base.rss, peakRssBytes: peakRss, checkP99Ms: check.latencyMs.p99, measuredBy: 'process.memoryUsage() sampled every 20 ms around runMerge, in this process' },
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await mergeBench(process.argv.slice(2));
  printTable(result.figures);
  for (const n of result.notes) console.log(`note: ${n}`);
  console.log(`results: ${saveResult(process.argv, NAME, result)}`);
}
