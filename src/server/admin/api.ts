/**
 * The admin API under /admin/ (JSON in, JSON out; the bearer check happens in http/core.ts).
 * Everything a harness or a test needs to discover, inspect and steer the server.
 * Errors are `{"error": "..."}` with 400 (bad input), 404 (unknown thing), 405 or 409 (not
 * possible in the current state).
 */
import { spanContains, spanOf } from '../../catalog/load.js';
import { indexOf, parseIdRange, rangeSize, type IdRange } from '../../catalog/id-range.js';
import { dayIndex } from '../../protocol/luat.js';
import type { TaskState, TaskType } from '../../protocol/onenet.js';
import { ConfigError } from '../../config/load.js';
import { parseBugs } from '../bugs.js';
import { mergeFaults, parseFaultConfig, type FaultConfig } from '../faults/config.js';
import { json, type Answer } from '../http/answer.js';
import { parseJsonObject } from '../http/body.js';
import type { ServerState } from '../server-state.js';
import type { OnenetTask, Store, TaskTemplate, TemplateState } from '../state/store.js';
import { catalogView, countersView, deviceView, taskView, templateView } from './render.js';
import { handleHawkbitAdmin, hawkbitDeviceView, queryHawkbitTargets } from '../hawkbit/admin.js';
import { lwm2mAdmin, lwm2mDeviceAnswer, lwm2mDevicesQuery } from '../lwm2m/admin.js';

/** Ids per bulk query at most. */
export const QUERY_LIMIT = 10_000;
/** Task ids listed in a creation answer at most. */
const LISTED_TASKS = 100;

const error = (status: number, message: string): Answer => json(status, { error: message });
const ok = (value: unknown, status = 200): Answer => json(status, value);

class BadRequest extends Error {}

export function handleAdmin(state: ServerState, method: string, rest: string, query: Record<string, string>, body: Buffer | undefined): Answer {
  let segments: string[];
  try {
    segments = rest.split('/').filter((s) => s.length > 0).map((s) => decodeURIComponent(s));
  } catch {
    return error(400, 'bad path encoding');
  }
  try {
    return dispatch(state, method, segments, query, body);
  } catch (err) {
    if (err instanceof BadRequest || err instanceof ConfigError) return error(400, err.message);
    throw err;
  }
}

function readJson(body: Buffer | undefined, required = true): Record<string, unknown> {
  if (!body || body.length === 0) {
    if (required) throw new BadRequest('expected a JSON object body');
    return {};
  }
  const value = parseJsonObject(body);
  if (!value) throw new BadRequest('body is not a JSON object');
  return value;
}

