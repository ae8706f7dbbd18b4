/**
 * hawkBit DDI on the wire (protocol/hawkbit.ts): a device request becomes its HTTP call, an HTTP
 * result (or transport failure) becomes a typed answer. Pure; never throws on a hostile answer.
 *
 * Choices where DDI leaves room:
 * - Every call carries `Authorization` (TargetToken of the device, or the tenant's GatewayToken)
 *   and `X-Forwarded-For`: the device's own address (protocol/hawkbit.ts deviceAddress, from a
 *   hash of its controller id), so hawkBit's per-client limits apply per device from one machine.
 * - Links are followed by their path and query only: the request goes to the run's target, never
 *   to another host an answer names.
 * - A poll answer needs `config.polling.sleep` as HH:MM:SS; a deploymentBase needs `download` and
 *   `update` handling values and a first chunk whose first artifact has a size, an md5 (32 hex) and
 *   a download link; a cancelAction needs `stopId`. Otherwise: `protocol:bad-OP-answer`.
 * - 400, 401, 403, 404, 405, 409, 410 and 429 are DDI statuses (`status`); other non-2xx are `http`.
 */
import type { HttpRequest, HttpResult, Wire } from '../types.js';
import type { ActionLink, HawkbitAnswer, HawkbitRequest } from '../../device/hawkbit/types.js';
import {
  cancelFeedbackPath,
  ddiBase,
  deriveTargetToken,
  deviceAddress,
  feedbackPath,
  isHandling,
  parseDdiPath,
  parseSleep,
  type DdiFeedbackBody,
} from '../../protocol/hawkbit.js';
import { DEFAULT_HAWKBIT_TENANT, DEFAULT_HAWKBIT_TOKEN_KEY } from '../../catalog/hawkbit.js';
import { badAnswer, codeLabel, intField, isTransportError, jsonObject, stringField, transportOutcome } from '../decode.js';
import { JSON_ANSWER_MAX_BYTES, downloadAnswerMaxBytes } from '../answer-limits.js';

/** What a hawkBit device needs of its target. */
export interface HawkbitSettings {
  readonly tenant: string;
  /** `target`: a TargetToken per device (derived from `tokenKey`, or listed in `tokens`); `gateway`: the tenant's GatewayToken. */
  readonly auth:
    | { readonly kind: 'target-key'; readonly tokenKey: string }
    | { readonly kind: 'target-list'; readonly tokens: Readonly<Record<string, string>> }
    | { readonly kind: 'gateway'; readonly token: string }
    | { readonly kind: 'none' };
}

/** The embedded reference server's default tenant and demo key (src/catalog/hawkbit.ts). */
export const EMBEDDED_HAWKBIT: HawkbitSettings = { tenant: DEFAULT_HAWKBIT_TENANT, auth: { kind: 'target-key', tokenKey: DEFAULT_HAWKBIT_TOKEN_KEY } };

/** The run's settings; the embedded server's when it gives none (a bare wire in a test). */
export const hawkbitOf = (settings: HawkbitSettings | undefined): HawkbitSettings => settings ?? EMBEDDED_HAWKBIT;

const DDI_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 405, 409, 410, 429]);

function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The address the device with controller id `id` sends in X-Forwarded-For. */
export const addressOf = (id: string): string => deviceAddress(fnv(id));

const tokenMemo = new Map<string, string>();
function authorization(t: HawkbitSettings, id: string): string | undefined {
  switch (t.auth.kind) {
    case 'gateway':
      return `GatewayToken ${t.auth.token}`;
    case 'target-list': {
      const token = t.auth.tokens[id];
      return token === undefined ? undefined : `TargetToken ${token}`;
    }
    case 'target-key': {
      const k = `${t.auth.tokenKey}\n${t.tenant}\n${id}`;
      let token = tokenMemo.get(k);
      if (token === undefined) {
        if (tokenMemo.size > 100_000) tokenMemo.clear();
        tokenMemo.set(k, (token = deriveTargetToken(t.auth.tokenKey, t.tenant, id)));
      }
      return `TargetToken ${token}`;
    }
    case 'none':
      return undefined;
  }
}

function feedbackBody(action: number, r: Extract<HawkbitRequest, { op: 'feedback' }>['report']): string {
  const body: DdiFeedbackBody = {
    id: String(action),
    status: { execution: r.execution, result: { finished: r.finished, ...(r.progress !== undefined ? { progress: { cnt: r.progress.cnt, of: r.progress.of } } : {}) }, ...(r.details !== undefined ? { details: [...r.details] } : {}) },
  };
  return JSON.stringify(body);
}

