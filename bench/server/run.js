// Benchmark of the reference server against the ceiling of this machine (a bare node:http server
// answering constant JSON), side by side in one run: req/s and p99 of the OneNET check call and of
// a 64 KiB ranged download. Each server runs in its own child process; the load generator runs in
// this process (autocannon, from bench/node_modules) or as its own (wrk, from Debian: apt-get
// install wrk). Each row is measured twice, alternating with its ceiling, and averaged.
//
//   npm run build && npm --prefix bench install && node bench/server/run.js [--duration 10] [--connections 50] [--tool autocannon|wrk]
//
// autocannon appends every body to a string, which for binary (non-UTF-8) bodies costs more than
// the server does: its download rows measure the client. The bare 64 KiB row serves the same kind
// of bytes so the ratio stays fair; wrk does not decode bodies and shows the server's own speed.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('./', import.meta.url));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  return process.argv[i + 1];
}
function positive(name, fallback) {
  const v = Number(arg(name, fallback));
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench: --${name} needs a positive number`);
    process.exit(2);
  }
  return v;
}
const DURATION_S = positive('duration', 10);
const CONNECTIONS = positive('connections', 50);
const TOOL = arg('tool', 'autocannon');
if (TOOL !== 'autocannon' && TOOL !== 'wrk') {
  console.error('bench: --tool is autocannon or wrk');
  process.exit(2);
}

if (!existsSync(`${ROOT}dist/server/index.js`)) {
  console.error('bench: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
let autocannon;
if (TOOL === 'autocannon') {
  try {
    autocannon = createRequire(`${ROOT}bench/package.json`)('autocannon');
  } catch {
    console.error('bench: autocannon is not installed; run `npm --prefix bench install` first (or pass --tool wrk)');
    process.exit(2);
  }
} else {
  try {
    await promisify(execFile)('wrk', ['--version']).catch((e) => {
      if (e.code === 'ENOENT') throw e;
    });
  } catch {
    console.error('bench: wrk is not installed; `apt-get install wrk` (or use --tool autocannon)');
    process.exit(2);
  }
}
const { buildAuthorization } = await import(`${ROOT}dist/protocol/token.js`);
const { DEFAULT_ONENET_ACCESS_KEY, DEFAULT_ONENET_PRODUCT } = await import(`${ROOT}dist/catalog/default.js`);

/** Starts a server script in a child process and reads its first stdout line (JSON). */
function child(script) {
  const proc = spawn(process.execPath, [`${HERE}${script}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout });
    lines.once('line', (line) => resolve({ proc, info: JSON.parse(line) }));
    proc.once('exit', (code) => reject(new Error(`${script} exited with code ${code} before it listened`)));
  });
}

