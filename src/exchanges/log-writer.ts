/**
 * The exchange log a run writes (`run --exchange-log FILE`): each worker streams its records to a
 * part file beside FILE, and once the run is over the parts are merged into FILE in time order
 * (JSON lines, or CSV when FILE ends in .csv) and removed.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { csvHeader, csvLineOf } from './formats/csv.js';

export const partFileOf = (file: string, worker: number): string => `${file}.part-${worker}`;

export class ExchangeLogPart {
  private readonly stream: WriteStream;
  private failed: Error | undefined;

  constructor(file: string) {
    this.stream = createWriteStream(file, { flags: 'w' });
    this.stream.on('error', (err) => (this.failed ??= err));
  }

  write(record: Readonly<Record<string, unknown>>): void {
    if (this.failed === undefined) this.stream.write(`${JSON.stringify(record)}\n`);
  }

  /** Flushes and closes; rejects with the first write error. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.end(() => (this.failed ? reject(this.failed) : resolve()));
    });
  }
}

/** Merges the workers' parts into `file`, in time order, and removes them. */
export async function mergeExchangeParts(file: string, workers: number): Promise<number> {
  const records: { t: string; line: string }[] = [];
  const parts = Array.from({ length: workers }, (_, i) => partFileOf(file, i));
  try {
    for (const part of parts) {
      const text = await readFile(part, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return '';
        throw err;
      });
      for (const line of text.split('\n')) if (line !== '') records.push({ t: (JSON.parse(line) as { t: string }).t, line });
    }
    // ISO instants of one width sort as text; the sort is stable, so a worker's order is kept on ties.
    records.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
    const csv = extname(file).toLowerCase() === '.csv';
    const body = csv ? [csvHeader(), ...records.map((r) => csvLineOf(JSON.parse(r.line) as Record<string, unknown>))] : records.map((r) => r.line);
    await writeFile(file, body.length > 0 ? `${body.join('\n')}\n` : '');
    return records.length;
  } finally {
    await Promise.all(parts.map((p) => rm(p, { force: true })));
  }
}
