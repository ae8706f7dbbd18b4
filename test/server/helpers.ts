/** Shared helpers of the server tests: a real server on 127.0.0.1:0 and small HTTP wrappers. */
import { request } from 'undici';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/index.js';
import { buildAuthorization, type SignMethod } from '../../src/protocol/token.js';
import { DEFAULT_LUAT_FIRMWARE, DEFAULT_LUAT_PROJECT_KEY, DEFAULT_ONENET_ACCESS_KEY, DEFAULT_ONENET_PRODUCT } from '../../src/catalog/default.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json: any;
}

export interface TestServer extends RunningServer {
  /** A valid product-level Authorization for the default product (or `productId` with `key`). */
  auth(o?: { method?: SignMethod; et?: number; productId?: string; key?: string; res?: string }): string;
  get(path: string, headers?: Record<string, string>): Promise<Reply>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply>;
  admin(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<Reply>;
  /** check with the default SOTA fleet's parameters, overridable. */
  check(devId: string, params?: Record<string, string>, auth?: string): Promise<Reply>;
  /** A device's admin view. */
  device(id: string): Promise<any>;
}

export async function send(url: string, method: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Reply> {
  const res = await request(url, { method: method as 'GET', headers, body, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const buf = Buffer.from(await res.body.arrayBuffer());
  const text = buf.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, headers: res.headers as Reply['headers'], body: buf, text, json: parsed };
}

export async function start(options: ServerOptions = {}): Promise<TestServer> {
  const server = await startServer({ quiet: true, ...options });
  const farEt = (): number => Math.floor(server.clock.now() / 1000) + 30 * 86_400;
  const auth: TestServer['auth'] = (o = {}) =>
    buildAuthorization(o.key ?? DEFAULT_ONENET_ACCESS_KEY, { res: o.res ?? `products/${o.productId ?? DEFAULT_ONENET_PRODUCT}`, et: o.et ?? farEt(), method: o.method ?? 'sha1' });
  const get: TestServer['get'] = (path, headers) => send(server.url + path, 'GET', headers);
  const post: TestServer['post'] = (path, body, headers = {}) =>
    send(server.url + path, 'POST', { 'content-type': 'application/json', ...headers }, typeof body === 'string' ? body : JSON.stringify(body));
  const admin: TestServer['admin'] = (method, path, body) =>
    send(server.url + path, method, { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' }, body === undefined ? undefined : JSON.stringify(body));
  const check: TestServer['check'] = (devId, params = {}, a) => {
    const q = new URLSearchParams({ dev_id: devId, manuf: '101', model: '10101', type: '2', version: 'V1.0', cdn: 'false', ...params });
    return get(`/ota/south/check?${q.toString()}`, { authorization: a ?? auth() });
  };
  const device: TestServer['device'] = async (id) => (await admin('GET', `/admin/devices/${id}`)).json;
  return { ...server, auth, get, post, admin, check, device };
}

/** The OneNET flow's calls for a device, with the default Authorization. */
export function onenet(s: TestServer, devId: string) {
  const h = (): Record<string, string> => ({ authorization: s.auth() });
  return {
    check: (params?: Record<string, string>) => s.check(devId, params),
    tokenCheck: (token: string) => s.get(`/ota/south/download/${token}/check?dev_id=${devId}`, h()),
    download: (token: string, range?: string) => s.get(`/ota/south/download/${token}`, range === undefined ? {} : { range }),
    step: (token: string, step: unknown) => s.post(`/ota/south/device/download/${token}/progress?dev_id=${devId}`, { step }, h()),
    report: (token: string, result: unknown) => s.post(`/ota/south/report?dev_id=${devId}&token=${token}`, { result }, h()),
    reportVersion: (body: unknown) => s.post(`/ota/device/version?dev_id=${devId}`, body, h()),
    queryVersion: () => s.get(`/ota/device/version?dev_id=${devId}`, h()),
    /** check, then the token. */
    token: async (params?: Record<string, string>): Promise<string> => {
      const r = await s.check(devId, params);
      if (r.json?.errno !== 0) throw new Error(`check of ${devId} answered ${r.text}`);
      return r.json.data.token as string;
    },
    /** The state of the device's newest task. */
    state: async (): Promise<string> => {
      const d = await s.device(devId);
      return d.tasks[d.tasks.length - 1].state as string;
    },
  };
}

export function luatQuery(params: Record<string, string | undefined>): string {
  const base: Record<string, string> = { project_key: DEFAULT_LUAT_PROJECT_KEY, imei: '866714040000001', firmware_name: DEFAULT_LUAT_FIRMWARE, version: '1.3.1', core_version: '3032' };
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...base, ...params })) if (v !== undefined) merged[k] = v;
  return `/api/site/firmware_upgrade?${new URLSearchParams(merged).toString()}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
