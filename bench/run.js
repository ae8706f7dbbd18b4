#!/usr/bin/env node
// Every benchmark in bench/, one after the other, each in its own process group with a deadline,
// and one table of every figure and goal at the end. Benchmarks report; they do not fail: the exit
// status is 0 whatever the figures (2 only for a bad command line).
//
//   npm run build && (cd bench && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install) && node bench/run.js [c] [b] [a] [a-max] [server] [l] [--quick]
//
//   c       ota-swarm against autocannon, check-only: requests per CPU-second      (~1 min)
//   b       ota-swarm against Artillery, the OTA flow for 10,000 devices          (~12 min)
//   a       1,000,000 PSM devices over a simulated day at ×160                    (~10 min)
//   a-max   the same at --time-scale max: as fast as the work allows                (~3 min)
//   server  the reference server against a bare node:http server (bench/server/)   (~1 min)
//   v       verdict memory per device: 1,000,000 devices' evidence spilled and judged (~3 min)
//   l       latency truth: check p99 from send vs the server's own, light and saturated (~2 min)
//   merge   ota-swarm merge of 100 shard reports of 100,000 devices each: time and memory (~2 min)
//   lwm2m-serve  serve's LwM2M server: 100,000 queue-mode devices, datagrams per CPU-second, heap per device (~2 min)
//   lwm2m   the LwM2M fleet: 100,000 queue-mode devices registering through the UDP transport, with sleeping sockets closed and kept: memory per device, datagrams per CPU-second, whether the harness kept up (~2 min)
//   --quick every benchmark at a reduced size (a smoke run of the whole suite, ~4 min)
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH, figure, printTable, round, scratchDir } from './fleet/lib/common.js';

const ALL = ['c', 'b', 'a', 'a-max', 'server', 'v', 'l', 'merge', 'lwm2m-serve', 'lwm2m'];
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const unknown = argv.filter((a) => !ALL.includes(a) && a !== '--quick');
if (unknown.length > 0) {
  console.error(`bench: unknown argument ${unknown[0]}; usage: node bench/run.js [c] [b] [a] [a-max] [server] [v] [l] [merge] [lwm2m-serve] [lwm2m] [--quick]`);
  process.exit(2);
}
const chosen = ALL.filter((b) => argv.includes(b));
const order = chosen.length > 0 ? chosen : ALL;

const MIN = 60_000;
const BENCHES = {
  c: { title: '(c) check-only', script: 'fleet/check-only.js', args: quick ? ['--duration', '5', '--devices', '20000', '--rounds', '1'] : [], deadlineMs: 6 * MIN },
  b: { title: '(b) vs Artillery', script: 'fleet/artillery.js', args: quick ? ['--devices', '1000', '--window', '20'] : [], deadlineMs: quick ? 6 * MIN : 25 * MIN },
  a: { title: '(a) million/day', script: 'fleet/million.js', args: quick ? ['--devices', '100000', '--time-scale', '1728'] : [], deadlineMs: quick ? 5 * MIN : 20 * MIN },
  'a-max': { title: '(a) million/day ×max', script: 'fleet/million.js', args: ['--time-scale', 'max', ...(quick ? ['--devices', '100000'] : [])], deadlineMs: quick ? 5 * MIN : 20 * MIN },
  v: { title: '(v) verdicts', script: 'fleet/verdicts.js', args: quick ? ['--devices', '100000'] : [], deadlineMs: quick ? 3 * MIN : 10 * MIN, nodeArgs: ['--expose-gc'] },
  l: { title: '(l) latency', script: 'fleet/latency.js', args: quick ? ['--light-devices', '1000', '--saturated-devices', '3000'] : [], deadlineMs: 12 * MIN },
  merge: { title: '(m) merge', script: 'fleet/merge.js', args: quick ? ['--shards', '10', '--devices', '10000'] : [], deadlineMs: 15 * MIN, nodeArgs: ['--expose-gc'] },
  'lwm2m-serve': { title: 'lwm2m serve', script: 'server/lwm2m.js', args: quick ? ['--devices', '20000'] : [], deadlineMs: 6 * MIN, nodeArgs: ['--expose-gc'] },
  lwm2m: { title: 'lwm2m fleet', script: 'fleet/lwm2m.js', args: quick ? ['--devices', '20000', '--rate', '2000'] : [], deadlineMs: quick ? 3 * MIN : 6 * MIN },
  server: { title: 'server', script: 'server/run.js', args: quick ? ['--duration', '3'] : [], deadlineMs: 8 * MIN, external: true },
};

