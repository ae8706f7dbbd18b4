/**
 * What the reference server holds for hawkBit: tenants resolved from the catalog (secrets read,
 * artifacts hashed), targets materialised on first contact, actions and rollouts. No I/O; time comes
 * from the store's clock.
 *
 * Choices:
 * - A rollout's targets are split into groups by their position in its id range (group g holds
 *   positions [cum(g-1) × n / 100, cum(g) × n / 100)). A group's actions exist from the moment the
 *   group starts (hawkBit creates them all at once); here one is made when its target first asks
 *   afterwards, which a device cannot tell apart, while the thresholds count over the whole group.
 * - The success threshold is the share of the group finished with success; when reached, the next
 *   group starts (`nextgroup`) or the rollout pauses (`pause`, resumed through the admin API).
 *   The error threshold (a share or a count of the group's actions in error) stops the rollout:
 *   no later group starts; open actions of started groups stay open.
 * - Action ids count from 1 per server; a target holds at most one open action per rollout.
 */
import { createHash } from 'node:crypto';
import { indexOf, parseIdRange, rangeSize, type IdRange } from '../../catalog/id-range.js';
import type { HawkbitCatalog, HawkbitRollout } from '../../catalog/hawkbit.js';
import { defaultPackageSeed, packageImage, type PackageImage } from '../../catalog/package-bytes.js';
import { resolveSecret } from '../../config/secret.js';
import { ConfigError } from '../../config/load.js';
import { isActionOpen, parseSleep, type ActionState } from '../../protocol/hawkbit.js';
import { History } from '../state/history.js';

export const DEFAULT_POLLING_SLEEP = '00:05:00';

export interface ArtifactRuntime {
  readonly filename: string;
  readonly size: number;
  readonly seed: number;
  image(): PackageImage & { readonly sha1: string; readonly sha256: string };
}

export interface ModuleRuntime {
  readonly id: number;
  readonly type: string;
  readonly name: string;
  readonly version: string;
  readonly artifacts: ReadonlyMap<string, ArtifactRuntime>;
}

export interface DistributionSetRuntime {
  readonly id: string;
  readonly version: string;
  readonly modules: readonly ModuleRuntime[];
}

export type RolloutState = 'ready' | 'running' | 'paused' | 'stopped' | 'finished';

export interface GroupStats {
  readonly size: number;
  /** Actions created (targets of the group that asked since it started). */
  created: number;
  success: number;
  error: number;
  canceled: number;
}

export interface RolloutRuntime {
  readonly spec: HawkbitRollout;
  readonly range: IdRange;
  readonly set: DistributionSetRuntime;
  /** Cumulative first position of each group, and the total at the end. */
  readonly bounds: readonly number[];
  state: RolloutState;
  /** Groups started so far (0 before start). */
  started: number;
  readonly groups: GroupStats[];
  /** Why it stopped or paused, in words. */
  why: string | undefined;
}

export interface TenantRuntime {
  readonly name: string;
  readonly tokenKey: string | undefined;
  readonly gatewayToken: string | undefined;
  readonly sleep: string;
  readonly ranges: readonly IdRange[];
  readonly sets: ReadonlyMap<string, DistributionSetRuntime>;
  readonly rollouts: RolloutRuntime[];
}

export interface HawkbitAction {
  readonly id: number;
  readonly target: HawkbitTarget;
  readonly set: DistributionSetRuntime;
  readonly rollout: RolloutRuntime | undefined;
  readonly group: number;
  readonly type: HawkbitRollout['actionType'];
  state: ActionState;
  /** Status entries stored (feedbacks accepted), bounded by the quota. */
  statuses: number;
  /** Closed-with-success counted for this action (more than one is the `double-count-closed` bug). */
  successCounts: number;
  lastExecution: string | undefined;
  lastProgress: { cnt: number; of: number } | undefined;
  readonly createdAt: number;
  updatedAt: number;
}

export interface HawkbitTarget {
  readonly id: string;
  readonly tenant: TenantRuntime;
  readonly actions: HawkbitAction[];
  /** Attributes sent by configData. */
  attributes: Record<string, string> | undefined;
  /** The distribution set installed last (closed with success). */
  installed: string | undefined;
  history: History | undefined;
  readonly known: true;
}

