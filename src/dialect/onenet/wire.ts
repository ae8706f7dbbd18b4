/**
 * OneNET on the wire (spec §1.2): a device request becomes the platform's HTTP call, an HTTP
 * result (or transport failure) becomes a typed answer. Pure apart from a one-entry memo of the
 * Authorization header (it changes once a second at most).
 *
 * Choices where the documents are silent:
 * - Every call but the download carries `Authorization` (product-level resource) and
 *   `Content-Type: application/json`; the download carries only `Range: bytes=start-end`.
 * - The check always sends `signals`, `powers` and `cdn=false` (loopback targets need no CDN).
 * - A JSON call's answer is read only from HTTP 200; other statuses are `http` answers. A JSON
 *   object that is not `{errno (integer), error (text)?}`, or a check answered errno 0 whose `data`
 *   lacks a readable target, token, size or md5, or carries a non-number signal,
 *   power, retry, interval or type, is `protocol:bad-OP-answer`: an error, a failed request.
 * - A download answer (200/206) without Content-Length whose body is the one byte 1, 2 or 3 is a
 *   download error; a JSON body with an integer `errno` served as JSON is read as a JSON answer;
 *   anything else is bytes, judged by what the engine says the device holds.
 * - A request's `fault` travels to the engine unchanged; `authAt` (a device still sending an
 *   Authorization it signed earlier) signs the header at that instant instead of `now`.
 */
import type { HttpRequest, HttpResult, Wire } from '../types.js';
import type { OnenetSettings } from './target.js';
import type { OnenetAnswer, OnenetOffer, OnenetRequest } from '../../device/onenet/types.js';
import { ONENET_PATHS } from '../../protocol/onenet.js';
import { buildAuthorization, productResource } from '../../protocol/token.js';
import { badAnswer, codeLabel, headerOf, intField, isJsonType, isTransportError, jsonObject, numberField, stringField, transportOutcome } from '../decode.js';
import { JSON_ANSWER_MAX_BYTES, downloadAnswerMaxBytes } from '../answer-limits.js';

type OnenetTarget = OnenetSettings;

const JSON_TYPE = 'application/json';
const enc = encodeURIComponent;

let memo: { key: string; pid: string; method: string; et: number; header: string } | undefined;

/** The Authorization header at virtual instant `now` (ms): expires `tokenTtlSec` later. */
export function authorizationAt(t: OnenetTarget, now: number): string {
  const et = Math.floor(now / 1000) + t.tokenTtlSec;
  if (memo && memo.et === et && memo.key === t.accessKey && memo.pid === t.productId && memo.method === t.signMethod) return memo.header;
  const header = buildAuthorization(t.accessKey, { res: productResource(t.productId), et, method: t.signMethod });
  memo = { key: t.accessKey, pid: t.productId, method: t.signMethod, et, header };
  return header;
}

function jsonCall(method: 'GET' | 'POST', path: string, target: OnenetTarget, now: number, body?: unknown): HttpRequest {
  const headers = { Authorization: authorizationAt(target, now), 'Content-Type': JSON_TYPE };
  const maxAnswerBytes = JSON_ANSWER_MAX_BYTES;
  return body === undefined ? { method, path, headers, maxAnswerBytes } : { method, path, headers, body: JSON.stringify(body), maxAnswerBytes };
}

function encode(req: OnenetRequest, target: OnenetTarget, now: number): HttpRequest {
  // The engine hands over whatever settings it resolved: a run that skipped the target spec is a bug to name, not a TypeError.
  if (typeof target?.productId !== 'string') throw new Error('dialect onenet: the target has no onenet settings (target.onenet: productId, accessKey)');
  const http = encodeCall(req, target, req.authAt ?? now);
  return req.fault === undefined ? http : { ...http, fault: req.fault };
}

function encodeCall(req: OnenetRequest, target: OnenetTarget, now: number): HttpRequest {
  const dev = `dev_id=${enc(req.devId)}`;
  switch (req.op) {
    case 'reportVersion': {
      const body = req.taskType === 2 ? { s_version: req.version } : { f_version: req.version };
      return jsonCall('POST', `${ONENET_PATHS.reportVersion}?${dev}`, target, now, body);
    }
    case 'check': {
      const q =
        `${dev}&manuf=${enc(req.manuf)}&model=${enc(req.model)}&type=${req.taskType}&version=${enc(req.version)}` +
        `&signals=${enc(String(req.signal))}&powers=${enc(String(req.battery))}&cdn=false`;
      return jsonCall('GET', `${ONENET_PATHS.check}?${q}`, target, now);
    }
    case 'tokenCheck':
      return jsonCall('GET', `${ONENET_PATHS.downloadPrefix}${enc(req.token)}/check?${dev}`, target, now);
    case 'download':
      return {
        method: 'GET',
        path: `${ONENET_PATHS.downloadPrefix}${enc(req.token)}`,
        headers: { Range: `bytes=${req.start}-${req.end}` },
        download: { total: req.total },
        maxAnswerBytes: downloadAnswerMaxBytes(req.total),
      };
    case 'progress':
    case 'result':
      return jsonCall('POST', `${ONENET_PATHS.progressPrefix}${enc(req.token)}/progress?${dev}`, target, now, { step: req.step });
  }
}

