/**
 * The target profile: what the server under test promises where the platforms differ or a
 * deployment chooses (the ban limit and its day, whether 43s count, diff builds, what a Luat device
 * asks for, how a served version is confirmed, the OneNET task token's life). Every verdict judges
 * against it and the Luat device follows it, so a correct server that chose otherwise than the
 * documents is not flagged.
 *
 * Layers, first wins: `--profile key=value` flags > the scenario's `target.profile` > the reference
 * server's admin API (when present) > the documented platform values (DOCUMENTED_PROFILE). The
 * resolved profile keeps where each value came from, for the report.
 */
import { parseDuration } from '../config/units.js';
import { DEFAULT_BAN_LIMIT_PER_DAY, DEFAULT_DIFF_BUILD_MS } from './luat.js';
import { TOKEN_VALIDITY_MS } from './onenet.js';
import { HUAWEI_PUSH_POLICY, type PushRetryPolicy } from './aiot.js';
import { DOWNLINK_SCHEDULES, HUAWEI_DOWNLINK, type DownlinkSchedule } from './lwm2m.js';

/**
 * How a Luat device learns that the version it flashed is the one the server serves:
 * - `re-ask`: after flashing it asks again with the new version and a 27 ("already newest")
 *   confirms (the spec's own way);
 * - `header`: the file answer names the version in `X-Firmware-Version`;
 * - `filename`: the file answer's Content-Disposition file name ends in `_x.y.z`;
 * - `none`: nothing confirms it; the device ends succeeded, labelled unconfirmed.
 */
export type VersionConfirm = 're-ask' | 'header' | 'filename' | 'none';
export const VERSION_CONFIRMS: readonly VersionConfirm[] = ['re-ask', 'header', 'filename', 'none'];

/** A diff package's build time (virtual ms), or `none`: the server serves full files at once, never 43. */
export type DiffBuild = { readonly minMs: number; readonly maxMs: number } | 'none';

export interface LuatProfile {
  /** Counted asks a day answered normally; the next is 40. */
  readonly banLimitPerDay: number;
  /** When the ban day starts, ms after UTC midnight. */
  readonly banDayStartMs: number;
  /** Whether 43 answers count toward the ban. */
  readonly banCountsWaits: boolean;
  readonly diffBuild: DiffBuild;
  /** Whether the device asks for diff packages (`dfota=1`). */
  readonly dfota: boolean;
  readonly versionConfirm: VersionConfirm;
  /**
   * The version the server's file installs, when the file names none (a real device reads it from
   * the script it flashed; the simulated one can only be told). Unknown by default.
   */
  readonly firmwareVersion?: string;
}

export interface OnenetProfile {
  /** Life of a task token (check → download), virtual ms. */
  readonly tokenTtlMs: number;
}

export interface Lwm2mProfile {
  /**
   * How the server retransmits a confirmable downlink a sleeping device does not acknowledge:
   * `huawei` (10–15 / 20–30 / 40–60 s, TIMEOUT by 80–120 s), `rfc7252`, or the target's own.
   */
  readonly downlinkSchedule: DownlinkSchedule;
}

export interface TargetProfile {
  readonly luat: LuatProfile;
  readonly onenet: OnenetProfile;
  /** How the platform retries pushes to the application side (spec §3.3; src/receiver/ judges it). */
  readonly push: PushRetryPolicy;
  /** Absent in profiles made before LwM2M (tests): DOCUMENTED_PROFILE.lwm2m then. */
  readonly lwm2m?: Lwm2mProfile;
}

/** The documented platform values (spec §1.2 and §2; the reference server's defaults). */
export const DOCUMENTED_PROFILE: TargetProfile = {
  luat: {
    banLimitPerDay: DEFAULT_BAN_LIMIT_PER_DAY,
    banDayStartMs: 0,
    // The reference server counts every request the platform can tie to a device, 43s included.
    banCountsWaits: true,
    diffBuild: { minMs: DEFAULT_DIFF_BUILD_MS.min, maxMs: DEFAULT_DIFF_BUILD_MS.max },
    dfota: true,
    versionConfirm: 're-ask',
  },
  onenet: { tokenTtlMs: TOKEN_VALIDITY_MS },
  push: HUAWEI_PUSH_POLICY,
  lwm2m: { downlinkSchedule: HUAWEI_DOWNLINK },
};