function dispatch(state: ServerState, method: string, seg: string[], query: Record<string, string>, body: Buffer | undefined): Answer {
  const store = state.store;
  const [head, a, b] = seg;
  const allow = (...methods: string[]): Answer | undefined => (methods.includes(method) ? undefined : error(405, `use ${methods.join(' or ')}`));
  switch (head) {
    case 'catalog':
      if (seg.length !== 1) return error(404, 'not found');
      return allow('GET') ?? ok(catalogView(state));
    case 'counters':
      return allow('GET') ?? ok(countersView(state));
    case 'clock': {
      const now = state.clock.now();
      return allow('GET') ?? ok({ virtualNow: now, iso: new Date(now).toISOString(), scale: Number.isFinite(state.clock.scale) ? state.clock.scale : 'max', day: dayIndex(now) });
    }
    case 'devices':
      if (a === 'query' && seg.length === 2) {
        const refused = allow('POST');
        if (refused) return refused;
        const q = readJson(body);
        // hawkBit and LwM2M keep their own devices: src/server/hawkbit/admin.ts, src/server/lwm2m/admin.ts.
        return q['dialect'] === 'hawkbit' ? queryHawkbitTargets(state.hawkbit, q) : q['dialect'] === 'lwm2m' ? lwm2mDevicesQuery(state.lwm2m, q) : queryDevices(store, q);
      }
      if (a !== undefined && seg.length === 2) {
        const refused = allow('GET');
        if (refused) return refused;
        if (query['dialect'] === 'lwm2m') return lwm2mDeviceAnswer(state.lwm2m, a);
        const view = query['dialect'] === 'hawkbit' ? hawkbitDeviceView(state.hawkbit, a, true) : deviceView(store, a, true, query['dialect']);
        return view ? ok(view) : error(404, `device ${a} is in no device range`);
      }
      return error(404, 'not found');
    case 'tasks':
      if (seg.length === 1) return method === 'POST' ? createTask(store, readJson(body)) : (allow('GET', 'POST') ?? ok({ templates: store.templates.map(templateView) }));
      if (a !== undefined && seg.length === 2) return allow('GET') ?? getTask(store, a);
      if (a !== undefined && b !== undefined && seg.length === 3) return allow('POST') ?? changeTask(store, a, b);
      return error(404, 'not found');
    case 'bans':
      if (a === 'lift-all' && seg.length === 2) return allow('POST') ?? liftAll(store);
      if (a !== undefined && b === 'lift' && seg.length === 3) return allow('POST') ?? liftOne(store, a);
      return error(404, 'not found');
    case 'packages':
      if (a !== undefined && b === 'republish' && seg.length === 3) return allow('POST') ?? republish(store, a, readJson(body, false), query['project']);
      return error(404, 'not found');
    case 'hawkbit':
      return handleHawkbitAdmin(state.hawkbit, method, seg);
    case 'reset':
      if (seg.length !== 1) return error(404, 'not found');
      return (
        allow('POST') ??
        (() => {
          state.reset();
          return ok({ reset: true, virtualNow: state.clock.now() });
        })()
      );
    case 'faults':
      if (seg.length !== 1) return error(404, 'not found');
      if (method === 'GET') return ok(faultsView(state));
      if (method === 'PUT' || method === 'PATCH') return setFaults(state, method, readJson(body));
      return error(405, 'use GET, PUT or PATCH');
    case 'lwm2m':
      return lwm2mAdmin(state, method, seg, () => readJson(body));
    case 'bugs':
      if (seg.length !== 1) return error(404, 'not found');
      if (method === 'GET') return ok({ bugs: [...state.bugs] });
      if (method === 'PUT') {
        state.setBugs(parseBugs(readJson(body)['bugs'], 'bugs'));
        return ok({ bugs: [...state.bugs] });
      }
      return error(405, 'use GET or PUT');
    default:
      return error(404, 'not found');
  }
}

const faultsView = (state: ServerState): Record<string, unknown> => ({ faults: state.faults, bugs: [...state.bugs] });

/** PUT replaces, PATCH merges (a null knob or endpoint removes it); `bugs` may come along. */
function setFaults(state: ServerState, method: string, body: Record<string, unknown>): Answer {
  const wrapped = 'faults' in body;
  const faultsPart = (wrapped ? body['faults'] : Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'bugs'))) ?? {};
  if (typeof faultsPart !== 'object' || Array.isArray(faultsPart)) throw new BadRequest('faults: expected an object keyed by endpoint');
  const bugs = 'bugs' in body ? parseBugs(body['bugs'], 'bugs') : undefined;
  let next: FaultConfig;
  if (method === 'PUT') {
    next = parseFaultConfig(faultsPart, 'faults');
  } else {
    // Validate the non-null parts, then merge with nulls as removals.
    const patch = faultsPart as Record<string, Record<string, unknown> | null>;
    const nonNull: Record<string, Record<string, unknown>> = {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) continue;
      if (typeof v !== 'object' || Array.isArray(v)) throw new BadRequest(`faults.${k}: expected an object of knobs`);
      nonNull[k] = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null));
    }
    const parsed = parseFaultConfig(nonNull, 'faults');
    const withNulls: Record<string, Record<string, unknown> | null> = {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) withNulls[k] = null;
      else withNulls[k] = { ...(parsed as Record<string, Record<string, unknown>>)[k], ...Object.fromEntries(Object.entries(v).filter(([, x]) => x === null)) };
    }
    next = mergeFaults(state.faults, withNulls);
    parseFaultConfig(next, 'faults');
  }
  state.setFaults(next);
  if (bugs) state.setBugs(bugs);
  return ok(faultsView(state));
}

function queryDevices(store: Store, body: Record<string, unknown>): Answer {
  const ids = body['ids'];
  if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string')) throw new BadRequest('ids: expected an array of strings');
  if (ids.length > QUERY_LIMIT) throw new BadRequest(`ids: at most ${QUERY_LIMIT} per query`);
  const dialect = typeof body['dialect'] === 'string' ? body['dialect'] : undefined;
  const devices = (ids as string[]).map((id) => deviceView(store, id, false, dialect) ?? { id, error: 'in no device range' });
  return ok({ devices });
}