function artifactRuntime(filename: string, size: number, seed: number): ArtifactRuntime {
  let hashed: (PackageImage & { sha1: string; sha256: string }) | undefined;
  return {
    filename,
    size,
    seed,
    image() {
      const img = packageImage(seed, size);
      if (hashed === undefined || hashed.bytes !== img.bytes) {
        hashed = { ...img, sha1: createHash('sha1').update(img.bytes).digest('hex'), sha256: createHash('sha256').update(img.bytes).digest('hex') };
      }
      return hashed;
    },
  };
}

function groupBounds(groups: readonly number[], size: number): number[] {
  const out = [0];
  let cum = 0;
  for (const g of groups) {
    cum += g;
    out.push(Math.min(size, Math.floor((cum * size) / 100 + 1e-9)));
  }
  out[out.length - 1] = size;
  return out;
}

/** Resolves and checks the catalog's hawkBit part; `where` names fields in one-line errors. */
export function buildTenants(catalog: HawkbitCatalog | undefined, seed: number, env: NodeJS.ProcessEnv = process.env): Map<string, TenantRuntime> {
  const tenants = new Map<string, TenantRuntime>();
  for (const [ti, t] of (catalog?.tenants ?? []).entries()) {
    const at = (p: string): string => `catalog: hawkbit.tenants.${ti}.${p}`;
    if (tenants.has(t.name)) throw new ConfigError(`${at('name')}: tenant ${t.name} twice`);
    const ranges = t.targets.map((r, i) => {
      try {
        return parseIdRange(r.ids);
      } catch (err) {
        throw new ConfigError(`${at(`targets.${i}.ids`)}: ${(err as Error).message}`);
      }
    });
    const sets = new Map<string, DistributionSetRuntime>();
    for (const ds of t.distributionSets) {
      const modules = ds.modules.map((m) => ({
        id: m.id,
        type: m.type,
        name: m.name,
        version: m.version,
        artifacts: new Map(m.artifacts.map((a) => [a.filename, artifactRuntime(a.filename, a.size, a.seed ?? defaultPackageSeed(seed, `${t.name}/${ds.id}/${m.id}/${a.filename}`))])),
      }));
      sets.set(ds.id, { id: ds.id, version: ds.version, modules });
    }
    const rollouts = t.rollouts.map((r, i): RolloutRuntime => {
      const set = sets.get(r.distributionSet);
      if (!set) throw new ConfigError(`${at(`rollouts.${i}.distributionSet`)}: no distribution set ${r.distributionSet} in tenant ${t.name}`);
      const sum = r.groups.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 100) > 1e-6) throw new ConfigError(`${at(`rollouts.${i}.groups`)}: the groups' percentages add up to ${sum}, not 100`);
      let range: IdRange;
      try {
        range = parseIdRange(r.targets);
      } catch (err) {
        throw new ConfigError(`${at(`rollouts.${i}.targets`)}: ${(err as Error).message}`);
      }
      const n = rangeSize(range);
      const bounds = groupBounds(r.groups, n);
      return { spec: r, range, set, bounds, state: 'ready', started: 0, groups: r.groups.map((_, g) => ({ size: (bounds[g + 1] ?? 0) - (bounds[g] ?? 0), created: 0, success: 0, error: 0, canceled: 0 })), why: undefined };
    });
    const sleep = t.pollingSleep ?? catalog?.pollingSleep ?? DEFAULT_POLLING_SLEEP;
    if (parseSleep(sleep) === undefined) throw new ConfigError(`${at('pollingSleep')}: expected HH:MM:SS, got ${sleep}`);
    tenants.set(t.name, {
      name: t.name,
      tokenKey: t.targetTokenKey === undefined ? undefined : resolveSecret(t.targetTokenKey, at('targetTokenKey'), env),
      gatewayToken: t.gatewayToken === undefined ? undefined : resolveSecret(t.gatewayToken, at('gatewayToken'), env),
      sleep,
      ranges,
      sets,
      rollouts,
    });
  }
  return tenants;
}

/** Whether a rollout's group has reached its error threshold. */
export function errorThresholdReached(r: RolloutRuntime, g: GroupStats): boolean {
  const { percent, count } = r.spec.errorThreshold;
  if (count !== undefined && g.error >= count) return true;
  return percent !== undefined && g.size > 0 && (g.error * 100) / g.size >= percent;
}

/** Whether a rollout's group has reached its success threshold. */
export const successThresholdReached = (r: RolloutRuntime, g: GroupStats): boolean => g.size === 0 || (g.success * 100) / g.size >= r.spec.successThreshold;

