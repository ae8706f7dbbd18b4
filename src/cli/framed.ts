/**
 * The file side of framed run folders (report/frame.ts): a run prints its folder on stdout
 * (`run --report-stdout`), and `merge` unpacks the frames of saved logs into folders it reads like
 * any shard's.
 */
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAMED_FILES, frameRun, unframeRuns, type RunFiles } from '../report/frame.js';

/** The run folder's files, framed for stdout. */
export async function framedRunFolder(dir: string): Promise<string> {
  const files: RunFiles = {};
  for (const name of FRAMED_FILES) {
    const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    if (text !== undefined) files[name] = text;
  }
  return frameRun(files);
}

/** Whether `path` is a saved log (a file other than a report.json) rather than a run folder. */
export async function isLogFile(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && info.isFile() && !path.endsWith('.json');
}

/** Each frame of a log file unpacked into a folder of its own (under the system's temp folder), or why not. */
export async function unpackLog(file: string): Promise<({ source: string; dir: string } | { source: string; problem: string })[]> {
  const text = await readFile(file, 'utf8');
  const frames = unframeRuns(text);
  if (frames.length === 0) return [{ source: file, problem: 'no framed run in it (was the shard run with --report-stdout?)' }];
  const out: ({ source: string; dir: string } | { source: string; problem: string })[] = [];
  for (const [k, frame] of frames.entries()) {
    const source = frames.length === 1 ? file : `${file}#${k + 1}`;
    if ('problem' in frame) {
      out.push({ source, problem: frame.problem });
      continue;
    }
    const dir = await mkdtemp(join(tmpdir(), 'ota-swarm-frame-'));
    for (const [name, content] of Object.entries(frame.files)) await writeFile(join(dir, name), content, 'utf8');
    out.push({ source, dir });
  }
  return out;
}
