/**
 * `ota-swarm replay LOG`: replay a field log (or a run's exchange log) against a server and say,
 * per device, where its answers now differ. Flags are checked into ReplayCliOptions by a pure
 * function; the handler reads, writes and runs. Exit 0: every answer as logged; 1: a difference
 * (or a device that could not go on); 2: bad usage or a bad log line (file:line).
 */
import { writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { stringify } from 'yaml';
import { ConfigError } from '../config/load.js';
import { resolveSecret } from '../config/secret.js';
import { parseDuration, parseTimeScale } from '../config/units.js';
import { loadCatalog } from '../catalog/load.js';
import { parseBugs, type BugName } from '../server/bugs.js';
import { LOG_FORMATS, type LogFormat } from '../exchanges/read-log.js';
import { ENV_REPLAY_SALT } from '../replay/anonymise.js';
import { prepareReplay, replay, type Prepared } from '../replay/session.js';
import { formatReplay } from '../replay/report.js';
import { emitScenario } from '../replay/emit.js';
import { csvHeader, csvLineOf } from '../exchanges/formats/csv.js';
import { EXCHANGE_COLUMNS, type Exchange } from '../exchanges/exchange.js';
import { recogniseCall } from '../exchanges/calls.js';

export interface ReplayArgs {
  log: string;
  target?: string;
  format: string;
  devices?: number;
  device?: string;
  'first-id'?: string;
  spread?: string;
  'time-scale'?: string;
  'emit-scenario'?: string;
  'write-log'?: string;
  anonymise: boolean;
  'salt-file'?: string;
  bug?: string[];
  catalog?: string;
  seed?: number;
  'product-id'?: string;
  'allow-remote': boolean;
  json?: string;
  violations?: string;
  timeout?: string;
  run: boolean;
}

/** Most devices a clone makes (every load loop is bounded). */
export const MAX_REPLAY_DEVICES = 100_000;

export interface ReplayCliOptions {
  format: LogFormat;
  devices?: number;
  spreadMs?: number;
  timeScale: number;
  timeoutMs?: number;
  bugs: BugName[];
  salt?: string;
}

/** Flags → options; throws a one-line ConfigError naming the flag. Pure but for reading a salt file. */
export function replayOptionsFromArgs(a: ReplayArgs, env: NodeJS.ProcessEnv = process.env): ReplayCliOptions {
  if (!(LOG_FORMATS as readonly string[]).includes(a.format)) throw new ConfigError(`--format: "${a.format}" is not one of ${LOG_FORMATS.join(', ')}`);
  if (a.devices !== undefined && (!Number.isInteger(a.devices) || a.devices < 1 || a.devices > MAX_REPLAY_DEVICES)) throw new ConfigError(`--devices: must be an integer 1..${MAX_REPLAY_DEVICES}, got ${a.devices}`);
  let spreadMs: number | undefined;
  if (a.spread !== undefined) {
    spreadMs = parseDuration(a.spread);
    if (spreadMs === undefined || spreadMs < 0) throw new ConfigError(`--spread: "${a.spread}" is not a duration (e.g. 10m)`);
    if (a.devices === undefined) throw new ConfigError('--spread: needs --devices N (the clones it spreads)');
  }
  const scale = a['time-scale'] === undefined ? 1 : parseTimeScale(a['time-scale']);
  if (scale === undefined) throw new ConfigError(`--time-scale: "${a['time-scale']}" is not a number above 0`);
  if (scale === 'max') throw new ConfigError('--time-scale: max is not for replays (the log\'s gaps are the point); give a number, e.g. 100');
  let timeoutMs: number | undefined;
  if (a.timeout !== undefined) {
    timeoutMs = parseDuration(a.timeout);
    if (timeoutMs === undefined || timeoutMs <= 0) throw new ConfigError(`--timeout: "${a.timeout}" is not a positive duration`);
  }
  const bugs = parseBugs(a.bug, '--bug');
  if (a.seed !== undefined && (!Number.isSafeInteger(a.seed) || a.seed < 0)) throw new ConfigError(`--seed: must be a non-negative integer, got ${a.seed}`);
  if (a.seed !== undefined && a.target !== undefined) throw new ConfigError('--seed: seeds the embedded server; a --target has its own');
  if (bugs.length > 0 && a.target !== undefined) throw new ConfigError('--bug: switches on a named bug of the embedded server; a --target runs its own code');
  let salt: string | undefined;
  if (a.anonymise) {
    salt = a['salt-file'] !== undefined ? resolveSecret({ file: a['salt-file'] }, '--salt-file', env) : resolveSecret({ env: ENV_REPLAY_SALT }, `--anonymise (the salt: set ${ENV_REPLAY_SALT} or give --salt-file)`, env);
    if (salt.length < 8) throw new ConfigError('--anonymise: the salt must have at least 8 characters');
  } else if (a['salt-file'] !== undefined) {
    throw new ConfigError('--salt-file: only with --anonymise');
  }
  return { format: a.format as LogFormat, ...(a.devices !== undefined ? { devices: a.devices } : {}), ...(spreadMs !== undefined ? { spreadMs } : {}), timeScale: scale, ...(timeoutMs !== undefined ? { timeoutMs } : {}), bugs, ...(salt !== undefined ? { salt } : {}) };
}

/** The exchanges as a log file in the documented columns (JSON lines; CSV when the name ends in .csv). */
export function logText(exchanges: readonly Exchange[], file: string): string {
  const records = exchanges.map((e) => {
    const call = recogniseCall(e.method, e.path, e.body);
    const values: Record<string, unknown> = { ...e, t: new Date(e.t).toISOString(), ...(call ? { dialect: call.dialect, op: call.op } : {}) };
    // The documented column order, absent fields left out.
    return Object.fromEntries(EXCHANGE_COLUMNS.filter((c) => values[c] !== undefined).map((c) => [c, values[c]]));
  });
  if (extname(file).toLowerCase() === '.csv') return `${[csvHeader(), ...records.map(csvLineOf)].join('\n')}\n`;
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : '');
}