// ---- tasks ---------------------------------------------------------------------------------

const intField = (body: Record<string, unknown>, name: string, min: number, max: number, fallback: number): number => {
  const v = body[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new BadRequest(`${name}: expected an integer ${min}–${max}`);
  return v;
};
const strField = (body: Record<string, unknown>, name: string): string | undefined => {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 64) throw new BadRequest(`${name}: expected a non-empty string`);
  return v;
};

/** POST /admin/tasks: a task template over a range (or one device), applied at once to devices already seen. */
function createTask(store: Store, body: Record<string, unknown>): Answer {
  const devices = strField(body, 'devices');
  const packageId = strField(body, 'package');
  if (devices === undefined || packageId === undefined) throw new BadRequest('devices and package are required');
  const pkg = store.runtime.packages.get(packageId);
  if (!pkg) return error(404, `no package ${packageId}`);
  const product = store.runtime.products.get(pkg.productId);
  if (!product) return error(404, `no product ${pkg.productId}`);
  const type = body['type'];
  if (type !== 1 && type !== 2) throw new BadRequest('type: expected 1 (FOTA) or 2 (SOTA)');
  const stateText = body['state'] ?? 'pending';
  if (stateText !== 'pending' && stateText !== 'paused') throw new BadRequest('state: expected pending or paused');
  let range: IdRange;
  try {
    range = parseIdRange(devices);
  } catch (err) {
    throw new BadRequest(`devices: ${(err as Error).message}`);
  }
  const span = spanOf(range);
  if (!product.ranges.some((r) => spanContains(spanOf(r.range), span))) return error(400, `devices: ${devices} is not inside one device range of product ${product.id}`);
  const params = {
    pkg,
    type: type as TaskType,
    signal: intField(body, 'signal', 0, 100, 0),
    power: intField(body, 'power', 0, 100, 0),
    retry: intField(body, 'retry', 0, 1000, 3),
    interval: intField(body, 'interval', 0, 86400, 60),
    manuf: strField(body, 'manuf'),
    model: strField(body, 'model'),
  };
  const created: OnenetTask[] = [];
  let skipped = 0;
  if (rangeSize(range) === 1 && range.width !== -1) {
    const id = devices.trim();
    const device = store.onenetDevice(id, product);
    if (!device) return error(404, `device ${id} is in no device range of product ${product.id}`);
    if (store.activeTask(device, params.type)) return error(409, `device ${id} already has an active task of type ${params.type}`);
    const tpl = store.addTemplate(product, devices, params, stateText, 'admin', range);
    const task = store.applyTemplate(tpl, device, true);
    if (task) created.push(task);
    return ok({ template: templateView(tpl), created: created.length, skipped, tasks: created.map(taskView) }, 201);
  }
  const tpl = store.addTemplate(product, devices, params, stateText, 'admin', range);
  for (const device of store.onenetDevices.values()) {
    if (device.product !== product) continue;
    const task = store.applyTemplate(tpl, device, true);
    if (task) created.push(task);
    else if (indexOf(range, device.id) >= 0) skipped++;
  }
  return ok({ template: templateView(tpl), created: created.length, skipped, tasks: created.slice(0, LISTED_TASKS).map((t) => t.id) }, 201);
}

function findTask(store: Store, id: string): OnenetTask | undefined {
  const colon = id.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const device = store.onenetDevices.get(id.slice(0, colon));
  return device?.tasks.find((t) => t.id === id);
}

const findTemplate = (store: Store, id: string): TaskTemplate | undefined => store.templates.find((t) => t.id === id);

function getTask(store: Store, id: string): Answer {
  const tpl = findTemplate(store, id);
  if (tpl) return ok(templateView(tpl));
  const task = findTask(store, id);
  return task ? ok(taskView(task)) : error(404, `no task ${id}`);
}

type TaskAction = 'cancel' | 'pause' | 'resume';

