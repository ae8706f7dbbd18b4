/**
 * Scenario files → `Scenario`: the schema first (./schema.ts, through config/load.ts), then what a
 * schema cannot say (units, shares against the fleet size, id ranges, dialect requirements,
 * expectations), each error one line naming file:line:col and the field's path. CLI overrides are
 * applied here so every consumer sees one resolved scenario.
 */
import { basename, dirname, extname, resolve } from 'node:path';
import { parseIdRange, rangeSize, sharedIds, type IdRange } from '../catalog/id-range.js';
import { ConfigError, parseYaml, readYamlText, validateAt, type Located } from '../config/load.js';
import type { DialectTargetSpec } from '../dialect/types.js';
import { BUILT_IN_TARGETS } from '../dialect/targets.js';
import { loadDeclaredDialect } from '../dialect/declared/load.js';
import { registerDeclaredDialect } from '../dialect/declared/plugin.js';
import type { DeclaredSpec } from '../dialect/declared/types.js';
import { parseShare, parseSize, parseTimeScale } from '../config/units.js';
import { durationMs } from '../config/fields.js';
import type { TimeScale } from '../time/clock.js';
import { validateRadioMode } from '../radio/model.js';
import type { WakePattern } from '../radio/wake.js';
import type { Distribution } from '../random/distribution.js';
import { SYNCHRONISED_ALPHA, SYNCHRONISED_BETA, SYNCHRONISED_WINDOW_MS } from '../random/beta.js';
import { NO_SIGNAL } from './fleet.js';
import { LUAT_OPERATIONS, ONENET_OPERATIONS, operationOf, parseExpectation, parseMetric } from './expectations.js';
import { luatRules, onenetRules } from '../device/rules.js';
import { lwm2mRules } from '../device/lwm2m/rules.js';
import { LWM2M_OPERATIONS } from '../device/lwm2m/types.js';
import { rulesOf } from '../verdicts/registry.js';
import { DEFAULTS, ScenarioFileSchema, type CohortFile, type ScenarioFile } from './schema.js';
import type { ArrivalSpec, BehaviourShares, CohortSpec, Expectation, RadioMode, Scenario, ServerEvent } from './types.js';
import type { CutPoint } from '../device/types.js';
import { CLI_FLAGS, type OptionNames, type RunOptionField } from './option-names.js';
import { resolveProfileLayer } from './profile.js';
import { resolveApplication } from './application.js';
import type { ProfileLayer } from '../protocol/profile.js';
import { HAWKBIT_OPERATIONS } from '../device/hawkbit/types.js';
import { hawkbitRules } from '../dialect/hawkbit/rules.js';

/** Values from the command line; each replaces the file's. */
export interface ScenarioOverrides {
  devices?: number;
  durationMs?: number;
  timeScale?: TimeScale;
  seed?: number;
  targetUrl?: string;
  /** `--product-id`: replaces target.onenet.productId (handed to the dialect's target spec). */
  productId?: string;
  /** `--profile key=value`, parsed. */
  profile?: ProfileLayer;
  /** `--allow-clock-skew`. */
  allowClockSkew?: boolean;
}

/** Dialects a scenario may name, with the operations their expectations may name. */
const dialects = new Map<string, readonly string[]>([
  ['onenet', ONENET_OPERATIONS],
  ['luat', LUAT_OPERATIONS],
  ['hawkbit', HAWKBIT_OPERATIONS],
  ['lwm2m', LWM2M_OPERATIONS],
]);

/** Each dialect's device states (`devices.STATE` may name them); absent: any state is taken. */
const dialectStates = new Map<string, readonly string[]>([
  ['onenet', onenetRules.kinds],
  ['luat', luatRules.kinds],
  ['hawkbit', hawkbitRules.kinds],
  ['lwm2m', lwm2mRules.kinds],
]);

/** Each dialect's `target.<name>` spec (dialect/targets.ts for the built-in ones); absent: the dialect takes no block. */
const dialectTargets = new Map<string, DialectTargetSpec<never>>(Object.entries(BUILT_IN_TARGETS));

/** Fields of `target` that are no dialect's block. */
const TARGET_FIELDS = new Set(['url', 'profile']);

/** Reads the declared dialect a scenario names (relative to it), registers it, and checks the scenario's `dialect` is its name. */
function declaredDialectOf(dialectFile: string, dialect: string, file: string, fail: Fail): DeclaredSpec {
  const spec = loadDeclaredDialect(resolve(dirname(file), dialectFile));
  if (spec.dialect.name !== dialect) fail('dialect', `"${dialect}", but ${dialectFile} declares the dialect "${spec.dialect.name}"`);
  const plugin = registerDeclaredDialect(spec);
  DECLARED_BEHAVIOURS.add(`${plugin.name}:disconnect`);
  registerScenarioDialect(plugin.name, plugin.operations, plugin.rules.kinds, plugin.target as DialectTargetSpec<never>);
  return spec;
}

/**
 * Lets a dialect plugin be named in scenarios; `operations` are its histogram names, `states` its
 * state kinds, `target` the spec of its `target.<name>` block.
 */
