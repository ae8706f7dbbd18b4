/**
 * `ota-swarm serve`: the reference OTA server on the command line. Flags are turned into
 * ServerOptions by a pure function (serveOptionsFromArgs); the handler starts the server, prints
 * where it listens with ready-to-paste requests, and closes on SIGINT / SIGTERM (exit 0). Bad flags
 * or a port in use: one line on stderr, exit 2.
 *
 * The admin token is printed when it was drawn at random; one given by --admin-token or
 * OTA_SWARM_ADMIN_TOKEN is not echoed (secrets stay out of logs). The catalog's keys are printed
 * only with --print-keys: the example OneNET check carries an Authorization valid one hour, the
 * Luat example names the project key's environment variable. Off loopback, the admin API (which
 * hands out every key) stays loopback-only unless --admin-remote opens it, with a warning.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { DEFAULT_CATALOG } from '../catalog/default.js';
import { idAt } from '../catalog/id-range.js';
import { loadCatalog, prepareCatalog } from '../catalog/load.js';
import type { Catalog } from '../catalog/schema.js';
import { ConfigError } from '../config/load.js';
import { parseTimeScale } from '../config/units.js';
import { timeScaleLabel, type TimeScale } from '../time/clock.js';
import { parseIdRange } from '../catalog/id-range.js';
import { LUAT_PATH, compareVersions } from '../protocol/luat.js';
import { ONENET_PATHS } from '../protocol/onenet.js';
import { buildAuthorization, productResource } from '../protocol/token.js';
import { mergeFaults, parseFaultFlag, type FaultConfig } from '../server/faults/config.js';
import { parseBugs } from '../server/bugs.js';
import { startServer } from '../server/index.js';
import { aiotBanner, aiotFromArgs, type ServeAiotArgs } from './serve-aiot.js';
import { DEFAULT_LWM2M } from '../server/lwm2m/index.js';
import type { ServerOptions } from '../server/types.js';

export const ENV_ADMIN_TOKEN = 'OTA_SWARM_ADMIN_TOKEN';

export interface ServeArgs extends ServeAiotArgs {
  port: number;
  host: string;
  catalog?: string;
  'admin-token'?: string;
  seed?: number;
  'time-scale'?: string | number;
  fault?: string[];
  bug?: string[];
  'ban-limit'?: number;
  quiet: boolean;
  'allow-remote': boolean;
  'admin-remote'?: boolean;
  'print-keys'?: boolean;
  'coap-port'?: number;
  'lwm2m-schedule'?: string;
  'lwm2m-max-registrations'?: number;
}

/** Lifetime, in real time, of the Authorization in the banner's example check. */
export const EXAMPLE_AUTH_REAL_SECONDS = 3600;
export const ENV_LUAT_PROJECT_KEY = 'OTA_SWARM_LUAT_PROJECT_KEY';

const LOOPBACK_HOST = /^(127(?:\.\d{1,3}){3}|localhost|::1|\[::1\])$/i;

export type TokenSource = 'flag' | 'env' | 'random';

