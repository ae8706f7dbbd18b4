/**
 * The server's mutable state: devices materialised on first contact (a catalog of a million ids
 * costs nothing until they show up), their tasks and tokens, Luat request counts and bans, diff
 * builds, counters. No I/O; every read of time goes through the injected Clock.
 *
 * Choices:
 * - A device's tasks come from task templates (the catalog's `tasks`, then those created through
 *   the admin API, in order) when it first shows up; a template is skipped for a device that
 *   already has an active task of the same type (a "task conflict").
 * - Task ids are `{devId}:{n}` (n counts from 1 per device); template ids are `tpl:{k}`.
 * - Tokens look like the platform's (`ota_` + 20 letters and digits), drawn from the seed.
 * - The Luat request count belongs to the UTC day of the virtual clock; a new day starts at 0.
 */
import type { Catalog } from '../../catalog/schema.js';
import { indexOf, idAt, parseIdRange, rangeSize, type IdRange } from '../../catalog/id-range.js';
import { ACTIVE_TASK_STATES, TASK_STATES, TOKEN_VALIDITY_MS, type TaskState, type TaskType } from '../../protocol/onenet.js';
import { dayIndex } from '../../protocol/luat.js';
import { Rng } from '../../random/rng.js';
import type { Clock } from '../../time/clock.js';
import type { BugName } from '../bugs.js';
import { buildRuntime, type CatalogRuntime, type DeviceRangeRuntime, type PackageRuntime, type ProductRuntime, type ProjectRuntime } from './catalog-runtime.js';
import { Counters } from './counters.js';
import type { Answer } from '../http/answer.js';
import { History, type HistoryEntry } from './history.js';

export interface TaskParams {
  pkg: PackageRuntime;
  type: TaskType;
  signal: number;
  power: number;
  retry: number;
  interval: number;
  manuf: string;
  model: string;
}

export interface OnenetTask extends TaskParams {
  readonly id: string;
  readonly device: OnenetDevice;
  readonly templateId: string | undefined;
  readonly target: string;
  state: TaskState;
  /** Where a paused task goes back to. */
  resumeTo: TaskState | undefined;
  token: TokenRecord | undefined;
  /** Accepted 201s. */
  successes: number;
  /** Result steps refused because the task had finished. */
  duplicateResults: number;
  readonly createdAt: number;
  updatedAt: number;
  /** The check answer, serialised once per (token, publication, stale-md5 bug); see onenet/calls.ts. */
  answerKey: number | undefined;
  answerBody: Answer | undefined;
}

export interface TokenRecord {
  readonly token: string;
  readonly task: OnenetTask;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** Package size when issued; a republish to another size makes the token's downloads answer `2`. */
  readonly size: number;
}

export interface OnenetDevice {
  readonly id: string;
  readonly product: ProductRuntime;
  readonly range: DeviceRangeRuntime;
  /** Position in its range. */
  readonly index: number;
  readonly manuf: string;
  readonly model: string;
  fVersion: string | undefined;
  sVersion: string | undefined;
  readonly tasks: OnenetTask[];
  taskSeq: number;
  /** Auto-add rules that already gave this device a task (once per device and rule). */
  autoAdded: Set<number> | undefined;
  history: History | undefined;
  readonly known: boolean;
}

export type TemplateState = 'pending' | 'paused' | 'cancelled';

export interface TaskTemplate extends Omit<TaskParams, 'manuf' | 'model'> {
  readonly id: string;
  readonly product: ProductRuntime;
  readonly range: IdRange;
  /** Absent: the device range's own manuf / model. */
  readonly manuf: string | undefined;
  readonly model: string | undefined;
  state: TemplateState;
  readonly source: 'catalog' | 'admin';
}

export interface LuatDevice {
  readonly id: string;
  readonly project: ProjectRuntime;
  readonly upgradeList: boolean;
  version: string | undefined;
  core: string | undefined;
  banned: boolean;
  bannedAt: number | undefined;
  requestsToday: number;
  /** Day index the count belongs to. */
  day: number;
  upgradesServed: number;
  history: History | undefined;
  readonly known: boolean;
}

export interface DiffBuild {
  readonly startedAt: number;
  readonly readyAt: number;
}

/** Stream ids of the store's random draws. */
const TOKEN_STREAM = 0x70c3;
const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Told of task changes (the AIOT pushes, src/server/aiot/); never decides anything. */
export interface TaskObserver {
  /** An accepted progress step 0–100. */
  progress(task: OnenetTask, step: number): void;
  /** A new state; `cause` is the step or result code that moved it, when one did. */
  state(task: OnenetTask, next: TaskState, cause: number | undefined): void;
}

