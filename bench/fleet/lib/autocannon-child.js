// autocannon in a process of its own, so its CPU and memory are measured apart from the server's
// and the benchmark's. Reads its job from OTA_BENCH_AUTOCANNON (JSON: url, connections, duration
// or amount, requests, headers) and prints one JSON line: requests answered, 2xx, non-2xx,
// errors, timeouts, latency p99. Bounded by autocannon itself (duration or amount).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../../', import.meta.url));
let autocannon;
try {
  autocannon = createRequire(join(BENCH, 'package.json'))('autocannon');
} catch {
  console.error('bench: autocannon is not installed in bench/node_modules; run `cd bench && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install` first');
  process.exit(2);
}

const job = JSON.parse(process.env.OTA_BENCH_AUTOCANNON ?? '{}');
const options = { url: job.url, connections: job.connections, headers: job.headers, requests: job.requests, timeout: 10 };
if (job.amount) options.amount = job.amount;
else options.duration = job.duration;
const result = await new Promise((resolve, reject) => autocannon(options, (err, res) => (err ? reject(err) : resolve(res))));
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    p99Ms: result.latency.p99,
  })}\n`,
);