/** One measurement: { rps, p50, p99 (ms), mbps, bad (non-2xx + errors) }. */
async function measure(url, headers, duration = DURATION_S, connections = CONNECTIONS) {
  if (TOOL === 'autocannon') {
    const r = await new Promise((resolve, reject) => autocannon({ url, headers, connections, duration }, (err, res) => (err ? reject(err) : resolve(res))));
    return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, mbps: r.throughput.average / 1e6, bad: (r.non2xx ?? 0) + r.errors + r.timeouts };
  }
  const args = ['-t1', `-c${connections}`, `-d${duration}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const { stdout } = await promisify(execFile)('wrk', [...args, url], { maxBuffer: 1 << 20 });
  const ms = (text) => {
    const m = /([\d.]+)(us|ms|s)/.exec(text ?? '');
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  const bytes = (text) => {
    const m = /([\d.]+)(B|KB|MB|GB)/.exec(text ?? '');
    return m ? Number(m[1]) * { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[m[2]] : NaN;
  };
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]),
    p50: ms(/\n\s+50%\s+(\S+)/.exec(stdout)?.[1]),
    p99: ms(/\n\s+99%\s+(\S+)/.exec(stdout)?.[1]),
    mbps: bytes(/Transfer\/sec:\s+(\S+)/.exec(stdout)?.[1]) / 1e6,
    bad: Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0) + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
  };
}

const mean = (runs) => ({
  rps: runs.reduce((a, r) => a + r.rps, 0) / runs.length,
  p50: runs.reduce((a, r) => a + r.p50, 0) / runs.length,
  p99: runs.reduce((a, r) => a + r.p99, 0) / runs.length,
  mbps: runs.reduce((a, r) => a + r.mbps, 0) / runs.length,
  bad: runs.reduce((a, r) => a + r.bad, 0),
});

const bare = await child('bare-server.js');
const ref = await child('ref-server.js');
try {
  const et = Math.floor(ref.info.virtualNow / 1000) + 365 * 86_400;
  const authorization = buildAuthorization(DEFAULT_ONENET_ACCESS_KEY, { res: `products/${DEFAULT_ONENET_PRODUCT}`, et, method: 'sha1' });
  const checkUrl = `${ref.info.url}/ota/south/check?dev_id=522700000&manuf=101&model=10101&type=2&version=V1.0&cdn=false`;
  const first = await (await fetch(checkUrl, { headers: { authorization } })).json();
  if (first.errno !== 0) throw new Error(`check answered ${JSON.stringify(first)}`);
  const downloadUrl = `${ref.info.url}/ota/south/download/${first.data.token}`;
  const probe = await fetch(downloadUrl, { headers: { range: 'bytes=0-65535' } });
  if (probe.status !== 206 || (await probe.arrayBuffer()).byteLength !== 65536) throw new Error(`download probe answered ${probe.status}`);

  const pairs = [
    [
      ['bare node:http, constant JSON (ceiling)', `${bare.info.url}/json`, {}],
      ['reference server, OneNET check', checkUrl, { authorization }],
    ],
    [
      ['bare node:http, constant 64 KiB body', `${bare.info.url}/blob`, {}],
      ['reference server, 64 KiB ranged download', downloadUrl, { range: 'bytes=0-65535' }],
    ],
  ];
  console.log(`bench: ${TOOL}, ${DURATION_S}s per measurement, ${CONNECTIONS} connections, each row twice (alternating with its ceiling) and averaged; each server in its own process`);
  // A short warm-up so the JIT has seen every path before the measured runs.
  for (const pair of pairs) for (const [, url, headers] of pair) await measure(url, headers, 1, 10);
  const rows = [];
  for (const pair of pairs) {
    const runs = pair.map(() => []);
    for (let round = 0; round < 2; round++) for (let i = 0; i < pair.length; i++) runs[i].push(await measure(pair[i][1], pair[i][2]));
    pair.forEach(([title], i) => rows.push({ title, ...mean(runs[i]) }));
  }
  const table = rows.map((r) => ({ row: r.title, 'req/s': Math.round(r.rps), 'p50 ms': +r.p50.toFixed(2), 'p99 ms': +r.p99.toFixed(2), 'MB/s': +r.mbps.toFixed(1), 'non-2xx+errors': r.bad }));
  console.table(table);
  const checkRatio = (rows[1].rps / rows[0].rps) * 100;
  const downloadRatio = (rows[3].rps / rows[2].rps) * 100;
  console.log(`check / ceiling: ${checkRatio.toFixed(0)}% (goal: 60% or better) ${checkRatio >= 60 ? 'PASS' : 'BELOW GOAL'}`);
  console.log(`64 KiB download / bare 64 KiB: ${downloadRatio.toFixed(0)}%`);
  mkdirSync(`${ROOT}bench/results`, { recursive: true });
  const file = `${ROOT}bench/results/server-${TOOL}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify({ tool: TOOL, durationS: DURATION_S, connections: CONNECTIONS, node: process.version, rows: table, checkRatio, downloadRatio }, null, 2)}\n`);
  console.log(`results: ${file}`);
} finally {
  bare.proc.kill('SIGTERM');
  ref.proc.kill('SIGTERM');
}
