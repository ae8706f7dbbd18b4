/**
 * The file side of the human-facing reports: reading a run's report.json, writing report.html and
 * junit.xml beside it, appending the Markdown summary to `$GITHUB_STEP_SUMMARY`. The deciding is
 * done by the pure renderers; this module only moves bytes.
 */
import { appendFile, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { parseReport } from './html/shape.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import type { Report } from './types.js';
import { REPORT_FILE } from './write.js';
import { makeDirs } from './out-dir.js';

export const HTML_FILE = 'report.html';
export const JUNIT_FILE = 'junit.xml';

/** Refuse absurd files before reading them whole (a real report is a few MB at most). */
const MAX_REPORT_BYTES = 512 * 1024 * 1024;

/** An input that is not a readable report: the message is one line naming the path. */
export class ReportInputError extends Error {}

/** report.json's path for a run folder, or the file itself when given a file. */
export async function reportPath(pathOrDir: string): Promise<string> {
  let info;
  try {
    info = await stat(pathOrDir);
  } catch {
    throw new ReportInputError(`${pathOrDir}: no such file or folder`);
  }
  if (!info.isDirectory()) return pathOrDir;
  const file = join(pathOrDir, REPORT_FILE);
  try {
    await stat(file);
  } catch {
    throw new ReportInputError(`${pathOrDir}: no ${REPORT_FILE} in this folder`);
  }
  return file;
}

/** Reads and checks a report (a run folder or a report.json path). */
export async function readReport(pathOrDir: string): Promise<Report> {
  const file = await reportPath(pathOrDir);
  let text: string;
  try {
    const info = await stat(file);
    if (info.size > MAX_REPORT_BYTES) throw new ReportInputError(`${file}: ${info.size} bytes is too large for a report`);
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof ReportInputError) throw e;
    throw new ReportInputError(`${file}: cannot read (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  try {
    return parseReport(text, file);
  } catch (e) {
    throw new ReportInputError(e instanceof Error ? e.message : String(e));
  }
}

/**
 * Renders report.html and junit.xml from the report.json in `dir` (a run folder; a path to a
 * report.json also works, its folder is used) and writes them beside it. Returns what it wrote.
 */
export async function renderRunDir(dir: string): Promise<{ html: string; junit: string }> {
  const file = await reportPath(dir);
  const report = await readReport(file);
  const folder = dirname(file);
  const html = join(folder, HTML_FILE);
  const junit = join(folder, JUNIT_FILE);
  await writeWhole(html, renderHtml(report));
  await writeWhole(junit, renderJunit(report));
  return { html, junit };
}

/**
 * Appends the Markdown summary to the file `$GITHUB_STEP_SUMMARY` names (GitHub Actions shows it
 * on the job's page). Returns false, writing nothing, when the variable is unset or empty.
 */
export async function appendStepSummary(report: Report, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const target = env['GITHUB_STEP_SUMMARY'];
  if (target === undefined || target.trim() === '') return false;
  await appendFile(target, `${renderMarkdown(report)}\n`, 'utf8');
  return true;
}

/** Writes to a temporary name and renames, so a reader never sees half a file. */
async function writeWhole(path: string, content: string): Promise<void> {
  await makeDirs(dirname(path));
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, content, { encoding: 'utf8', flag: 'wx' });
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}