export class Store {
  readonly runtime: CatalogRuntime;
  observer: TaskObserver | undefined;
  readonly counters = new Counters();
  readonly onenetDevices = new Map<string, OnenetDevice>();
  readonly luatDevices = new Map<string, LuatDevice>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly templates: TaskTemplate[] = [];
  readonly diffBuilds = new Map<string, DiffBuild>();
  readonly taskCounts: Record<TaskState, number>;
  activeBans = 0;
  banLimit: number;
  private readonly tokenRng: Rng;

  constructor(
    readonly catalog: Catalog,
    readonly clock: Clock,
    readonly seed: number,
    /** Shared with the server, which changes it at run time. */
    readonly bugs: ReadonlySet<BugName>,
  ) {
    this.runtime = buildRuntime(catalog);
    this.tokenRng = new Rng(seed, TOKEN_STREAM);
    this.banLimit = catalog.luat.banLimitPerDay;
    this.taskCounts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
    for (const product of this.runtime.products.values()) {
      const spec = catalog.onenet.products.find((p) => p.id === product.id);
      for (const t of spec?.tasks ?? []) {
        this.addTemplate(product, t.devices, {
          pkg: product.packages.get(t.package) as PackageRuntime,
          type: t.type,
          signal: t.signal,
          power: t.power,
          retry: t.retry,
          interval: t.interval,
          manuf: t.manuf,
          model: t.model,
        }, 'pending', 'catalog');
      }
    }
  }

  /** Virtual ms, whole. */
  now(): number {
    return Math.floor(this.clock.now());
  }

  // ---- OneNET devices ------------------------------------------------------------------------

  findOnenetRange(id: string): { product: ProductRuntime; range: DeviceRangeRuntime; index: number } | undefined {
    for (const product of this.runtime.products.values()) {
      for (const range of product.ranges) {
        const index = indexOf(range.range, id);
        if (index >= 0) return { product, range, index };
      }
    }
    return undefined;
  }

  /**
   * The device, materialised on first contact; undefined for an id in no range, or in a range of
   * another product than `product` (when given; nothing is materialised then).
   */
  onenetDevice(id: string, product?: ProductRuntime): OnenetDevice | undefined {
    const seen = this.onenetDevices.get(id);
    if (seen) return product === undefined || seen.product === product ? seen : undefined;
    const found = this.findOnenetRange(id);
    if (!found || (product !== undefined && found.product !== product)) return undefined;
    const device = this.newOnenetDevice(id, found, true);
    this.onenetDevices.set(id, device);
    for (const tpl of this.templates) this.applyTemplate(tpl, device, true);
    return device;
  }

  /** What a device in a range looks like before it shows up; nothing is stored or counted. */
  previewOnenetDevice(id: string): OnenetDevice | undefined {
    const found = this.findOnenetRange(id);
    if (!found) return undefined;
    const device = this.newOnenetDevice(id, found, false);
    for (const tpl of this.templates) this.applyTemplate(tpl, device, false);
    return device;
  }

  private newOnenetDevice(id: string, found: { product: ProductRuntime; range: DeviceRangeRuntime; index: number }, known: boolean): OnenetDevice {
    const spec = found.range.spec;
    return {
      id,
      product: found.product,
      range: found.range,
      index: found.index,
      manuf: spec.manuf,
      model: spec.model,
      fVersion: spec.fVersion,
      sVersion: spec.sVersion,
      tasks: [],
      taskSeq: 0,
      autoAdded: undefined,
      history: undefined,
      known,
    };
  }

  /** Another device of the same range (the next one, or the previous at the end). */
  neighbourOf(device: OnenetDevice): OnenetDevice | undefined {
    const size = rangeSize(device.range.range);
    if (size < 2) return undefined;
    const i = device.index + 1 < size ? device.index + 1 : device.index - 1;
    return this.onenetDevice(idAt(device.range.range, i));
  }

  /** The newest task of `type` that check would return (pending, downloading or upgrading). */
  activeTask(device: OnenetDevice, type: TaskType): OnenetTask | undefined {
    for (let i = device.tasks.length - 1; i >= 0; i--) {
      const t = device.tasks[i] as OnenetTask;
      if (t.type === type && ACTIVE_TASK_STATES.has(t.state)) return t;
    }
    return undefined;
  }

  createTask(device: OnenetDevice, params: TaskParams, state: TemplateState, templateId: string | undefined, count = device.known): OnenetTask {
    const now = this.now();
    const n = ++device.taskSeq;
    const task: OnenetTask = {
      ...params,
      id: `${device.id}:${n}`,
      device,
      templateId,
      target: params.pkg.version,
      state,
      resumeTo: state === 'paused' ? 'pending' : undefined,
      token: undefined,
      successes: 0,
      duplicateResults: 0,
      createdAt: now,
      updatedAt: now,
      answerKey: undefined,
      answerBody: undefined,
    };
    device.tasks.push(task);
    if (count) this.taskCounts[state]++;
    return task;
  }

