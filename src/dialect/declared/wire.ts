/**
 * A declared dialect on the wire: a request's call rendered from its templates (with the
 * authentication the file describes), an answer matched against the call's rules and turned into
 * one of the abstract events. Pure, and never throws on what a server sends.
 */
import { createHmac } from 'node:crypto';
import type { HttpRequest, HttpResult, Wire } from '../types.js';
import { headerOf, jsonObject, netLabel } from '../decode.js';
import { JSON_ANSWER_MAX_BYTES, downloadAnswerMaxBytes } from '../answer-limits.js';
import { valueAt, type Values } from './template.js';
import { MAX_FIRMWARE_BYTES } from '../../device/onenet/machine.js';
import type { CompiledAnswer, CompiledCall, CompiledDialect } from './compile.js';
import { DOWNLOAD_CALL, type DeclaredAnswer, type DeclaredOffer, type DeclaredRequest } from './types.js';

/** A declared dialect's settings: its target block's fields, secrets resolved. Never logged. */
export type DeclaredSettings = Readonly<Record<string, string | number>>;

const OUTCOME = /^[A-Za-z0-9:_.\-]{1,48}$/;
const label = (text: string): string => (OUTCOME.test(text) ? text : 'other');

function valuesOf(req: DeclaredRequest, settings: DeclaredSettings, now: number): Record<string, unknown> {
  return {
    device: req.device,
    settings,
    ...(req.offer !== undefined ? { offer: { ...req.offer.extra, version: req.offer.version, size: req.offer.size, hash: req.offer.hash, url: req.offer.url } } : {}),
    ...(req.progress !== undefined ? { progress: req.progress } : {}),
    ...(req.failure !== undefined ? { failure: req.failure } : {}),
    ...(req.download !== undefined ? { download: req.download } : {}),
    now: Math.floor(now / 1000),
  };
}

function authHeaders(d: CompiledDialect, values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const { header, hmac } = d.auth;
  if (header !== undefined) out[header.name] = header.value.render(values);
  if (hmac !== undefined) {
    const auth = { expires: (values['now'] as number) + hmac.expiresInSec };
    const withExpiry = { ...values, auth };
    const key = Buffer.from(hmac.key.render(withExpiry), hmac.keyEncoding);
    const signature = createHmac(hmac.algorithm, key).update(hmac.over.render(withExpiry)).digest(hmac.encoding);
    const signed = { ...values, auth: { ...auth, signature } };
    out[hmac.header] = hmac.value ? hmac.value.render(signed) : signature;
  }
  return out;
}

function render(headers: ReadonlyMap<string, { render(v: Values): string }>, values: Values): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, t] of headers) out[k] = t.render(values);
  return out;
}

/** An absolute URL's path and query (the engine talks to the target's origin); a path as it is. */
function pathOf(url: string): string {
  if (!/^[a-z]+:\/\//i.test(url)) return url.startsWith('/') ? url : `/${url}`;
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return '/';
  }
}

