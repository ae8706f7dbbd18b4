/** Server-side state as the admin API shows it (JSON shapes documented in docs/server.md). */
import type { Catalog } from '../../catalog/schema.js';
import { TASK_STATES } from '../../protocol/onenet.js';
import type { ServerState } from '../server-state.js';
import { lwm2mCatalogSection } from '../lwm2m/admin.js';
import type { HistoryEntry } from '../state/history.js';
import type { LuatDevice, OnenetDevice, OnenetTask, Store, TaskTemplate } from '../state/store.js';
import { hawkbitCatalogView } from '../hawkbit/admin.js';

export interface TaskView {
  id: string;
  type: 1 | 2;
  package: string;
  target: string;
  state: string;
  token?: string;
  tokenExpiresAt?: number;
  successes: number;
  duplicateResults: number;
  createdAt: number;
  updatedAt: number;
  template?: string;
  manuf: string;
  model: string;
}

export const taskView = (t: OnenetTask): TaskView => ({
  id: t.id,
  type: t.type,
  package: t.pkg.id,
  target: t.target,
  state: t.state,
  ...(t.token ? { token: t.token.token, tokenExpiresAt: t.token.expiresAt } : {}),
  successes: t.successes,
  duplicateResults: t.duplicateResults,
  createdAt: t.createdAt,
  updatedAt: t.updatedAt,
  ...(t.templateId !== undefined ? { template: t.templateId } : {}),
  manuf: t.manuf,
  model: t.model,
});

export const templateView = (t: TaskTemplate): Record<string, unknown> => ({
  id: t.id,
  product: t.product.id,
  devices: t.range.source,
  package: t.pkg.id,
  type: t.type,
  signal: t.signal,
  power: t.power,
  retry: t.retry,
  interval: t.interval,
  ...(t.manuf !== undefined ? { manuf: t.manuf } : {}),
  ...(t.model !== undefined ? { model: t.model } : {}),
  state: t.state,
  source: t.source,
});

export function onenetDeviceView(d: OnenetDevice, withHistory: boolean): Record<string, unknown> {
  return {
    id: d.id,
    dialect: 'onenet',
    known: d.known,
    product: d.product.id,
    manuf: d.manuf,
    model: d.model,
    ...(d.fVersion !== undefined ? { fVersion: d.fVersion } : {}),
    ...(d.sVersion !== undefined ? { sVersion: d.sVersion } : {}),
    tasks: d.tasks.map(taskView),
    ...(withHistory ? { history: historyOf(d.history?.list()) } : {}),
  };
}

export function luatDeviceView(store: Store, d: LuatDevice, withHistory: boolean): Record<string, unknown> {
  return {
    id: d.id,
    dialect: 'luat',
    known: d.known,
    project: d.project.key,
    account: d.project.account,
    ...(d.version !== undefined ? { version: d.version } : {}),
    ...(d.core !== undefined ? { core: d.core } : {}),
    banned: d.banned,
    requestsToday: d.known ? store.requestsToday(d) : 0,
    ...(d.bannedAt !== undefined ? { bannedAt: d.bannedAt } : {}),
    upgradesServed: d.upgradesServed,
    ...(withHistory ? { history: historyOf(d.history?.list()) } : {}),
  };
}

const historyOf = (entries: HistoryEntry[] | undefined): HistoryEntry[] => entries ?? [];

/** A device by id (OneNET ranges first unless `dialect` says otherwise), or undefined. */
export function deviceView(store: Store, id: string, withHistory: boolean, dialect?: string): Record<string, unknown> | undefined {
  if (dialect !== 'luat') {
    const d = store.onenetDevices.get(id) ?? store.previewOnenetDevice(id);
    if (d) return onenetDeviceView(d, withHistory);
  }
  if (dialect !== 'onenet') {
    const d = store.luatDevices.get(id) ?? store.previewLuatDevice(id);
    if (d) return luatDeviceView(store, d, withHistory);
  }
  return undefined;
}

/** The catalog with secrets resolved and each package's current publication. */
export function catalogView(state: ServerState): Catalog & Record<string, unknown> {
  const store = state.store;
  const c = structuredClone(state.catalog) as Catalog;
  for (const product of c.onenet.products) {
    product.packages = product.packages.map((p) => {
      const rt = store.runtime.packages.get(p.id);
      return rt ? { ...p, seed: rt.seed, size: rt.size, md5: rt.md5, generation: rt.generation } : p;
    });
  }
  for (const project of c.luat.projects) {
    const rt = store.runtime.projects.get(project.key);
    project.firmware = project.firmware.map((f) => {
      const fw = rt?.firmware.get(f.name);
      return fw ? { ...f, seed: fw.seed, size: fw.size, md5: fw.md5, generation: fw.generation, targetCore: fw.targetCore } : f;
    });
  }
  c.luat.banLimitPerDay = store.banLimit;
  if (c.hawkbit !== undefined) c.hawkbit = hawkbitCatalogView(c.hawkbit, state.hawkbit.state.tenants);
  // The conventions a client may rely on (the target profile reads them): days start at UTC
  // midnight; a device asking again with the version it flashed gets 27, and every file names its
  // version in X-Firmware-Version and in its file name as well.
  const conventions = { banDayStartUtc: '00:00', versionConfirm: 're-ask', versionLabels: ['header', 'filename'] };
  return { ...c, luat: { ...c.luat, ...conventions }, lwm2m: lwm2mCatalogSection(state.lwm2m) as unknown as Catalog['lwm2m'], templates: store.templates.map(templateView) };
}

export function countersView(state: ServerState): Record<string, unknown> {
  const store = state.store;
  const c = store.counters;
  const endpoints: Record<string, unknown> = {};
  for (const [name, counts] of c.endpoints) endpoints[name] = { requests: counts.requests, answers: { ...counts.answers } };
  const tasks: Record<string, number> = {};
  for (const s of TASK_STATES) tasks[s] = store.taskCounts[s];
  return {
    endpoints,
    tasks,
    bans: { active: store.activeBans, imposed: c.bansImposed, lifted: c.bansLifted },
    bytesServed: c.bytesServed,
    faults: { ...c.faults },
    serviceMs: c.service.view(),
    devices: { onenet: store.onenetDevices.size, luat: store.luatDevices.size },
    virtualNow: store.now(),
  };
}
