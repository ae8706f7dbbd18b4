/**
 * violations.jsonl: every violation of every verdict rule, one JSON line each (device, rule,
 * reason, trace), streamed as the verdicts are judged, so the file holds every violating device
 * however many there are, and what was judged before an interruption stays written.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ViolationLine } from './tally.js';

export const VIOLATIONS_FILE = 'violations.jsonl';

export interface ViolationsFile {
  readonly path: string;
  /** Resolves once the line is taken (waits while the stream's buffer is full). */
  write(line: ViolationLine): Promise<void>;
  close(): Promise<void>;
}

export async function openViolationsFile(path: string): Promise<ViolationsFile> {
  // One level only: the run folder under an --out already checked. A recursive mkdir never
  // returns under /proc (see report/out-dir.ts).
  await mkdir(dirname(path)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const out: WriteStream = createWriteStream(path, { encoding: 'utf8', flags: 'w' });
  let failed: Error | undefined;
  out.on('error', (e) => {
    failed = e;
  });
  await new Promise<void>((resolve, reject) => {
    out.once('open', () => resolve());
    out.once('error', reject);
  });
  return {
    path,
    async write(line) {
      if (failed) throw failed;
      if (out.write(JSON.stringify(line) + '\n')) return;
      // Wait for room, or for the error that means there will be none.
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          out.off('error', onError);
          resolve();
        };
        const onError = (e: Error): void => {
          out.off('drain', onDrain);
          reject(e);
        };
        out.once('drain', onDrain);
        out.once('error', onError);
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (failed) return reject(failed);
        out.end(() => resolve());
      }),
  };
}
