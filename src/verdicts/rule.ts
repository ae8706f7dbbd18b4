/**
 * A verdict rule is data plus one pure function: its name, what it checks in words, the dialects
 * it speaks to, and `evaluate`, which reads the devices' evidence (and, where the target has the
 * admin API, the server's view of them) and names each device that breaks it. Rules never do I/O;
 * the runner (./run.ts) fetches what they read.
 */
import type { RetransmitSettings } from '../device/types.js';
import type { DeviceEvidence, Exchange } from './evidence.js';
import type { ServerDeviceView, ServerTaskView } from './server-agreement.js';
import type { AppliedEvent } from './server-events.js';
import type { ProfileKey, ProfileSource, TargetProfile } from '../protocol/profile.js';
import type { TargetClock } from '../time/target-clock.js';

/**
 * What a reference server shows of its catalog (GET /admin/catalog): its OneNET packages. Its
 * limits are part of the target profile (ctx.profile).
 */
export interface ServerFacts {
  /** Read from the server (true) or none known (false). */
  known: boolean;
  /** OneNET packages by id. */
  packages: ReadonlyMap<string, { version: string; size: number; md5: string; kind: 'full' | 'diff'; from: readonly string[] }>;
  /** LwM2M packages by id (the catalog's `lwm2m` section): the md5 of the bytes its repository should serve. Absent: the server shows none. */
  lwm2mPackages?: ReadonlyMap<string, { md5: string; size: number }>;
}

export const DEFAULT_SERVER_FACTS: ServerFacts = { known: false, packages: new Map() };

export interface VerdictContext {
  dialect: string;
  /** Virtual instant (ms since the epoch) exchange times count from. */
  originVirtual: number;
  server: ServerFacts;
  /** What the server promises (src/protocol/profile.ts): every limit a rule judges against. */
  profile: TargetProfile;
  /** Where each profile value came from (a rule says when it judged with documented values). */
  profileSources: Readonly<Record<ProfileKey, ProfileSource>>;
  /** The server's clock: day windows are counted on it. */
  targetClock: TargetClock;
  /** The server's view of the devices, by id (empty without the admin API). */
  views: ReadonlyMap<string, ServerDeviceView>;
  /** Server events the run did. */
  events: readonly AppliedEvent[];
  /** Each cohort's retransmission settings, by cohort name. */
  retransmitOf(cohort: string): RetransmitSettings;
  /** Each cohort's Luat backoff after a 43, virtual ms. */
  waitBackoffOf(cohort: string): number;
  /** Whether the engine models the cohort's radio (it may then hold a request back past the device's decision). */
  radioModelled(cohort: string): boolean;
  /**
   * Whether the target showed its view of the devices at all (admin API); when absent, read as
   * "views is not empty". Set by the runner, which judges in batches: one batch may hold no device
   * the server knows while the server still has a view.
   */
  serverView?: boolean;
  /** Server events the scenario asked for that could not be done at all (no admin API), in words. */
  eventsNotDone?: string;
  /** Each fleet-wide fold's result, by rule name (see `Rule.fleet`), over every device of the run. */
  fleet?: ReadonlyMap<string, unknown>;
}

export interface Violation {
  device: DeviceEvidence;
  detail: string;
}

export interface RuleOutcome {
  /** Devices the rule applied to. */
  checked: number;
  violations: Violation[];
  /** Things counted on the way (duplicates recorded, expected failures, bans by waits, ...). */
  counts?: Record<string, number>;
  /** Why the rule could only judge part of what it checks (e.g. no server view). */
  note?: string;
  /**
   * Why the rule could not judge at all (e.g. it needs the server's view and the target has no
   * admin API): reported as "not judged (why)", never as a pass.
   */
  notJudged?: string;
}

/**
 * A fold over every device of the run, done before any device is judged, for a rule that compares
 * a device with the fleet (the first request for a diff package, fleet-wide). The devices come in
 * any order and in several passes' worth of batches, so `add` must not depend on the order.
 */
