// The reference server under load, in its own process (`ota-swarm serve`), so that what a load
// tool costs is measured apart from what the server costs. Loopback only, any free port.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { CLI, ROOT } from './common.js';
import { readProc } from './proc.js';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * @param {{ catalog?: string, timeScale?: number | 'max', faults?: string[] }} o
 * @returns {Promise<{ url, adminToken, pid, admin, reset, counters, requestsServed, cpuS, stop }>}
 */
export async function startReferenceServer(o = {}) {
  const adminToken = randomBytes(18).toString('base64url');
  const args = [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--quiet'];
  if (o.catalog) args.push('--catalog', o.catalog);
  if (o.timeScale) args.push('--time-scale', String(o.timeScale));
  for (const f of o.faults ?? []) args.push('--fault', f);
  // The token goes by environment so that serve does not print it.
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, OTA_SWARM_ADMIN_TOKEN: adminToken }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (c) => (stderr = (stderr + c).slice(-4000)));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`reference server did not listen within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`reference server exited (code ${code}) before it listened: ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  process.on('exit', () => proc.kill('SIGKILL'));

  async function admin(method, path, body) {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text);
  }
  const counters = () => admin('GET', '/admin/counters');
  return {
    url,
    adminToken,
    pid: proc.pid,
    admin,
    /** Back to the catalog's initial state: devices, tasks, tokens, counters. */
    reset: () => admin('POST', '/admin/reset', {}),
    counters,
    /** Requests the server saw on its device endpoints (admin calls left out), by its own counters. */
    async requestsServed() {
      const c = await counters();
      let total = 0;
      const byEndpoint = {};
      for (const [name, e] of Object.entries(c.endpoints)) {
        if (name === 'admin') continue;
        total += e.requests;
        if (e.requests > 0) byEndpoint[name] = e.requests;
      }
      return { total, byEndpoint, tasks: c.tasks };
    },
    /** CPU seconds the server process has used so far (/proc, 10 ms resolution). */
    cpuS: () => readProc(proc.pid)?.cpuS ?? NaN,
    async stop() {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