/** Flags → server options; throws a one-line ConfigError naming the flag. Pure but for reading --catalog. */
export function serveOptionsFromArgs(a: ServeArgs, env: NodeJS.ProcessEnv = process.env): { options: ServerOptions & { port: number; host: string }; tokenSource: TokenSource; catalogLabel: string; warnings: string[]; aiotKeysFrom?: 'env' | 'random' } {
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new ConfigError(`--port: expected 0–65535, got ${String(a.port)}`);
  const host = a.host.trim();
  const loopback = LOOPBACK_HOST.test(host);
  if (!loopback && !a['allow-remote']) throw new ConfigError(`--host: ${host} is not a loopback address; pass --allow-remote to listen on it`);
  const adminRemote = a['admin-remote'] === true;
  if (adminRemote && (loopback || !a['allow-remote'])) throw new ConfigError('--admin-remote: only with --allow-remote and a non-loopback --host (on loopback nothing remote can reach the admin API)');
  const warnings = loopback ? [] : remoteWarnings(host, adminRemote);
  if (a.seed !== undefined && (!Number.isInteger(a.seed) || a.seed < 0)) throw new ConfigError(`--seed: expected a non-negative integer, got ${String(a.seed)}`);
  const scale = a['time-scale'] === undefined ? undefined : parseTimeScale(a['time-scale']);
  if (a['time-scale'] !== undefined && scale === undefined) throw new ConfigError(`--time-scale: expected a number > 0 (at most 1000000) or max, got ${String(a['time-scale'])}`);
  const catalog: Catalog = a.catalog ? loadCatalog(a.catalog, env) : prepareCatalog(DEFAULT_CATALOG, env);
  const banLimit = a['ban-limit'];
  if (banLimit !== undefined) {
    if (!Number.isInteger(banLimit) || banLimit < 1) throw new ConfigError(`--ban-limit: expected a positive integer, got ${String(banLimit)}`);
    catalog.luat.banLimitPerDay = banLimit;
  }
  let faults: FaultConfig = {};
  for (const flag of a.fault ?? []) faults = mergeFaults(faults, parseFaultFlag(String(flag)) as Record<string, Record<string, unknown>>);
  const bugs = parseBugs((a.bug ?? []).map(String), '--bug');
  const coapPort = a['coap-port'];
  if (coapPort !== undefined && (!Number.isInteger(coapPort) || coapPort < 0 || coapPort > 65535)) throw new ConfigError(`--coap-port: expected 0–65535, got ${String(coapPort)}`);
  const schedule = a['lwm2m-schedule'];
  if (schedule !== undefined) {
    if (schedule !== 'huawei' && schedule !== 'rfc7252') throw new ConfigError(`--lwm2m-schedule: expected huawei or rfc7252, got ${String(schedule)}`);
    catalog.lwm2m = { ...(catalog.lwm2m ?? DEFAULT_LWM2M), schedule };
  }
  const maxRegistrations = a['lwm2m-max-registrations'];
  if (maxRegistrations !== undefined) {
    if (!Number.isInteger(maxRegistrations) || maxRegistrations < 1 || maxRegistrations > 100_000_000) throw new ConfigError(`--lwm2m-max-registrations: expected an integer from 1 to 100000000, got ${String(maxRegistrations)}`);
    catalog.lwm2m = { ...(catalog.lwm2m ?? DEFAULT_LWM2M), maxRegistrations };
  }
  if (coapPort !== undefined && scale === 'max') throw new ConfigError('--coap-port: needs a finite --time-scale (CoAP carries no virtual-time header, so max has no clock for its retransmit timers)');
  const fromFlag = a['admin-token'];
  const fromEnv = env[ENV_ADMIN_TOKEN]?.trim();
  const adminToken = fromFlag ?? (fromEnv ? fromEnv : undefined);
  const tokenSource: TokenSource = fromFlag !== undefined ? 'flag' : fromEnv ? 'env' : 'random';
  const aiot = aiotFromArgs(a, env);
  const options: ServerOptions & { port: number; host: string } = {
    host: host.replace(/^\[(.*)\]$/, '$1'),
    port: a.port,
    catalog,
    faults,
    bugs,
    quiet: a.quiet,
    allowRemoteAdmin: adminRemote,
    ...(adminToken !== undefined ? { adminToken } : {}),
    ...(a.seed !== undefined ? { seed: a.seed } : {}),
    ...(scale !== undefined ? { timeScale: scale } : {}),
    ...(aiot ? { aiot: aiot.aiot } : {}),
    ...(coapPort !== undefined ? { coapPort } : {}),
  };
  return { options, tokenSource, catalogLabel: a.catalog ?? 'built-in default', warnings, ...(aiot ? { aiotKeysFrom: aiot.keysFrom } : {}) };
}

