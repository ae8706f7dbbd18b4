/** JSON lines: one object a line with the documented columns (docs/replay.md); blank lines skipped. */
import { ConfigError } from '../../config/load.js';
import type { Exchange } from '../exchange.js';
import { exchangeFromRecord } from './fields.js';

export function parseJsonLines(text: string, file: string): Exchange[] {
  const out: Exchange[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = `${file}:${i + 1}`;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (err) {
      throw new ConfigError(`${where}: not JSON (${(err as Error).message.split('\n')[0]})`);
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new ConfigError(`${where}: not a JSON object`);
    out.push(exchangeFromRecord(rec as Record<string, unknown>, where));
  }
  return out;
}

/** One exchange as its JSON line (absent fields left out; `t` as ISO 8601). */
export function jsonLineOf(record: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(record);
}