function encode(req: HawkbitRequest, target: HawkbitSettings | undefined): HttpRequest {
  const t = hawkbitOf(target);
  const auth = authorization(t, req.id);
  const headers: Record<string, string> = { 'X-Forwarded-For': addressOf(req.id), Accept: 'application/hal+json' };
  if (auth !== undefined) headers['Authorization'] = auth;
  const jsonHeaders = { ...headers, 'Content-Type': 'application/json' };
  const max = JSON_ANSWER_MAX_BYTES;
  let http: HttpRequest;
  switch (req.op) {
    case 'poll':
      http = { method: 'GET', path: ddiBase(t.tenant, req.id), headers, maxAnswerBytes: max };
      break;
    case 'config':
      http = { method: 'PUT', path: req.path, headers: jsonHeaders, body: JSON.stringify({ mode: 'merge', data: req.data }), maxAnswerBytes: max };
      break;
    case 'deployment':
    case 'cancel':
      http = { method: 'GET', path: req.path, headers, maxAnswerBytes: max };
      break;
    case 'download':
      http = {
        method: 'GET',
        path: req.path,
        headers: { ...headers, Accept: 'application/octet-stream', Range: `bytes=${req.start}-${req.end}` },
        download: { total: req.total },
        maxAnswerBytes: downloadAnswerMaxBytes(req.total),
      };
      break;
    case 'feedback':
      http = { method: 'POST', path: feedbackPath(t.tenant, req.id, req.action), headers: jsonHeaders, body: feedbackBody(req.action, req.report), maxAnswerBytes: max };
      break;
    case 'cancelFeedback':
      http = { method: 'POST', path: cancelFeedbackPath(t.tenant, req.id, req.action), headers: jsonHeaders, body: feedbackBody(req.action, req.report), maxAnswerBytes: max };
      break;
  }
  return req.fault === undefined ? http : { ...http, fault: req.fault };
}

const objectAt = (o: Record<string, unknown> | undefined, key: string): Record<string, unknown> | undefined => {
  const v = o !== undefined && Object.hasOwn(o, key) ? o[key] : undefined;
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
};

/** The path (and query) of an href, absolute or not; undefined when unusable. */
export function hrefPath(href: unknown): string | undefined {
  if (typeof href !== 'string' || href.length > 2048) return undefined;
  if (href.startsWith('/')) return href;
  try {
    const u = new URL(href);
    return u.pathname + u.search;
  } catch {
    return undefined;
  }
}

function actionLink(links: Record<string, unknown> | undefined, name: string): ActionLink | 'bad' | undefined {
  const l = objectAt(links, name);
  if (l === undefined) return undefined;
  const path = hrefPath(l['href']);
  const parsed = path === undefined ? undefined : parseDdiPath(path.split('?')[0] as string);
  const r = parsed?.resource;
  if (path === undefined || r === undefined || !('action' in r)) return 'bad';
  return { path, action: r.action };
}

const HEX32 = /^[0-9a-fA-F]{32}$/;

function decodePoll(body: Uint8Array): HawkbitAnswer {
  const o = jsonObject(body);
  if (o === undefined) return { type: 'garbage' };
  const sleepMs = parseSleep(objectAt(objectAt(o, 'config'), 'polling')?.['sleep']);
  if (sleepMs === undefined) return badAnswer('poll', 'no config.polling.sleep as HH:MM:SS');
  const links = objectAt(o, '_links');
  const deployment = actionLink(links, 'deploymentBase');
  const cancel = actionLink(links, 'cancelAction');
  if (deployment === 'bad' || cancel === 'bad') return badAnswer('poll', 'a link whose href is no DDI action path');
  const configLink = objectAt(links, 'configData');
  const config = configLink === undefined ? undefined : hrefPath(configLink['href']);
  return { type: 'poll', sleepMs, ...(deployment ? { deployment } : {}), ...(cancel ? { cancel } : {}), ...(config !== undefined ? { config } : {}) };
}

