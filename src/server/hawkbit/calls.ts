/**
 * The hawkBit DDI calls (protocol/hawkbit.ts) as decisions on the server's hawkBit state.
 *
 * Order of checks on every call: tenant (404) → DoS filter (429, per client IP from
 * X-Forwarded-For, reads and writes apart) → Authorization (401) → target in the tenant's ranges
 * (404) → the resource. Status codes, where DDI leaves room, are those protocol/hawkbit.ts lists.
 *
 * Choices:
 * - The poll offers `configData` until the target has sent its attributes once, `cancelAction`
 *   for an action being cancelled, else `deploymentBase` for the oldest open action. Link hrefs
 *   are absolute, on the Host the request named.
 * - `deployment.download`/`update`: forced/forced (forced), attempt/attempt (soft), forced/skip
 *   (downloadonly). Outside the rollout's maintenance window `update` is `skip` and
 *   `maintenanceWindow` is `unavailable`.
 * - Every accepted feedback is one status entry; at the quota (1,000) the next is 403.
 * - A feedback `closed` with `none` is recorded and leaves the action open.
 * - Artifacts are served to a target with an action of a distribution set holding them (404
 *   otherwise); Range follows the rules of protocol/range.ts (206 for a well-formed Range).
 */
import { resolveRange } from '../../protocol/range.js';
import {
  applyCancelFeedback,
  applyDeploymentFeedback,
  artifactPath,
  cancelPath,
  clientAddress,
  configDataPath,
  DDI_LIMITS,
  DdiStatus,
  deploymentPath,
  deriveTargetToken,
  ddiBase,
  isActionOpen,
  isExecution,
  isFinished,
  isReadMethod,
  parseAuthorization,
  parseDdiPath,
  type DdiDeploymentBase,
  type DdiPath,
  type DdiPollAnswer,
  type Execution,
  type Finished,
  type Handling,
} from '../../protocol/hawkbit.js';
import { packageImage } from '../../catalog/package-bytes.js';
import { createHash } from 'node:crypto';
import { json, type Answer, type Outcome, type RequestContext } from '../http/answer.js';
import { parseJsonObject } from '../http/body.js';
import { fileAnswer } from '../onenet/calls.js';
import type { Store } from '../state/store.js';
import { RateLimiter } from './limits.js';
import { HawkbitState, type HawkbitAction, type HawkbitTarget, type TenantRuntime } from './state.js';

export interface DdiLimits {
  maxReadPerSecond: number;
  maxWritePerSecond: number;
  maxStatusEntriesPerAction: number;
}

const MAX_ATTRIBUTES = 100;

const status = (code: number, message: string): Answer => json(code, { error: message, status: code }, `http:${code}`);

type Authorized = { readonly tenant: TenantRuntime; readonly target: HawkbitTarget; readonly ddi: DdiPath } | { readonly refused: Outcome };

export class HawkbitCalls {
  readonly limiter: RateLimiter;

  constructor(
    private readonly store: Store,
    readonly state: HawkbitState,
    readonly limits: DdiLimits = DDI_LIMITS,
  ) {
    this.limiter = new RateLimiter(limits.maxReadPerSecond, limits.maxWritePerSecond);
  }

  /** One DDI request, whichever resource its path names. */
  call(ctx: RequestContext): Outcome {
    const a = this.authorize(ctx);
    if ('refused' in a) return a.refused;
    const { target, ddi } = a;
    const out = (answer: Answer, summary: string): Outcome => ({ answer, owner: target, summary });
    const r = ddi.resource;
    switch (r.kind) {
      case 'poll':
        return out(this.poll(target, ctx), 'poll');
      case 'deployment':
        return out(this.deployment(target, r.action, ctx), `deploymentBase/${r.action}`);
      case 'feedback':
        return out(this.feedback(target, r.action, ctx.body, false), `feedback/${r.action} ${bodySummary(ctx.body)}`);
      case 'cancel':
        return out(this.cancel(target, r.action), `cancelAction/${r.action}`);
      case 'cancelFeedback':
        return out(this.feedback(target, r.action, ctx.body, true), `cancelAction/${r.action}/feedback ${bodySummary(ctx.body)}`);
      case 'configData':
        return out(this.configData(target, ctx.body), 'configData');
      case 'artifact':
        return out(this.artifact(target, r.module, r.filename, r.md5sum, ctx), `artifact ${r.module}/${r.filename}${r.md5sum ? '.MD5SUM' : ''} range=${ctx.headers.range ?? '-'}`);
    }
  }