/** What listening off loopback exposes, said before the server starts. */
export function remoteWarnings(host: string, adminRemote: boolean): string[] {
  if (!adminRemote) {
    return [`ota-swarm serve: listening on ${host} (--allow-remote): the OneNET and Luat APIs answer remote clients over plain HTTP; the admin API answers loopback clients only (--admin-remote opens it)`];
  }
  return [
    `ota-swarm serve: WARNING: --admin-remote: the admin API answers remote clients on ${host} over plain HTTP.`,
    'ota-swarm serve: WARNING: it hands out every OneNET access key and Luat project key of the catalog, and the bearer token and the keys cross the network unencrypted; use it only on a network you trust.',
  ];
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
/** Double quotes, so a `$VARIABLE` written in `s` is expanded by the shell; anything else special is escaped. */
const shellDoubleQuoteKeepingVars = (s: string): string => `"${s.replace(/["\\`]/g, '\\$&').replace(/\$(?![A-Z_][A-Z0-9_]*)/g, '\\$')}"`;

/** Virtual seconds that one real hour (the example Authorization's lifetime) spans at a time scale. */
export function exampleAuthSeconds(scale: TimeScale): number {
  return EXAMPLE_AUTH_REAL_SECONDS * (scale === 'max' ? 1 : scale);
}

/** A ready-to-paste OneNET check for the catalog's first product (signed, valid one real hour). */
export function exampleOnenetCheck(catalog: Catalog, url: string, virtualNowMs: number, scale: TimeScale = 1): string | undefined {
  const product = catalog.onenet.products.find((p) => p.devices.length > 0);
  if (!product) return undefined;
  const task = product.tasks[0];
  const rangeText = task?.devices ?? product.devices[0]?.ids;
  if (rangeText === undefined) return undefined;
  const id = idAt(parseIdRange(rangeText), 0);
  const range = product.devices.find((d) => d.ids === rangeText) ?? product.devices[0];
  const type = task?.type ?? (range?.sVersion !== undefined ? 2 : 1);
  const version = (type === 2 ? range?.sVersion : range?.fVersion) ?? 'V1.0';
  const manuf = task?.manuf ?? range?.manuf ?? '100';
  const model = task?.model ?? range?.model ?? '10001';
  const et = Math.floor(virtualNowMs / 1000) + Math.ceil(exampleAuthSeconds(scale));
  const auth = buildAuthorization(product.accessKey as string, { res: productResource(product.id), et, method: 'sha1' });
  const query = new URLSearchParams({ dev_id: id, manuf, model, type: String(type), version, cdn: 'false' });
  return `curl -s -H ${shellQuote(`Authorization: ${auth}`)} ${shellQuote(`${url}${ONENET_PATHS.check}?${query.toString()}`)}`;
}

/**
 * A ready-to-paste Luat request for the catalog's first project with firmware and devices; the
 * project key is the shell variable OTA_SWARM_LUAT_PROJECT_KEY unless `printKey`.
 */
export function exampleLuatRequest(catalog: Catalog, url: string, printKey = false): string | undefined {
  const project = catalog.luat.projects.find((p) => p.firmware.length > 0 && p.devices.length > 0);
  const fw = project?.firmware[0];
  const range = project?.devices[0];
  if (!project || !fw || !range) return undefined;
  const version = compareVersions('1.0.0', fw.version) < 0 ? '1.0.0' : '0.0.0';
  const rest = new URLSearchParams({
    imei: idAt(parseIdRange(range.imeis), 0),
    firmware_name: fw.name,
    version,
    core_version: fw.cores[0] ?? '',
  });
  if (printKey) return `curl -s -D - -o firmware.bin ${shellQuote(`${url}${LUAT_PATH}?${new URLSearchParams({ project_key: project.key }).toString()}&${rest.toString()}`)}`;
  return `curl -s -D - -o firmware.bin ${shellDoubleQuoteKeepingVars(`${url}${LUAT_PATH}?project_key=$${ENV_LUAT_PROJECT_KEY}&${rest.toString()}`)}`;
}

