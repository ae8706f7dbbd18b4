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
  await mkdir(dirname(path), { recursive: true });
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
      if (!out.write(JSON.stringify(line) + '\n')) await new Promise<void>((r) => out.once('drain', r));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (failed) return reject(failed);
        out.end(() => resolve());
      }),
  };
}
