/**
 * Eclipse hawkBit Direct Device Integration (DDI) API v1: the paths, link names, values and limits
 * both the reference server (src/server/hawkbit/) and the virtual devices (src/device/hawkbit/)
 * must agree on. Nothing here does I/O.
 *
 * From hawkBit's public DDI documentation and its default security properties:
 * - Poll `GET /{tenant}/controller/v1/{controllerId}` → `{config: {polling: {sleep: "HH:MM:SS"}},
 *   _links: {deploymentBase?, cancelAction?, configData?}}`.
 * - `GET …/deploymentBase/{actionId}` → `{id, deployment: {download, update, maintenanceWindow?,
 *   chunks: [{part, version, name, artifacts: [{filename, hashes: {sha1, md5, sha256}, size,
 *   _links: {download, download-http, md5sum, md5sum-http}}]}]}}`.
 * - `POST …/deploymentBase/{actionId}/feedback`, `GET …/cancelAction/{actionId}` → `{id,
 *   cancelAction: {stopId}}`, `POST …/cancelAction/{actionId}/feedback`, `PUT …/configData`.
 * - Artifacts: `GET …/softwaremodules/{moduleId}/artifacts/{filename}` (Range honoured) and
 *   `…/{filename}.MD5SUM`.
 * - `Authorization: TargetToken {token}` (per target) or `GatewayToken {token}` (per tenant).
 * - DoS filter: 200 reads (GET) and 50 writes per second per client IP, the IP taken from
 *   `X-Forwarded-For`, answered 429; private, link-local and loopback addresses are whitelisted.
 *   At most 1,000 status entries per action and 50 messages per status (quota: 403).
 *
 * Choices where the documents leave room (the server and the devices share them):
 * - 401: no Authorization, an unknown scheme, or a token that is not the target's (or tenant's).
 * - 403: the action's status quota is used up (1,000 entries), or a status with over 50 messages.
 * - 404: unknown tenant, target, action of another target, artifact; the deploymentBase of an
 *   action being cancelled or cancelled (hawkBit answers those by the cancelAction link only).
 * - 409: a feedback the action's state cannot take (a deployment feedback on an action being
 *   cancelled; a cancel feedback on an action nobody cancelled).
 * - 410: any feedback on a closed action (finished, error, cancelled): it is no longer active.
 * - 400: a feedback body that is not DDI's shape (execution / finished values, progress).
 * - 429: over the per-client rate; the device backs off at least one second.
 */
import { createHmac } from 'node:crypto';

export const DDI_API = 'controller/v1';

/** `execution` of a feedback status. `downloading` came with hawkBit 0.3. */
export const EXECUTIONS = ['proceeding', 'scheduled', 'rejected', 'resumed', 'downloading', 'downloaded', 'closed', 'canceled'] as const;
export type Execution = (typeof EXECUTIONS)[number];
export const isExecution = (s: unknown): s is Execution => typeof s === 'string' && (EXECUTIONS as readonly string[]).includes(s);

/** `result.finished` of a feedback status. */
export const FINISHED = ['success', 'failure', 'none'] as const;
export type Finished = (typeof FINISHED)[number];
export const isFinished = (s: unknown): s is Finished => typeof s === 'string' && (FINISHED as readonly string[]).includes(s);

/** `deployment.download` / `deployment.update`. */
export const HANDLINGS = ['skip', 'attempt', 'forced'] as const;
export type Handling = (typeof HANDLINGS)[number];
export const isHandling = (s: unknown): s is Handling => typeof s === 'string' && (HANDLINGS as readonly string[]).includes(s);

export type MaintenanceWindow = 'available' | 'unavailable';

/** The names of the poll answer's `_links`. */
export const LINKS = { deploymentBase: 'deploymentBase', cancelAction: 'cancelAction', configData: 'configData' } as const;
/** The names of an artifact's `_links`. */
export const ARTIFACT_LINKS = { download: 'download', downloadHttp: 'download-http', md5sum: 'md5sum', md5sumHttp: 'md5sum-http' } as const;

export const AUTH_SCHEMES = ['TargetToken', 'GatewayToken'] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];

/** hawkBit's documented defaults (HawkbitSecurityProperties.Dos). */
export const DDI_LIMITS = {
  maxReadPerSecond: 200,
  maxWritePerSecond: 50,
  maxStatusEntriesPerAction: 1000,
  maxMessagesPerActionStatus: 50,
} as const;

export const DdiStatus = {
  OK: 200,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  GONE: 410,
  TOO_MANY_REQUESTS: 429,
} as const;

/** What each status means in DDI (for outcome labels and docs). */
export const DDI_STATUS_MEANINGS: Readonly<Record<number, string>> = {
  200: 'ok',
  400: 'bad feedback',
  401: 'not authenticated',
  403: 'quota exceeded / not allowed',
  404: 'no such tenant, target, action or artifact',
  405: 'method not allowed',
  409: 'conflicts with the action state',
  410: 'action closed',
  429: 'too many requests',
};

// ---- the polling sleep ---------------------------------------------------------------------

const SLEEP = /^(\d{2}):([0-5]\d):([0-5]\d)$/;

