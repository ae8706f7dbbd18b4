/**
 * The folder a run's reports go to, made sure of before the fleet starts (so a bad `--out` costs a
 * second, not a whole run), and a fallback folder when writing fails at the end anyway (so a run's
 * results are never lost).
 *
 * Node's `mkdir(path, { recursive: true })` never returns under /proc: mkdir there answers ENOENT
 * although the parent exists, and Node's recursive mkdir retries that forever at 100 % CPU in the
 * thread pool, where no signal reaches it. Folders are therefore made here one level at a time,
 * each tried once.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../config/load.js';

/** An fs error's code (ENOENT, ENOTDIR, ...), else its first line: what a one-line message can name. */
export const fsErrorCode = (err: unknown): string => (err as NodeJS.ErrnoException | undefined)?.code ?? (err instanceof Error ? err.message.split('\n')[0] ?? 'error' : String(err));

/** An fs-style error with a code, for a path that is there but is not a folder. */
function notAFolder(path: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${path} is not a folder`);
  e.code = 'ENOTDIR';
  return e;
}

/** Creates `path` and any missing parents, one mkdir each (bounded by the path's depth). */
export async function makeDirs(path: string): Promise<void> {
  const missing: string[] = [];
  for (let p = resolve(path); ; ) {
    try {
      if (!(await stat(p)).isDirectory()) throw notAFolder(p);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.push(p);
      const parent = dirname(p);
      if (parent === p) break;
      p = parent;
    }
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!(await stat(dir)).isDirectory()) throw notAFolder(dir);
    }
  }
}

/** Creates `path`, then writes and removes a probe file in it; throws what went wrong. */
export async function probeWritable(path: string): Promise<void> {
  await makeDirs(path);
  const probe = join(path, `.ota-swarm-probe.${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(probe, 'ota-swarm write probe\n', { flag: 'wx' });
  await rm(probe, { force: true });
}

/**
 * Checks, before a run, that reports can be written under `path`; a one-line ConfigError naming
 * `label` (the flag or option) otherwise.
 */
export async function prepareOutDir(path: string, label = '--out'): Promise<void> {
  try {
    await probeWritable(path);
  } catch (err) {
    const code = fsErrorCode(err);
    const why = code === 'ENOTDIR' || code === 'EEXIST' ? 'a file is in the way (not a folder)' : `cannot create or write a folder there (${code})`;
    throw new ConfigError(`${label}: ${path}: ${why}`);
  }
}

/** Where a run's reports go when its folder cannot be written at the end: under the system's temp folder. */
export function fallbackDir(runDir: string, root: string): string {
  return join(root, `ota-swarm-${runDir}`);
}

