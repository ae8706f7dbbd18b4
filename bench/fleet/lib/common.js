// What every fleet benchmark shares: where things are, flags, the bench-only packages (with a
// one-line hint when they are missing), figures and the table they are printed in.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BENCH = join(ROOT, 'bench');
export const FLEET = join(BENCH, 'fleet');
export const CLI = join(ROOT, 'bin', 'ota-swarm.js');
export const USAGE_PRELOAD = join(FLEET, 'lib', 'usage-preload.cjs');

/** Exit status of a benchmark that could not run at all (missing build or packages). */
export const EXIT_SETUP = 2;

export function fail(line) {
  console.error(`bench: ${line}`);
  process.exit(EXIT_SETUP);
}

/** Stops with a one-line hint unless dist/ is built. */
export function requireDist() {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) fail('dist/ is missing; run `npm run build` first');
}

/** A package installed in bench/node_modules, or a one-line hint and exit 2. */
export function requireBenchPackage(name) {
  if (!existsSync(join(BENCH, 'node_modules', name))) {
    fail(`${name} is not installed in bench/node_modules; run \`cd bench && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install\` first`);
  }
  return createRequire(join(BENCH, 'package.json'))(name);
}

/** Path of a bench package's file (e.g. a CLI entry), or a one-line hint and exit 2. */
export function benchPackagePath(name, file) {
  const path = join(BENCH, 'node_modules', name, file);
  if (!existsSync(path)) {
    fail(`${name} is not installed in bench/node_modules; run \`cd bench && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install\` first`);
  }
  return path;
}

/** `--name value` from argv, or the fallback. */
export function flag(argv, name, fallback) {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) fail(`--${name}: needs a value`);
  return v;
}

/** A positive number flag; one-line error naming the flag otherwise. */
export function numberFlag(argv, name, fallback, { integer = false } = {}) {
  const raw = flag(argv, name, undefined);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) fail(`--${name}: expected a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  return v;
}

export function scratchDir(label) {
  return mkdtempSync(join(tmpdir(), `ota-bench-${label}-`));
}

export const MiB = 1024 * 1024;
export const round = (x, digits = 0) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);
export const mib = (bytes) => `${round(bytes / MiB, 1)} MiB`;
export const kib = (bytes) => `${round(bytes / 1024, 2)} KiB`;
export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);

/**
 * One printed figure. `goal` is words (`<= 1.5 KiB`), `met` true/false/undefined (no goal).
 * Benchmarks report; they never fail on a missed goal.
 */
export function figure(bench, name, value, goal = '', met = undefined) {
  return { bench, name, value: String(value), goal, verdict: met === undefined ? '' : met ? 'met' : 'MISSED' };
}

/** Prints figures as one aligned table. */
export function printTable(rows, out = process.stdout) {
  const head = { bench: 'bench', name: 'figure', value: 'value', goal: 'goal', verdict: '' };
  const all = [head, ...rows];
  const cols = Object.keys(head);
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...all.map((r) => String(r[c] ?? '').length))]));
  const line = (r) => cols.map((c) => String(r[c] ?? '').padEnd(width[c])).join('  ').trimEnd();
  out.write(`${line(head)}\n${cols.map((c) => '-'.repeat(width[c])).join('  ')}\n`);
  for (const r of rows) out.write(`${line(r)}\n`);
}

/** Writes the result file run.js reads (`--result FILE`) and a dated copy in bench/results/. */
export function saveResult(argv, name, result) {
  const text = `${JSON.stringify({ bench: name, at: new Date().toISOString(), node: process.version, ...result }, null, 2)}\n`;
  const target = flag(argv, 'result', undefined);
  if (target) writeFileSync(target, text);
  const dir = join(BENCH, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, text);
  return file;
}

/**
 * Peak heap and RSS from now on, sampled every 20 ms and at each `sample()` until `stop()`.
 * `base` is the usage after a GC (when exposed); `restartHeap()` starts a new heap peak (a second phase).
 */
export function memoryPeaks() {
  global.gc?.();
  const base = process.memoryUsage();
  const peak = { heap: base.heapUsed, rss: base.rss };
  const sample = () => {
    const m = process.memoryUsage();
    if (m.heapUsed > peak.heap) peak.heap = m.heapUsed;
    if (m.rss > peak.rss) peak.rss = m.rss;
  };
  const timer = setInterval(sample, 20);
  return {
    base,
    peak,
    sample,
    restartHeap: () => (peak.heap = process.memoryUsage().heapUsed),
    stop: () => {
      clearInterval(timer);
      sample();
    },
  };
}
