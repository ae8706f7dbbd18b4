/**
 * Which call a request is: exact paths in a Map, then the two OneNET prefix paths (a token in the
 * path) and /admin/. No framework, no regular expressions on the hot path.
 */
import { LUAT_PATH } from '../protocol/luat.js';
import { ONENET_PATHS } from '../protocol/onenet.js';
import { DDI_ROUTES, matchDdi } from './hawkbit/routes.js';
import { AIOT_PATHS } from '../protocol/aiot.js';
import { json } from './http/answer.js';
import type { Outcome, RequestContext } from './http/answer.js';
import type { EndpointName } from './faults/config.js';
import type { ServerState } from './server-state.js';

export interface Route {
  readonly endpoint: EndpointName;
  readonly needsBody: boolean;
  readonly call: (state: ServerState, ctx: RequestContext) => Outcome;
}

export type Match =
  | { readonly kind: 'route'; readonly route: Route; readonly param: string }
  | { readonly kind: 'admin'; readonly param: string }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'method'; readonly allow: string };

const route = (endpoint: EndpointName, needsBody: boolean, call: Route['call']): Route => ({ endpoint, needsBody, call });

const CHECK = route('check', false, (s, c) => s.onenet.check(c));
const TOKEN_CHECK = route('tokenCheck', false, (s, c) => s.onenet.tokenCheck(c));
const DOWNLOAD = route('download', false, (s, c) => s.onenet.download(c));
const PROGRESS = route('progress', true, (s, c) => s.onenet.progress(c));
const REPORT = route('report', true, (s, c) => s.onenet.report(c));
const REPORT_VERSION = route('reportVersion', true, (s, c) => s.onenet.reportVersion(c));
const QUERY_VERSION = route('queryVersion', false, (s, c) => s.onenet.queryVersion(c));
const LUAT = route('luat', false, (s, c) => s.luat.upgrade(c));
const AIOT_OFF = { answer: json(404, { error: 'the AIOT open API is not enabled on this server (serve --aiot-push-url / ServerOptions.aiot)' }) };
const aiot = (call: 'queryAll' | 'querySelected' | 'upgradeAll' | 'upgradeSelected'): Route => route('aiot', true, (s, c) => (s.aiot ? s.aiot.calls[call](c) : AIOT_OFF));
const LWM2M_DOWNLOAD = route('lwm2mDownload', false, (s, c) => s.lwm2mHttp.download(c));
/** LwM2M packages over HTTP (a campaign with `delivery: http`); see src/server/lwm2m/http.ts. */
const LWM2M_FW_PREFIX = '/lwm2m/fw/';

/** path → method → route */
const EXACT = new Map<string, Readonly<Record<string, Route>>>([
  [ONENET_PATHS.check, { GET: CHECK }],
  [ONENET_PATHS.reportVersion, { POST: REPORT_VERSION, GET: QUERY_VERSION }],
  [ONENET_PATHS.report, { POST: REPORT }],
  [LUAT_PATH, { GET: LUAT }],
  [AIOT_PATHS.queryAll, { POST: aiot('queryAll') }],
  [AIOT_PATHS.querySelected, { POST: aiot('querySelected') }],
  [AIOT_PATHS.upgradeAll, { POST: aiot('upgradeAll') }],
  [AIOT_PATHS.upgradeSelected, { POST: aiot('upgradeSelected') }],
]);

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
const PROGRESS_SUFFIX = '/progress';
const CHECK_SUFFIX = '/check';

function byMethod(method: string, routes: Readonly<Record<string, Route>>, param = ''): Match {
  const r = routes[method];
  return r ? { kind: 'route', route: r, param } : { kind: 'method', allow: Object.keys(routes).join(', ') };
}

export function matchRoute(method: string, path: string): Match {
  const exact = EXACT.get(path);
  if (exact) return byMethod(method, exact);
  if (path.startsWith(ONENET_PATHS.downloadPrefix)) {
    const rest = path.slice(ONENET_PATHS.downloadPrefix.length);
    if (rest.endsWith(CHECK_SUFFIX)) {
      const token = rest.slice(0, -CHECK_SUFFIX.length);
      return TOKEN.test(token) ? byMethod(method, { GET: TOKEN_CHECK }, token) : { kind: 'not-found' };
    }
    // Any token-shaped or not: the download answers an unknown token itself (one-byte `3`).
    return rest.length > 0 && rest.indexOf('/') < 0 ? byMethod(method, { GET: DOWNLOAD }, rest) : { kind: 'not-found' };
  }
  if (path.startsWith(ONENET_PATHS.progressPrefix) && path.endsWith(PROGRESS_SUFFIX)) {
    const token = path.slice(ONENET_PATHS.progressPrefix.length, -PROGRESS_SUFFIX.length);
    return token.length > 0 && token.indexOf('/') < 0 ? byMethod(method, { POST: PROGRESS }, token) : { kind: 'not-found' };
  }
  if (path.startsWith(LWM2M_FW_PREFIX)) {
    const id = path.slice(LWM2M_FW_PREFIX.length);
    return id.length > 0 && id.indexOf('/') < 0 ? byMethod(method, { GET: LWM2M_DOWNLOAD }, id) : { kind: 'not-found' };
  }
  if (path === '/admin' || path.startsWith('/admin/')) return { kind: 'admin', param: path.slice('/admin/'.length) };
  const ddi = matchDdi(path);
  if (ddi !== undefined) return byMethod(method, DDI_ROUTES[ddi]);
  return { kind: 'not-found' };
}
