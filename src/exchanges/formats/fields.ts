/**
 * Reading one exchange's columns from a record (a JSON line, a CSV row): each field checked, a bad
 * one named with its place (`file:line: status: ...`). Shared by the JSON-lines and CSV readers.
 */
import { ConfigError } from '../../config/load.js';
import { withoutSecrets, type Exchange } from '../exchange.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const ISO_OR_EPOCH = /^\d{4}-\d{2}-\d{2}T/;

/** An instant given as ISO 8601 text or ms since the epoch; undefined when it is neither. */
export function instantOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^\d{1,15}(\.\d+)?$/.test(s)) return Number(s);
  if (!ISO_OR_EPOCH.test(s)) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

const blank = (v: unknown): boolean => v === undefined || v === null || v === '';

/** An exchange from a record of the documented columns (values as JSON gives them, or CSV text). */
export function exchangeFromRecord(rec: Readonly<Record<string, unknown>>, where: string): Exchange {
  const fail = (field: string, msg: string): never => {
    throw new ConfigError(`${where}: ${field}: ${msg}`);
  };
  const t = instantOf(rec['t']);
  if (t === undefined) fail('t', blank(rec['t']) ? 'missing (ISO 8601 time or ms since the epoch)' : `${JSON.stringify(rec['t'])} is not an ISO 8601 time nor ms since the epoch`);
  const method = rec['method'];
  if (typeof method !== 'string' || !/^[A-Z]{3,7}$/.test(method)) fail('method', blank(method) ? 'missing' : `${JSON.stringify(method)} is not an HTTP method`);
  const path = rec['path'];
  if (typeof path !== 'string' || !path.startsWith('/')) fail('path', blank(path) ? 'missing' : `${JSON.stringify(path)} does not start with /`);
  const out: Mutable<Exchange> = { where, t: t as number, method: method as string, path: withoutSecrets(path as string) };
  const text = (key: 'device' | 'range' | 'body' | 'net' | 'task' | 'version'): void => {
    const v = rec[key];
    if (blank(v)) return;
    if (typeof v !== 'string' && typeof v !== 'number') fail(key, `${JSON.stringify(v)} is not text`);
    out[key] = String(v);
  };
  const int = (key: 'status' | 'errno' | 'code' | 'bytes', min: number, max: number): void => {
    const v = rec[key];
    if (blank(v)) return;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) fail(key, `${JSON.stringify(v)} is not an integer ${min}..${max}`);
    out[key] = n;
  };
  text('device');
  text('range');
  text('body');
  text('net');
  text('task');
  text('version');
  int('status', 0, 999);
  int('errno', -1e9, 1e9);
  int('code', -1e9, 1e9);
  int('bytes', 0, Number.MAX_SAFE_INTEGER);
  const cut = rec['cut'];
  if (cut === true || cut === 'true' || cut === '1') out.cut = true;
  else if (!blank(cut) && cut !== false && cut !== 'false' && cut !== '0') fail('cut', `${JSON.stringify(cut)} is not true or false`);
  if (out.status === 0) delete out.status;
  return out;
}