/**
 * `data` of a check answer read as the spec's shape (§1.2: target, token, size, md5 required; signal,
 * power, retry, interval, type numbers when present), or what is wrong with it.
 */
function offerOf(data: unknown): OnenetOffer | string {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'no data object';
  const o = data as Record<string, unknown>;
  const text = (key: string): string | undefined => {
    const v = stringField(o, key);
    return v !== undefined && v.trim() !== '' ? v : undefined;
  };
  const target = text('target');
  const token = text('token');
  const size = intField(o, 'size');
  const md5 = text('md5');
  if (target === undefined) return 'data.target missing or not text';
  if (token === undefined) return 'data.token missing or not text';
  if (size === undefined || size < 1) return 'data.size missing or not a positive integer';
  if (md5 === undefined) return 'data.md5 missing or not text';
  const offer: { -readonly [K in keyof OnenetOffer]: OnenetOffer[K] } = { target, token, size, md5 };
  const optional = { signal: numberField, power: numberField, retry: intField, interval: numberField, type: intField } as const;
  for (const [key, read] of Object.entries(optional) as [keyof typeof optional, (o: Record<string, unknown>, k: string) => number | undefined][]) {
    if (!Object.hasOwn(o, key) || o[key] === null) continue;
    const v = read(o, key);
    if (v === undefined) return `data.${key} is not a number`;
    offer[key] = v;
  }
  return offer;
}

/**
 * A JSON call's answer, `{errno, error, data?}` (spec §1.2): undefined when the body is no JSON
 * object at all; a protocol error when it is one but not of that shape.
 */
function jsonAnswer(req: OnenetRequest, body: Uint8Array): OnenetAnswer | undefined {
  const o = jsonObject(body);
  if (o === undefined) return undefined;
  const errno = intField(o, 'errno');
  if (errno === undefined) return badAnswer(req.op, 'no integer errno');
  // `error` is a message for people: text, or null as some servers send it.
  if (Object.hasOwn(o, 'error') && typeof o['error'] !== 'string' && o['error'] !== null) return badAnswer(req.op, 'error is not text');
  if (req.op === 'check' && errno === 0) {
    const offer = offerOf(o['data']);
    return typeof offer === 'string' ? badAnswer(req.op, `errno 0 but ${offer}`) : { type: 'json', errno, offer };
  }
  return { type: 'json', errno };
}

const DOWNLOAD_ERROR_BYTES: Readonly<Record<number, 1 | 2 | 3>> = { 0x31: 1, 0x32: 2, 0x33: 3 };
const TOTAL_OF_RANGE = /\/\s*(\d{1,15})\s*$/;

function downloadAnswer(req: OnenetRequest, r: Extract<HttpResult, { kind: 'response' }>): OnenetAnswer {
  if (r.status !== 200 && r.status !== 206) return { type: 'http', status: r.status };
  if (headerOf(r.headers, 'content-length') === undefined && r.body.length === 1) {
    const code = DOWNLOAD_ERROR_BYTES[r.body[0] ?? 0];
    if (code !== undefined) return { type: 'download-error', code };
  }
  if (isJsonType(headerOf(r.headers, 'content-type'))) {
    const json = jsonAnswer(req, r.body);
    if (json !== undefined) return json;
  }
  const range = headerOf(r.headers, 'content-range');
  const m = range !== undefined ? TOTAL_OF_RANGE.exec(range) : null;
  const held = typeof r.held === 'number' && Number.isFinite(r.held) ? r.held : 0;
  const answer: { type: 'file'; held: number; total?: number; md5?: string; cut?: boolean } = { type: 'file', held };
  if (m) answer.total = Number(m[1]);
  if (typeof r.md5 === 'string') answer.md5 = r.md5;
  if (r.cut === true) answer.cut = true;
  return answer;
}

function decode(req: OnenetRequest, result: HttpResult): OnenetAnswer {
  if (result.kind === 'error') {
    const held = result.partial?.held;
    if (req.op !== 'download' || held === undefined) return { type: 'net', code: result.code };
    const md5 = result.partial?.md5;
    return md5 === undefined ? { type: 'net', code: result.code, held } : { type: 'net', code: result.code, held, md5 };
  }
  if (req.op === 'download') return downloadAnswer(req, result);
  if (result.status !== 200) return { type: 'http', status: result.status };
  return jsonAnswer(req, result.body) ?? { type: 'garbage' };
}

function outcomeOf(a: OnenetAnswer): string {
  switch (a.type) {
    case 'json':
      return `errno:${codeLabel(a.errno)}`;
    case 'file':
      return 'bytes';
    case 'download-error':
      return `download-error:${a.code}`;
    default:
      return transportOutcome(a);
  }
}


export const onenetWire: Wire<OnenetRequest, OnenetAnswer, OnenetSettings> = {
  encode,
  decode,
  operationOf: (req) => req.op,
  outcomeOf,
  isError: isTransportError,
};
