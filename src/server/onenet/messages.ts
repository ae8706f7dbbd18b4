/**
 * The `{errno, error}` answers of the OneNET calls, serialised once: most answers on the hot path
 * are one of these strings. `error` is "succ" for errno 0, as the platform writes it.
 */
import { json, type Answer } from '../http/answer.js';

const CHECK_TEXT: Readonly<Record<number, string>> = {
  0: 'succ',
  1: 'auth failed',
  2: 'invalid parameter',
  7: 'internal error',
  8: 'manuf or model differs from the task',
  9: 'version differs from the diff package source',
  11: 'no task',
  27: 'bad version format',
};

const TOKEN_TEXT: Readonly<Record<number, string>> = {
  0: 'succ',
  1: 'auth failed',
  2: 'invalid parameter',
  4: 'token and device differ',
  7: 'internal error',
  12: 'token expired',
  17: 'invalid state',
  20: 'task finished',
  21: 'invalid operation',
  22: 'task cancelled',
};

const REPORT_TEXT: Readonly<Record<number, string>> = {
  0: 'succ',
  1: 'token authentication failed',
  2: 'unknown code',
  7: 'internal error',
  20: 'task finished',
  21: 'invalid operation',
  22: 'task cancelled',
  24: 'bad result',
};

const VERSION_TEXT: Readonly<Record<number, string>> = {
  0: 'succ',
  1: 'auth failed',
  2: 'invalid parameter',
  7: 'internal error',
  27: 'bad version format',
};

export type ErrnoTable = 'check' | 'token' | 'report' | 'version';
const TABLES: Readonly<Record<ErrnoTable, Readonly<Record<number, string>>>> = {
  check: CHECK_TEXT,
  token: TOKEN_TEXT,
  report: REPORT_TEXT,
  version: VERSION_TEXT,
};

const cache = new Map<string, Answer>();

/** `{"errno":N,"error":"…"}` with HTTP 200, built once per (table, errno). */
export function errnoAnswer(table: ErrnoTable, errno: number): Answer {
  const key = `${table}:${errno}`;
  let a = cache.get(key);
  if (!a) {
    const error = TABLES[table][errno] ?? 'error';
    a = json(200, `{"errno":${errno},"error":${JSON.stringify(error)}}`, `errno:${errno}`);
    cache.set(key, a);
  }
  return a;
}

/** `{"errno":0,"error":"succ","data":…}` */
export const dataAnswer = (data: unknown): Answer => json(200, `{"errno":0,"error":"succ","data":${JSON.stringify(data)}}`, 'errno:0');
