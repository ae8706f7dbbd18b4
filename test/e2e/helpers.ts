/**
 * Helpers of the end-to-end tests. Which group a new end-to-end file goes in (vitest.config.ts):
 * - `test/<area>/<name>.e2e.test.ts` (or any file under test/e2e/): the parallel `e2e` group, two
 *   files at a time. The default: assertions on outcomes (states, verdicts, exit codes, virtual
 *   times) hold whatever else the machine is doing.
 * - `test/<area>/<name>.timing.e2e.test.ts`: the `e2e-timing` group, one file at a time and before
 *   the parallel group, alone on the machine. Only for assertions that read measured latency,
 *   real-time pacing or the harness's bottleneck flag, or that hold only while the harness keeps
 *   pace with the clock (a large fleet or a fast time scale against a deadline).
 * Keep either kind short: small fleets, a high --time-scale, set-up shared per file (beforeAll).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/report/types.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const fixture = (name: string): string => join(ROOT, 'test/e2e/fixtures', name);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI; `onSpawn` may signal the child. Bounded by `timeoutMs`. */
export function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onStderr?: (text: string, kill: (sig: NodeJS.Signals) => void) => void } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/ota-swarm.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ota-swarm ${args.join(' ')} did not end in ${opts.timeoutMs ?? 120_000} ms\n${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(stderr, (sig) => child.kill(sig));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'ota-swarm-e2e-'));

/** The one report.json written under `out`. */
export function readOnlyReport(out: string): Report {
  const dirs = readdirSync(out);
  if (dirs.length !== 1) throw new Error(`expected one run folder in ${out}, found ${dirs.join(', ')}`);
  return JSON.parse(readFileSync(join(out, dirs[0] as string, 'report.json'), 'utf8')) as Report;
}