export const PROFILE_KEYS = [
  'luat.banLimitPerDay',
  'luat.banDayStartUtc',
  'luat.banCountsWaits',
  'luat.diffBuild',
  'luat.dfota',
  'luat.versionConfirm',
  'luat.firmwareVersion',
  'onenet.tokenTtl',
  'push.answerWithin',
  'push.cacheFor',
  'push.maxFailures',
  'push.retryEvery',
  'lwm2m.downlinkSchedule',
] as const;
export type ProfileKey = (typeof PROFILE_KEYS)[number];

export type ProfileSource = 'flag' | 'scenario' | 'admin' | 'documented';

/** Values one layer sets (a flag, the scenario, the admin API), by key, already parsed. */
export type ProfileLayer = { -readonly [K in ProfileKey]?: ProfileValue<K> };

type ValueOf = {
  'luat.banLimitPerDay': number;
  'luat.banDayStartUtc': number;
  'luat.banCountsWaits': boolean;
  'luat.diffBuild': DiffBuild;
  'luat.dfota': boolean;
  'luat.versionConfirm': VersionConfirm;
  'luat.firmwareVersion': string;
  'onenet.tokenTtl': number;
  'push.answerWithin': number;
  'push.cacheFor': number;
  'push.maxFailures': number;
  'push.retryEvery': number;
  'lwm2m.downlinkSchedule': DownlinkSchedule;
};
export type ProfileValue<K extends ProfileKey> = ValueOf[K];

export interface ResolvedProfile {
  readonly profile: TargetProfile;
  /** Where each value came from. */
  readonly sources: Readonly<Record<ProfileKey, ProfileSource>>;
}

export const isProfileKey = (k: string): k is ProfileKey => (PROFILE_KEYS as readonly string[]).includes(k);

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const VERSION = /^\d{1,9}(?:\.\d{1,9}){0,5}$/;

/**
 * Parses one value of a key from YAML (typed) or a flag (text). Returns the value, or the reason it
 * is not one (for the caller to place: a file:line or the flag).
 */
export function parseProfileValue<K extends ProfileKey>(key: K, v: unknown): { value: ProfileValue<K> } | { error: string } {
  const ok = (value: unknown): { value: ProfileValue<K> } => ({ value: value as ProfileValue<K> });
  const bool = (): { value: ProfileValue<K> } | { error: string } => {
    if (typeof v === 'boolean') return ok(v);
    if (v === 'true' || v === 'false') return ok(v === 'true');
    return { error: `${JSON.stringify(v)} is not true or false` };
  };
  switch (key) {
    case 'luat.banLimitPerDay': {
      const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
      return typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 ? ok(n) : { error: `${JSON.stringify(v)} is not a whole number of asks, 1 or more` };
    }
    case 'luat.banDayStartUtc': {
      const m = typeof v === 'string' ? HHMM.exec(v.trim()) : null;
      return m ? ok((Number(m[1]) * 60 + Number(m[2])) * 60_000) : { error: `${JSON.stringify(v)} is not a UTC time HH:MM (e.g. "00:00", "16:00")` };
    }
    case 'luat.banCountsWaits':
    case 'luat.dfota':
      return bool();
    case 'luat.diffBuild': {
      const d = parseDiffBuild(v);
      return 'error' in d ? d : ok(d.value);
    }
    case 'luat.versionConfirm':
      return typeof v === 'string' && (VERSION_CONFIRMS as readonly string[]).includes(v) ? ok(v) : { error: `${JSON.stringify(v)} is not one of ${VERSION_CONFIRMS.join(', ')}` };
    case 'luat.firmwareVersion': {
      const s = typeof v === 'number' ? String(v) : v;
      return typeof s === 'string' && VERSION.test(s.trim()) ? ok(s.trim()) : { error: `${JSON.stringify(v)} is not a version x.y.z` };
    }
    case 'onenet.tokenTtl': {
      const ms = parseDuration(v);
      return ms !== undefined && ms >= 1000 ? ok(ms) : { error: `${JSON.stringify(v)} is not a duration of 1s or more (e.g. 2d, 36h)` };
    }
    case 'push.answerWithin':
    case 'push.cacheFor':
    case 'push.retryEvery': {
      const ms = parseDuration(v);
      return ms !== undefined && ms >= 1 ? ok(ms) : { error: `${JSON.stringify(v)} is not a duration (e.g. 15s, 10m)` };
    }
    case 'push.maxFailures': {
      const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
      return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? ok(n) : { error: `${JSON.stringify(v)} is not a whole number of failed retries, 0 or more` };
    }
    case 'lwm2m.downlinkSchedule': {
      const d = parseDownlinkSchedule(v);
      return 'error' in d ? d : ok(d.value);
    }
  }
  return { error: `unknown key ${String(key)}` };
}

