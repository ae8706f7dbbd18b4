/**
 * The exchange log a run writes (`run --exchange-log FILE`): each worker streams its records to a
 * part file beside FILE, and once the run is over the parts are merged into FILE in time order
 * (JSON lines, or CSV when FILE ends in .csv) and removed.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { rm, stat } from 'node:fs/promises';
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

/** Parts up to this size in all are sorted in memory; larger ones are copied worker by worker. */
export const SORT_IN_MEMORY_BYTES = 64 * 1024 * 1024;

export interface Merged {
  records: number;
  /** Every record in time order (false: worker by worker, each in the order its answers came). */
  ordered: boolean;
}

/**
 * Merges the workers' parts into `file` and removes them: in time order when they fit in
 * SORT_IN_MEMORY_BYTES, else streamed part after part (the replay sorts by time as it reads).
 */
export async function mergeExchangeParts(file: string, workers: number, sortLimitBytes = SORT_IN_MEMORY_BYTES): Promise<Merged> {
  const parts = Array.from({ length: workers }, (_, i) => partFileOf(file, i));
  const csv = extname(file).toLowerCase() === '.csv';
  const out = createWriteStream(file, { flags: 'w' });
  let failed: Error | undefined;
  out.on('error', (err) => (failed ??= err));
  const emit = async (line: string): Promise<void> => {
    if (failed) throw failed;
    if (!out.write(`${csv ? csvLineOf(JSON.parse(line) as Record<string, unknown>) : line}\n`)) await once(out, 'drain');
  };
  try {
    const sizes = await Promise.all(parts.map((p) => stat(p).then((st) => st.size, () => 0)));
    const ordered = sizes.reduce((a, b) => a + b, 0) <= sortLimitBytes;
    let records = 0;
    if (csv) out.write(`${csvHeader()}\n`);
    if (ordered) {
      const all: { t: string; line: string }[] = [];
      for (const part of parts) for await (const line of linesOf(part)) all.push({ t: (JSON.parse(line) as { t: string }).t, line });
      // ISO instants of one width sort as text; the sort is stable, so a worker's order is kept on ties.
      all.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
      for (const r of all) await emit(r.line);
      records = all.length;
    } else {
      for (const part of parts) for await (const line of linesOf(part)) (await emit(line), records++);
    }
    await new Promise<void>((resolve, reject) => out.end(() => (failed ? reject(failed) : resolve())));
    return { records, ordered };
  } finally {
    out.destroy();
    await Promise.all(parts.map((p) => rm(p, { force: true })));
  }
}

/** The non-empty lines of a part file (none when it does not exist). */
async function* linesOf(file: string): AsyncGenerator<string> {
  const input = createReadStream(file);
  const missing = await new Promise<boolean>((resolve) => {
    input.once('open', () => resolve(false));
    input.once('error', () => resolve(true));
  });
  if (missing) return;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line !== '') yield line;
}
