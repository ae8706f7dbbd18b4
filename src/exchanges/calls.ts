/**
 * What the exchange log and the replay know of each protocol: which calls a logged request is, where its device id and
 * task sit, and how to make it again for a new target (signed with the target's key, the device
 * and task of the new run put in). One entry a dialect: a CoAP dialect adds its own (its requests
 * travel by its transport; see docs/replay.md).
 */
import type { HttpRequest, HttpResult } from '../dialect/types.js';
import type { OnenetRequest } from '../device/onenet/types.js';
import type { LuatRequest } from '../device/luat/types.js';
import { intField, jsonObject } from '../dialect/decode.js';
import type { OnenetSettings } from '../dialect/onenet/target.js';
import type { LuatSettings } from '../dialect/luat/target.js';
import { ONENET_PATHS } from '../protocol/onenet.js';
import { LUAT_PATH } from '../protocol/luat.js';
import { authorizationAt } from '../dialect/onenet/wire.js';
import { JSON_ANSWER_MAX_BYTES, LUAT_FILE_MAX_BYTES } from '../dialect/answer-limits.js';
import { queryParam, safeDecode, withQueryParam } from './exchange.js';
import { DEFAULT_ONENET_PRODUCT } from '../catalog/default.js';

export interface RecognisedCall {
  readonly dialect: string;
  /** The operation, as the run's histograms name it (check, download, luat, ...). */
  readonly op: string;
  readonly device?: string;
  /** The task (OneNET token) the request's path carries: a value an earlier answer gave. */
  readonly task?: string;
  /** Its answer is a file (bytes are compared, and a cut can be enacted). */
  readonly file: boolean;
}

/** A request to make again, as the replay script holds it. */
export interface ReplayRequest {
  readonly method: string;
  readonly path: string;
  readonly range?: string;
  readonly body?: string;
}

export interface ReplayDialect {
  readonly name: string;
  recognise(method: string, path: string, body: string | undefined): RecognisedCall | undefined;
  /** The path with the device id put in. */
  withDevice(path: string, device: string): string;
  /** The path with task `from` replaced by `to`. */
  withTask(path: string, from: string, to: string): string;
  /**
   * The `target.<dialect>` block a log implies (its dialect target spec makes the settings from
   * it); `firstPath`: the path of the log's first call of this dialect.
   */
  targetBlock(firstPath: string | undefined, o: { productId?: string }): unknown;
  /**
   * The request at virtual instant `now`, with the settings its target spec made (absent: throws
   * one line); `total`: the size of the file a download is of, when an earlier answer said it (the
   * transport then assembles the bytes as it does a device's: held, md5).
   */
  encode(req: ReplayRequest, settings: unknown, now: number, total?: number): HttpRequest;
  /** The size of the file an answer offers (OneNET: a check's data.size); undefined: it offers none. */
  offeredSize(result: HttpResult): number | undefined;
  /**
   * The device request (the dialect's own request type) a sent call is, so the dialect's wire and
   * evidence codec read its answer as they read a device's; `total` as for `encode`. Undefined:
   * the call cannot be read as a device's (a OneNET download before any offer named its size).
   */
  deviceRequest(http: HttpRequest, device: string, total: number | undefined): unknown;
  /** What a device's request says of the device (its version, model, signal, ...); undefined: nothing. */
  profileOf(request: unknown): Partial<DeviceFacts> | undefined;
}

/** What a device's own requests tell of it (a DeviceProfile's fields). */
export interface DeviceFacts {
  readonly version: string;
  readonly manuf: string;
  readonly model: string;
  readonly core: string;
  readonly taskType: 1 | 2;
  readonly signal: number;
  readonly battery: number;
}

const BYTE_RANGE = /bytes=(\d{1,15})-(\d{1,15})/;
const rangeOf = (http: HttpRequest): string => http.headers['Range'] ?? http.headers['range'] ?? '';
const numberOr = (v: string | undefined, fallback: number): number => (v !== undefined && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : fallback);
const faultOf = (http: HttpRequest): { fault?: HttpRequest['fault'] } => (http.fault !== undefined ? { fault: http.fault } : {});

