/**
 * Does each device's final state agree with what the server recorded? Where the target has the
 * admin API (the reference server does), a sample of devices is looked up in bulk and compared.
 * The rules are per dialect and deliberately one-sided: a device that gave up or was rejected
 * promises nothing about the server.
 */
import type { TransitionsReport } from '../report/types.js';

/** What the admin API answers per device (the fields read here). */
export interface ServerDeviceView {
  id: string;
  dialect?: string;
  known?: boolean;
  tasks?: ServerTaskView[];
  banned?: boolean;
  upgradesServed?: number;
  requestsToday?: number;
  /** LwM2M: Object 5 as the server last read or heard it (State, Update Result). */
  firmware?: { state?: number; updateResult?: number };
}

/** A OneNET task as the admin API shows it (docs/server.md). */
export interface ServerTaskView {
  state: string;
  createdAt?: number;
  id?: string;
  type?: number;
  package?: string;
  target?: string;
  /** The task's current token (never reported: compared only). */
  token?: string;
  successes?: number;
  duplicateResults?: number;
  manuf?: string;
  model?: string;
}

export interface AdminLookup {
  post<T>(path: string, body: unknown): Promise<T>;
}

/** The server-side state a device's final state implies, or undefined when it implies nothing. */
export type Expectation = { describe: string; holds: (v: ServerDeviceView) => boolean };

const latestTask = (v: ServerDeviceView): string => {
  const tasks = v.tasks ?? [];
  return tasks.length === 0 ? 'none' : (tasks[tasks.length - 1] as { state: string }).state;
};
const ACTIVE = new Set(['pending', 'downloading', 'upgrading']);

const ONENET: Record<string, Expectation> = {
  succeeded: { describe: 'task succeeded', holds: (v) => latestTask(v) === 'succeeded' },
  failed: { describe: 'task failed', holds: (v) => latestTask(v) === 'failed' },
  // A device that gave up a stalled download reported 104 / 107, which fails the task.
  'no-progress': { describe: 'task failed', holds: (v) => latestTask(v) === 'failed' },
  // A gated device reported 105 / 106, which fails the task.
  gated: { describe: 'task failed', holds: (v) => latestTask(v) === 'failed' },
  cancelled: { describe: 'task cancelled', holds: (v) => latestTask(v) === 'cancelled' },
  'up-to-date': { describe: 'no active task', holds: (v) => !ACTIVE.has(latestTask(v)) },
};

const LUAT: Record<string, Expectation> = {
  banned: { describe: 'banned', holds: (v) => v.banned === true },
  succeeded: { describe: 'not banned, file served', holds: (v) => v.banned !== true && (v.upgradesServed ?? 0) >= 1 },
  'up-to-date': { describe: 'not banned', holds: (v) => v.banned !== true },
};

/** hawkBit: the device's action, as the admin API shows actions in task words (src/server/hawkbit/admin.ts). */
const HAWKBIT: Record<string, Expectation> = {
  succeeded: { describe: 'action finished', holds: (v) => latestTask(v) === 'succeeded' },
  failed: { describe: 'action in error', holds: (v) => latestTask(v) === 'failed' },
  'no-progress': { describe: 'action in error', holds: (v) => latestTask(v) === 'failed' },
  cancelled: { describe: 'action cancelled', holds: (v) => latestTask(v) === 'cancelled' },
  // Declining an attempt (`rejected`) leaves the action open.
  gated: { describe: 'action open', holds: (v) => ACTIVE.has(latestTask(v)) },
};

const RULES: Record<string, Record<string, Expectation>> = { onenet: ONENET, luat: LUAT, hawkbit: HAWKBIT };

export function serverStateOf(dialect: string, v: ServerDeviceView): string {
  if (dialect === 'luat') return v.banned ? 'banned' : `not banned, ${v.upgradesServed ?? 0} served`;
  return `task ${latestTask(v)}`;
}

/** Pure comparison, for tests and for the lookup below. */
export function compareFinalStates(
  dialect: string,
  finals: readonly { id: string; state: string }[],
  views: ReadonlyMap<string, ServerDeviceView>,
  maxSamples = 5,
): NonNullable<TransitionsReport['serverAgreement']> {
  let checked = 0;
  let disagreements = 0;
  const samples: { device: string; device_state: string; server_state: string }[] = [];
  for (const f of finals) {
    const view = views.get(f.id);
    const a = view && agreementOf(dialect, f.state, view);
    if (!a) continue;
    checked++;
    if (!a.holds) {
      disagreements++;
      if (samples.length < maxSamples) samples.push({ device: f.id, device_state: f.state, server_state: `${a.server} (expected ${a.expected})` });
    }
  }
  return { checked, disagreements, samples };
}

const BATCH = 5000;

/**
 * The server's view of each device (admin API, in batches); ids the server does not know, and
 * answers that are not device views, are left out.
 */
export async function lookUpDevices(admin: AdminLookup, ids: readonly string[], dialect: string): Promise<Map<string, ServerDeviceView>> {
  const views = new Map<string, ServerDeviceView>();
  for (let i = 0; i < ids.length; i += BATCH) {
    const answer = await admin.post<{ devices?: ServerDeviceView[] }>('/admin/devices/query', { ids: ids.slice(i, i + BATCH), dialect });
    for (const v of answer.devices ?? []) if (v && typeof v.id === 'string' && !('error' in v)) views.set(v.id, v);
  }
  return views;
}

export async function compareWithServer(
  dialect: string,
  finals: readonly { id: string; state: string }[],
  admin: AdminLookup,
): Promise<NonNullable<TransitionsReport['serverAgreement']>> {
  const rules = RULES[dialect] ?? {};
  const views = await lookUpDevices(admin, finals.filter((f) => rules[f.state]).map((f) => f.id), dialect);
  return compareFinalStates(dialect, finals, views);
}

/**
 * Whether one device's final state agrees with the server's view of it; undefined when the state
 * implies nothing about the server (gave up, rejected, unfinished, a dialect without rules).
 */
export function agreementOf(dialect: string, state: string, view: ServerDeviceView): { holds: boolean; expected: string; server: string } | undefined {
  const rule = (RULES[dialect] ?? {})[state];
  if (!rule) return undefined;
  return { holds: rule.holds(view), expected: rule.describe, server: serverStateOf(dialect, view) };
}