function parseDiffBuild(v: unknown): { value: DiffBuild } | { error: string } {
  const bad = { error: `${JSON.stringify(v)} is not none nor a build time { min, max } (e.g. { min: 1m, max: 3m }, or 1m..3m)` };
  if (v === 'none') return { value: 'none' };
  let min: unknown;
  let max: unknown;
  if (typeof v === 'string') {
    const parts = v.split('..');
    if (parts.length !== 2) return bad;
    [min, max] = parts;
  } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    ({ min, max } = v as { min?: unknown; max?: unknown });
  } else return bad;
  const a = parseDuration(typeof min === 'string' ? min.trim() : min);
  const b = parseDuration(typeof max === 'string' ? max.trim() : max);
  if (a === undefined || b === undefined) return bad;
  if (a > b) return { error: `min ${String(min)} is above max ${String(max)}` };
  return { value: { minMs: a, maxMs: b } };
}

const windowOf = (text: string): readonly [number, number] | undefined => {
  const [a, b] = text.split('..').map((x) => parseDuration(x.trim()));
  return a !== undefined && b !== undefined && a <= b ? [a, b] : undefined;
};

/**
 * `huawei`, `rfc7252`, or the target's own as `resend windows / give-up window`, each window
 * `min..max` after the previous transmission: "10s..15s,20s..30s,40s..60s/80s..120s".
 */
export function parseDownlinkSchedule(v: unknown): { value: DownlinkSchedule } | { error: string } {
  const bad = { error: `${JSON.stringify(v)} is not huawei, rfc7252, nor a schedule "min..max,min..max,.../min..max" (resend windows / give-up, e.g. "10s..15s,20s..30s,40s..60s/80s..120s")` };
  if (typeof v !== 'string') return bad;
  const named = DOWNLINK_SCHEDULES[v.trim()];
  if (named !== undefined) return { value: named };
  const [resends, giveUp] = v.split('/');
  if (resends === undefined || giveUp === undefined) return bad;
  const windows = resends.split(',').map(windowOf);
  const end = windowOf(giveUp);
  if (end === undefined || windows.some((w) => w === undefined)) return bad;
  return { value: { name: v.trim(), resendWindowsMs: windows as (readonly [number, number])[], giveUpMs: end } };
}

/** `--profile key=value` → the layer, or throws Error('…') naming the flag (the CLI makes it exit 2). */
export function parseProfileFlags(flags: readonly string[]): ProfileLayer {
  const layer: ProfileLayer = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const key = eq < 0 ? flag : flag.slice(0, eq);
    if (eq < 0) throw new Error(`--profile ${flag}: expected key=value (e.g. luat.banLimitPerDay=20)`);
    if (!isProfileKey(key)) throw new Error(`--profile ${flag}: unknown key ${key} (known: ${PROFILE_KEYS.join(', ')})`);
    const parsed = parseProfileValue(key, flag.slice(eq + 1));
    if ('error' in parsed) throw new Error(`--profile ${flag}: ${parsed.error}`);
    setLayer(layer, key, parsed.value);
  }
  return layer;
}