  private authorize(ctx: RequestContext): Authorized {
    const ddi = parseDdiPath(ctx.path);
    if (ddi === undefined) return { refused: { answer: status(404, 'not a DDI resource') } };
    const tenant = this.state.tenants.get(ddi.tenant);
    if (tenant === undefined) return { refused: { answer: status(404, `no tenant ${ddi.tenant}`) } };
    const ip = clientAddress(ctx.headers['x-forwarded-for'], '127.0.0.1');
    if (!this.limiter.admit(ip, isReadMethod(ctx.method), this.store.now())) return { refused: { answer: status(DdiStatus.TOO_MANY_REQUESTS, 'too many requests') } };
    if (!this.authenticated(tenant, ddi.controllerId, ctx.headers.authorization)) return { refused: { answer: status(401, 'not authenticated: send Authorization: TargetToken … or GatewayToken …') } };
    const target = this.state.target(tenant, ddi.controllerId);
    if (target === undefined) return { refused: { answer: status(404, `no target ${ddi.controllerId} in tenant ${tenant.name}`) } };
    return { tenant, target, ddi };
  }

  private authenticated(tenant: TenantRuntime, controllerId: string, header: string | undefined): boolean {
    if (tenant.tokenKey === undefined && tenant.gatewayToken === undefined) return true;
    const auth = parseAuthorization(header);
    if (auth === undefined) return false;
    if (auth.scheme === 'GatewayToken') return tenant.gatewayToken !== undefined && auth.token === tenant.gatewayToken;
    return tenant.tokenKey !== undefined && auth.token === deriveTargetToken(tenant.tokenKey, tenant.name, controllerId);
  }

  private origin(ctx: RequestContext): string {
    const host = ctx.headers.host;
    return `http://${typeof host === 'string' && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? host : '127.0.0.1'}`;
  }

  private poll(target: HawkbitTarget, ctx: RequestContext): Answer {
    const now = this.store.now();
    this.state.assign(target, now);
    const t = target.tenant;
    const links: Record<string, { href: string }> = {};
    const origin = this.origin(ctx);
    const answerCancelled = this.store.bugs.has('answer-cancelled-action');
    const canceling = target.actions.find((a) => a.state === 'canceling');
    const open = answerCancelled ? target.actions.find((a) => a.state !== 'finished' && a.state !== 'error' && a.state !== 'scheduled') : this.state.openAction(target);
    if (canceling !== undefined && !answerCancelled) links['cancelAction'] = { href: origin + cancelPath(t.name, target.id, canceling.id) };
    else if (open !== undefined) links['deploymentBase'] = { href: `${origin}${deploymentPath(t.name, target.id, open.id)}?c=${open.updatedAt % 1_000_000}` };
    if (target.attributes === undefined) links['configData'] = { href: origin + configDataPath(t.name, target.id) };
    const body: DdiPollAnswer = { config: { polling: { sleep: t.sleep } }, ...(Object.keys(links).length > 0 ? { _links: links } : {}) };
    return json(200, body, 'http:200');
  }

  private actionOf(target: HawkbitTarget, id: number): HawkbitAction | undefined {
    const a = this.state.actions.get(id);
    return a !== undefined && a.target === target ? a : undefined;
  }