const children = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const pid of children) killGroup(pid, 'SIGKILL');
    process.exit(130);
  });
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Runs one benchmark script in its own process group; its output goes to stderr as it comes. */
function runBench(b, extraArgs) {
  const proc = spawn(process.execPath, [...(b.nodeArgs ?? []), join(BENCH, b.script), ...b.args, ...extraArgs], { cwd: join(BENCH, '..'), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc.pid);
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c) => {
    stdout += c;
    process.stderr.write(c);
  });
  proc.stderr.setEncoding('utf8').on('data', (c) => {
    stderr = (stderr + c).slice(-8000);
    process.stderr.write(c);
  });
  let timedOut = false;
  let killer;
  const deadline = setTimeout(() => {
    timedOut = true;
    killGroup(proc.pid, 'SIGTERM');
    killer = setTimeout(() => killGroup(proc.pid, 'SIGKILL'), 20_000);
  }, b.deadlineMs);
  return new Promise((resolve) =>
    proc.once('close', (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(killer);
      children.delete(proc.pid);
      // Whatever the script left behind in its group (a server, a load tool) goes with it.
      killGroup(proc.pid, 'SIGKILL');
      resolve({ code, signal, timedOut, stdout, stderr });
    }),
  );
}

const lastLine = (text) => text.trim().split('\n').filter(Boolean).pop() ?? '';

/** Figures of the server benchmark (bench/server/run.js), read from the results file it names. */
function serverFigures(out) {
  const file = /results: (\S+\.json)/.exec(out.stdout)?.[1];
  if (!file || !existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const rows = r.rows ?? [];
  const rps = (i) => rows[i]?.['req/s'];
  const checkRatio = r.checkRatio;
  return [
    figure('server', `check req/s (bare node:http ceiling), ${r.tool}`, `${rps(1)} (${rps(0)})`),
    figure('server', 'check / ceiling', `${round(checkRatio, 0)}%`, '>= 60%', checkRatio >= 60),
    figure('server', '64 KiB download req/s (bare 64 KiB)', `${rps(3)} (${rps(2)})`),
    figure('server', '64 KiB download / bare 64 KiB', `${round(r.downloadRatio, 0)}%`),
  ];
}

const started = new Date();
const figures = [];
const notes = [];
for (const key of order) {
  const b = BENCHES[key];
  if (b.external && !existsSync(join(BENCH, b.script))) {
    notes.push(`${b.title}: bench/${b.script} is not there; skipped`);
    continue;
  }
  process.stderr.write(`\n=== ${b.title}: node bench/${b.script} ${b.args.join(' ')}\n`);
  const scratch = scratchDir('run');
  const resultFile = join(scratch, 'result.json');
  const out = await runBench(b, b.external ? [] : ['--result', resultFile]);
  let got;
  try {
    if (b.external) got = serverFigures(out);
    else if (existsSync(resultFile)) {
      const r = JSON.parse(readFileSync(resultFile, 'utf8'));
      got = r.figures;
      for (const n of r.notes ?? []) notes.push(`${b.title}: ${n}`);
    }
  } catch (err) {
    notes.push(`${b.title}: unreadable result (${err instanceof Error ? err.message : String(err)})`);
  }
  rmSync(scratch, { recursive: true, force: true });
  if (got && got.length > 0) figures.push(...got);
  else {
    const why = out.timedOut ? `stopped at its ${b.deadlineMs / MIN}-minute deadline` : out.signal ? `killed by ${out.signal}` : `exit ${out.code}: ${lastLine(out.stderr) || lastLine(out.stdout)}`;
    figures.push(figure(b.title, 'did not finish', why));
  }
}

process.stdout.write(`\nota-swarm benchmarks, ${started.toISOString()}, node ${process.version}${quick ? ', --quick (reduced sizes)' : ''}\n\n`);
printTable(figures);
for (const n of notes) process.stdout.write(`note: ${n}\n`);
process.exit(0);