export function setLayer<K extends ProfileKey>(layer: ProfileLayer, key: K, value: ProfileValue<K>): void {
  (layer as Record<string, unknown>)[key] = value;
}

/**
 * What a reference server says of itself (GET /admin/catalog), for the firmware the devices ask
 * for. Defensive: a field that is missing or odd is simply not given.
 */
export function profileFromCatalog(catalog: unknown, firmwareName?: string): ProfileLayer {
  const c = (catalog ?? {}) as {
    luat?: {
      banLimitPerDay?: unknown;
      banCountsWaits?: unknown;
      banDayStartUtc?: unknown;
      versionConfirm?: unknown;
      diffBuildMs?: { min?: unknown; max?: unknown };
      projects?: { firmware?: { name?: unknown; version?: unknown; diff?: unknown }[] }[];
    };
  };
  const l = c.luat;
  const layer: ProfileLayer = {};
  if (l === undefined || typeof l !== 'object') return layer;
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (num(l.banLimitPerDay) && Number.isSafeInteger(l.banLimitPerDay) && l.banLimitPerDay >= 1) layer['luat.banLimitPerDay'] = l.banLimitPerDay;
  if (typeof l.banCountsWaits === 'boolean') layer['luat.banCountsWaits'] = l.banCountsWaits;
  const start = parseProfileValue('luat.banDayStartUtc', l.banDayStartUtc);
  if ('value' in start) layer['luat.banDayStartUtc'] = start.value;
  const confirm = parseProfileValue('luat.versionConfirm', l.versionConfirm);
  if ('value' in confirm) layer['luat.versionConfirm'] = confirm.value;
  const firmware = firmwareName === undefined ? undefined : (l.projects ?? []).flatMap((p) => p.firmware ?? []).find((f) => f.name === firmwareName);
  if (firmware?.diff === false) layer['luat.diffBuild'] = 'none';
  else if (num(l.diffBuildMs?.min) && num(l.diffBuildMs?.max) && l.diffBuildMs.min <= l.diffBuildMs.max) {
    layer['luat.diffBuild'] = { minMs: l.diffBuildMs.min, maxMs: l.diffBuildMs.max };
  }
  const version = parseProfileValue('luat.firmwareVersion', firmware?.version);
  if ('value' in version) layer['luat.firmwareVersion'] = version.value;
  return layer;
}

function documentedValue(key: ProfileKey): unknown {
  const d = DOCUMENTED_PROFILE;
  switch (key) {
    case 'luat.banLimitPerDay':
      return d.luat.banLimitPerDay;
    case 'luat.banDayStartUtc':
      return d.luat.banDayStartMs;
    case 'luat.banCountsWaits':
      return d.luat.banCountsWaits;
    case 'luat.diffBuild':
      return d.luat.diffBuild;
    case 'luat.dfota':
      return d.luat.dfota;
    case 'luat.versionConfirm':
      return d.luat.versionConfirm;
    case 'luat.firmwareVersion':
      return d.luat.firmwareVersion;
    case 'onenet.tokenTtl':
      return d.onenet.tokenTtlMs;
    case 'push.answerWithin':
      return d.push.answerWithinMs;
    case 'push.cacheFor':
      return d.push.cacheMs;
    case 'push.maxFailures':
      return d.push.maxFailures;
    case 'push.retryEvery':
      return d.push.retryEveryMs;
    case 'lwm2m.downlinkSchedule':
      return d.lwm2m?.downlinkSchedule;
  }
}

