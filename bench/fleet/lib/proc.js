// Runs one load tool as a child process and measures it: CPU seconds and peak RSS of the whole
// process (every thread), wall time, exit. Bounded: SIGTERM at the deadline, SIGKILL after grace.
//
// How it measures (Linux):
// - Primary: the child is started with NODE_OPTIONS=--require usage-preload.cjs, which on exit
//   writes getrusage(RUSAGE_SELF) of the process: user + system CPU over its whole life (start-up
//   included) and ru_maxrss (peak resident set). Exact, whatever happened in its last instants.
// - Fallback (the child was killed, or is not Node): /proc/<pid>/stat utime + stime and
//   /proc/<pid>/status VmHWM, polled every POLL_MS; the last poll before exit is kept.
// - Always: VmRSS polled every POLL_MS, so a time series of resident memory is at hand.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, USAGE_PRELOAD, scratchDir } from './common.js';

const POLL_MS = 200;
const CLOCK_TICKS = 100; // USER_HZ on Linux
const OUTPUT_CAP = 4 * 1024 * 1024;

/** utime + stime (s) and VmRSS / VmHWM (bytes) of a live process, or undefined once it is gone. */
export function readProc(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
    return { cpuS, rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

const live = new Set();
let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const child of live) child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** Keeps the tail of a stream, at most `cap` characters. */
function collector(cap) {
  let text = '';
  return {
    add(chunk) {
      text += chunk;
      if (text.length > cap) text = text.slice(text.length - cap);
    },
    get text() {
      return text;
    },
  };
}

/**
 * @param {object} o
 * @param {string[]} o.args arguments to node (script first)
 * @param {Record<string,string>} [o.env] added to this process's environment
 * @param {number} o.deadlineMs real ms after which the child is stopped
 * @param {number} [o.graceMs] real ms between SIGTERM and SIGKILL
 * @param {(line: string) => void} [o.onLine] each stdout line as it comes
 * @param {(pid: number) => void} [o.onStart] told the child's pid once it is spawned
 * @returns {Promise<{code, signal, timedOut, wallS, cpuS, userS, systemS, peakRssBytes, measuredBy, rssSeries, stdout, stderr}>}
 */
export async function runMeasured(o) {
  hookExit();
  const usageDir = scratchDir('usage');
  mkdirSync(usageDir, { recursive: true });
  const nodeOptions = [process.env.NODE_OPTIONS, `--require ${USAGE_PRELOAD}`].filter(Boolean).join(' ');
  const t0 = performance.now();
  const child = spawn(process.execPath, o.args, {
    cwd: ROOT,
    env: { ...process.env, ...o.env, NODE_OPTIONS: nodeOptions, OTA_BENCH_USAGE_DIR: usageDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  o.onStart?.(child.pid);
  const out = collector(OUTPUT_CAP);
  const err = collector(16 * 1024);
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    out.add(chunk);
    if (!o.onLine) return;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) o.onLine(line);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => err.add(chunk));

  let last;
  const rssSeries = [];
  const poll = setInterval(() => {
    const p = readProc(child.pid);
    if (!p) return;
    last = p;
    rssSeries.push([Math.round(performance.now() - t0), p.rssBytes]);
  }, POLL_MS);

  let timedOut = false;
  let killer;
  const deadline = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    killer = setTimeout(() => child.kill('SIGKILL'), o.graceMs ?? 20_000);
  }, o.deadlineMs);

  const [code, signal] = await new Promise((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  const wallS = (performance.now() - t0) / 1000;
  clearInterval(poll);
  clearTimeout(deadline);
  clearTimeout(killer);
  live.delete(child);
  // 'exit' can come before the pipes are drained.
  await Promise.all([new Promise((r) => (child.stdout.readableEnded ? r() : child.stdout.once('end', r))), new Promise((r) => (child.stderr.readableEnded ? r() : child.stderr.once('end', r)))]);

  let usage;
  try {
    const file = readdirSync(usageDir).find((f) => f === `${child.pid}.json`);
    if (file) usage = JSON.parse(readFileSync(join(usageDir, file), 'utf8'));
  } catch {
    usage = undefined;
  }
  rmSync(usageDir, { recursive: true, force: true });

  const base = { code, signal, timedOut, wallS, rssSeries, stdout: out.text, stderr: err.text };
  if (usage) {
    const userS = usage.userUs / 1e6;
    const systemS = usage.systemUs / 1e6;
    return { ...base, userS, systemS, cpuS: userS + systemS, peakRssBytes: usage.maxRssKiB * 1024, measuredBy: 'getrusage at exit' };
  }
  return { ...base, userS: NaN, systemS: NaN, cpuS: last?.cpuS ?? NaN, peakRssBytes: last?.hwmBytes ?? NaN, measuredBy: `/proc polled every ${POLL_MS} ms` };
}

/** One line saying why a measured run is not to be trusted, or undefined when it ran clean. */
export function runTrouble(label, r) {
  if (r.timedOut) return `${label}: stopped at its deadline after ${r.wallS.toFixed(0)} s`;
  if (r.signal) return `${label}: killed by ${r.signal}`;
  return undefined;
}