async function writeOutputs(a: ReplayArgs, prepared: Prepared, say: (s: string) => void): Promise<void> {
  const write = async (flag: string, file: string, text: string): Promise<void> => {
    try {
      await writeFile(file, text);
    } catch (err) {
      throw new ConfigError(`--${flag}: cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    say(`ota-swarm: wrote ${file}`);
  };
  if (a['write-log'] !== undefined) await write('write-log', a['write-log'], logText(prepared.exchanges, a['write-log']));
  if (a['emit-scenario'] !== undefined) {
    const name = `replay-${basename(a.log).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_-]/g, '-')}`;
    const scenario = emitScenario({ name, source: basename(a.log), scripts: prepared.scripts, ...(a['product-id'] !== undefined ? { productId: a['product-id'] } : {}) });
    const header = `# Emitted by \`ota-swarm replay ${basename(a.log)} --emit-scenario\`: the cohorts' behaviours are inferred from the log\n# (cuts, lost answers, sleeps); check them, then keep the file in the regression suite.\n`;
    await write('emit-scenario', a['emit-scenario'], header + stringify(scenario));
  }
}

async function replayHandler(a: ReplayArgs): Promise<number> {
  const o = replayOptionsFromArgs(a);
  const catalog = a.catalog !== undefined ? loadCatalog(a.catalog) : undefined;
  if (catalog !== undefined && a.target !== undefined) throw new ConfigError('--catalog: for the embedded server; a --target has its own');
  const prepared = prepareReplay({
    log: a.log,
    format: o.format,
    ...(o.salt !== undefined ? { anonymiseSalt: o.salt } : {}),
    ...(a.device !== undefined ? { device: a.device } : {}),
    ...(o.devices !== undefined ? { devices: o.devices } : {}),
    ...(o.spreadMs !== undefined ? { spreadMs: o.spreadMs } : {}),
    ...(a['first-id'] !== undefined ? { firstId: a['first-id'] } : {}),
  });
  const say = (s: string): void => void process.stderr.write(`${s}\n`);
  await writeOutputs(a, prepared, say);
  if (!a.run) {
    const calls = prepared.scripts.reduce((n, s) => n + s.steps.length, 0);
    process.stdout.write(`${a.log}: ${prepared.format}, ${prepared.exchanges.length} line(s): ${prepared.scripts.length} device script(s), ${calls} calls (not run: --no-run)\n`);
    return 0;
  }
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const report = await replay({
      prepared,
      logLabel: a.log,
      timeScale: o.timeScale,
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(a.target !== undefined ? { url: a.target } : {}),
      allowRemote: a['allow-remote'],
      bugs: o.bugs,
      ...(catalog !== undefined ? { catalog } : {}),
      ...(a.seed !== undefined ? { seed: a.seed } : {}),
      ...(a['product-id'] !== undefined ? { productId: a['product-id'] } : {}),
      ...(a.violations !== undefined ? { violationsFile: a.violations } : {}),
      log: say,
      signal: controller.signal,
    });
    process.stdout.write(`${formatReplay(report)}\n`);
    if (a.json !== undefined) {
      await writeFile(a.json, `${JSON.stringify(report, null, 2)}\n`).catch((err: NodeJS.ErrnoException) => {
        throw new ConfigError(`--json: cannot write ${a.json} (${err.code ?? err.message})`);
      });
    }
    if (controller.signal.aborted) return 130;
    return report.passed ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: 'replay <log>',
  describe: 'replay a field log (JSON lines, CSV, HAR, nginx/Apache) against a server (--target, or the embedded one) and show where its answers now differ',
  builder: (y: Argv) =>
    y
      .positional('log', { type: 'string', demandOption: true, describe: 'the log: JSON lines or CSV (docs/replay.md columns, as run --exchange-log writes), HAR 1.2, or a combined access log' })
      .option('target', { type: 'string', describe: 'base URL of the OTA server (default: start the embedded reference server); keys from OTA_SWARM_ONENET_ACCESS_KEY / OTA_SWARM_LUAT_PROJECT_KEY' })
      .option('format', { type: 'string', default: 'auto', describe: `the log's format: ${LOG_FORMATS.join(', ')}` })
      .option('devices', { type: 'number', describe: `clone one device's log onto N devices (at most ${MAX_REPLAY_DEVICES})` })
      .option('device', { type: 'string', describe: 'the device whose log is cloned (default: the first in the log)' })
      .option('first-id', { type: 'string', describe: "first id of the clones, counted up (default: the cloned device's id)" })
      .option('spread', { type: 'string', describe: 'with --devices: start the clones spread over this virtual window (e.g. 10m)' })
      .option('time-scale', { type: 'string', describe: 'virtual seconds per real second (default 1): a day of log runs in 864 s at 100' })
      .option('timeout', { type: 'string', describe: 'give up on an answer after this real time (default 10s)' })
      .option('emit-scenario', { type: 'string', describe: 'write the equivalent scenario (cohort behaviours inferred) to this YAML file' })
      .option('write-log', { type: 'string', describe: 'write the log as read (anonymised with --anonymise) in the documented columns: JSON lines, or CSV for a .csv name' })
      .option('anonymise', { type: 'boolean', default: false, describe: `map device ids and tasks to test ids with a salted hash (salt from ${ENV_REPLAY_SALT} or --salt-file)` })
      .option('salt-file', { type: 'string', describe: 'file holding the anonymising salt' })
      .option('bug', { type: 'string', array: true, describe: 'switch on a named bug of the embedded server (repeatable; docs/server.md)' })
      .option('catalog', { type: 'string', describe: "the embedded server's catalog (default: the built-in one)" })
      .option('seed', { type: 'number', describe: "the embedded server's seed (tokens, Luat diff build times): a run's embedded server takes its scenario's seed" })
      .option('product-id', { type: 'string', describe: 'OneNET product id the calls are signed for (default 198290)' })
      .option('allow-remote', { type: 'boolean', default: false, describe: 'permit a non-loopback --target' })
      .option('json', { type: 'string', describe: 'write the replay report as JSON to this file' })
      .option('violations', { type: 'string', describe: "write every verdict violation to this file, one JSON line each with the device's trace (as a run's violations.jsonl)" })
      .option('run', { type: 'boolean', default: true, describe: 'replay the log; --no-run only reads it and writes --emit-scenario / --write-log' }) as unknown as Argv<ReplayArgs>,
  handler: async (a: ArgumentsCamelCase<ReplayArgs>) => {
    process.exitCode = await replayHandler(a);
  },
};