function onenetRequest(http: HttpRequest, devId: string, total: number | undefined): OnenetRequest | undefined {
  const call = onenet.recognise(http.method, http.path, http.body);
  if (call === undefined) return undefined;
  const q = (name: string): string => queryParam(http.path, name) ?? '';
  const token = call.task ?? '';
  switch (call.op) {
    case 'reportVersion': {
      const o = http.body !== undefined ? (jsonObject(Buffer.from(http.body)) ?? {}) : {};
      const sota = typeof o['s_version'] === 'string';
      return { op: 'reportVersion', devId, taskType: sota ? 2 : 1, version: String(sota ? o['s_version'] : (o['f_version'] ?? '')), ...faultOf(http) };
    }
    case 'check':
      return { op: 'check', devId, taskType: q('type') === '1' ? 1 : 2, manuf: q('manuf'), model: q('model'), version: q('version'), signal: numberOr(q('signals'), 99), battery: numberOr(q('powers'), 0), ...faultOf(http) };
    case 'tokenCheck':
      return { op: 'tokenCheck', devId, token, ...faultOf(http) };
    case 'download': {
      // Before any check offered the file's size the bytes are not assembled: what the device held is unknown.
      if (total === undefined) return undefined;
      const m = BYTE_RANGE.exec(rangeOf(http));
      return { op: 'download', devId, token, start: m ? Number(m[1]) : 0, end: m ? Number(m[2]) : Math.max(0, total - 1), total, ...faultOf(http) };
    }
    case 'progress':
    case 'result':
      return { op: call.op, devId, token, step: stepOf(http.body) ?? 0, ...faultOf(http) };
  }
  return undefined;
}

/** Each dialect's target settings (what its target spec made), by dialect name. */
export type ReplaySettings = Readonly<Record<string, unknown>>;

const DOWNLOAD = ONENET_PATHS.downloadPrefix;
const PROGRESS = ONENET_PATHS.progressPrefix;

function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

/** A progress call's step (above 100: a result), when its body says. */
function stepOf(body: string | undefined): number | undefined {
  if (body === undefined) return undefined;
  try {
    const o = JSON.parse(body) as { step?: unknown };
    return typeof o.step === 'number' ? o.step : undefined;
  } catch {
    return undefined;
  }
}

