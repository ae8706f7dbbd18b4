/**
 * The admin API's hawkBit part (under /admin/hawkbit/): rollouts and their groups, a target's
 * actions, cancelling an action, starting, pausing and resuming a rollout.
 */
import { indexOf } from '../../catalog/id-range.js';
import { json, type Answer } from '../http/answer.js';
import type { HawkbitCalls } from './calls.js';
import type { HawkbitCatalog } from '../../catalog/hawkbit.js';
import { startNextGroup, type HawkbitAction, type HawkbitTarget, type RolloutRuntime, type TenantRuntime } from './state.js';

const error = (status: number, message: string): Answer => json(status, { error: message });

export const rolloutView = (r: RolloutRuntime): Record<string, unknown> => ({
  name: r.spec.name,
  distributionSet: r.set.id,
  state: r.state,
  startedGroups: r.started,
  groups: r.groups.map((g, i) => ({ group: i + 1, ...g })),
  successThreshold: r.spec.successThreshold,
  successAction: r.spec.successAction,
  errorThreshold: r.spec.errorThreshold,
  ...(r.why !== undefined ? { why: r.why } : {}),
});

const actionView = (a: HawkbitAction): Record<string, unknown> => ({
  id: a.id,
  distributionSet: a.set.id,
  rollout: a.rollout?.spec.name,
  group: a.group + 1,
  type: a.type,
  state: a.state,
  statuses: a.statuses,
  successCounts: a.successCounts,
  lastExecution: a.lastExecution,
  lastProgress: a.lastProgress,
  createdAt: a.createdAt,
  updatedAt: a.updatedAt,
});

export const targetView = (t: HawkbitTarget): Record<string, unknown> => ({
  id: t.id,
  dialect: 'hawkbit',
  tenant: t.tenant.name,
  known: true,
  installed: t.installed,
  attributes: t.attributes,
  actions: t.actions.map(actionView),
  history: t.history?.list() ?? [],
});

export function handleHawkbitAdmin(calls: HawkbitCalls, method: string, seg: readonly string[]): Answer {
  const [, what, a, b, c] = seg;
  const post = method === 'POST';
  if (what === undefined) {
    if (method !== 'GET') return error(405, 'use GET');
    return json(200, { tenants: [...calls.state.tenants.values()].map((t) => ({ name: t.name, sleep: t.sleep, rollouts: t.rollouts.map(rolloutView) })) });
  }
  if (what === 'targets' && a !== undefined && b !== undefined && seg.length === 4) {
    if (method !== 'GET') return error(405, 'use GET');
    const t = calls.state.findTarget(a, b);
    return t ? json(200, targetView(t)) : error(404, `target ${b} of tenant ${a} never made contact`);
  }
  if (what === 'actions' && a !== undefined && b === 'cancel' && seg.length === 4) {
    if (!post) return error(405, 'use POST');
    const out = calls.cancelAction(Number(a));
    if (out === 'not-found') return error(404, `no action ${a}`);
    if (out === 'closed') return error(409, `action ${a} is closed`);
    return json(200, actionView(out));
  }
  if (what === 'rollouts' && a !== undefined && b !== undefined && c !== undefined && seg.length === 5) {
    if (!post) return error(405, 'use POST');
    const r = calls.state.tenants.get(a)?.rollouts.find((x) => x.spec.name === b);
    if (r === undefined) return error(404, `no rollout ${b} in tenant ${a}`);
    if (c === 'start' && r.state === 'ready') startNextGroup(r);
    else if (c === 'resume' && r.state === 'paused') startNextGroup(r);
    else if (c === 'pause' && r.state === 'running') r.state = 'paused';
    else return error(409, `cannot ${c} a rollout that is ${r.state}`);
    return json(200, rolloutView(r));
  }
  return error(404, 'not found');
}

/** The catalog's hawkBit part as GET /admin/catalog shows it: secrets resolved, like the other keys. */
export function hawkbitCatalogView(c: HawkbitCatalog, tenants: ReadonlyMap<string, TenantRuntime>): HawkbitCatalog {
  return {
    ...c,
    tenants: c.tenants.map((t) => {
      const rt = tenants.get(t.name);
      const { targetTokenKey: _k, gatewayToken: _g, ...rest } = t;
      return { ...rest, ...(rt?.tokenKey !== undefined ? { targetTokenKey: rt.tokenKey } : {}), ...(rt?.gatewayToken !== undefined ? { gatewayToken: rt.gatewayToken } : {}) };
    }),
  };
}

/** An action's state in the words the verdicts' server view reads for tasks (src/verdicts/server-agreement.ts). */
const TASK_STATE: Readonly<Record<HawkbitAction['state'], string>> = {
  scheduled: 'pending',
  running: 'downloading',
  downloaded: 'upgrading',
  canceling: 'cancelling',
  finished: 'succeeded',
  error: 'failed',
  canceled: 'cancelled',
};

/**
 * A controller id as GET /admin/devices/{id}?dialect=hawkbit shows it: the first tenant whose
 * ranges hold it, its actions as `tasks` (state in task words, `successes` the closings counted).
 * A target that never made contact is shown `known: false` with no task; an id in no tenant: undefined.
 */
export function hawkbitDeviceView(calls: HawkbitCalls, id: string, withHistory: boolean): Record<string, unknown> | undefined {
  for (const tenant of calls.state.tenants.values()) {
    const t = calls.state.findTarget(tenant.name, id);
    if (t === undefined && !tenant.ranges.some((r) => indexOf(r, id) >= 0)) continue;
    const tasks = (t?.actions ?? []).map((a) => ({ id: String(a.id), state: TASK_STATE[a.state], action: a.state, package: a.set.id, successes: a.successCounts, createdAt: a.createdAt }));
    return { id, dialect: 'hawkbit', tenant: tenant.name, known: t !== undefined, installed: t?.installed, tasks, ...(withHistory ? { history: t?.history?.list() ?? [] } : {}) };
  }
  return undefined;
}

/** POST /admin/devices/query with dialect hawkbit. */
export function queryHawkbitTargets(calls: HawkbitCalls, body: Record<string, unknown>): Answer {
  const ids = body['ids'];
  if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string')) return error(400, 'ids: expected an array of strings');
  if (ids.length > 10_000) return error(400, 'ids: at most 10000 per query');
  return json(200, { devices: (ids as string[]).map((id) => hawkbitDeviceView(calls, id, false) ?? { id, error: 'in no tenant\'s target range' }) });
}