/** The profile from its layers, first that sets a key wins; each value keeps its source. */
export function resolveProfile(layers: { flag?: ProfileLayer; scenario?: ProfileLayer; admin?: ProfileLayer }): ResolvedProfile {
  const order: [ProfileSource, ProfileLayer | undefined][] = [
    ['flag', layers.flag],
    ['scenario', layers.scenario],
    ['admin', layers.admin],
  ];
  const values: Partial<Record<ProfileKey, unknown>> = {};
  const sources = {} as Record<ProfileKey, ProfileSource>;
  for (const key of PROFILE_KEYS) {
    const hit = order.find(([, layer]) => layer?.[key] !== undefined);
    values[key] = hit ? hit[1]?.[key] : documentedValue(key);
    sources[key] = hit ? hit[0] : 'documented';
  }
  const v = values as { [K in ProfileKey]: ProfileValue<K> };
  const luat: LuatProfile = {
    banLimitPerDay: v['luat.banLimitPerDay'],
    banDayStartMs: v['luat.banDayStartUtc'],
    banCountsWaits: v['luat.banCountsWaits'],
    diffBuild: v['luat.diffBuild'],
    dfota: v['luat.dfota'],
    versionConfirm: v['luat.versionConfirm'],
    ...(v['luat.firmwareVersion'] !== undefined ? { firmwareVersion: v['luat.firmwareVersion'] } : {}),
  };
  const push: PushRetryPolicy = { answerWithinMs: v['push.answerWithin'], cacheMs: v['push.cacheFor'], maxFailures: v['push.maxFailures'], retryEveryMs: v['push.retryEvery'] };
  return { profile: { luat, onenet: { tokenTtlMs: v['onenet.tokenTtl'] }, push, lwm2m: { downlinkSchedule: v['lwm2m.downlinkSchedule'] } }, sources };
}

export const DOCUMENTED: ResolvedProfile = resolveProfile({});

const hhmm = (ms: number): string => {
  const min = Math.round(ms / 60_000);
  return `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
};
const dur = (ms: number): string => {
  for (const [unit, n] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms >= n && ms % n === 0) return `${ms / n}${unit}`;
  return `${ms}ms`;
};

/** A value as the report and the flags write it. */
export function profileValueText(key: ProfileKey, p: TargetProfile): string {
  switch (key) {
    case 'luat.banLimitPerDay':
      return String(p.luat.banLimitPerDay);
    case 'luat.banDayStartUtc':
      return hhmm(p.luat.banDayStartMs);
    case 'luat.banCountsWaits':
      return String(p.luat.banCountsWaits);
    case 'luat.diffBuild':
      return p.luat.diffBuild === 'none' ? 'none' : `${dur(p.luat.diffBuild.minMs)}..${dur(p.luat.diffBuild.maxMs)}`;
    case 'luat.dfota':
      return String(p.luat.dfota);
    case 'luat.versionConfirm':
      return p.luat.versionConfirm;
    case 'luat.firmwareVersion':
      return p.luat.firmwareVersion ?? '(unknown)';
    case 'onenet.tokenTtl':
      return dur(p.onenet.tokenTtlMs);
    case 'push.answerWithin':
      return dur(p.push.answerWithinMs);
    case 'push.cacheFor':
      return dur(p.push.cacheMs);
    case 'push.maxFailures':
      return String(p.push.maxFailures);
    case 'push.retryEvery':
      return dur(p.push.retryEveryMs);
    case 'lwm2m.downlinkSchedule':
      return p.lwm2m?.downlinkSchedule.name ?? HUAWEI_DOWNLINK.name;
  }
}

/** The keys that speak to a dialect (the report shows only those). */
export const profileKeysOf = (dialect: string): ProfileKey[] => PROFILE_KEYS.filter((k) => k.startsWith(`${dialect}.`));

/** The dialect's keys of the profile, in order, each as text with its source (the report's `profile`). */
export function profileEntries(p: ResolvedProfile, dialect: string): { key: ProfileKey; value: string; source: ProfileSource }[] {
  return profileKeysOf(dialect).map((key) => ({ key, value: profileValueText(key, p.profile), source: p.sources[key] }));
}

/** Which day window of the ban an instant (ms since the epoch, on the server's clock) falls in. */
export const banDayOf = (ms: number, p: LuatProfile): number => Math.floor((ms - p.banDayStartMs) / 86_400_000);
