/** A field log read into exchanges, whatever its format (given, or told from its name and first line). */
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { ConfigError } from '../config/load.js';
import type { Exchange } from './exchange.js';
import { parseJsonLines } from './formats/jsonl.js';
import { parseCsv } from './formats/csv.js';
import { parseHar } from './formats/har.js';
import { parseNginx } from './formats/nginx.js';

export const LOG_FORMATS = ['auto', 'jsonl', 'csv', 'har', 'nginx'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Largest log read (the whole file is held in memory while its exchanges are read). */
export const MAX_LOG_BYTES = 256 * 1024 * 1024;

const PARSERS: Readonly<Record<Exclude<LogFormat, 'auto'>, (text: string, file: string) => Exchange[]>> = {
  jsonl: parseJsonLines,
  csv: parseCsv,
  har: parseHar,
  nginx: parseNginx,
};

/** The format of a log from its extension, else its first non-blank line. */
export function detectFormat(file: string, text: string): Exclude<LogFormat, 'auto'> {
  const ext = extname(file).toLowerCase();
  if (ext === '.har') return 'har';
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '')?.trim() ?? '';
  if (first.startsWith('{')) return /^\{\s*"log"\s*:/.test(text.trimStart()) || first === '{' ? 'har' : 'jsonl';
  if (/^\S+ \S+ \S+ \[[^\]]+\] "/.test(first)) return 'nginx';
  if (/(^|,)t(,|$)/.test(first) && first.includes('path')) return 'csv';
  throw new ConfigError(`${file}:1: cannot tell the log's format (give --format jsonl, csv, har or nginx)`);
}

export function readLog(file: string, format: LogFormat = 'auto'): { format: Exclude<LogFormat, 'auto'>; exchanges: Exchange[] } {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_LOG_BYTES) throw new ConfigError(`${file}: ${size} bytes, over the ${MAX_LOG_BYTES / 1024 / 1024} MiB a log may have (split it by device or by day)`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${file}: cannot read the log (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const chosen = format === 'auto' ? detectFormat(file, text) : format;
  return { format: chosen, exchanges: PARSERS[chosen](text, file) };
}
