/**
 * What a run talks to: the embedded reference server (started in its own thread, keys discovered
 * from its admin API) or the user's `--target` (keys from the scenario or the environment).
 */
import { dirname, resolve } from 'node:path';
import type { DialectTarget } from '../dialect/types.js';
import type { Scenario } from '../scenario/types.js';
import { CLI_FLAGS, type OptionNames } from '../scenario/option-names.js';
import type { ClockOrigin } from '../time/clock.js';
import { ConfigError } from '../config/load.js';
import { resolveSecret } from '../config/secret.js';
import { DEFAULT_ONENET_PRODUCT } from '../catalog/default.js';
import type { Catalog } from '../catalog/schema.js';
import { loadCatalog } from '../catalog/load.js';
import { startServerThread } from '../server/thread.js';
import { AdminClient } from './admin-client.js';
import { profileFromCatalog, resolveProfile, type ResolvedProfile } from '../protocol/profile.js';
import { ScaledClock } from '../time/clock.js';
import type { TargetClock } from '../time/target-clock.js';
import { decideTargetClock } from './clock-check.js';

export interface ResolvedTarget {
  baseUrl: string;
  /** For the report: the URL, or `embedded (URL)`. */
  label: string;
  embedded: boolean;
  dialect: DialectTarget;
  /** Present when the target has the admin API and we hold its token. */
  admin?: AdminClient;
  /** What the server promises (flags > scenario > admin API > documented), with sources. */
  profile: ResolvedProfile;
  /** The server's clock, for day-window verdicts. */
  clock: TargetClock;
  close(): Promise<void>;
}

export const ENV_ADMIN_TOKEN = 'OTA_SWARM_ADMIN_TOKEN';
export const ENV_ONENET_KEY = 'OTA_SWARM_ONENET_ACCESS_KEY';
export const ENV_LUAT_PROJECT_KEY = 'OTA_SWARM_LUAT_PROJECT_KEY';

const LOOPBACK = /^(127(?:\.\d{1,3}){3}|localhost|\[::1\]|::1)$/i;

