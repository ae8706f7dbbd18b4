/**
 * Running ota-swarm (the built CLI, as a child) against the foreign server and reading what it
 * wrote. The server runs in this process, so the child is spawned asynchronously.
 */
import { expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/ota-swarm.js');

export const ONENET_KEY = Buffer.from('foreign-server onenet access key, 32b').toString('base64');
export const PRODUCT_ID = '620001';
export const LUAT_KEY = 'foreign-project-key-5d1c';
export const FIRMWARE = 'foreign_FW_RDA8910_TEST';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The run folder (undefined when none was written). */
  dir?: string;
  report?: Report;
  ms: number;
}

/** The parts of report.json the tests read (docs/report-format.md). */
export interface Report {
  passed: boolean;
  devices: { total?: number; byFinalState?: Record<string, number> } & Record<string, unknown>;
  transitions: { violations: number; samples: unknown[] };
  verdicts?: VerdictReport[];
  serverAgreement?: unknown;
  [k: string]: unknown;
}

export interface VerdictReport {
  rule: string;
  checked: number;
  violations: number;
  note?: string;
  status?: 'judged' | 'partly-judged' | 'not-judged';
  reason?: string;
  counts?: Record<string, number>;
  samples: { device: string; detail: string }[];
}

export interface Violation {
  device: string;
  rule: string;
  reason: string;
}

export function writeScenario(dir: string, name: string, yaml: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'ota-swarm-foreign-'));

/** `ota-swarm run FILE --target URL --out OUT --quiet ...args`, keys in the env; bounded in time. */
export function runCli(scenario: string, target: string, out: string, args: string[] = [], timeoutMs = 170_000): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', scenario, '--target', target, '--out', out, '--quiet', ...args], {
      cwd: ROOT,
      env: { ...process.env, OTA_SWARM_ONENET_ACCESS_KEY: ONENET_KEY, OTA_SWARM_LUAT_PROJECT_KEY: LUAT_KEY, OTA_SWARM_ADMIN_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ota-swarm run ${scenario} did not end in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      const dirs = existsSync(out) ? readdirSync(out) : [];
      const dir = dirs.length === 1 ? join(out, dirs[0] as string) : undefined;
      const result: RunResult = { code, stdout, stderr, ms: Date.now() - started };
      if (dir !== undefined) {
        result.dir = dir;
        if (existsSync(join(dir, 'report.json'))) result.report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
      }
      resolve(result);
    });
  });
}

/** Every violation of the run: violations.jsonl when the run wrote it, else report.json's samples. */
export function violationsOf(r: RunResult): { source: 'violations.jsonl' | 'samples'; list: Violation[] } {
  const file = r.dir !== undefined ? join(r.dir, 'violations.jsonl') : undefined;
  if (file !== undefined && existsSync(file)) {
    const list = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Violation);
    return { source: 'violations.jsonl', list };
  }
  const list = (r.report?.verdicts ?? []).flatMap((v) => v.samples.map((s) => ({ device: s.device, rule: v.rule, reason: s.detail })));
  return { source: 'samples', list };
}

export const devicesFlagged = (list: readonly Violation[], rule: string): Set<string> => new Set(list.filter((v) => v.rule === rule).map((v) => v.device));

/** Every rule of the dialect is in report.json with a status; without an admin API, final-state agreement is not judged, and says why. */
export function expectEveryRuleWithStatus(report: Report, names: readonly string[]): void {
  const byRule = new Map((report.verdicts ?? []).map((v) => [v.rule, v]));
  for (const rule of names) {
    const v = byRule.get(rule);
    expect(v, `${rule} missing from report.json`).toBeDefined();
    expect(['judged', 'partly-judged', 'not-judged']).toContain(v?.status);
  }
  expect(byRule.get('final-state-agreement')?.status).toBe('not-judged');
  expect(byRule.get('final-state-agreement')?.reason).toBeTruthy();
}
