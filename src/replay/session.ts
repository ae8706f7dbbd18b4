/**
 * `ota-swarm replay` from start to report: read the log, make it scripts (cloned, anonymised when
 * asked), find the target (the embedded reference server when none is given, with its keys from
 * its admin API; a target's keys from the environment), drive the scripts and gather the report.
 */
import type { DialectTargetSpec, HttpRequest, HttpResult, TargetContext } from '../dialect/types.js';
import type { Catalog } from '../catalog/schema.js';
import { getDialect } from '../dialect/registry.js';
import { ConfigError } from '../config/load.js';
import { startServerThread } from '../server/thread.js';
import type { BugName } from '../server/bugs.js';
import { AdminClient } from '../engine/admin-client.js';
import { makeTransport } from '../engine/transports.js';
import type { Transport } from '../engine/transport.js';
import { ENV_ADMIN_TOKEN, checkedTargetUrl } from '../engine/target.js';
import { LagRecorder, OperationRecorder, harnessReport, mergeLagSnapshots, mergeSnapshots, operationsReport } from '../metrics/recorder.js';
import { originNow } from '../time/clock.js';
import { readLog, type LogFormat } from '../exchanges/read-log.js';
import type { Exchange } from '../exchanges/exchange.js';
import { Anonymiser } from './anonymise.js';
import { buildScripts, cloneScript, type DeviceScript, type ScriptSet } from './script.js';
import { driveReplay, type ReplayClock, type ReplayedCall, type ReplayTransport } from './drive.js';
import { replayDialect, type ReplaySettings } from '../exchanges/calls.js';
import { ReplayEvidence, TRANSITIONS_NOT_JUDGED } from './verdicts.js';
import { scaledReplayClock } from './clock.js';
import type { ReplayReport } from './report.js';

export interface PrepareOptions {
  log: string;
  format?: LogFormat;
  /** Salt for `--anonymise` (from the environment or a file, never the command line). */
  anonymiseSalt?: string;
  /** Clone this device's script (default: the log's first device) onto `devices` devices. */
  device?: string;
  devices?: number;
  spreadMs?: number;
  /** First id of the clones (default: the cloned device's). */
  firstId?: string;
}

export interface Prepared {
  format: Exclude<LogFormat, 'auto'>;
  exchanges: Exchange[];
  set: ScriptSet;
  scripts: DeviceScript[];
}

/** Reads and scripts a log; pure but for reading it. */
export function prepareReplay(o: PrepareOptions): Prepared {
  const read = readLog(o.log, o.format ?? 'auto');
  const anonymiser = o.anonymiseSalt !== undefined ? new Anonymiser(o.anonymiseSalt) : undefined;
  const exchanges = anonymiser ? read.exchanges.map((e) => anonymiser.exchange(e)) : read.exchanges;
  const set = buildScripts(exchanges);
  if (set.scripts.length === 0) throw new ConfigError(`${o.log}: no OneNET or Luat call with a device in it (${exchanges.length} line(s) read, ${set.notCalls} not OTA calls)`);
  let scripts = set.scripts;
  if (o.device !== undefined || o.devices !== undefined) {
    const wanted = o.device !== undefined ? (anonymiser ? anonymiser.id(o.device) : o.device) : undefined;
    const source = wanted !== undefined ? scripts.find((s) => s.device === wanted) : scripts[0];
    if (source === undefined) throw new ConfigError(`--device: ${o.device} has no call in ${o.log}`);
    scripts = cloneScript(source, o.devices ?? 1, o.spreadMs ?? 0, o.firstId ?? source.device);
  }
  return { format: read.format, exchanges, set, scripts };
}

