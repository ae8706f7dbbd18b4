/**
 * Saving a finished run: report.json, then report.html and junit.xml, in `<out>/<run folder>`.
 * Should that fail (the disk filled, the folder went away during the run), the same files go to
 * a folder under the system's temp folder and the caller is told both where and why: the
 * results of a run are never dropped for want of a place to put them.
 */
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fallbackDir, fsErrorCode, makeDirs } from './out-dir.js';
import { renderRunDir } from './render-run.js';
import type { Report } from './types.js';
import { writeReport } from './write.js';

export interface SavedRun {
  /** The folder the files are in. */
  dir: string;
  /** report.json's path. */
  file: string;
  /** Set when the files are not where they were asked for: the folder asked for, and why not. */
  fallback?: { wanted: string; reason: string };
}

async function writeAll(report: Report, dir: string): Promise<string> {
  await makeDirs(dir);
  const file = await writeReport(report, dir);
  await renderRunDir(dir);
  return file;
}

/**
 * Writes a run's reports in `outRoot/runName` (the folder violations.jsonl was streamed to during
 * the run), or under `fallbackRoot` (default: os.tmpdir()) if that fails.
 */
export async function saveRun(report: Report, outRoot: string, runName: string, fallbackRoot = tmpdir()): Promise<SavedRun> {
  const name = runName;
  const wanted = join(resolve(outRoot), name);
  try {
    return { dir: wanted, file: await writeAll(report, wanted) };
  } catch (err) {
    const reason = fsErrorCode(err);
    const dir = fallbackDir(name, fallbackRoot);
    try {
      const file = await writeAll(report, dir);
      // violations.jsonl (and finals.jsonl) went to the wanted folder during the run: keep them beside the report.
      if (report.violationsFile !== undefined) await copyFile(join(wanted, report.violationsFile), join(dir, report.violationsFile)).catch(() => {});
      if (report.devicesFile !== undefined) await copyFile(join(wanted, report.devicesFile), join(dir, report.devicesFile)).catch(() => {});
      return { dir, file, fallback: { wanted, reason } };
    } catch (again) {
      throw new Error(`report not written: ${wanted} (${reason}), nor ${dir} (${fsErrorCode(again)})`);
    }
  }
}