export function registerScenarioDialect(name: string, operations: readonly string[], states?: readonly string[], target?: DialectTargetSpec<never>): void {
  dialects.set(name, [...operations]);
  if (states !== undefined) dialectStates.set(name, [...states]);
  if (target !== undefined) dialectTargets.set(name, target);
}

/**
 * A dialect's `target.<name>` block: checked by its schema (file:line errors, defaults filled),
 * then by its `resolve`. A dialect with no spec takes any object as it is.
 */
function resolveDialectBlock(name: string, block: unknown, overrides: ScenarioOverrides, doc: Located<ScenarioFile>, file: string, fail: Fail): unknown {
  const spec = dialectTargets.get(name);
  const path = `target.${name}`;
  const checked = block !== undefined && spec?.schema !== undefined ? validateAt(doc, path, block, spec.schema) : block;
  if (spec?.resolve === undefined) return checked;
  const at = (field: string): string => (field === '' ? path : `${path}.${field}`);
  return spec.resolve(checked, {
    file,
    fail: (field, message) => fail(at(field), message),
    overrides: overrides.productId !== undefined ? { productId: overrides.productId } : {},
  });
}

export function knownDialects(): string[] {
  return [...dialects.keys()];
}

/**
 * Reads, validates and resolves a scenario file; throws ConfigError with one line. A bad override
 * is named as `names` says (the CLI's flags by default).
 */
export function loadScenario(file: string, overrides: ScenarioOverrides = {}, names: OptionNames = CLI_FLAGS): Scenario {
  checkOverrides(overrides, names);
  return parseScenario(readYamlText(file), file, overrides);
}

/** As loadScenario, from text; `file` names it in messages and anchors relative paths. */
export function parseScenario(text: string, file: string, overrides: ScenarioOverrides = {}, names: OptionNames = CLI_FLAGS): Scenario {
  checkOverrides(overrides, names);
  return resolveScenario(parseYaml(text, ScenarioFileSchema, file), file, overrides);
}

function checkOverrides(o: ScenarioOverrides, names: OptionNames): void {
  const bad = (field: RunOptionField, what: string): never => {
    throw new ConfigError(`${names(field)}: must be ${what}`);
  };
  if (o.devices !== undefined && !(Number.isSafeInteger(o.devices) && o.devices >= 1)) bad('devices', 'a positive integer');
  if (o.durationMs !== undefined && !(Number.isFinite(o.durationMs) && o.durationMs > 0)) {
    bad('durationMs', names === CLI_FLAGS ? 'a positive duration, e.g. 90s or 5m' : 'a positive duration in ms');
  }
  if (o.timeScale !== undefined && parseTimeScale(o.timeScale) === undefined) bad('timeScale', 'a number above 0 and at most 1000000, or max');
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff)) bad('seed', 'an integer from 0 to 4294967295');
  if (o.targetUrl !== undefined && !isHttpUrl(o.targetUrl)) bad('targetUrl', 'an http://, https:// or coap:// URL');
  if (o.productId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(o.productId)) bad('productId', 'a product id (letters, digits, _ or -, at most 64)');
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'coap:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Raises a ConfigError at a field: `file:line:col: path: message`. */
type Fail = (path: string, message: string) => never;

function resolveScenario(doc: Located<ScenarioFile>, file: string, overrides: ScenarioOverrides): Scenario {
  const raw = doc.value;
  const fail: Fail = (path, message) => {
    throw new ConfigError(`${doc.where(path)}: ${path}: ${message}`);
  };
  const declared = raw.dialectFile === undefined ? undefined : declaredDialectOf(raw.dialectFile, raw.dialect, file, fail);
  const operations = dialects.get(raw.dialect);
  if (!operations) return fail('dialect', `unknown dialect "${raw.dialect}" (known: ${knownDialects().map((d) => `"${d}"`).join(', ')})`);
  // Resolved in the order of the file, so the first error reported is the first in the file.
  const target = resolveTarget(raw, overrides, doc, file, fail);
  const rawServer = raw.server ?? {};
  const server: Scenario['server'] = {
    ...(rawServer.catalog !== undefined ? { catalog: resolve(dirname(file), rawServer.catalog) } : {}),
    ...(rawServer.faults !== undefined ? { faults: rawServer.faults } : {}),
    bugs: rawServer.bugs ?? [],
    ...(rawServer.events !== undefined && rawServer.events.length > 0 ? { events: resolveEvents(rawServer.events, fail) } : {}),
  };
  const application = raw.application === undefined ? undefined : resolveApplication(raw.application as Parameters<typeof resolveApplication>[0], fail);
  const fleet = resolveFleet(raw.fleet, overrides.devices, { dialect: raw.dialect, operations }, fail, (path) => doc.where(path));
  const arrival = resolveArrival(raw.arrival ?? { pattern: 'all-at-once' }, fail);
  const wake = raw.wake === undefined ? undefined : resolveWake(raw.wake, fail);
  const stop = raw.stop ?? {};
  const stopAfterMs = positive(duration(stop.after ?? DEFAULTS.stopAfter, 'stop.after', fail), 'stop.after', fail);
  const maxVirtualMs = stop.virtual === undefined ? undefined : positive(duration(stop.virtual, 'stop.virtual', fail), 'stop.virtual', fail);
  return {
    file,
    name: raw.name ?? basename(file, extname(file)),
    description: raw.description ?? '',
    dialect: raw.dialect,
    ...(declared !== undefined ? { declared } : {}),
    seed: overrides.seed ?? raw.seed ?? DEFAULTS.seed,
    timeScale: overrides.timeScale ?? raw.timeScale ?? DEFAULTS.timeScale,
    target,
    server,
    ...(application !== undefined ? { application } : {}),
    fleet,
    arrival,
    ...(wake !== undefined ? { wake } : {}),
    stop: { maxDurationMs: overrides.durationMs ?? stopAfterMs, ...(maxVirtualMs !== undefined ? { maxVirtualMs } : {}) },
    engine: {
      maxInFlightPerWorker: raw.engine?.maxInFlightPerWorker ?? DEFAULTS.maxInFlightPerWorker,
      connectionsPerWorker: raw.engine?.connectionsPerWorker ?? DEFAULTS.connectionsPerWorker,
      lookaheadMs: atLeast(1, duration(raw.engine?.lookahead ?? DEFAULTS.lookahead, 'engine.lookahead', fail), 'engine.lookahead', fail),
    },
    expect: resolveExpectations(raw.expect ?? [], raw.dialect, operations, fail),
  };
}

