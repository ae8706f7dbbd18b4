// `ota-swarm run` (the CLI, from dist/) as a measured child process against a --target, and what
// its report.json says.
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, scratchDir } from './common.js';
import { runMeasured } from './proc.js';

/** The demo key of the built-in catalog and of bench/fleet/catalogs/million.yaml (loopback only). */
export async function demoKey() {
  const { DEFAULT_ONENET_ACCESS_KEY } = await import('../../../dist/catalog/default.js');
  return DEFAULT_ONENET_ACCESS_KEY;
}

/**
 * @param {{ scenario: string, target: string, devices?: number, workers?: number, timeScale?: number | 'max',
 *           adminToken?: string, deadlineMs: number, onStart?: (pid: number) => void }} o
 * @returns {Promise<{ run: Awaited<ReturnType<typeof runMeasured>>, report: object | undefined, requests: number }>}
 */
export async function runOtaSwarm(o) {
  const out = scratchDir('ota-swarm');
  const args = [CLI, 'run', o.scenario, '--target', o.target, '--quiet', '--out', out];
  if (o.devices !== undefined) args.push('--devices', String(o.devices));
  if (o.workers !== undefined) args.push('--workers', String(o.workers));
  if (o.timeScale !== undefined) args.push('--time-scale', String(o.timeScale));
  const env = { OTA_SWARM_ONENET_ACCESS_KEY: await demoKey() };
  // With the admin token the harness also compares final states with the server's (a sample).
  if (o.adminToken) env.OTA_SWARM_ADMIN_TOKEN = o.adminToken;
  const run = await runMeasured({ args, env, deadlineMs: o.deadlineMs, onStart: o.onStart });
  let report;
  try {
    const dir = readdirSync(out).find((d) => !d.startsWith('.'));
    if (dir) report = JSON.parse(readFileSync(join(out, dir, 'report.json'), 'utf8'));
  } catch {
    report = undefined;
  }
  rmSync(out, { recursive: true, force: true });
  return { run, report, requests: report ? requestsOf(report) : NaN };
}

/** Every request the report counts, over all operations. */
export function requestsOf(report) {
  return Object.values(report.operations).reduce((n, op) => n + op.count, 0);
}

/** `succeeded 9,990 · up-to-date 990,000 · ...` */
export function finalStates(report) {
  if (!report) return 'no report';
  return Object.entries(report.devices.byFinalState)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
    .join(', ');
}