export interface ReplayTargetOptions {
  /** Base URL; absent: start the embedded reference server. */
  url?: string;
  allowRemote?: boolean;
  /** Named bugs of the embedded server. */
  bugs?: BugName[];
  catalog?: Catalog;
  /** Seed of the embedded server (tokens, diff build times); a run's embedded server takes the scenario's. */
  seed?: number;
  productId?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ReplayOptions extends ReplayTargetOptions {
  prepared: Prepared;
  logLabel: string;
  timeScale: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Every verdict violation, one JSON line each (a run's violations.jsonl); absent: counted and sampled in the report only. */
  violationsFile?: string;
  /** Lines about the judging (a file that could not be written, a server view that failed). */
  log?: (line: string) => void;
  /** Injected in tests: a fake clock and send (then no server is started and `url` only labels). */
  fake?: { clock: ReplayClock; transport: ReplayTransport; target: ReplaySettings };
}

interface Target {
  baseUrl: string;
  label: string;
  /** Each dialect's settings, made by its target spec. */
  dialect: ReplaySettings;
  /** A reference server's admin API (the embedded one's, or a target's with OTA_SWARM_ADMIN_TOKEN): the server's view for the verdicts. */
  admin?: AdminClient;
  close(): Promise<void>;
}

const dialectsOf = (scripts: readonly DeviceScript[]): Set<string> => new Set(scripts.map((s) => s.dialect));

/**
 * Each dialect's settings for the log's calls: the `target.<dialect>` block the log implies, made
 * settings by the dialect's own target spec (`make`: from a catalog, or from the environment).
 */
function settingsOf(scripts: readonly DeviceScript[], o: ReplayTargetOptions, make: (spec: DialectTargetSpec, block: unknown) => unknown): ReplaySettings {
  const out: Record<string, unknown> = {};
  for (const name of dialectsOf(scripts)) {
    const spec = getDialect(name).target;
    const first = scripts.find((s) => s.dialect === name)?.steps[0]?.path;
    const block = replayDialect(name)?.targetBlock(first, o.productId !== undefined ? { productId: o.productId } : {});
    if (spec !== undefined) out[name] = make(spec, block);
  }
  return out;
}

async function embeddedTarget(o: ReplayTargetOptions, scripts: readonly DeviceScript[], origin: ReturnType<typeof originNow>): Promise<Target> {
  const server = await startServerThread({ host: '127.0.0.1', port: 0, ...(o.catalog ? { catalog: o.catalog } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}), clock: origin, timeScale: origin.scale, ...(o.bugs && o.bugs.length > 0 ? { bugs: o.bugs } : {}), quiet: true });
  try {
    const admin = new AdminClient(server.url, server.adminToken);
    const catalog = await admin.get<Catalog>('/admin/catalog');
    const ctx: TargetContext = { file: 'the embedded server', env: o.env ?? process.env };
    const dialect = settingsOf(scripts, o, (spec, block) => (spec.fromCatalog ? spec.fromCatalog(block, catalog, ctx) : spec.fromScenario(block, ctx)));
    return { baseUrl: server.url, label: `embedded (${server.url})${o.bugs && o.bugs.length > 0 ? ` with bug ${o.bugs.join(', ')}` : ''}`, dialect, admin, close: () => server.close() };
  } catch (err) {
    await server.close();
    throw err;
  }
}

function externalTarget(o: ReplayTargetOptions & { url: string }, scripts: readonly DeviceScript[]): Target {
  const parsed = checkedTargetUrl(o.url, '--target', o.allowRemote === true, 'pass --allow-remote');
  const env = o.env ?? process.env;
  // Keys come from the environment (the dialect's OTA_SWARM_*_KEY), as a scenario's --target run takes them.
  const dialect = settingsOf(scripts, o, (spec, block) => spec.fromScenario(block, { file: '--target', env }));
  const token = env[ENV_ADMIN_TOKEN];
  return { baseUrl: parsed.origin, label: parsed.origin, dialect, ...(token ? { admin: new AdminClient(parsed.origin, token) } : {}), close: async () => {} };
}

/** Lead before the first call, real ms: the server and the pool are ready by then. */
const START_LEAD_MS = 200;
const DEFAULT_TIMEOUT_MS = 10_000;
/** Devices whose calls the verdicts read (each call is kept until the end). */
const MAX_JUDGED_DEVICES = 10_000;

export async function replay(o: ReplayOptions): Promise<ReplayReport> {
  const { scripts } = o.prepared;
  const origin = originNow(o.timeScale);
  const target: Target = o.fake
    ? { baseUrl: o.url ?? 'fake', label: o.url ?? 'fake', dialect: o.fake.target, close: async () => {} }
    : o.url !== undefined
      ? externalTarget({ ...o, url: o.url }, scripts)
      : await embeddedTarget(o, scripts, origin);
  const engineTransport = o.fake ? undefined : (makeTransport('http', { baseUrl: target.baseUrl, connections: Math.min(64, Math.max(1, scripts.length)), maxBodyBytes: 300 * 1024 * 1024 }) as Transport<HttpRequest, HttpResult>);
  try {
    const clock = o.fake?.clock ?? scaledReplayClock(origin);
    const transport: ReplayTransport = o.fake?.transport ?? engineTransport!;
    const recorder = new OperationRecorder();
    const lag = new LagRecorder();
    lag.start();
    const startVirtual = clock.now() + START_LEAD_MS * o.timeScale;
    // The verdicts read the calls of the first devices as they are answered (at most MAX_EXCHANGES each); the report says when not all.
    const judged = scripts.slice(0, MAX_JUDGED_DEVICES);
    const evidence = new ReplayEvidence(judged, startVirtual, target.dialect);
    const perDevice = await driveReplay({
      scripts,
      target: target.dialect,
      clock,
      startVirtual,
      onCall: (c: ReplayedCall) => evidence.add(c),
      transport,
      timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      recorder,
      ...(o.fake ? {} : { lag }),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    lag.stop();
    const operations = operationsReport(mergeSnapshots([recorder.snapshot()]));
    const verdicts = await evidence.judge({ ...(target.admin ? { admin: target.admin } : {}), ...(o.violationsFile !== undefined ? { violationsFile: o.violationsFile } : {}), log: o.log ?? (() => {}) });
    const notes = [...o.prepared.set.notes];
    if (scripts.length > MAX_JUDGED_DEVICES) notes.push(`the verdicts judged the first ${MAX_JUDGED_DEVICES} of ${scripts.length} devices`);
    if (o.prepared.set.notCalls > 0) notes.push(`${o.prepared.set.notCalls} line(s) are no OneNET or Luat call: not replayed`);
    if (o.prepared.set.noDevice > 0) notes.push(`${o.prepared.set.noDevice} call(s) name no device and no task another line ties to one: not replayed`);
    const differingDevices = perDevice.filter((d) => d.first !== undefined).length;
    return {
      format: 1,
      log: o.logLabel,
      logFormat: o.prepared.format,
      target: target.label,
      timeScale: o.timeScale,
      devices: scripts.length,
      calls: perDevice.reduce((n, d) => n + d.calls, 0),
      replayed: perDevice.reduce((n, d) => n + d.replayed, 0),
      differingDevices,
      perDevice,
      operations,
      harness: harnessReport(mergeLagSnapshots([lag.snapshot()]), 1, operations),
      notes,
      verdicts,
      transitions: { status: 'not-judged', reason: TRANSITIONS_NOT_JUDGED },
      passed: differingDevices === 0 && perDevice.every((d) => d.stopped === undefined) && verdicts.error === undefined && verdicts.rules.every((v) => v.violations === 0),
    };
  } finally {
    await engineTransport?.close();
    await target.close();
  }
}