export function isLoopbackUrl(url: string): boolean {
  try {
    return LOOPBACK.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** A target URL: http(s), and loopback unless remote targets are allowed (`permit` says how); one-line ConfigError naming `field`. */
export function checkedTargetUrl(url: string, field: string, allowRemote: boolean, permit: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${field}: "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${field}: ${url}: only http and https are supported`);
  if (!allowRemote && !isLoopbackUrl(url)) throw new ConfigError(`${field}: ${parsed.host} is not a loopback address; ${permit} to load a remote server`);
  return parsed;
}

export interface TargetOptions {
  scenario: Scenario;
  clock: ClockOrigin;
  allowRemote: boolean;
  env?: NodeJS.ProcessEnv;
  /** How the caller names its options in errors (the CLI's flags by default). */
  names?: OptionNames;
  /** The caller gave the clock as the target's own (RunOptions.clock): the two share it. */
  clockDeclared?: boolean;
}

export async function resolveTarget(o: TargetOptions): Promise<ResolvedTarget> {
  return o.scenario.target.url ? externalTarget(o) : embeddedTarget(o);
}

async function embeddedTarget({ scenario, clock }: TargetOptions): Promise<ResolvedTarget> {
  let catalog: Catalog | undefined;
  if (scenario.server.catalog) {
    catalog = loadCatalog(resolve(dirname(scenario.file), scenario.server.catalog));
  }
  const server = await startServerThread({
    host: '127.0.0.1',
    port: 0,
    catalog,
    seed: scenario.seed,
    clock,
    timeScale: clock.scale,
    faults: scenario.server.faults as never,
    bugs: scenario.server.bugs as never,
    quiet: true,
  });
  try {
    const admin = new AdminClient(server.url, server.adminToken);
    const known = await admin.get<Catalog>('/admin/catalog');
    const profile = profileOf(scenario, known);
    return {
      baseUrl: server.url,
      label: `embedded (${server.url})`,
      embedded: true,
      dialect: withProfile(dialectTargetFromCatalog(scenario, known), profile),
      admin,
      profile,
      clock: { kind: 'shared', offsetMs: 0 },
      close: () => server.close(),
    };
  } catch (err) {
    await server.close();
    throw err;
  }
}

async function externalTarget({ scenario, clock, allowRemote, env = process.env, names = CLI_FLAGS, clockDeclared = false }: TargetOptions): Promise<ResolvedTarget> {
  const url = scenario.target.url as string;
  const permit = names === CLI_FLAGS ? 'pass --allow-remote' : `set ${names('allowRemote')}: true`;
  const baseUrl = checkedTargetUrl(url, names('targetUrl'), allowRemote, permit).origin;
  const adminToken = env[ENV_ADMIN_TOKEN];
  const admin = adminToken ? new AdminClient(baseUrl, adminToken) : undefined;
  let dialect: DialectTarget;
  try {
    dialect = dialectTargetFromScenario(scenario, env);
  } catch (err) {
    // Keys missing from the scenario may still be discovered from a reference server's admin API.
    if (!admin) throw err;
    const known = await admin.get<Catalog>('/admin/catalog').catch(() => undefined);
    if (!known) throw err;
    dialect = dialectTargetFromCatalog(scenario, known);
  }
  if (clock.scale === 'max') await checkJudgesByRequestTime(baseUrl, admin, names);
  const targetClock = await clockOf(scenario, clock, baseUrl, admin, clockDeclared);
  const profile = profileOf(scenario, admin ? await admin.get<unknown>('/admin/catalog').catch(() => undefined) : undefined);
  return { baseUrl, label: baseUrl, embedded: false, dialect: withProfile(dialect, profile), admin, profile, clock: targetClock, close: async () => {} };
}

/** The profile from the flags, the scenario and what a reference server's catalog says. */
function profileOf(scenario: Scenario, catalog: unknown): ResolvedProfile {
  const admin = catalog === undefined ? undefined : profileFromCatalog(catalog, scenario.target.luat?.firmwareName);
  return resolveProfile({ flag: scenario.target.profileFlags, scenario: scenario.target.profile, admin });
}

/** What the devices follow of the profile: whether Luat devices ask for diffs, how they confirm. */
function withProfile(dialect: DialectTarget, { profile }: ResolvedProfile): DialectTarget {
  if (!dialect.luat) return dialect;
  const l = profile.luat;
  return { ...dialect, luat: { ...dialect.luat, dfota: l.dfota, versionConfirm: l.versionConfirm, ...(l.firmwareVersion !== undefined ? { firmwareVersion: l.firmwareVersion } : {}) } };
}

/** Reads the target's /admin/clock (when it has one) and decides whether the run may go (./clock-check.ts). */
async function clockOf(scenario: Scenario, origin: ClockOrigin, url: string, admin: AdminClient | undefined, declared: boolean): Promise<TargetClock> {
  let adminClock: { scale?: unknown; virtualNow?: unknown } | undefined;
  let runNowAtAdmin: number | undefined;
  if (admin && origin.scale !== 'max') {
    adminClock = await admin.get<{ scale?: unknown; virtualNow?: unknown }>('/admin/clock').catch(() => undefined);
    runNowAtAdmin = new ScaledClock(origin).now();
  }
  const decided = decideTargetClock({
    origin,
    embedded: false,
    declared,
    allowSkew: scenario.target.allowClockSkew === true,
    url,
    ...(adminClock !== undefined ? { adminClock, runNowAtAdmin } : {}),
  });
  if ('refuse' in decided) throw new ConfigError(decided.refuse);
  return decided.clock;
}

/**
 * Under `--time-scale max` no wall clock is shared: only a server that judges each request at the
 * instant it carries (`ota-swarm serve --time-scale max`) agrees with the devices on any time.
 */
async function checkJudgesByRequestTime(baseUrl: string, admin: AdminClient | undefined, names: OptionNames): Promise<void> {
  const why = `${names('timeScale')} max: ${baseUrl} must be a reference server started with \`ota-swarm serve --time-scale max\``;
  if (!admin) throw new ConfigError(`${why}, and ${ENV_ADMIN_TOKEN} must be set so its clock can be checked`);
  const clock = await admin.get<{ scale?: unknown }>('/admin/clock').catch(() => undefined);
  if (clock?.scale !== 'max') throw new ConfigError(`${why}; its /admin/clock says ${clock ? `scale ${JSON.stringify(clock.scale)}` : 'nothing (unreachable or wrong token)'}`);
}

/** Keys as the scenario and environment give them; throws ConfigError naming what is missing. */
export function dialectTargetFromScenario(scenario: Scenario, env: NodeJS.ProcessEnv): DialectTarget {
  const t = scenario.target;
  if (scenario.dialect === 'onenet') {
    const o = t.onenet ?? { productId: DEFAULT_ONENET_PRODUCT, signMethod: 'sha1' as const, tokenTtlSec: 3600 };
    const ref = o.accessKey ?? (env[ENV_ONENET_KEY] ? { env: ENV_ONENET_KEY } : undefined);
    if (!ref) throw new ConfigError(`${scenario.file}: target.onenet.accessKey: needed with --target (e.g. accessKey: { env: ${ENV_ONENET_KEY} })`);
    const accessKey = resolveSecret(ref, `${scenario.file}: target.onenet.accessKey`, env);
    return { onenet: { productId: o.productId, accessKey, signMethod: o.signMethod, tokenTtlSec: o.tokenTtlSec } };
  }
  if (scenario.dialect === 'luat') {
    const l = t.luat;
    if (!l) throw new ConfigError(`${scenario.file}: target.luat: needed for the luat dialect`);
    const ref = l.projectKey ?? (env[ENV_LUAT_PROJECT_KEY] ? { env: ENV_LUAT_PROJECT_KEY } : undefined);
    if (!ref) throw new ConfigError(`${scenario.file}: target.luat.projectKey: needed with --target (e.g. projectKey: { env: ${ENV_LUAT_PROJECT_KEY} })`);
    return { luat: { projectKey: resolveSecret(ref, `${scenario.file}: target.luat.projectKey`, env), firmwareName: l.firmwareName } };
  }
  return {};
}

/** Keys from a reference server's catalog, for the products and firmware the scenario names. */
export function dialectTargetFromCatalog(scenario: Scenario, catalog: Catalog): DialectTarget {
  if (scenario.dialect === 'onenet') {
    const o = scenario.target.onenet;
    const productId = o?.productId ?? DEFAULT_ONENET_PRODUCT;
    const product = catalog.onenet.products.find((p) => p.id === productId);
    if (!product) throw new ConfigError(`${scenario.file}: target.onenet.productId: product ${productId} is not in the server's catalog`);
    if (typeof product.accessKey !== 'string') throw new ConfigError(`server catalog: product ${productId} has no resolved access key`);
    return { onenet: { productId, accessKey: product.accessKey, signMethod: o?.signMethod ?? 'sha1', tokenTtlSec: o?.tokenTtlSec ?? 3600 } };
  }
  if (scenario.dialect === 'luat') {
    const l = scenario.target.luat;
    if (!l) throw new ConfigError(`${scenario.file}: target.luat: needed for the luat dialect`);
    const given = typeof l.projectKey === 'string' ? l.projectKey : undefined;
    const project = catalog.luat.projects.find((p) => (given ? p.key === given : p.firmware.some((f) => f.name === l.firmwareName)));
    if (!project) throw new ConfigError(`${scenario.file}: target.luat.firmwareName: no project of the server's catalog has firmware ${l.firmwareName}`);
    return { luat: { projectKey: project.key, firmwareName: l.firmwareName } };
  }
  return {};
}