export function declaredWire(d: CompiledDialect): Wire<DeclaredRequest, DeclaredAnswer, DeclaredSettings, HttpRequest, HttpResult> {
  const callOf = (name: string): CompiledCall => {
    const c = d.calls.get(name);
    if (c === undefined) throw new Error(`dialect ${d.name}: no call "${name}"`);
    return c;
  };

  function encode(req: DeclaredRequest, settings: DeclaredSettings, now: number): HttpRequest {
    const values = valuesOf(req, settings ?? {}, now);
    let http: HttpRequest;
    if (req.call === DOWNLOAD_CALL) {
      const dl = d.flow.download;
      const chunk = req.download ?? { start: 0, end: 0, total: 0 };
      const headers = { ...(dl.auth ? authHeaders(d, values) : {}), ...render(dl.headers, values), ...(dl.range ? { Range: `bytes=${chunk.start}-${chunk.end}` } : {}) };
      http = { method: 'GET', path: pathOf(dl.url.render(values)), headers, download: { total: chunk.total, hash: dl.hash }, maxAnswerBytes: downloadAnswerMaxBytes(chunk.total) };
    } else {
      const c = callOf(req.call);
      const headers = { ...(c.auth ? authHeaders(d, values) : {}), ...render(c.headers, values) };
      const body = c.body?.render(values);
      http = { method: c.method, path: pathOf(c.url.render(values)), headers, maxAnswerBytes: JSON_ANSWER_MAX_BYTES, ...(body !== undefined ? { body } : {}) };
    }
    return req.fault === undefined ? http : { ...http, fault: req.fault };
  }

  function decode(req: DeclaredRequest, result: HttpResult): DeclaredAnswer {
    if (req.call === DOWNLOAD_CALL) return downloadAnswer(result);
    const c = callOf(req.call);
    const status = result.kind === 'response' ? result.status : undefined;
    const headers = result.kind === 'response' ? lowerHeaders(result.headers) : {};
    const json = result.kind === 'response' ? jsonObject(result.body) : undefined;
    const values = { ...valuesOf(req, {}, 0), status, headers, json };
    const rule = c.answers.find((a) => matches(a, result, status, json, headers));
    if (rule === undefined) {
      if (result.kind === 'error') return { type: 'net', code: result.code, outcome: `net:${netLabel(result.code)}` };
      const ok = status !== undefined && status >= 200 && status < 300;
      return { type: 'event', event: ok ? 'ok' : 'error', outcome: label(c.outcome?.render(values) ?? `http:${status}`) };
    }
    const fallback = result.kind === 'error' ? `net:${netLabel(result.code)}` : `http:${status}`;
    const outcome = label(rule.outcome?.render(values) ?? c.outcome?.render(values) ?? fallback);
    if (result.kind === 'error' && rule.event === 'error') return { type: 'net', code: result.code, outcome };
    switch (rule.event) {
      case 'offer': {
        const offer = offerOf(rule, values);
        return offer === undefined ? { type: 'event', event: 'error', outcome: label(`bad-${req.call}-offer`) } : { type: 'event', event: 'offer', outcome, offer };
      }
      case 'wait': {
        const sec = Number(rule.wait?.value(values));
        return { type: 'event', event: 'wait', outcome, waitSec: Number.isFinite(sec) && sec >= 0 ? Math.min(sec, 86_400) : 60 };
      }
      case 'refused':
        return { type: 'event', event: 'refused', outcome, reason: (rule.reason?.render(values) ?? outcome).slice(0, 200) };
      default:
        return { type: 'event', event: rule.event, outcome };
    }
  }

  function downloadAnswer(result: HttpResult): DeclaredAnswer {
    if (result.kind === 'error') {
      const p = result.partial;
      const base = { type: 'net' as const, code: result.code, outcome: `net:${netLabel(result.code)}` };
      if (p?.held === undefined) return base;
      return p.digest === undefined ? { ...base, held: p.held } : { ...base, held: p.held, digest: p.digest };
    }
    if (result.status !== 200 && result.status !== 206) return { type: 'event', event: 'error', outcome: `http:${result.status}` };
    const held = typeof result.held === 'number' ? result.held : 0;
    return { type: 'bytes', outcome: d.flow.download.outcome, held, ...(result.digest !== undefined ? { digest: result.digest } : {}), ...(result.cut === true ? { cut: true } : {}) };
  }

  return {
    encode,
    decode,
    operationOf: (req) => (req.call === DOWNLOAD_CALL ? d.flow.download.operation : callOf(req.call).operation),
    outcomeOf: (a) => a.outcome,
    isError: (a) => a.type === 'net' || (a.type === 'event' && a.event === 'error'),
  };
}

function lowerHeaders(h: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

function matches(a: CompiledAnswer, result: HttpResult, status: number | undefined, json: Record<string, unknown> | undefined, headers: Record<string, string>): boolean {
  const w = a.when;
  if (w === undefined) return true;
  if (w.transport !== undefined && w.transport !== (result.kind === 'error')) return false;
  if (w.status !== undefined) {
    const wanted = Array.isArray(w.status) ? w.status : [w.status];
    if (status === undefined || !wanted.includes(status)) return false;
  }
  for (const [path, want] of Object.entries(w.json ?? {})) {
    if (json === undefined || valueAt(json, path.split('.')) !== want) return false;
  }
  for (const path of w.has ?? []) {
    const v = json === undefined ? undefined : valueAt(json, path.split('.'));
    if (v === undefined || v === null) return false;
  }
  for (const [name, want] of Object.entries(w.header ?? {})) if (headerOf(headers, name.toLowerCase()) !== want) return false;
  return true;
}

const VERSION = /^[A-Za-z0-9._+-]{1,64}$/;
const MAX_URL_CHARS = 2048;
const HASH = /^[0-9a-fA-F]{32,128}$/;

/** The offer a rule reads from an answer, or undefined when what the server sent cannot be one. */
function offerOf(rule: CompiledAnswer, values: Values): DeclaredOffer | undefined {
  const o = rule.offer;
  if (o === undefined) return undefined;
  const version = o.version.render(values).trim();
  const size = Number(o.size.value(values));
  const hash = o.hash.render(values).trim().toLowerCase();
  if (!VERSION.test(version) || !Number.isSafeInteger(size) || size < 1 || size > MAX_FIRMWARE_BYTES || !HASH.test(hash)) return undefined;
  const extra: Record<string, string> = {};
  for (const [k, t] of o.extra) extra[k] = t.render(values).slice(0, 512);
  const url = o.url?.render(values).slice(0, MAX_URL_CHARS);
  return { version, size, hash, ...(url !== undefined && url !== '' ? { url } : {}), extra };
}