function resolveTarget(raw: ScenarioFile, overrides: ScenarioOverrides, doc: Located<ScenarioFile>, file: string, fail: Fail): Scenario['target'] {
  const t = raw.target ?? {};
  if (t.url !== undefined && !isHttpUrl(t.url)) fail('target.url', 'must be an http://, https:// or coap:// URL');
  const target: Scenario['target'] = {};
  const url = overrides.targetUrl ?? t.url;
  if (url !== undefined) target.url = url;
  if (t.profile !== undefined) target.profile = resolveProfileLayer(t.profile, fail);
  if (overrides.profile !== undefined && Object.keys(overrides.profile).length > 0) target.profileFlags = overrides.profile;
  if (overrides.allowClockSkew === true) target.allowClockSkew = true;
  const blocks = t as Readonly<Record<string, unknown>>;
  for (const name of Object.keys(blocks)) {
    if (TARGET_FIELDS.has(name) || name === raw.dialect) continue;
    // Another dialect's block is checked by that dialect (a file may carry blocks for several); an unknown name is a typo.
    if (!dialects.has(name)) fail(`target.${name}`, `unknown field (neither a target setting nor a known dialect: ${knownDialects().join(', ')})`);
    resolveDialectBlock(name, blocks[name], overrides, doc, file, fail);
  }
  const block = resolveDialectBlock(raw.dialect, blocks[raw.dialect], overrides, doc, file, fail);
  if (block !== undefined) target.block = block;
  return target;
}

// ---------------------------------------------------------------------------------------------
// Units

const duration = durationMs;

function size(v: string | number, path: string, fail: Fail): number {
  const bytes = parseSize(v);
  if (bytes === undefined) fail(path, `${JSON.stringify(v)} is not a size (e.g. 512B, 16KiB, 1MiB, or a number of bytes)`);
  return bytes as number;
}

function share(v: string | number, path: string, fail: Fail): number {
  const f = parseShare(v);
  if (f === undefined) fail(path, `${JSON.stringify(v)} is not a share (e.g. 10%, or a fraction from 0 to 1)`);
  return f as number;
}

const RATE = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|m|min|h)\s*$/;
const PER_SECOND: Record<string, number> = { s: 1, m: 1 / 60, min: 1 / 60, h: 1 / 3600 };

/** `500/s`, `30/m`, `1000/h`, or a number per second → devices per second. */
export function parseRate(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = RATE.exec(v);
  if (!m) return undefined;
  const perSecond = Number(m[1]) * (PER_SECOND[m[2] ?? 's'] ?? 1);
  return perSecond > 0 ? perSecond : undefined;
}

type DistributionParam = 'value' | 'min' | 'max' | 'mean' | 'stddev' | 'median' | 'p99' | 'scale';
/** A named distribution as the file gives it (parameters still in the file's units). */
type RawDistribution = { dist: Exclude<Distribution, number>['dist']; shape?: number } & { [K in DistributionParam]?: number | string };

/**
 * A distribution from the file: plain values or a named shape. `value` reads one parameter (a
 * number, or a duration for timers), so timers may say `{ dist: uniform, min: 30m, max: 2h }`.
 */