  setTaskState(task: OnenetTask, next: TaskState, cause?: number): void {
    if (task.state === next) return;
    if (task.device.known) {
      this.taskCounts[task.state]--;
      this.taskCounts[next]++;
    }
    task.state = next;
    task.updatedAt = this.now();
    this.observer?.state(task, next, cause);
  }

  /** A fresh token for the task, valid TOKEN_VALIDITY_MS from now; the old one stays known (expired). */
  issueToken(task: OnenetTask): TokenRecord {
    let token: string;
    do {
      token = 'ota_';
      for (let i = 0; i < 20; i++) token += TOKEN_ALPHABET[Math.floor(this.tokenRng.next() * TOKEN_ALPHABET.length)];
    } while (this.tokens.has(token));
    const now = this.now();
    const record: TokenRecord = { token, task, issuedAt: now, expiresAt: now + TOKEN_VALIDITY_MS, size: task.pkg.size };
    this.tokens.set(token, record);
    task.token = record;
    task.answerKey = undefined;
    return record;
  }

  /** Whether a token is its task's current one and has not expired. */
  tokenLive(record: TokenRecord, now = this.now()): boolean {
    return record.task.token === record && now <= record.expiresAt;
  }

  addTemplate(product: ProductRuntime, rangeText: string, params: Omit<TaskParams, 'manuf' | 'model'> & { manuf?: string | undefined; model?: string | undefined }, state: TemplateState, source: 'catalog' | 'admin', range?: IdRange): TaskTemplate {
    const tpl: TaskTemplate = {
      ...params,
      id: `tpl:${this.templates.length}`,
      product,
      range: range ?? parseIdRange(rangeText),
      manuf: params.manuf,
      model: params.model,
      state,
      source,
    };
    this.templates.push(tpl);
    return tpl;
  }

  /** Gives `device` the template's task unless it has an active task of that type. */
  applyTemplate(tpl: TaskTemplate, device: OnenetDevice, count: boolean): OnenetTask | undefined {
    if (tpl.product !== device.product || indexOf(tpl.range, device.id) < 0) return undefined;
    if (this.activeTask(device, tpl.type)) return undefined;
    return this.createTask(device, { ...tpl, manuf: tpl.manuf ?? device.manuf, model: tpl.model ?? device.model }, tpl.state, tpl.id, count);
  }

  /** Records a call in the device's bounded history. */
  record(owner: { history: History | undefined; known: boolean }, call: string, request: string, answer: string): void {
    if (!owner.known) return;
    const entry: HistoryEntry = { t: this.now(), call, request, answer };
    (owner.history ??= new History()).push(entry);
  }

  // ---- Luat devices --------------------------------------------------------------------------

  findLuatRange(id: string): { project: ProjectRuntime; upgradeList: boolean } | undefined {
    for (const project of this.runtime.projects.values()) {
      for (const r of project.ranges) if (indexOf(r.range, id) >= 0) return { project, upgradeList: r.upgradeList };
    }
    return undefined;
  }

  luatDevice(id: string): LuatDevice | undefined {
    const seen = this.luatDevices.get(id);
    if (seen) return seen;
    const found = this.findLuatRange(id);
    if (!found) return undefined;
    const device = newLuatDevice(id, found, dayIndex(this.now()), true);
    this.luatDevices.set(id, device);
    return device;
  }

  previewLuatDevice(id: string): LuatDevice | undefined {
    const found = this.findLuatRange(id);
    return found ? newLuatDevice(id, found, dayIndex(this.now()), false) : undefined;
  }

  /** Requests so far in the current day window (a new day starts from 0). */
  requestsToday(device: LuatDevice, now = this.now()): number {
    const day = dayIndex(now);
    if (device.day !== day) {
      device.day = day;
      device.requestsToday = 0;
    }
    return device.requestsToday;
  }

  ban(device: LuatDevice): void {
    if (device.banned) return;
    device.banned = true;
    device.bannedAt = this.now();
    this.activeBans++;
    this.counters.bansImposed++;
  }

  /** Lifts a ban and forgives the day's requests (otherwise the next request would ban again). */
  liftBan(device: LuatDevice): boolean {
    device.requestsToday = 0;
    if (!device.banned) return false;
    device.banned = false;
    device.bannedAt = undefined;
    this.activeBans--;
    this.counters.bansLifted++;
    return true;
  }
}

function newLuatDevice(id: string, found: { project: ProjectRuntime; upgradeList: boolean }, day: number, known: boolean): LuatDevice {
  return {
    id,
    project: found.project,
    upgradeList: found.upgradeList,
    version: undefined,
    core: undefined,
    banned: false,
    bannedAt: undefined,
    requestsToday: 0,
    day,
    upgradesServed: 0,
    history: undefined,
    known,
  };
}