  private deployment(target: HawkbitTarget, id: number, ctx: RequestContext): Answer {
    const action = this.actionOf(target, id);
    if (action === undefined) return status(404, `no action ${id} for ${target.id}`);
    const cancelled = action.state === 'canceling' || action.state === 'canceled';
    if (cancelled && !this.store.bugs.has('answer-cancelled-action')) return status(404, `action ${id} is being cancelled: see its cancelAction`);
    const origin = this.origin(ctx);
    const t = target.tenant;
    const wrongHash = this.store.bugs.has('wrong-hash');
    let download: Handling = action.type === 'soft' ? 'attempt' : 'forced';
    let update: Handling = action.type === 'downloadonly' ? 'skip' : action.type === 'soft' ? 'attempt' : 'forced';
    const mw = action.rollout?.spec.maintenanceWindow;
    const window = mw === undefined ? undefined : this.store.now() % mw.every < mw.duration ? ('available' as const) : ('unavailable' as const);
    if (window === 'unavailable') update = 'skip';
    if (!isActionOpen(action.state) && !cancelled) download = 'skip';
    const body: DdiDeploymentBase = {
      id: String(action.id),
      deployment: {
        download,
        update,
        ...(window !== undefined ? { maintenanceWindow: window } : {}),
        chunks: action.set.modules.map((m) => ({
          part: m.type,
          version: m.version,
          name: m.name,
          artifacts: [...m.artifacts.values()].map((a) => {
            const img = a.image();
            const href = origin + artifactPath(t.name, target.id, m.id, a.filename);
            const hashes = wrongHash ? hashesOf(a.seed ^ 0x5a5a, a.size) : { sha1: img.sha1, md5: img.md5, sha256: img.sha256 };
            return { filename: a.filename, size: a.size, hashes, _links: { download: { href }, 'download-http': { href }, md5sum: { href: `${href}.MD5SUM` }, 'md5sum-http': { href: `${href}.MD5SUM` } } };
          }),
        })),
      },
    };
    return json(200, body, 'http:200');
  }

  private feedback(target: HawkbitTarget, id: number, raw: Buffer | undefined, cancel: boolean): Answer {
    const action = this.actionOf(target, id);
    if (action === undefined) return status(404, `no action ${id} for ${target.id}`);
    const fb = readFeedback(raw);
    if (typeof fb === 'string') return status(400, fb);
    if (fb.messages > DDI_LIMITS.maxMessagesPerActionStatus) return status(403, `quota: at most ${DDI_LIMITS.maxMessagesPerActionStatus} messages per status`);
    const quota = this.limits.maxStatusEntriesPerAction;
    const now = this.store.now();
    if (!cancel && this.store.bugs.has('double-count-success') && action.state === 'finished' && fb.execution === 'closed' && fb.finished === 'success') {
      // The bug: a closed action counted as finished once more.
      action.successCounts++;
      if (action.rollout) (action.rollout.groups[action.group] as { success: number }).success++;
      return json(200, '', 'http:200');
    }
    const verdict = cancel ? applyCancelFeedback(action.state, fb.execution, fb.finished) : applyDeploymentFeedback(action.state, fb.execution, fb.finished);
    if (!verdict.accepted) return status(verdict.status, verdict.status === 410 ? `action ${id} is closed` : verdict.status === 409 ? `action ${id} is ${action.state}` : `action ${id}`);
    if (quota > 0 && action.statuses >= quota) return status(403, `quota: at most ${quota} status entries per action`);
    action.statuses++;
    action.lastExecution = fb.execution;
    if (fb.progress !== undefined) action.lastProgress = fb.progress;
    if (verdict.next === 'finished') {
      action.successCounts++;
      target.installed = action.set.id;
    }
    this.state.setState(action, verdict.next, now);
    return json(200, '', 'http:200');
  }

  private cancel(target: HawkbitTarget, id: number): Answer {
    const action = this.actionOf(target, id);
    if (action === undefined || (action.state !== 'canceling' && action.state !== 'canceled')) return status(404, `no cancellation of action ${id} for ${target.id}`);
    return json(200, { id: String(action.id), cancelAction: { stopId: String(action.id) } }, 'http:200');
  }

  private configData(target: HawkbitTarget, raw: Buffer | undefined): Answer {
    const o = parseJsonObject(raw);
    const data = o?.['data'];
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return status(400, 'expected {"data": {key: value}}');
    const mode = o?.['mode'] ?? 'merge';
    if (mode !== 'merge' && mode !== 'replace' && mode !== 'remove') return status(400, 'mode: merge, replace or remove');
    const entries = Object.entries(data as Record<string, unknown>);
    if (entries.some(([k, v]) => typeof v !== 'string' || k.length === 0 || k.length > 128 || v.length > 128)) return status(400, 'attributes are text keys and values of at most 128 characters');
    const next: Record<string, string> = mode === 'replace' ? {} : { ...target.attributes };
    for (const [k, v] of entries) {
      if (mode === 'remove') delete next[k];
      else next[k] = v as string;
    }
    if (Object.keys(next).length > MAX_ATTRIBUTES) return status(403, `quota: at most ${MAX_ATTRIBUTES} attributes per target`);
    target.attributes = next;
    return json(200, '', 'http:200');
  }

