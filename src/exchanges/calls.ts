/**
 * What the exchange log and the replay know of each protocol: which calls a logged request is, where its device id and
 * task sit, and how to make it again for a new target (signed with the target's key, the device
 * and task of the new run put in). One entry a dialect: a CoAP dialect adds its own (its requests
 * travel by its transport; see docs/replay.md).
 */
import type { HttpRequest } from '../dialect/types.js';
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
  /** The request at virtual instant `now`, with the settings its target spec made (absent: throws one line). */
  encode(req: ReplayRequest, settings: unknown, now: number): HttpRequest;
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
  encode(req, settings, now) {
    const s = settings as OnenetSettings | undefined;
    if (!s) throw new Error('replay: the target has no OneNET product key');
    const op = onenet.recognise(req.method, req.path, req.body)?.op;
    if (op === 'download') {
      const headers: Record<string, string> = req.range !== undefined ? { Range: req.range } : {};
      return { method: 'GET', path: req.path, headers, maxAnswerBytes: LUAT_FILE_MAX_BYTES };
    }
    const headers = { Authorization: authorizationAt(s, now), 'Content-Type': 'application/json' };
    const method = req.method === 'POST' ? 'POST' : 'GET';
    return { method, path: req.path, headers, ...(req.body !== undefined ? { body: req.body } : {}), maxAnswerBytes: JSON_ANSWER_MAX_BYTES };
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
    return { method: 'GET', path, headers, maxAnswerBytes: LUAT_FILE_MAX_BYTES };
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