/** `HH:MM:SS` → ms; undefined when malformed (hours 00–99). */
export function parseSleep(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = SLEEP.exec(text.trim());
  if (!m) return undefined;
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000;
}

/** ms → `HH:MM:SS` (whole seconds, rounded up so a sleep is never shorter; capped at 99:59:59). */
export function formatSleep(ms: number): string {
  const total = Math.min(99 * 3600 + 59 * 60 + 59, Math.max(0, Math.ceil(ms / 1000)));
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(Math.floor(total / 3600))}:${two(Math.floor(total / 60) % 60)}:${two(total % 60)}`;
}

// ---- paths ---------------------------------------------------------------------------------

const SEGMENT = /^[A-Za-z0-9_.~-]{1,64}$/;
export const isDdiSegment = (s: string): boolean => SEGMENT.test(s);

export const ddiBase = (tenant: string, controllerId: string): string => `/${tenant}/${DDI_API}/${controllerId}`;
export const deploymentPath = (tenant: string, id: string, action: number): string => `${ddiBase(tenant, id)}/deploymentBase/${action}`;
export const feedbackPath = (tenant: string, id: string, action: number): string => `${deploymentPath(tenant, id, action)}/feedback`;
export const cancelPath = (tenant: string, id: string, action: number): string => `${ddiBase(tenant, id)}/cancelAction/${action}`;
export const cancelFeedbackPath = (tenant: string, id: string, action: number): string => `${cancelPath(tenant, id, action)}/feedback`;
export const configDataPath = (tenant: string, id: string): string => `${ddiBase(tenant, id)}/configData`;
export const artifactPath = (tenant: string, id: string, module: number, filename: string): string =>
  `${ddiBase(tenant, id)}/softwaremodules/${module}/artifacts/${encodeURIComponent(filename)}`;

export type DdiResource =
  | { readonly kind: 'poll' }
  | { readonly kind: 'deployment'; readonly action: number }
  | { readonly kind: 'feedback'; readonly action: number }
  | { readonly kind: 'cancel'; readonly action: number }
  | { readonly kind: 'cancelFeedback'; readonly action: number }
  | { readonly kind: 'configData' }
  | { readonly kind: 'artifact'; readonly module: number; readonly filename: string; readonly md5sum: boolean };

export interface DdiPath {
  readonly tenant: string;
  readonly controllerId: string;
  readonly resource: DdiResource;
}

const ACTION_ID = /^\d{1,15}$/;
const MD5SUM_SUFFIX = '.MD5SUM';

/** Reads a DDI path; undefined when it is not one (a path of another API, a malformed id). */
export function parseDdiPath(path: string): DdiPath | undefined {
  const parts = path.split('/');
  // ['', tenant, 'controller', 'v1', controllerId, ...rest]
  if (parts.length < 5 || parts[0] !== '' || parts[2] !== 'controller' || parts[3] !== 'v1') return undefined;
  const tenant = parts[1] ?? '';
  const controllerId = parts[4] ?? '';
  if (!isDdiSegment(tenant) || !isDdiSegment(controllerId)) return undefined;
  const rest = parts.slice(5);
  const at = (resource: DdiResource): DdiPath => ({ tenant, controllerId, resource });
  const action = (s: string | undefined): number | undefined => (s !== undefined && ACTION_ID.test(s) ? Number(s) : undefined);
  if (rest.length === 0) return at({ kind: 'poll' });
  const [a, b, c, d] = rest;
  if (rest.length === 1 && a === 'configData') return at({ kind: 'configData' });
  if ((a === 'deploymentBase' || a === 'cancelAction') && rest.length <= 3) {
    const id = action(b);
    if (id === undefined) return undefined;
    if (rest.length === 2) return at({ kind: a === 'deploymentBase' ? 'deployment' : 'cancel', action: id });
    if (c === 'feedback') return at({ kind: a === 'deploymentBase' ? 'feedback' : 'cancelFeedback', action: id });
    return undefined;
  }
  if (a === 'softwaremodules' && rest.length === 4 && c === 'artifacts') {
    const module = action(b);
    let name: string;
    try {
      name = decodeURIComponent(d ?? '');
    } catch {
      return undefined;
    }
    if (module === undefined || name.length === 0 || name.length > 200) return undefined;
    const md5sum = name.endsWith(MD5SUM_SUFFIX);
    return at({ kind: 'artifact', module, filename: md5sum ? name.slice(0, -MD5SUM_SUFFIX.length) : name, md5sum });
  }
  return undefined;
}

/** Whether a DDI request is a read (GET, 200/s) or a write (everything else, 50/s) for the DoS filter. */
export const isReadMethod = (method: string): boolean => method === 'GET' || method === 'HEAD';

// ---- client addresses ----------------------------------------------------------------------

const PRIVATE = [/^10\./, /^192\.168\./, /^169\.254\./, /^127\./, /^172\.(1[6-9]|2\d|3[01])\./, /^::1$/, /^::ffff:127\./];

/** hawkBit's default DoS whitelist: private, link-local and loopback addresses are never limited. */
export const isWhitelistedAddress = (ip: string): boolean => PRIVATE.some((r) => r.test(ip));

/** The client address hawkBit limits by: the first `X-Forwarded-For` entry, else the peer. */
export function clientAddress(forwardedFor: string | string[] | undefined, peer: string | undefined): string {
  const raw = Array.isArray(forwardedFor) ? forwardedFor[0] : forwardedFor;
  const first = raw?.split(',')[0]?.trim();
  return first !== undefined && first.length > 0 && first.length <= 64 ? first : (peer ?? '');
}

/**
 * The address a simulated device puts in `X-Forwarded-For`: one per device from 100.64.0.0/10
 * (carrier-grade NAT, where cellular modules really come from), outside hawkBit's whitelist so the
 * per-client limits apply to it.
 */
export function deviceAddress(index: number): string {
  const n = (index >>> 0) % (1 << 22);
  return `100.${64 + (n >>> 16)}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