  private artifact(target: HawkbitTarget, moduleId: number, filename: string, md5sum: boolean, ctx: RequestContext): Answer {
    const action = target.actions.find((a) => a.set.modules.some((m) => m.id === moduleId && m.artifacts.has(filename)));
    const artifact = action?.set.modules.find((m) => m.id === moduleId)?.artifacts.get(filename);
    if (artifact === undefined) return status(404, `no artifact ${moduleId}/${filename} assigned to ${target.id}`);
    const img = artifact.image();
    if (md5sum) return json(200, `${img.md5}  ${filename}`, 'http:200');
    const span = this.store.bugs.has('ignore-range') ? { start: 0, end: img.size - 1, partial: false } : resolveRange(ctx.headers.range, img.size);
    return fileAnswer(img.bytes, span, `attachment; filename="${filename.replace(/["\\]/g, '_')}"`, undefined);
  }

  /** Admin: asks the device to cancel an open action (hawkBit's "cancel assignment"). */
  cancelAction(id: number): HawkbitAction | 'not-found' | 'closed' {
    const action = this.state.actions.get(id);
    if (action === undefined) return 'not-found';
    if (!isActionOpen(action.state)) return action.state === 'canceling' ? action : 'closed';
    this.state.setState(action, 'canceling', this.store.now());
    return action;
  }

  /** The base path of a target (for views). */
  static basePath(tenant: string, id: string): string {
    return ddiBase(tenant, id);
  }
}

function hashesOf(seed: number, size: number): { sha1: string; md5: string; sha256: string } {
  const img = packageImage(seed, size);
  return { sha1: createHash('sha1').update(img.bytes).digest('hex'), md5: img.md5, sha256: createHash('sha256').update(img.bytes).digest('hex') };
}

interface Feedback {
  execution: Execution;
  finished: Finished;
  progress: { cnt: number; of: number } | undefined;
  messages: number;
}

/** A feedback body, or why it is not DDI's shape. */
export function readFeedback(raw: Buffer | undefined): Feedback | string {
  const o = parseJsonObject(raw);
  const st = o?.['status'];
  if (st === null || typeof st !== 'object' || Array.isArray(st)) return 'expected {"status": {"execution", "result": {"finished"}}}';
  const s = st as Record<string, unknown>;
  if (!isExecution(s['execution'])) return `status.execution: one of proceeding, scheduled, rejected, resumed, downloading, downloaded, closed, canceled`;
  const result = s['result'];
  const r = result !== null && typeof result === 'object' && !Array.isArray(result) ? (result as Record<string, unknown>) : undefined;
  if (r === undefined || !isFinished(r['finished'])) return 'status.result.finished: one of success, failure, none';
  let progress: Feedback['progress'];
  if (r['progress'] !== undefined) {
    const p = r['progress'] as Record<string, unknown> | null;
    const cnt = p?.['cnt'];
    const of = p?.['of'];
    if (typeof cnt !== 'number' || typeof of !== 'number' || !Number.isInteger(cnt) || !Number.isInteger(of) || cnt < 0 || of < 0) return 'status.result.progress: {cnt, of} non-negative integers';
    progress = { cnt, of };
  }
  const details = s['details'];
  if (details !== undefined && (!Array.isArray(details) || details.some((d) => typeof d !== 'string'))) return 'status.details: a list of text';
  return { execution: s['execution'], finished: r['finished'], progress, messages: Array.isArray(details) ? details.length : 0 };
}

function bodySummary(raw: Buffer | undefined): string {
  const fb = readFeedback(raw);
  if (typeof fb === 'string') return 'bad';
  return `${fb.execution}/${fb.finished}${fb.progress ? ` ${fb.progress.cnt}/${fb.progress.of}` : ''}`;
}