/** The state a task goes to, or why it cannot. */
function transition(state: TaskState, action: TaskAction, resumeTo: TaskState | undefined): TaskState | string {
  switch (action) {
    case 'cancel':
      return state === 'succeeded' || state === 'failed' || state === 'cancelled' ? `task is ${state}` : 'cancelled';
    case 'pause':
      return state === 'pending' || state === 'downloading' || state === 'upgrading' ? 'paused' : `task is ${state}`;
    case 'resume':
      return state === 'paused' ? (resumeTo ?? 'pending') : `task is ${state}`;
  }
}

function applyAction(store: Store, task: OnenetTask, action: TaskAction): string | undefined {
  const next = transition(task.state, action, task.resumeTo);
  if (next.startsWith('task is')) return next;
  if (action === 'pause') task.resumeTo = task.state;
  if (action === 'resume') task.resumeTo = undefined;
  store.setTaskState(task, next as TaskState);
  return undefined;
}

function changeTask(store: Store, id: string, actionText: string): Answer {
  if (actionText !== 'cancel' && actionText !== 'pause' && actionText !== 'resume') return error(404, `unknown action ${actionText} (cancel, pause, resume)`);
  const action: TaskAction = actionText;
  const tpl = findTemplate(store, id);
  if (tpl) {
    const nextTemplate: TemplateState | string =
      action === 'cancel' ? (tpl.state === 'cancelled' ? 'template is cancelled' : 'cancelled') : action === 'pause' ? (tpl.state === 'pending' ? 'paused' : `template is ${tpl.state}`) : tpl.state === 'paused' ? 'pending' : `template is ${tpl.state}`;
    if (nextTemplate.startsWith('template is')) return error(409, nextTemplate);
    tpl.state = nextTemplate as TemplateState;
    let affected = 0;
    for (const device of store.onenetDevices.values()) {
      if (device.product !== tpl.product) continue;
      for (const task of device.tasks) if (task.templateId === tpl.id && applyAction(store, task, action) === undefined) affected++;
    }
    return ok({ template: templateView(tpl), affected });
  }
  const task = findTask(store, id);
  if (!task) return error(404, `no task ${id} (task ids are DEVID:N, template ids tpl:K)`);
  const refused = applyAction(store, task, action);
  return refused ? error(409, refused) : ok(taskView(task));
}

// ---- bans, packages ------------------------------------------------------------------------

function liftOne(store: Store, imei: string): Answer {
  const device = store.luatDevices.get(imei);
  if (!device) return store.findLuatRange(imei) ? ok({ id: imei, lifted: false, banned: false }) : error(404, `device ${imei} is in no Luat device range`);
  const lifted = store.liftBan(device);
  return ok({ id: imei, lifted, banned: device.banned });
}

function liftAll(store: Store): Answer {
  let lifted = 0;
  for (const device of store.luatDevices.values()) if (store.liftBan(device)) lifted++;
  return ok({ lifted });
}

function republish(store: Store, id: string, body: Record<string, unknown>, projectFilter: string | undefined): Answer {
  const size = body['size'] === undefined ? undefined : intField(body, 'size', 1, 256 * 1024 * 1024, 1);
  const seed = body['seed'] === undefined ? undefined : intField(body, 'seed', 0, 0xffffffff, 0);
  const next = { ...(size !== undefined ? { size } : {}), ...(seed !== undefined ? { seed } : {}) };
  const pkg = store.runtime.packages.get(id);
  if (pkg) {
    pkg.republish(next);
    return ok({ id, dialect: 'onenet', version: pkg.version, seed: pkg.seed, size: pkg.size, md5: pkg.md5, previousMd5: pkg.previousMd5, generation: pkg.generation });
  }
  const firmware: Record<string, unknown>[] = [];
  const project = typeof body['project'] === 'string' ? body['project'] : projectFilter;
  for (const p of store.runtime.projects.values()) {
    if (project !== undefined && p.key !== project) continue;
    const fw = p.firmware.get(id);
    if (!fw) continue;
    fw.republish(next);
    const prefix = `${p.key}\n${fw.name}\n`;
    for (const key of [...store.diffBuilds.keys()]) if (key.startsWith(prefix)) store.diffBuilds.delete(key);
    firmware.push({ project: p.key, version: fw.version, seed: fw.seed, size: fw.size, md5: fw.md5, previousMd5: fw.previousMd5, generation: fw.generation });
  }
  if (firmware.length === 0) return error(404, `no OneNET package or Luat firmware named ${id}`);
  return ok({ id, dialect: 'luat', firmware });
}