/** The catalog's keys, one line each, for --print-keys. */
export function keyLines(catalog: Catalog): string[] {
  return [
    ...catalog.onenet.products.map((p) => `  OneNET product ${p.id} access key: ${String(p.accessKey)}`),
    ...catalog.luat.projects.map((p) => `  Luat project key: ${p.key}`),
  ];
}

export function startBanner(o: { url: string; adminToken: string; tokenSource: TokenSource; catalogLabel: string; catalog: Catalog; scale: TimeScale; seed: number; virtualNowMs: number; bugs: readonly string[]; faults: FaultConfig; printKeys?: boolean }): string[] {
  const lines = [`ota-swarm serve: listening on ${o.url} (OneNET and Luat APIs; admin API under ${o.url}/admin/)`];
  lines.push(o.tokenSource === 'random' ? `admin token: ${o.adminToken}  (random; fix it with --admin-token or ${ENV_ADMIN_TOKEN})` : `admin token: from ${o.tokenSource === 'flag' ? '--admin-token' : ENV_ADMIN_TOKEN}`);
  lines.push(`catalog: ${o.catalogLabel}; seed ${o.seed}; time scale ${timeScaleLabel(o.scale)}${o.bugs.length ? `; bugs: ${o.bugs.join(', ')}` : ''}${Object.keys(o.faults).length ? `; faults on: ${Object.keys(o.faults).join(', ')}` : ''}`);
  const check = exampleOnenetCheck(o.catalog, o.url, o.virtualNowMs, o.scale);
  const luat = exampleLuatRequest(o.catalog, o.url, o.printKeys === true);
  if (check) lines.push('OneNET check (its Authorization is valid for 1 hour):', `  ${check}`);
  if (luat) lines.push(o.printKeys ? 'Luat upgrade:' : `Luat upgrade (set ${ENV_LUAT_PROJECT_KEY} first: --print-keys shows the keys, or GET /admin/catalog):`, `  ${luat}`);
  if (o.printKeys) lines.push('Keys (--print-keys):', ...keyLines(o.catalog));
  // Double quotes: a pasted $OTA_SWARM_ADMIN_TOKEN must be expanded by the shell (single quotes sent it literally: 401).
  const bearer = o.tokenSource === 'random' ? o.adminToken : `$${ENV_ADMIN_TOKEN}`;
  lines.push('Admin catalog:', `  curl -s -H ${shellDoubleQuoteKeepingVars(`Authorization: Bearer ${bearer}`)} ${o.url}/admin/catalog`);
  return lines;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export async function runServe(a: ServeArgs, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  try {
    const { options, tokenSource, catalogLabel, warnings, aiotKeysFrom } = serveOptionsFromArgs(a, env);
    for (const w of warnings) process.stderr.write(`${w}\n`);
    const server = await startServer(options);
    const catalog = options.catalog as Catalog;
    const banner = startBanner({
      url: server.url,
      adminToken: server.adminToken,
      tokenSource,
      catalogLabel,
      catalog,
      scale: Number.isFinite(server.clock.scale) ? server.clock.scale : 'max',
      seed: options.seed ?? catalog.seed,
      virtualNowMs: server.clock.now(),
      bugs: options.bugs ?? [],
      faults: options.faults ?? {},
      printKeys: a['print-keys'] === true,
    });
    // --quiet keeps what is needed to use the server: where, and the token when it was drawn.
    if (server.coapUrl) banner.splice(1, 0, `ota-swarm serve: CoAP on ${server.coapUrl} (LwM2M registration /rd, firmware repository /fw/{package}; GET /admin/lwm2m)`);
    for (const line of a.quiet ? banner.slice(0, server.coapUrl ? 3 : 2) : banner) say(line);
    if (options.aiot && aiotKeysFrom && !a.quiet) for (const line of aiotBanner(options.aiot, aiotKeysFrom, a['print-keys'] === true)) say(line);
    const sig = await waitForSignal();
    if (!a.quiet) process.stderr.write(`ota-swarm serve: ${sig}: closing\n`);
    await server.close();
    return 0;
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    process.stderr.write(`ota-swarm serve: ${text.split('\n')[0]}\n`);
    return 2;
  }
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'run the reference OTA server (OneNET and Luat APIs, admin API, fault knobs); see docs/server.md',
  builder: (y: Argv<object>) =>
    y
      .option('port', { type: 'number', default: 8080, describe: 'TCP port (0: any free port)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (loopback unless --allow-remote)' })
      .option('catalog', { type: 'string', describe: 'catalog YAML (default: the built-in catalog of the default scenarios)' })
      .option('admin-token', { type: 'string', describe: `bearer token of /admin/ (else ${ENV_ADMIN_TOKEN}, else random and printed)` })
      .option('seed', { type: 'number', describe: 'seed of tokens, fault draws and diff build times (default: the catalog seed)' })
      .option('time-scale', { type: 'string', describe: 'virtual seconds per real second (ban days, token expiry, diff builds), or max: each request is judged at the instant its x-ota-swarm-virtual-ms header gives' })
      .option('fault', { type: 'string', array: true, describe: 'ENDPOINT.KNOB=VALUE, repeatable (e.g. check.latency=fixed:50ms, download.resetAfter=4096, progress.drop=0.1)' })
      .option('bug', { type: 'string', array: true, describe: 'named bug to switch on, repeatable (see docs/server.md)' })
      .option('ban-limit', { type: 'number', describe: 'Luat requests per device per day before the loop ban (default 10)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'print only where it listens and the token' })
      .option('allow-remote', { type: 'boolean', default: false, describe: 'permit a non-loopback --host (the device APIs answer remote clients; the admin API stays loopback-only)' })
      .option('admin-remote', { type: 'boolean', default: false, describe: 'with --allow-remote: let the admin API (which hands out every key) answer remote clients too, over plain HTTP (warns)' })
      .option('coap-port', { type: 'number', describe: 'also listen on this UDP port for CoAP: the LwM2M server and the block-wise firmware repository (0: any free port; see docs/server.md)' })
      .option('lwm2m-schedule', { type: 'string', describe: "retransmit schedule of the LwM2M server's CONs: huawei (10–15 / 20–30 / 40–60 s, TIMEOUT 80–120 s; default) or rfc7252 (overrides the catalog's lwm2m.schedule)" })
      .option('lwm2m-max-registrations', { type: 'number', describe: "endpoints the LwM2M registry keeps at most (default 2000000); a new endpoint's Register beyond it is answered 5.03 with Max-Age (overrides the catalog's lwm2m.maxRegistrations)" })
      .option('print-keys', { type: 'boolean', default: false, describe: "print the catalog's access and project keys in the banner" })
      .option('aiot', { type: 'boolean', default: false, describe: 'answer the AIOT open API (north-bound OTA calls) for the OneNET devices; keys from OTA_SWARM_AIOT_APP_KEY and OTA_SWARM_AIOT_ACCESS_TOKEN (docs/application-side.md)' })
      .option('aiot-push-url', { type: 'string', describe: 'with --aiot: where progress and result pushes go (loopback unless --allow-remote)' })
      .option('aiot-app-id', { type: 'string', describe: 'with --aiot: the application\'s Appid (default ota-swarm)' })
      .option('aiot-product', { type: 'string', describe: 'with --aiot: the OneNET product the API speaks for (default the catalog\'s first)' })
      .option('aiot-push', { type: 'string', array: true, describe: 'with --aiot: push retry policy, KEY=VALUE repeatable: answerWithin=15s, retryEvery=1m, cacheFor=10m, maxFailures=10' }) as unknown as Argv<ServeArgs>,
  handler: async (argv: ArgumentsCamelCase<ServeArgs>) => {
    process.exitCode = await runServe(argv);
  },
};