function decodeDeployment(body: Uint8Array): HawkbitAnswer {
  const o = jsonObject(body);
  if (o === undefined) return { type: 'garbage' };
  const action = intField(o, 'id');
  const d = objectAt(o, 'deployment');
  if (action === undefined || d === undefined) return badAnswer('deployment', 'no id or deployment');
  const download = d['download'];
  const update = d['update'];
  if (!isHandling(download) || !isHandling(update)) return badAnswer('deployment', 'download / update not skip, attempt or forced');
  const chunks = d['chunks'];
  const chunk = Array.isArray(chunks) && chunks[0] !== null && typeof chunks[0] === 'object' ? (chunks[0] as Record<string, unknown>) : undefined;
  const artifacts = chunk?.['artifacts'];
  const a = Array.isArray(artifacts) && artifacts[0] !== null && typeof artifacts[0] === 'object' ? (artifacts[0] as Record<string, unknown>) : undefined;
  if (chunk === undefined || a === undefined) return badAnswer('deployment', 'no chunk with an artifact');
  const size = intField(a, 'size');
  const hashes = objectAt(a, 'hashes');
  const md5 = stringField(hashes ?? {}, 'md5');
  const links = objectAt(a, '_links');
  const path = hrefPath(objectAt(links, 'download-http')?.['href']) ?? hrefPath(objectAt(links, 'download')?.['href']);
  if (size === undefined || size <= 0 || md5 === undefined || !HEX32.test(md5) || path === undefined) return badAnswer('deployment', 'artifact without size, md5 or download link');
  const sha1 = stringField(hashes ?? {}, 'sha1');
  const sha256 = stringField(hashes ?? {}, 'sha256');
  const window = d['maintenanceWindow'];
  return {
    type: 'deployment',
    action,
    download,
    update,
    ...(window === 'available' || window === 'unavailable' ? { window } : {}),
    artifact: { path, filename: stringField(a, 'filename') ?? '', size, md5: md5.toLowerCase(), ...(sha1 !== undefined ? { sha1 } : {}), ...(sha256 !== undefined ? { sha256 } : {}) },
    version: (stringField(chunk, 'version') ?? '').slice(0, 64),
  };
}

function decodeCancel(body: Uint8Array): HawkbitAnswer {
  const o = jsonObject(body);
  if (o === undefined) return { type: 'garbage' };
  const action = intField(o, 'id');
  const stopId = intField(objectAt(o, 'cancelAction') ?? {}, 'stopId');
  if (action === undefined || stopId === undefined) return badAnswer('cancel', 'no id or cancelAction.stopId');
  return { type: 'cancel', action, stopId };
}

function decode(req: HawkbitRequest, result: HttpResult): HawkbitAnswer {
  if (result.kind === 'error') {
    const p = result.partial;
    if (req.op === 'download' && p !== undefined && typeof p.held === 'number') return { type: 'net', code: result.code, held: p.held, ...(p.md5 !== undefined ? { md5: p.md5 } : {}) };
    return { type: 'net', code: result.code };
  }
  const { status, body } = result;
  if (req.op === 'download' && (status === 200 || status === 206)) {
    const held = typeof result.held === 'number' && Number.isFinite(result.held) ? result.held : 0;
    return { type: 'file', status, held, ...(result.md5 !== undefined ? { md5: result.md5 } : {}), ...(result.cut ? { cut: true } : {}) };
  }
  if (status === 200) {
    switch (req.op) {
      case 'poll':
        return decodePoll(body);
      case 'deployment':
        return decodeDeployment(body);
      case 'cancel':
        return decodeCancel(body);
      default:
        return { type: 'ok' };
    }
  }
  if (status >= 200 && status < 300 && (req.op === 'feedback' || req.op === 'cancelFeedback' || req.op === 'config')) return { type: 'ok' };
  if (DDI_STATUSES.has(status)) return { type: 'status', status };
  return { type: 'http', status };
}

function outcomeOf(a: HawkbitAnswer): string {
  switch (a.type) {
    case 'poll':
      return a.cancel ? 'http:200 cancelAction' : a.deployment ? 'http:200 deploymentBase' : 'http:200';
    case 'deployment':
    case 'cancel':
    case 'ok':
      return 'http:200';
    case 'file':
      return `http:${a.status}`;
    case 'status':
      return `http:${codeLabel(a.status)}`;
    default:
      return transportOutcome(a);
  }
}

export const hawkbitWire: Wire<HawkbitRequest, HawkbitAnswer, HawkbitSettings | undefined> = {
  encode,
  decode,
  operationOf: (r) => r.op,
  outcomeOf,
  isError: isTransportError,
};
