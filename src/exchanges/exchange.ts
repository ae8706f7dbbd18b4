/**
 * One exchange of a device with an OTA server, as a log keeps it: the column set every log format
 * is read into (docs/replay.md lists it), and how an answer's key fields are read. Pure.
 *
 * The request is kept as it went on the wire (method, path with query, Range, body), never with
 * its secrets: the Authorization header is not a column, and a `project_key` in a query is dropped
 * when the exchange is read (the replay signs and keys every request with the target's own).
 */
import type { HttpResult } from '../dialect/types.js';
import { headerOf, intField, isJsonType, jsonObject, stringField } from '../dialect/decode.js';
import { fileVersionOf } from '../dialect/luat/wire.js';

/** What the answer said, as far as a replay compares it. Absent: the log (or the answer) does not say. */
export interface AnswerFields {
  /** HTTP status; absent when no answer (or no header) arrived. */
  readonly status?: number;
  /** Transport failure instead of a whole answer: ECONNRESET, TIMEOUT, ANSWER_LOST, ... */
  readonly net?: string;
  /** OneNET `errno` of a JSON answer. */
  readonly errno?: number;
  /** Luat `code` of a JSON answer. */
  readonly code?: number;
  /** The task an answer hands out (OneNET check: `data.token`); a dependent value. */
  readonly task?: string;
  /** The version an answer offers (OneNET check `data.target`, a Luat file's version). */
  readonly version?: string;
  /** Body bytes of a file answer (the part that arrived, when cut). */
  readonly bytes?: number;
  /** The link dropped after `bytes` bytes of the body (the device's side cut it). */
  readonly cut?: boolean;
}

export interface LoggedRequest {
  readonly method: string;
  /** Path with its query string, `project_key` removed. */
  readonly path: string;
  /** The Range header, when the request sent one. */
  readonly range?: string;
  /** The request body (JSON calls: small). */
  readonly body?: string;
}

export interface Exchange extends LoggedRequest, AnswerFields {
  /** Where the exchange was read: `file:line` (HAR: `file:entries[i]`). */
  readonly where: string;
  /** Instant the request was sent, ms since the epoch (virtual time for ota-swarm's own logs). */
  readonly t: number;
  /** Device id; absent when the log line does not say (read from the query, or the task's device). */
  readonly device?: string;
}

/** The documented columns, in the CSV's order. `t` is ISO 8601 in files. */
export const EXCHANGE_COLUMNS = ['t', 'device', 'dialect', 'op', 'method', 'path', 'range', 'body', 'status', 'net', 'errno', 'code', 'task', 'version', 'bytes', 'cut'] as const;
export type ExchangeColumn = (typeof EXCHANGE_COLUMNS)[number];

/** A query parameter that is a secret and never kept: Luat's project key. */
const SECRET_PARAMS = ['project_key'];

/** The path with its secret query parameters removed (the rest kept byte for byte). */
export function withoutSecrets(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const kept = path
    .slice(q + 1)
    .split('&')
    .filter((pair) => !SECRET_PARAMS.includes(decodeURIComponent(pair.split('=')[0] ?? '')));
  return kept.length === 0 ? path.slice(0, q) : `${path.slice(0, q)}?${kept.join('&')}`;
}

/** A query parameter of a path, decoded; undefined when absent. */
export function queryParam(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  for (const pair of path.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (safeDecode(key) === name) return eq < 0 ? '' : safeDecode(pair.slice(eq + 1).replace(/\+/g, ' '));
  }
  return undefined;
}

/** The path with query parameter `name` set to `value` (added when absent). */
export function withQueryParam(path: string, name: string, value: string): string {
  const q = path.indexOf('?');
  const base = q < 0 ? path : path.slice(0, q);
  const pairs = q < 0 ? [] : path.slice(q + 1).split('&').filter((p) => p !== '');
  const encoded = `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  const at = pairs.findIndex((p) => safeDecode(p.split('=')[0] ?? '') === name);
  if (at >= 0) pairs[at] = encoded;
  else pairs.push(encoded);
  return `${base}?${pairs.join('&')}`;
}

/** A URI component decoded; the text as it is when it is no valid encoding. */
export const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** The key fields of an answer, as the network layer handed it over. Never throws. */
export function answerFields(result: HttpResult): AnswerFields {
  if (result.kind === 'error') {
    const p = result.partial;
    return p === undefined ? { net: result.code } : { net: result.code, status: p.status, bytes: p.body.length };
  }
  const { status, headers, body } = result;
  const json = isJsonType(headerOf(headers, 'content-type')) ? jsonObject(body) : undefined;
  if (json === undefined) {
    const version = fileVersionOf(headers);
    return { status, bytes: body.length, ...(version !== undefined ? { version } : {}), ...(result.cut === true ? { cut: true } : {}) };
  }
  const out: { -readonly [K in keyof AnswerFields]: AnswerFields[K] } = { status };
  const errno = intField(json, 'errno');
  if (errno !== undefined) out.errno = errno;
  const code = intField(json, 'code');
  if (code !== undefined) out.code = code;
  const data = json['data'];
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    const d = data as Record<string, unknown>;
    const task = stringField(d, 'token');
    if (task !== undefined && task !== '') out.task = task;
    const version = stringField(d, 'target');
    if (version !== undefined && version !== '') out.version = version;
  }
  return out;
}
