/**
 * CSV with a header row naming the documented columns (any order, any subset holding t, method and
 * path), RFC 4180 quoting ("a ""quoted"" field"); one record a line.
 */
import { ConfigError } from '../../config/load.js';
import { EXCHANGE_COLUMNS, type Exchange } from '../exchange.js';
import { exchangeFromRecord } from './fields.js';

/** The fields of one CSV line; undefined when a quote is left open. */
export function splitCsvLine(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= line.length) return undefined;
        const c = line[i]!;
        if (c === '"') {
          if (line[i + 1] === '"') {
            v += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += c;
        i++;
      }
      out.push(v);
      if (i >= line.length) return out;
      if (line[i] !== ',') return undefined;
      i++;
    } else {
      const next = line.indexOf(',', i);
      if (next < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, next));
      i = next + 1;
    }
  }
}

export function parseCsv(text: string, file: string): Exchange[] {
  const lines = text.split(/\r?\n/);
  const headerAt = lines.findIndex((l) => l.trim() !== '');
  if (headerAt < 0) return [];
  const header = splitCsvLine(lines[headerAt]!.trim());
  if (header === undefined) throw new ConfigError(`${file}:${headerAt + 1}: header: a quote is left open`);
  const known = new Set<string>(EXCHANGE_COLUMNS);
  header.forEach((name) => {
    if (!known.has(name)) throw new ConfigError(`${file}:${headerAt + 1}: header: unknown column "${name}" (known: ${EXCHANGE_COLUMNS.join(', ')})`);
  });
  for (const need of ['t', 'method', 'path']) {
    if (!header.includes(need)) throw new ConfigError(`${file}:${headerAt + 1}: header: column "${need}" is missing`);
  }
  const out: Exchange[] = [];
  for (let i = headerAt + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const where = `${file}:${i + 1}`;
    const fields = splitCsvLine(line);
    if (fields === undefined) throw new ConfigError(`${where}: a quote is left open`);
    if (fields.length !== header.length) throw new ConfigError(`${where}: ${fields.length} fields, the header names ${header.length}`);
    const rec: Record<string, string> = {};
    header.forEach((name, k) => (rec[name] = fields[k]!));
    out.push(exchangeFromRecord(rec, where));
  }
  return out;
}

const csvField = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export const csvHeader = (): string => EXCHANGE_COLUMNS.join(',');

/** One exchange record as a CSV line in the documented column order. */
export function csvLineOf(record: Readonly<Record<string, unknown>>): string {
  return EXCHANGE_COLUMNS.map((c) => csvField(record[c])).join(',');
}
