/**
 * HAR 1.2 (a browser's or a proxy's capture): `log.entries[]`, each a request and its answer. The
 * device is read from the query (OneNET `dev_id`, Luat `imei`), or from the task a later grouping
 * ties it to. A bad entry is named by its path in the file (`file: log.entries[3].request.url`).
 */
import { ConfigError } from '../../config/load.js';
import { answerFields, withoutSecrets, type AnswerFields, type Exchange } from '../exchange.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** HAR has no field for "no answer": status 0 (what browsers write for a failed request) is one. */
export const HAR_NO_ANSWER = 'NO_ANSWER';

export function parseHar(text: string, file: string): Exchange[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const log = isObject(doc) ? doc['log'] : undefined;
  const entries = isObject(log) ? log['entries'] : undefined;
  if (!Array.isArray(entries)) throw new ConfigError(`${file}: log.entries: missing (not a HAR 1.2 file)`);
  return entries.map((e, i) => entryOf(e, `${file}: log.entries[${i}]`));
}

function entryOf(e: unknown, where: string): Exchange {
  const fail = (field: string, msg: string): never => {
    throw new ConfigError(`${where}.${field}: ${msg}`);
  };
  if (!isObject(e)) fail('', 'not an object');
  const entry = e as Json;
  const started = entry['startedDateTime'];
  const t = typeof started === 'string' ? Date.parse(started) : NaN;
  if (!Number.isFinite(t)) fail('startedDateTime', `${JSON.stringify(started)} is not an ISO 8601 time`);
  const req = entry['request'];
  if (!isObject(req)) fail('request', 'missing');
  const r = req as Json;
  const method = r['method'];
  if (typeof method !== 'string' || !/^[A-Z]{3,7}$/.test(method)) fail('request.method', `${JSON.stringify(method)} is not an HTTP method`);
  let url: URL;
  try {
    url = new URL(String(r['url']));
  } catch {
    return fail('request.url', `${JSON.stringify(r['url'])} is not a URL`);
  }
  const range = headerIn(r['headers'], 'range');
  const post = r['postData'];
  const body = isObject(post) && typeof post['text'] === 'string' && post['text'] !== '' ? post['text'] : undefined;
  const res = entry['response'];
  if (!isObject(res)) fail('response', 'missing');
  const answer = answerOf(res as Json, where);
  return {
    where,
    t,
    method: method as string,
    path: withoutSecrets(`${url.pathname}${url.search}`),
    ...(range !== undefined ? { range } : {}),
    ...(body !== undefined ? { body } : {}),
    ...answer,
  };
}

function headerIn(headers: unknown, name: string): string | undefined {
  if (!Array.isArray(headers)) return undefined;
  for (const h of headers) if (isObject(h) && typeof h['name'] === 'string' && h['name'].toLowerCase() === name && typeof h['value'] === 'string') return h['value'];
  return undefined;
}

function answerOf(res: Json, where: string): AnswerFields {
  const status = res['status'];
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 0 || status > 999) throw new ConfigError(`${where}.response.status: ${JSON.stringify(status)} is not an HTTP status`);
  if (status === 0) return { net: HAR_NO_ANSWER };
  const content = isObject(res['content']) ? res['content'] : {};
  const mime = typeof content['mimeType'] === 'string' ? content['mimeType'] : '';
  const headers: Record<string, string> = { 'content-type': mime };
  if (Array.isArray(res['headers'])) for (const h of res['headers']) if (isObject(h) && typeof h['name'] === 'string' && typeof h['value'] === 'string') headers[h['name'].toLowerCase()] = h['value'];
  const text = typeof content['text'] === 'string' ? content['text'] : undefined;
  if (text !== undefined) {
    const bytes = content['encoding'] === 'base64' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
    return answerFields({ kind: 'response', status, headers, body: bytes });
  }
  // A file whose bytes the capture left out: its size says how many came.
  const size = typeof content['size'] === 'number' && content['size'] >= 0 ? content['size'] : typeof res['bodySize'] === 'number' && res['bodySize'] >= 0 ? res['bodySize'] : undefined;
  const fields = answerFields({ kind: 'response', status, headers, body: new Uint8Array(0) });
  return size === undefined ? { ...fields, bytes: undefined } as AnswerFields : { ...fields, bytes: size };
}