const onenet: ReplayDialect = {
  name: 'onenet',
  recognise(method, path, body) {
    const p = pathOnly(path);
    const dev = queryParam(path, 'dev_id');
    const device = dev !== undefined && dev !== '' ? { device: dev } : {};
    if (method === 'POST' && p === ONENET_PATHS.reportVersion) return { dialect: 'onenet', op: 'reportVersion', ...device, file: false };
    if (method === 'GET' && p === ONENET_PATHS.check) return { dialect: 'onenet', op: 'check', ...device, file: false };
    if (method === 'GET' && p.startsWith(DOWNLOAD)) {
      const rest = p.slice(DOWNLOAD.length).split('/');
      const task = safeDecode(rest[0] ?? '');
      if (task === '') return undefined;
      if (rest.length === 2 && rest[1] === 'check') return { dialect: 'onenet', op: 'tokenCheck', ...device, task, file: false };
      if (rest.length === 1) return { dialect: 'onenet', op: 'download', ...device, task, file: true };
      return undefined;
    }
    if (method === 'POST' && p.startsWith(PROGRESS) && p.endsWith('/progress')) {
      const task = safeDecode(p.slice(PROGRESS.length, -'/progress'.length));
      if (task === '' || task.includes('/')) return undefined;
      const step = stepOf(body);
      return { dialect: 'onenet', op: step !== undefined && step > 100 ? 'result' : 'progress', ...device, task, file: false };
    }
    return undefined;
  },
  withDevice: (path, device) => (queryParam(path, 'dev_id') === undefined ? path : withQueryParam(path, 'dev_id', device)),
  withTask(path, from, to) {
    const q = path.indexOf('?');
    const p = q < 0 ? path : path.slice(0, q);
    const query = q < 0 ? '' : path.slice(q);
    const segments = p.split('/').map((s) => (safeDecode(s) === from ? encodeURIComponent(to) : s));
    return `${segments.join('/')}${query}`;
  },
  targetBlock: (_path, o) => ({ productId: o.productId ?? DEFAULT_ONENET_PRODUCT, signMethod: 'sha1', tokenTtlSec: 3600 }),
  encode(req, settings, now, total) {
    const s = settings as OnenetSettings | undefined;
    if (!s) throw new Error('replay: the target has no OneNET product key');
    const op = onenet.recognise(req.method, req.path, req.body)?.op;
    if (op === 'download') {
      const headers: Record<string, string> = req.range !== undefined ? { Range: req.range } : {};
      return { method: 'GET', path: req.path, headers, ...(total !== undefined ? { download: { total } } : {}), maxAnswerBytes: LUAT_FILE_MAX_BYTES };
    }
    const headers = { Authorization: authorizationAt(s, now), 'Content-Type': 'application/json' };
    const method = req.method === 'POST' ? 'POST' : 'GET';
    return { method, path: req.path, headers, ...(req.body !== undefined ? { body: req.body } : {}), maxAnswerBytes: JSON_ANSWER_MAX_BYTES };
  },
  offeredSize(result) {
    const o = result.kind === 'response' ? jsonObject(result.body) : undefined;
    const data = o?.['data'];
    return typeof data === 'object' && data !== null && !Array.isArray(data) ? intField(data as Record<string, unknown>, 'size') : undefined;
  },
  deviceRequest: (http, device, total) => onenetRequest(http, device, total),
  profileOf(request) {
    const r = request as OnenetRequest | undefined;
    return r?.op === 'check' ? { version: r.version, manuf: r.manuf, model: r.model, taskType: r.taskType, signal: r.signal, battery: r.battery } : undefined;
  },
};

const luat: ReplayDialect = {
  name: 'luat',
  recognise(method, path) {
    if (method !== 'GET' || pathOnly(path) !== LUAT_PATH) return undefined;
    const imei = queryParam(path, 'imei');
    return { dialect: 'luat', op: 'luat', ...(imei !== undefined && imei !== '' ? { device: imei } : {}), file: true };
  },
  withDevice: (path, device) => withQueryParam(path, 'imei', device),
  withTask: (path) => path,
  targetBlock: (path) => ({ firmwareName: (path !== undefined ? queryParam(path, 'firmware_name') : undefined) ?? '' }),
  encode(req, settings) {
    const s = settings as LuatSettings | undefined;
    if (!s) throw new Error('replay: the target has no Luat project key');
    const path = withQueryParam(req.path, 'project_key', s.projectKey);
    const headers: Record<string, string> = req.range !== undefined ? { Range: req.range } : {};
    // As the Luat wire asks: the size is unknown, the transport digests whatever body arrives.
    return { method: 'GET', path, headers, download: { total: 0 }, maxAnswerBytes: LUAT_FILE_MAX_BYTES };
  },
  offeredSize: () => undefined,
  deviceRequest(http, device): LuatRequest {
    return { op: 'ask', imei: device, version: queryParam(http.path, 'version') ?? '', core: queryParam(http.path, 'core_version') ?? '', ...faultOf(http) };
  },
  profileOf(request) {
    const r = request as LuatRequest | undefined;
    return r?.op === 'ask' ? { version: r.version, core: r.core } : undefined;
  },
};

const REPLAY_DIALECTS: ReplayDialect[] = [onenet, luat];

export function replayDialect(name: string): ReplayDialect | undefined {
  return REPLAY_DIALECTS.find((d) => d.name === name);
}

/** The call a logged request is, in whichever dialect knows it; undefined: no OTA call. */
export function recogniseCall(method: string, path: string, body: string | undefined): RecognisedCall | undefined {
  for (const d of REPLAY_DIALECTS) {
    const call = d.recognise(method, path, body);
    if (call !== undefined) return call;
  }
  return undefined;
}