function distribution(
  v: number | string | RawDistribution,
  path: string,
  fail: Fail,
  value: (x: number | string, path: string) => number,
): Distribution {
  if (typeof v !== 'object') return value(v, path);
  const p = (k: DistributionParam): number => {
    const x = v[k];
    if (x === undefined) return fail(path, `missing required field "${k}"`);
    return value(x, `${path}.${k}`);
  };
  const opt = (k: DistributionParam): number | undefined => (v[k] === undefined ? undefined : p(k));
  const atLeast = (k: DistributionParam, x: number | undefined, other: DistributionParam, bound: number | undefined) => {
    if (x !== undefined && bound !== undefined && x < bound) fail(`${path}.${k}`, `must be at least ${other} (${bound})`);
  };
  switch (v.dist) {
    case 'fixed':
      return { dist: 'fixed', value: p('value') };
    case 'uniform': {
      const min = p('min');
      const max = p('max');
      atLeast('max', max, 'min', min);
      return { dist: 'uniform', min, max };
    }
    case 'normal': {
      const mean = p('mean');
      const stddev = p('stddev');
      if (stddev < 0) fail(`${path}.stddev`, 'must be at least 0');
      const min = opt('min');
      const max = opt('max');
      atLeast('max', max, 'min', min);
      return { dist: 'normal', mean, stddev, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
    }
    case 'lognormal': {
      const median = p('median');
      const p99 = p('p99');
      if (!(median > 0)) fail(`${path}.median`, 'must be more than 0');
      atLeast('p99', p99, 'median', median);
      const max = opt('max');
      return { dist: 'lognormal', median, p99, ...(max !== undefined ? { max } : {}) };
    }
    case 'pareto': {
      const scale = p('scale');
      if (!(scale > 0)) fail(`${path}.scale`, 'must be more than 0');
      const shape = v.shape;
      if (shape === undefined) return fail(path, 'missing required field "shape"');
      const max = opt('max');
      return { dist: 'pareto', scale, shape, ...(max !== undefined ? { max } : {}) };
    }
  }
}

const plainNumber =
  (fail: Fail) =>
  (x: number | string, path: string): number => {
    if (typeof x === 'number' && Number.isFinite(x)) return x;
    return fail(path, `${JSON.stringify(x)} is not a number`);
  };

const durationValue =
  (fail: Fail) =>
  (x: number | string, path: string): number =>
    duration(x, path, fail);

// ---------------------------------------------------------------------------------------------
// Fleet

function resolveCohort(c: CohortFile, index: number, path: string, fail: Fail): Omit<CohortSpec, 'count'> {
  const s = c.settings;
  const d = DEFAULTS.settings;
  const signal = c.signal ?? DEFAULTS.signal;
  if (typeof signal === 'string' && signal !== 'none') fail(`${path}.signal`, 'must be a number, a distribution or none');
  return {
    name: c.name ?? `cohort-${index}`,
    ids: c.ids,
    version: c.version,
    manuf: c.manuf ?? DEFAULTS.manuf,
    model: c.model ?? DEFAULTS.model,
    core: c.core ?? DEFAULTS.core,
    taskType: c.taskType ?? DEFAULTS.taskType,
    battery: distribution(c.battery ?? DEFAULTS.battery, `${path}.battery`, fail, plainNumber(fail)),
    signal: signal === 'none' ? NO_SIGNAL : distribution(signal, `${path}.signal`, fail, plainNumber(fail)),
    radio: resolveRadio(c.radio ?? { mode: 'always-on' }, `${path}.radio`, fail),
    ...(c.rrcSetup !== undefined ? { rrcSetup: distribution(c.rrcSetup, `${path}.rrcSetup`, fail, durationValue(fail)) } : {}),
    ...(c.link !== undefined
      ? {
          link: {
            bitrate: distribution(c.link.bitrate, `${path}.link.bitrate`, fail, plainNumber(fail)),
            rtt: distribution(c.link.rtt ?? 0, `${path}.link.rtt`, fail, durationValue(fail)),
          },
        }
      : {}),
    ...(c.recheck !== undefined ? { recheck: { times: c.recheck.times, everyMs: positive(duration(c.recheck.every, `${path}.recheck.every`, fail), `${path}.recheck.every`, fail) } } : {}),
    // Shares only once the cohort's size is known (a count is a share of it): see resolveFleet.
    behaviours: { corruptDownload: 0, rebootIntoOld: 0 },
    settings: {
      chunkSize: positive(size(s?.chunkSize ?? d.chunkSize, `${path}.settings.chunkSize`, fail), `${path}.settings.chunkSize`, fail),
      progressEvery: s?.progressEvery ?? d.progressEvery,
      requestTimeoutMs: positive(duration(s?.requestTimeout ?? d.requestTimeout, `${path}.settings.requestTimeout`, fail), `${path}.settings.requestTimeout`, fail),
      rebootMs: duration(s?.reboot ?? d.reboot, `${path}.settings.reboot`, fail),
      maxAttempts: s?.maxAttempts ?? d.maxAttempts,
      retryDelayMs: duration(s?.retryDelay ?? d.retryDelay, `${path}.settings.retryDelay`, fail),
      maxStalledAttempts: s?.maxStalledAttempts ?? d.maxStalledAttempts,
      waitBackoffMs: duration(s?.waitBackoff ?? d.waitBackoff, `${path}.settings.waitBackoff`, fail),
      retransmit: {
        ackTimeoutMs: duration(s?.retransmit?.ackTimeout ?? d.ackTimeout, `${path}.settings.retransmit.ackTimeout`, fail),
        randomFactor: s?.retransmit?.randomFactor ?? d.randomFactor,
        maxRetransmit: s?.retransmit?.maxRetransmit ?? d.maxRetransmit,
      },
      ...(s?.lwm2m?.confirmableNotify === true ? { confirmableNotify: true } : {}),
    },
  };
}

function atLeast(min: number, n: number, path: string, fail: Fail): number {
  if (!(n >= min)) fail(path, `must be at least ${min} ms`);
  return n;
}

function positive(n: number, path: string, fail: Fail): number {
  if (!(n > 0)) fail(path, 'must be more than 0');
  return n;
}

/** The cohort's radio, checked against the timer values a network can actually send. */
function resolveRadio(r: NonNullable<CohortFile['radio']>, path: string, fail: Fail): RadioMode {
  const mode = radioMode(r, path, fail);
  try {
    validateRadioMode(mode, path);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    // The radio model names the field first (`fleet.cohorts.0.radio.cycle: ...`): point at it.
    const named = /^([A-Za-z0-9_.]+): (.*)$/.exec(err.message);
    if (named?.[1]?.startsWith(path) && named[2] !== undefined) fail(named[1], named[2]);
    fail(path, err.message);
  }
  return mode;
}

function radioMode(r: NonNullable<CohortFile['radio']>, path: string, fail: Fail): RadioMode {
  const timer = durationValue(fail);
  switch (r.mode) {
    case 'always-on':
      return { mode: 'always-on' };
    case 'psm':
      return {
        mode: 'psm',
        t3412: distribution(r.t3412 ?? DEFAULTS.psmT3412, `${path}.t3412`, fail, timer),
        t3324: distribution(r.t3324 ?? DEFAULTS.psmT3324, `${path}.t3324`, fail, timer),
      };
    case 'drx':
      return { mode: 'drx', cycleMs: positive(duration(r.cycle ?? DEFAULTS.drxCycle, `${path}.cycle`, fail), `${path}.cycle`, fail) };
    case 'edrx':
      return {
        mode: 'edrx',
        cycleMs: positive(duration(r.cycle ?? DEFAULTS.edrxCycle, `${path}.cycle`, fail), `${path}.cycle`, fail),
        ptwMs: positive(duration(r.ptw ?? DEFAULTS.edrxPtw, `${path}.ptw`, fail), `${path}.ptw`, fail),
      };
  }
}

/**
 * Cohort sizes: counts are exact, shares are of the fleet size, and at most one cohort without
 * either takes the rest. With `--devices`, the fleet takes the new size and counts scale with it.
 * Largest remainders make the sizes add up exactly.
 */
function resolveFleet(
  fleet: ScenarioFile['fleet'],
  devicesOverride: number | undefined,
  speech: { dialect: string; operations: readonly string[] },
  fail: Fail,
  where: (path: string) => string,
): Scenario['fleet'] {
  const cohorts = fleet.cohorts.map((c, k) => resolveCohort(c, k, `fleet.cohorts.${k}`, fail));
  const names = new Map<string, number>();
  cohorts.forEach((c, k) => {
    const first = names.get(c.name);
    if (first !== undefined) fail(`fleet.cohorts.${k}.name`, `"${c.name}" is also the name of cohort ${first}`);
    names.set(c.name, k);
  });

  const shares: (number | undefined)[] = [];
  let restIndex: number | undefined;
  let shareSum = 0;
  let countSum = 0;
  fleet.cohorts.forEach((c, k) => {
    const path = `fleet.cohorts.${k}`;
    if (c.count !== undefined && c.share !== undefined) fail(`${path}.share`, 'give count or share, not both');
    const f = c.share === undefined ? undefined : share(c.share, `${path}.share`, fail);
    shares.push(f);
    if (f !== undefined) {
      shareSum += f;
      if (shareSum > 1 + 1e-9) fail(`${path}.share`, `cohort shares add up to ${percent(shareSum)}, over 100%`);
    } else if (c.count !== undefined) {
      countSum += c.count;
      if (fleet.devices !== undefined && countSum > fleet.devices) {
        fail(`${path}.count`, `cohort counts add up to ${countSum}, over fleet.devices (${fleet.devices})`);
      }
    } else if (restIndex !== undefined) {
      fail(path, `give count or share: only one cohort may take the rest (cohort ${restIndex} does)`);
    } else {
      restIndex = k;
    }
  });
  const needsSize = shares.some((s) => s !== undefined) || restIndex !== undefined;
  if (fleet.devices === undefined && needsSize && devicesOverride === undefined) {
    fail('fleet.devices', 'required when a cohort gives a share or takes the rest');
  }
  const declared = fleet.devices ?? countSum;
  const total = devicesOverride ?? declared;
  const scale = declared > 0 ? total / declared : 1;
  const ideal = fleet.cohorts.map((c, k) => {
    const f = shares[k];
    if (f !== undefined) return f * total;
    return c.count !== undefined ? c.count * scale : 0;
  });
  const taken = ideal.reduce((a, b) => a + b, 0);
  if (taken > total + 1e-6) {
    fail('fleet.cohorts', `cohorts take ${round2(taken)} devices, over the fleet size (${total})`);
  }
  if (restIndex !== undefined) {
    ideal[restIndex] = total - taken;
  } else if (Math.abs(taken - total) > 1e-6) {
    fail(
      'fleet.cohorts',
      `cohorts add up to ${round2(taken)} of ${total} devices; make counts and shares add up to the fleet, or leave one cohort without count or share to take the rest`,
    );
  }
  const counts = apportion(ideal, total);

  const ranges: IdRange[] = [];
  const specs = cohorts.map((c, k): CohortSpec => {
    const path = `fleet.cohorts.${k}`;
    let range: IdRange;
    try {
      range = parseIdRange(c.ids);
    } catch (err) {
      return fail(`${path}.ids`, (err as Error).message);
    }
    const count = counts[k] ?? 0;
    const capacity = range.width === -1 ? 1 : rangeSize(range);
    if (count > capacity) {
      fail(fleet.cohorts[k]?.count !== undefined ? `${path}.count` : `${path}.ids`, `cohort "${c.name}" needs ${count} ids but ${c.ids} holds ${capacity}`);
    }
    ranges.push(range);
    if (fleet.cohorts[k]?.settings?.lwm2m !== undefined && speech.dialect !== 'lwm2m') fail(`${path}.settings.lwm2m`, `LwM2M device settings; dialect "${speech.dialect}" has no use for them`);
    const behaviours = resolveBehaviours(fleet.cohorts[k]?.behaviours, count, speech, `${path}.behaviours`, fail);
    return { ...c, count, behaviours };
  });
  checkOverlaps(specs, ranges, fail, where);
  return { devices: total, cohorts: specs };
}

/** Integer sizes that add up to `total`, each the floor or ceiling of its ideal. */
function apportion(ideal: number[], total: number): number[] {
  // Ideals a hair under an integer (float noise) count as that integer.
  const floors = ideal.map((x) => Math.max(0, Math.floor(x + 1e-6)));
  let left = total - floors.reduce((a, b) => a + b, 0);
  const order = ideal.map((x, k) => ({ k, frac: x - (floors[k] ?? 0) })).sort((a, b) => b.frac - a.frac || a.k - b.k);
  for (const { k } of order) {
    if (left <= 0) break;
    floors[k] = (floors[k] ?? 0) + 1;
    left--;
  }
  return floors;
}

/**
 * Two cohorts must not hand out the same id, whatever notation each range is written in: compared
 * on the ids each cohort really takes (the first `count` of its range).
 */
function checkOverlaps(specs: CohortSpec[], ranges: IdRange[], fail: Fail, where: (path: string) => string): void {
  for (let b = 1; b < specs.length; b++) {
    for (let a = 0; a < b; a++) {
      const shared = sharedIds(ranges[a] as IdRange, specs[a]!.count, ranges[b] as IdRange, specs[b]!.count);
      if (shared === undefined) continue;
      const span = shared.first === shared.last ? `id ${shared.first}` : `ids ${shared.first}..${shared.last}`;
      fail(
        `fleet.cohorts.${b}.ids`,
        `cohort "${specs[b]!.name}" and cohort "${specs[a]!.name}" (${where(`fleet.cohorts.${a}.ids`)}) both take ${span}: give each cohort its own part of the range`,
      );
    }
  }
}

const percent = (f: number): string => `${round2(f * 100)}%`;
const round2 = (x: number): number => Math.round(x * 100) / 100;

// ---------------------------------------------------------------------------------------------
// Arrival and expectations

// ---------------------------------------------------------------------------------------------
// Behaviours (field faults) and server events

type BehavioursFile = NonNullable<CohortFile['behaviours']>;
type PickFile = string | number | { share?: string | number; count?: number };

/** Behaviours of devices that download in ranges and report each step (OneNET, hawkBit; declared dialects that declare them). */
const ONENET_BEHAVIOURS = ['disconnect', 'batteryDies', 'storageFull', 'flashFails', 'longSleep'] as const;
/** Dialects whose devices download in ranges and report failures, so the OneNET behaviours mean something to them. */
const DOWNLOAD_FAULT_DIALECTS: ReadonlySet<string> = new Set(['onenet', 'hawkbit']);
/** `dialect:behaviour` of the OneNET behaviours a declared dialect's devices also have (the link cut mid-download). */
const DECLARED_BEHAVIOURS = new Set<string>();

/** Behaviours only Luat devices have. */
const LUAT_BEHAVIOURS = ['askAfterBan'] as const;
/** Behaviours only LwM2M devices have (the device as the server's CoAP peer). */
const LWM2M_BEHAVIOURS = ['dropAcks', 'natRebind'] as const;
/** Dialects whose requests do not run in the transmission layer (device/retransmit.ts) that reads `answerLoss`, and what to use instead. */
const NO_ANSWER_LOSS: ReadonlyMap<string, string> = new Map([['lwm2m', 'its CoAP layer retransmits on its own; dropAcks leaves the server\'s CONs unacknowledged']]);

/** The share of a cohort of `size` devices a pick names: a share, `{share}`, `{count}` or (neither) all. */
function pickShare(v: PickFile | undefined, size: number, path: string, fail: Fail): number {
  if (v === undefined) return 1;
  if (typeof v !== 'object') return share(v, path, fail);
  if (v.share !== undefined && v.count !== undefined) fail(`${path}.count`, 'give share or count, not both');
  if (v.count !== undefined) {
    if (v.count > size) fail(`${path}.count`, `${v.count} devices, but the cohort has ${size}`);
    return size === 0 ? 0 : v.count / size;
  }
  return v.share === undefined ? 1 : share(v.share, `${path}.share`, fail);
}

/** `40%` a share of the file, `random`, or a byte offset (`70000`, `64KiB`). */
function cutPoint(v: string | number | undefined, path: string, fail: Fail): CutPoint {
  if (v === undefined) return { kind: 'share', share: 0.5 };
  if (typeof v === 'string' && v.trim() === 'random') return { kind: 'random' };
  if (typeof v === 'string' && v.includes('%')) {
    const f = share(v, path, fail);
    if (!(f > 0 && f < 1)) fail(path, 'a share of the file must be above 0% and below 100%');
    return { kind: 'share', share: f };
  }
  const bytes = parseSize(v);
  if (bytes === undefined || bytes < 1) return fail(path, `${JSON.stringify(v)} is not a cut point (e.g. 40%, 70000, 64KiB, or random)`);
  return { kind: 'bytes', bytes };
}

function resolveBehaviours(
  b: BehavioursFile | undefined,
  size: number,
  speech: { dialect: string; operations: readonly string[] },
  path: string,
  fail: Fail,
): BehaviourShares {
  const out: BehaviourShares = {
    corruptDownload: pickShare(b?.corruptDownload ?? DEFAULTS.share, size, `${path}.corruptDownload`, fail),
    rebootIntoOld: pickShare(b?.rebootIntoOld ?? DEFAULTS.share, size, `${path}.rebootIntoOld`, fail),
  };
  if (b === undefined) return out;
  for (const name of ONENET_BEHAVIOURS) {
    if (b[name] !== undefined && !DOWNLOAD_FAULT_DIALECTS.has(speech.dialect) && !DECLARED_BEHAVIOURS.has(`${speech.dialect}:${name}`)) fail(`${path}.${name}`, `a behaviour of ranged downloads (the onenet and hawkbit dialects, and declared ones that say so); dialect "${speech.dialect}" has no use for it`);
  }
  for (const name of LUAT_BEHAVIOURS) {
    if (b[name] !== undefined && speech.dialect !== 'luat') fail(`${path}.${name}`, `a Luat behaviour; dialect "${speech.dialect}" has no use for it`);
  }
  for (const name of LWM2M_BEHAVIOURS) {
    if (b[name] !== undefined && speech.dialect !== 'lwm2m') fail(`${path}.${name}`, `an LwM2M behaviour; dialect "${speech.dialect}" has no use for it`);
  }
  const pick = (v: { share?: string | number; count?: number }, name: string): number => pickShare({ ...v }, size, `${path}.${name}`, fail);
  if (b.answerLoss !== undefined) {
    const instead = NO_ANSWER_LOSS.get(speech.dialect);
    if (instead !== undefined) fail(`${path}.answerLoss`, `dialect "${speech.dialect}" does not read answerLoss (${instead})`);
    const a = b.answerLoss;
    const ops = a.ops ?? [...speech.operations];
    ops.forEach((op, i) => {
      if (!speech.operations.includes(op)) fail(`${path}.answerLoss.ops.${i}`, `dialect "${speech.dialect}" has no operation "${op}" (it has: ${speech.operations.join(', ')})`);
    });
    out.answerLoss = { share: pick(a, 'answerLoss'), rate: share(a.rate ?? '100%', `${path}.answerLoss.rate`, fail), ops, requeue: a.requeue ?? false };
  }
  if (b.disconnect !== undefined) {
    const d = b.disconnect;
    out.disconnect = {
      share: pick(d, 'disconnect'),
      at: cutPoint(d.at, `${path}.disconnect.at`, fail),
      times: d.times ?? 1,
      reconnectMs: duration(d.reconnect ?? '30s', `${path}.disconnect.reconnect`, fail),
    };
  }
  if (b.batteryDies !== undefined) {
    const at = share(b.batteryDies.at ?? '50%', `${path}.batteryDies.at`, fail);
    out.batteryDies = { share: pick(b.batteryDies, 'batteryDies'), atShare: at };
  }
  if (b.storageFull !== undefined) out.storageFull = pickShare(b.storageFull, size, `${path}.storageFull`, fail);
  if (b.flashFails !== undefined) out.flashFails = { share: pick(b.flashFails, 'flashFails'), code: b.flashFails.code ?? 202 };
  if (b.longSleep !== undefined) {
    const l = b.longSleep;
    out.longSleep = {
      share: pick(l, 'longSleep'),
      sleepMs: positive(duration(l.sleep ?? '3d', `${path}.longSleep.sleep`, fail), `${path}.longSleep.sleep`, fail),
      staleAuth: l.staleAuth ?? false,
    };
  }
  if (b.askAfterBan !== undefined) out.askAfterBan = { share: pick(b.askAfterBan, 'askAfterBan'), asks: b.askAfterBan.asks ?? 3 };
  if (b.dropAcks !== undefined) out.dropAcks = { share: pick(b.dropAcks, 'dropAcks'), rate: share(b.dropAcks.rate ?? '100%', `${path}.dropAcks.rate`, fail) };
  if (b.natRebind !== undefined) out.natRebind = pickShare(b.natRebind, size, `${path}.natRebind`, fail);
  return out;
}

function resolveEvents(events: NonNullable<NonNullable<ScenarioFile['server']>['events']>, fail: Fail): ServerEvent[] {
  return events.map((e, k): ServerEvent => {
    const path = `server.events.${k}`;
    const atMs = duration(e.at, `${path}.at`, fail);
    if ([e.republish, e.liftBans, e.campaign].filter((x) => x !== undefined).length !== 1) fail(path, 'give exactly one action: republish: PACKAGE, liftBans: true or campaign: { endpoints, package }');
    if (e.republish !== undefined) return { atMs, action: 'republish', package: e.republish };
    if (e.campaign !== undefined) return { atMs, action: 'campaign', endpoints: e.campaign.endpoints, package: e.campaign.package, observe: e.campaign.observe ?? true };
    if (e.liftBans !== true) fail(`${path}.liftBans`, 'must be true (or leave the event out)');
    return { atMs, action: 'lift-bans' };
  });
}

function resolveWake(w: NonNullable<ScenarioFile['wake']>, fail: Fail): WakePattern {
  switch (w.pattern) {
    case 'steady':
      return { pattern: 'steady' };
    case 'rollout-start':
      return { pattern: 'rollout-start' };
    case 'outage-recovery':
      return { pattern: 'outage-recovery', windowMs: positive(duration(w.window ?? 0, 'wake.window', fail), 'wake.window', fail) };
    case 'synchronised':
      return { pattern: 'synchronised', windowMs: positive(duration(w.window ?? SYNCHRONISED_WINDOW_MS, 'wake.window', fail), 'wake.window', fail) };
    case 'daily-alignment': {
      const spreadMs = positive(duration(w.spread ?? 0, 'wake.spread', fail), 'wake.spread', fail);
      if (w.at === undefined) return { pattern: 'daily-alignment', spreadMs };
      const atMsOfDay = duration(w.at, 'wake.at', fail);
      if (atMsOfDay >= 86_400_000) fail('wake.at', 'must be a time of day, under 24h');
      return { pattern: 'daily-alignment', spreadMs, atMsOfDay };
    }
  }
}

function resolveArrival(a: NonNullable<ScenarioFile['arrival']>, fail: Fail): ArrivalSpec {
  const over = (): number => positive(duration(a.over ?? 0, 'arrival.over', fail), 'arrival.over', fail);
  switch (a.pattern) {
    case 'all-at-once':
      return { pattern: 'all-at-once' };
    case 'ramp':
      return { pattern: 'ramp', overMs: over() };
    case 'spread':
      return { pattern: 'spread', overMs: over() };
    case 'beta':
      return { pattern: 'beta', alpha: shape(a.alpha, 'arrival.alpha', fail), beta: shape(a.beta, 'arrival.beta', fail), overMs: over() };
    case 'synchronised':
      return {
        pattern: 'beta',
        alpha: SYNCHRONISED_ALPHA,
        beta: SYNCHRONISED_BETA,
        overMs: positive(duration(a.over ?? SYNCHRONISED_WINDOW_MS, 'arrival.over', fail), 'arrival.over', fail),
      };
    case 'constant-rate': {
      const perSecond = parseRate(a.rate);
      if (perSecond === undefined) {
        return fail('arrival.rate', `${JSON.stringify(a.rate)} is not a rate (e.g. 500/s, 30/m, 1000/h, or a number per second)`);
      }
      return { pattern: 'constant-rate', perSecond };
    }
  }
}

function shape(v: number | undefined, field: string, fail: Fail): number {
  if (v === undefined || !(Number.isFinite(v) && v > 0)) return fail(field, `must be a number > 0, got ${JSON.stringify(v)}`);
  return v;
}

function resolveExpectations(texts: string[], dialect: string, operations: readonly string[], fail: Fail): Expectation[] {
  return texts.map((text, k) => {
    let e: Expectation;
    try {
      e = parseExpectation(text);
    } catch (err) {
      return fail(`expect.${k}`, (err as Error).message);
    }
    const op = operationOf(e);
    if (op !== undefined && !operations.includes(op)) {
      fail(`expect.${k}`, `"${text}": dialect "${dialect}" has no operation "${op}" (it has: ${operations.join(', ')})`);
    }
    const unknown = unknownName(e, dialect);
    if (unknown !== undefined) fail(`expect.${k}`, `"${text}": ${unknown}`);
    return e;
  });
}

/**
 * States every report may count beside the dialect's own: devices never started, lost with their
 * worker (engine/worker-watch.ts), or stopped because the dialect's code threw (ota-swarm's own, or
 * a plugin's).
 */
const HARNESS_STATES = ['not-started', 'lost-with-worker', 'harness-error', 'plugin-error'];

/** Why an expectation names a state or a rule the dialect does not have, or undefined. */
function unknownName(e: Expectation, dialect: string): string | undefined {
  const m = parseMetric(e.metric);
  if (m?.kind === 'devices-state') {
    const states = dialectStates.get(dialect);
    if (states === undefined || states.includes(m.state) || HARNESS_STATES.includes(m.state)) return undefined;
    return `dialect "${dialect}" has no state "${m.state}" (it has: ${[...states, ...HARNESS_STATES].join(', ')})`;
  }
  if (m?.kind === 'verdict') {
    const rules = rulesOf(dialect).map((r) => r.name);
    if (rules.includes(m.rule)) return undefined;
    return rules.length === 0 ? `dialect "${dialect}" has no verdict rules` : `dialect "${dialect}" has no verdict rule "${m.rule}" (it has: ${rules.join(', ')})`;
  }
  return undefined;
}