// ---- authentication ------------------------------------------------------------------------

/** `TargetToken abc` → { scheme, token }; undefined for anything else. */
export function parseAuthorization(header: string | undefined): { scheme: AuthScheme; token: string } | undefined {
  if (header === undefined || header.length > 512) return undefined;
  const m = /^(TargetToken|GatewayToken)\s+(\S{1,256})\s*$/.exec(header.trim());
  return m ? { scheme: m[1] as AuthScheme, token: m[2] as string } : undefined;
}

/**
 * The security token of a target. hawkBit stores a random token per target; the reference server
 * derives it from the tenant's key so a run given the same key (from the environment or a file)
 * knows every device's token without a list of them.
 */
export function deriveTargetToken(key: string, tenant: string, controllerId: string): string {
  return createHmac('sha256', key).update(`${tenant}\n${controllerId}`).digest('base64url').slice(0, 32);
}

// ---- the action's life ---------------------------------------------------------------------

/**
 * Server-side state of an action. `scheduled`: its rollout group has not started (invisible to the
 * device); `running` open; `downloaded` open, image held; `canceling` a cancel was asked; closed:
 * `finished` (success), `error`, `canceled`.
 */
export type ActionState = 'scheduled' | 'running' | 'downloaded' | 'canceling' | 'finished' | 'error' | 'canceled';
export const CLOSED_ACTION_STATES: ReadonlySet<ActionState> = new Set(['finished', 'error', 'canceled']);
export const isActionOpen = (s: ActionState): boolean => s !== 'scheduled' && !CLOSED_ACTION_STATES.has(s);

export type FeedbackVerdict = { readonly accepted: true; readonly next: ActionState } | { readonly accepted: false; readonly status: number };

/** A deployment feedback on an action in `state`: where the action goes, or the status refusing it. */
export function applyDeploymentFeedback(state: ActionState, execution: Execution, finished: Finished): FeedbackVerdict {
  if (CLOSED_ACTION_STATES.has(state)) return { accepted: false, status: DdiStatus.GONE };
  if (state === 'scheduled') return { accepted: false, status: DdiStatus.NOT_FOUND };
  if (state === 'canceling') return { accepted: false, status: DdiStatus.CONFLICT };
  switch (execution) {
    case 'closed':
      return { accepted: true, next: finished === 'success' ? 'finished' : finished === 'failure' ? 'error' : state };
    case 'canceled':
      return { accepted: true, next: 'canceled' };
    case 'downloaded':
      return { accepted: true, next: 'downloaded' };
    default:
      // proceeding, scheduled, rejected, resumed, downloading: a status entry, the action stays open.
      return { accepted: true, next: state };
  }
}

/** A cancel feedback: closed/canceled with success ends the cancel; rejected or failure gives the action back. */
export function applyCancelFeedback(state: ActionState, execution: Execution, finished: Finished): FeedbackVerdict {
  if (CLOSED_ACTION_STATES.has(state)) return { accepted: false, status: DdiStatus.GONE };
  if (state !== 'canceling') return { accepted: false, status: DdiStatus.CONFLICT };
  if ((execution === 'closed' || execution === 'canceled') && finished === 'success') return { accepted: true, next: 'canceled' };
  if (execution === 'rejected' || finished === 'failure') return { accepted: true, next: 'running' };
  return { accepted: true, next: 'canceling' };
}

// ---- bodies --------------------------------------------------------------------------------

export interface DdiFeedbackBody {
  /** The action id, as hawkBit's older clients send it; optional. */
  id?: string;
  status: {
    execution: Execution;
    result: { finished: Finished; progress?: { cnt: number; of: number } };
    details?: string[];
  };
}

export interface DdiArtifact {
  filename: string;
  size: number;
  hashes: { sha1: string; md5: string; sha256: string };
  _links: Record<string, { href: string }>;
}

export interface DdiChunk {
  part: string;
  version: string;
  name: string;
  artifacts: DdiArtifact[];
}

export interface DdiDeploymentBase {
  id: string;
  deployment: { download: Handling; update: Handling; maintenanceWindow?: MaintenanceWindow; chunks: DdiChunk[] };
}

export interface DdiPollAnswer {
  config: { polling: { sleep: string } };
  _links?: Record<string, { href: string }>;
}
