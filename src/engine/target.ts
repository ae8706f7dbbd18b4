/**
 * What a run talks to: the embedded reference server (started in its own thread, keys discovered
 * from its admin API) or the user's `--target` (keys from the scenario or the environment).
 */
import { dirname, resolve } from 'node:path';
import { NO_TARGET_SETTINGS, type DialectPlugin, type TargetContext } from '../dialect/types.js';
import { getDialect } from '../dialect/registry.js';
import type { Scenario } from '../scenario/types.js';
import { CLI_FLAGS, type OptionNames } from '../scenario/option-names.js';
import type { ClockOrigin } from '../time/clock.js';
import { ConfigError } from '../config/load.js';
import type { Catalog } from '../catalog/schema.js';
import { loadCatalog } from '../catalog/load.js';
import { startServerThread } from '../server/thread.js';
import { AdminClient } from './admin-client.js';
import { profileFromCatalog, resolveProfile, type ResolvedProfile } from '../protocol/profile.js';
import { ScaledClock } from '../time/clock.js';
import type { TargetClock } from '../time/target-clock.js';
import { decideTargetClock } from './clock-check.js';
import type { AiotServerOptions } from '../server/aiot/side.js';

export interface ResolvedTarget {
  baseUrl: string;
  /** For the report: the URL, or `embedded (URL)`. */
  label: string;
  embedded: boolean;
  /** The embedded server's CoAP endpoint (`coap://127.0.0.1:PORT`), started for the lwm2m dialect. */
  coapUrl?: string;
  /** The dialect's settings (its target spec made them: keys, ids; never logged), carried opaque to the workers. */
  dialect: unknown;
  /** Present when the target has the admin API and we hold its token. */
  admin?: AdminClient;
  /** What the server promises (flags > scenario > admin API > documented), with sources. */
  profile: ResolvedProfile;
  /** The server's clock, for day-window verdicts. */
  clock: TargetClock;
  close(): Promise<void>;
}

export const ENV_ADMIN_TOKEN = 'OTA_SWARM_ADMIN_TOKEN';
export { ENV_ONENET_KEY } from '../dialect/onenet/target.js';
export { ENV_LUAT_PROJECT_KEY } from '../dialect/luat/target.js';

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
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:' && parsed.protocol !== 'coap:') throw new ConfigError(`${field}: ${url}: only http, https and coap are supported`);
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
  /** The embedded server's AIOT side (src/engine/application.ts); ignored with a target of the user's. */
  aiot?: AiotServerOptions;
}

export async function resolveTarget(o: TargetOptions): Promise<ResolvedTarget> {
  return o.scenario.target.url ? externalTarget(o) : embeddedTarget(o);
}

async function embeddedTarget({ scenario, clock, aiot, env = process.env }: TargetOptions): Promise<ResolvedTarget> {
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
    ...(aiot ? { aiot } : {}),
    // The LwM2M dialect talks CoAP: the embedded server opens its UDP endpoint only then.
    ...((scenario.dialect as string) === 'lwm2m' ? { coapPort: 0 } : {}),
  });
  try {
    const admin = new AdminClient(server.url, server.adminToken);
    const known = await admin.get<Catalog>('/admin/catalog');
    const plugin = getDialect(scenario.dialect);
    const profile = profileOf(scenario, plugin, known);
    // A CoAP dialect's workers and probe speak to the CoAP endpoint; the admin API above stays on HTTP.
    const baseUrl = plugin.transport === 'coap' && server.coapUrl ? server.coapUrl : server.url;
    return {
      baseUrl,
      label: `embedded (${baseUrl})`,
      embedded: true,
      ...(server.coapUrl ? { coapUrl: server.coapUrl } : {}),
      dialect: withProfile(plugin, settingsFromCatalog(scenario, plugin, known, env), profile),
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
  const parsed = checkedTargetUrl(url, names('targetUrl'), allowRemote, permit);
  const coap = parsed.protocol === 'coap:';
  // A coap: URL has no web origin; its server's admin API (if any) is not reachable over it.
  const baseUrl = coap ? `coap://${parsed.host}` : parsed.origin;
  const adminToken = coap ? undefined : env[ENV_ADMIN_TOKEN];
  const admin = adminToken ? new AdminClient(baseUrl, adminToken) : undefined;
  const plugin = getDialect(scenario.dialect);
  let dialect: unknown;
  try {
    dialect = settingsFromScenario(scenario, plugin, env);
  } catch (err) {
    // Keys missing from the scenario may still be discovered from a reference server's admin API.
    if (!admin) throw err;
    const known = await admin.get<Catalog>('/admin/catalog').catch(() => undefined);
    if (!known) throw err;
    dialect = settingsFromCatalog(scenario, plugin, known, env);
  }
  if (clock.scale === 'max') await checkJudgesByRequestTime(baseUrl, admin, names);
  const targetClock = await clockOf(scenario, clock, baseUrl, admin, clockDeclared);
  const profile = profileOf(scenario, plugin, admin ? await admin.get<unknown>('/admin/catalog').catch(() => undefined) : undefined);
  return { baseUrl, label: baseUrl, embedded: false, dialect: withProfile(plugin, dialect, profile), admin, profile, clock: targetClock, close: async () => {} };
}

/** The profile from the flags, the scenario and what a reference server's catalog says. */
function profileOf(scenario: Scenario, plugin: DialectPlugin, catalog: unknown): ResolvedProfile {
  const admin = catalog === undefined ? undefined : profileFromCatalog(catalog, plugin.target?.firmwareName?.(scenario.target.block));
  return resolveProfile({ flag: scenario.target.profileFlags, scenario: scenario.target.profile, admin });
}

/** What the devices follow of the profile (Luat: whether they ask for diffs, how they confirm). */
function withProfile(plugin: DialectPlugin, settings: unknown, { profile }: ResolvedProfile): unknown {
  return plugin.target?.withProfile ? plugin.target.withProfile(settings, profile) : settings;
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

const contextOf = (scenario: Scenario, env: NodeJS.ProcessEnv): TargetContext => ({ file: scenario.file, env });

/** The dialect's settings as the scenario and environment give them; throws ConfigError naming what is missing. A dialect with no target spec gets empty settings. */
export function settingsFromScenario(scenario: Scenario, plugin: DialectPlugin, env: NodeJS.ProcessEnv): unknown {
  return plugin.target ? plugin.target.fromScenario(scenario.target.block, contextOf(scenario, env)) : NO_TARGET_SETTINGS;
}

/** The dialect's settings with keys from a reference server's catalog (its `fromCatalog`; else as the scenario gives them). */
export function settingsFromCatalog(scenario: Scenario, plugin: DialectPlugin, catalog: unknown, env: NodeJS.ProcessEnv): unknown {
  const spec = plugin.target;
  if (spec === undefined) return NO_TARGET_SETTINGS;
  const ctx = contextOf(scenario, env);
  return spec.fromCatalog ? spec.fromCatalog(scenario.target.block, catalog, ctx) : spec.fromScenario(scenario.target.block, ctx);
}