/** Starts the next group of a rollout, skipping empty ones; `finished` when none is left. */
export function startNextGroup(r: RolloutRuntime): void {
  r.state = 'running';
  r.why = undefined;
  while (r.started < r.groups.length) {
    r.started++;
    const g = r.groups[r.started - 1] as GroupStats;
    if (g.size > 0) return;
  }
  r.state = 'finished';
}

/**
 * After an action of group `gi` changed: stop on the error threshold, else start the next group
 * (or pause) on the success threshold of the newest started group.
 */
export function advanceRollout(r: RolloutRuntime, gi: number): void {
  if (r.state !== 'running') return;
  const g = r.groups[gi];
  if (g === undefined) return;
  if (errorThresholdReached(r, g)) {
    r.state = 'stopped';
    r.why = `group ${gi + 1}: ${g.error} of ${g.size} in error (threshold ${r.spec.errorThreshold.percent !== undefined ? `${r.spec.errorThreshold.percent}%` : ''}${r.spec.errorThreshold.count !== undefined ? ` ${r.spec.errorThreshold.count}` : ''})`;
    return;
  }
  if (gi !== r.started - 1 || !successThresholdReached(r, g)) return;
  if (r.started >= r.groups.length) {
    r.state = 'finished';
    return;
  }
  if (r.spec.successAction === 'pause') {
    r.state = 'paused';
    r.why = `group ${gi + 1} reached ${r.spec.successThreshold}% success`;
    return;
  }
  startNextGroup(r);
}

/** The group (0-based) of a target's position in a rollout's range. */
export function groupOf(r: RolloutRuntime, position: number): number {
  for (let g = 0; g < r.groups.length; g++) if (position < (r.bounds[g + 1] ?? 0)) return g;
  return r.groups.length - 1;
}

export class HawkbitState {
  readonly targets = new Map<string, HawkbitTarget>();
  readonly actions = new Map<number, HawkbitAction>();
  private nextAction = 1;

  constructor(readonly tenants: ReadonlyMap<string, TenantRuntime>) {
    for (const t of tenants.values()) for (const r of t.rollouts) if (r.spec.start) startNextGroup(r);
  }

  private key = (tenant: string, id: string): string => `${tenant}\n${id}`;

  /** The target of a tenant, made on first contact; undefined when its id is in none of the tenant's ranges. */
  target(tenant: TenantRuntime, id: string): HawkbitTarget | undefined {
    const k = this.key(tenant.name, id);
    const known = this.targets.get(k);
    if (known) return known;
    if (!tenant.ranges.some((r) => indexOf(r, id) >= 0)) return undefined;
    const t: HawkbitTarget = { id, tenant, actions: [], attributes: undefined, installed: undefined, history: undefined, known: true };
    this.targets.set(k, t);
    return t;
  }

  findTarget(tenant: string, id: string): HawkbitTarget | undefined {
    return this.targets.get(this.key(tenant, id));
  }

  /** Makes the actions the target's started rollout groups owe it. */
  assign(target: HawkbitTarget, now: number): void {
    for (const r of target.tenant.rollouts) {
      if (r.started === 0) continue;
      const pos = indexOf(r.range, target.id);
      if (pos < 0) continue;
      const g = groupOf(r, pos);
      if (g >= r.started) continue;
      if (target.actions.some((a) => a.rollout === r)) continue;
      const action: HawkbitAction = {
        id: this.nextAction++,
        target,
        set: r.set,
        rollout: r,
        group: g,
        type: r.spec.actionType,
        state: 'running',
        statuses: 0,
        successCounts: 0,
        lastExecution: undefined,
        lastProgress: undefined,
        createdAt: now,
        updatedAt: now,
      };
      (r.groups[g] as GroupStats).created++;
      target.actions.push(action);
      this.actions.set(action.id, action);
    }
  }

  /** The action the device should act on: the oldest open one. */
  openAction(target: HawkbitTarget): HawkbitAction | undefined {
    return target.actions.find((a) => isActionOpen(a.state));
  }

  /** Moves an action and keeps its group's counts and its rollout in step. */
  setState(action: HawkbitAction, next: ActionState, now: number): void {
    const before = action.state;
    action.state = next;
    action.updatedAt = now;
    if (before === next) return;
    const r = action.rollout;
    if (r === undefined) return;
    const g = r.groups[action.group] as GroupStats;
    if (next === 'finished') g.success++;
    if (next === 'error') g.error++;
    if (next === 'canceled') g.canceled++;
    advanceRollout(r, action.group);
  }
}
