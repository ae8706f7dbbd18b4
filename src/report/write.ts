/**
 * Writing report.json into a run's folder. The file appears whole or not at all (written to a
 * temporary name, then renamed), so a reader or a crash never sees half a report.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Report } from './types.js';
import { makeDirs } from './out-dir.js';

export const REPORT_FILE = 'report.json';
/** Longest scenario part of a run folder's name. */
const MAX_NAME_CHARS = 64;

/** Writes `report` as `<outDir>/report.json` (2-space JSON), creating the folder; returns its path. */
export async function writeReport(report: Report, outDir: string): Promise<string> {
  const problem = firstUnwritable(report, 'report');
  if (problem !== undefined) throw new Error(`report not written: ${problem}`);
  await makeDirs(outDir);
  const path = join(outDir, REPORT_FILE);
  const temp = join(outDir, `.${REPORT_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, JSON.stringify(report, null, 2) + '\n', { encoding: 'utf8', flag: 'wx' });
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  return path;
}

/**
 * JSON would turn NaN and infinities into null and drop functions silently: a report with them
 * would read back different from what the run measured, so it is refused, naming the field.
 */
export function firstUnwritable(value: unknown, path: string): string | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}`;
    case 'string':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'object': {
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const p = firstUnwritable(value[i], `${path}[${i}]`);
          if (p !== undefined) return p;
        }
        return undefined;
      }
      for (const [k, v] of Object.entries(value)) {
        const p = firstUnwritable(v, `${path}.${k}`);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    default:
      return `${path} is a ${typeof value}`;
  }
}

/** A run's folder name: UTC start to the second, then the scenario, e.g. `2026-11-25T19-04-10Z-rollout-onenet`. */
export function runDirName(scenarioName: string, startedAt: Date): string {
  const ms = startedAt.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('runDirName: startedAt is not a valid date');
  const stamp = startedAt.toISOString().slice(0, 19).replace(/:/g, '-') + 'Z';
  return `${stamp}-${safeName(scenarioName)}`;
}

/** Letters, digits, `.`, `_` and `-` only; no leading dot; never empty. */
function safeName(name: string): string {
  const cleaned = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, MAX_NAME_CHARS)
    .replace(/[-.]+$/g, '');
  return cleaned === '' ? 'run' : cleaned;
}