export interface FleetFold<A> {
  empty(): A;
  add(acc: A, d: DeviceEvidence): A;
}

export interface Rule {
  name: string;
  description: string;
  dialects: readonly string[];
  /** Fleet-wide facts the rule reads from `ctx.fleet.get(name)`; the runner folds them first. */
  fleet?: FleetFold<unknown>;
  evaluate(devices: readonly DeviceEvidence[], ctx: VerdictContext): RuleOutcome;
  /**
   * A note from the whole fleet's summed counts, once every batch was judged (a batch alone cannot
   * tell, e.g., that no device of the fleet did something).
   */
  summary?(counts: Readonly<Record<string, number>>): string | undefined;
}

/** Whether the target showed its view of the devices (see `VerdictContext.serverView`). */
export const hasServerView = (ctx: VerdictContext): boolean => ctx.serverView ?? ctx.views.size > 0;

/**
 * A rule judged device by device: `check` returns why the device breaks it, or undefined. `counts`
 * collects per-device tallies.
 */
export function perDevice(
  applies: (d: DeviceEvidence, ctx: VerdictContext) => boolean,
  check: (d: DeviceEvidence, ctx: VerdictContext, count: (name: string, n?: number) => void) => string | undefined,
  note?: (ctx: VerdictContext) => string | undefined,
): Rule['evaluate'] {
  return (devices, ctx) => {
    let checked = 0;
    const violations: Violation[] = [];
    const counts: Record<string, number> = {};
    const count = (name: string, n = 1): void => {
      counts[name] = (counts[name] ?? 0) + n;
    };
    for (const d of devices) {
      if (!applies(d, ctx)) continue;
      checked++;
      const detail = check(d, ctx, count);
      if (detail !== undefined) violations.push({ device: d, detail });
    }
    const why = note?.(ctx);
    return { checked, violations, ...(Object.keys(counts).length > 0 ? { counts } : {}), ...(why !== undefined ? { note: why } : {}) };
  };
}

// ---- small readers shared by the rules -------------------------------------------------------

export const ops = (d: DeviceEvidence, op: string): Exchange[] => d.exchanges.filter((e) => e.op === op);

/** The latest task of the device's type on the server, if the server showed one. */
export function serverTask(d: DeviceEvidence, ctx: VerdictContext): ServerTaskView | undefined {
  const tasks = ctx.views.get(d.id)?.tasks ?? [];
  for (let i = tasks.length - 1; i >= 0; i--) {
    const t = tasks[i] as ServerTaskView;
    if (t.type === undefined || t.type === d.profile.taskType) return t;
  }
  return undefined;
}

/** Short text of a time on the trace's axis (virtual, since the run's start). */
export function at(ms: number): string {
  if (Math.abs(ms) < 1000) return `${Math.round(ms)}ms`;
  if (Math.abs(ms) < 120_000) return `${(ms / 1000).toFixed(1)}s`;
  if (Math.abs(ms) < 7_200_000) return `${(ms / 60_000).toFixed(1)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}

/** `token#k`: a token named by its order in the device's life, never by its value. */
export function tokenNamer(d: DeviceEvidence): (token: string) => string {
  const order = new Map<string, number>();
  for (const e of d.exchanges) {
    for (const t of [e.facts.offerToken, e.facts.token]) if (t !== undefined && !order.has(t)) order.set(t, order.size + 1);
  }
  return (token) => {
    let k = order.get(token);
    if (k === undefined) order.set(token, (k = order.size + 1));
    return `token#${k}`;
  };
}

export const NO_SERVER_VIEW = 'no server view (the target has no admin API we can use): judged from the devices\' own exchanges only';

/** Why a rule that reads only the server's view could not judge. */
export const NO_SERVER_VIEW_AT_ALL = 'no admin API on the target (or it failed): the server\'s own view of the devices is needed to compare with';
