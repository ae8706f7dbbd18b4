/**
 * `ota-swarm`: run, validate, serve. Exit status: 0 every expectation held, 1 one failed (or the
 * run could not pass), 2 bad usage or scenario, 130 interrupted (after writing the partial report).
 */
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import yargs, { type Argv, type MiddlewareFunction } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ConfigError } from '../config/load.js';
import { loadDialectPlugin } from '../dialect/plugins.js';
import { parseDuration, parseTimeScale } from '../config/units.js';
import { loadScenario, type ScenarioOverrides } from '../scenario/load.js';
import { parseProfileFlags, PROFILE_KEYS } from '../protocol/profile.js';
import { runScenario, defaultWorkers } from '../engine/run.js';
import { planRun } from '../engine/capacity.js';
import { machineFacts } from '../engine/machine.js';
import { formatSummary } from '../report/console.js';
import { runDirName } from '../report/write.js';
import { VIOLATIONS_FILE } from '../verdicts/violations-file.js';
import { prepareOutDir } from '../report/out-dir.js';
import { saveRun } from '../report/save-run.js';
import { serveCommand } from './serve.js';
import { flagValueError, joinNegativeValues, notANumberError, type JoinedArgv, type OptionKinds } from './argv.js';
import { compareCommand, reportCommand } from './report-commands.js';
import { replayCommand } from './replay.js';
import { appendStepSummary } from '../report/render-run.js';
import { createLiveDisplay } from '../outputs/live-display.js';
import { serveMetrics, type MetricsEndpoint } from '../outputs/prometheus.js';
import type { LiveView } from '../engine/live.js';
import { resolveSlice, SliceError, sliceLabel, sliceSize, type FleetSlice } from '../engine/fleet-slice.js';
import { resolveStartAt, StartAtError } from '../engine/start-barrier.js';
import { DEVICES_FILE } from '../report/devices-file.js';
import { mergeCommand } from './merge-command.js';
import { k8sCommand } from './k8s-command.js';
import { framedRunFolder } from './framed.js';
import { withBugFlags } from './run-bugs.js';

export const EXIT = { passed: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Every environment variable the tool reads (README lists the same). */
export const ENV_HELP = [
  'Environment:',
  '  OTA_SWARM_ONENET_ACCESS_KEY  OneNET product access key (base64), with --target',
  '                               (unless target.onenet.accessKey names another)',
  '  OTA_SWARM_LUAT_PROJECT_KEY   Luat project key, with --target',
  '                               (unless target.luat.projectKey names another)',
  '  OTA_SWARM_ADMIN_TOKEN        a reference server\'s admin token: serve uses it;',
  '                               run reads keys, catalog and device states with it',
  '  OTA_SWARM_AIOT_APP_KEY       AIOT Appkey (pushes carry it), for run\'s application',
  '  OTA_SWARM_AIOT_ACCESS_TOKEN  AIOT north-bound Access-Token; both also for serve --aiot',
  '  OTA_SWARM_REPLAY_SALT        replay --anonymise: the salt of the test ids (or --salt-file)',
  '  OTA_SWARM_DEBUG              set: print the stack of an unexpected error',
  '  GITHUB_STEP_SUMMARY          set (GitHub Actions): append the summary to it',
  '  JOB_COMPLETION_INDEX         with OTA_SWARM_SHARDS: run that slice of the fleet',
  '  OTA_SWARM_SHARDS             how many slices (a Kubernetes Indexed Job\'s completions)',
  '  OTA_SWARM_START_AT           the agreed start of every shard (as --start-at)',
].join('\n');

class UsageError extends Error {}

interface RunArgs {
  scenario: string;
  target?: string;
  devices?: number;
  workers?: number;
  duration?: string;
  'time-scale'?: string;
  seed?: number;
  out: string;
  'allow-remote': boolean;
  quiet: boolean;
  'metrics-port'?: number;
  plugin?: string[];
  'product-id'?: string;
  probe: boolean;
  profile?: string[];
  'allow-clock-skew'?: boolean;
  shard?: string;
  'start-at'?: string;
  'device-finals'?: boolean;
  'metrics-host'?: string;
  'report-stdout'?: boolean;
  'exchange-log'?: string;
  bug?: string[];
}

function overridesFrom(a: Pick<RunArgs, 'devices' | 'seed' | 'time-scale' | 'target' | 'duration' | 'product-id' | 'profile' | 'allow-clock-skew'>): ScenarioOverrides {
  const o: ScenarioOverrides = {};
  if (a['product-id'] !== undefined) o.productId = String(a['product-id']);
  if (a.profile !== undefined) o.profile = profileFlags(a.profile);
  if (a['allow-clock-skew'] === true) o.allowClockSkew = true;
  if (a.devices !== undefined) o.devices = a.devices;
  if (a.seed !== undefined) o.seed = a.seed;
  if (a['time-scale'] !== undefined) {
    const scale = parseTimeScale(a['time-scale']);
    if (scale === undefined) throw new UsageError(`--time-scale: "${a['time-scale']}" is not a number above 0 (at most 1000000) nor max`);
    o.timeScale = scale;
  }
  if (a.target !== undefined) o.targetUrl = a.target;
  if (a.duration !== undefined) {
    const ms = parseDuration(a.duration);
    if (ms === undefined && /^\s*-/.test(a.duration)) throw new UsageError(`--duration: must be a positive duration (e.g. 90s, 5m), got ${a.duration}`);
    if (ms === undefined) throw new UsageError(`--duration: "${a.duration}" is not a duration (e.g. 90s, 5m)`);
    if (ms <= 0) throw new UsageError(`--duration: must be a positive duration (e.g. 90s, 5m), got ${a.duration}`);
    o.durationMs = ms;
  }
  return o;
}

function profileFlags(flags: readonly unknown[]): NonNullable<ScenarioOverrides['profile']> {
  try {
    return parseProfileFlags(flags.map(String));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function runCommand(a: RunArgs): Promise<number> {
  if (a.workers !== undefined && (!Number.isInteger(a.workers) || a.workers < 1)) throw new UsageError('--workers: must be a positive integer');
  for (const p of a.plugin ?? []) await loadDialectPlugin(p);
  const scenario = withBugFlags(loadScenario(a.scenario, overridesFrom(a)), a.bug);
  const slice = sliceOrUsage(a.shard);
  const startAtMs = startAtOrUsage(a['start-at']);
  const devices = slice ? sliceSize(scenario.fleet.devices, slice) : scenario.fleet.devices;
  // Before anything starts: more threads than cores, or a fleet the memory cannot hold.
  const capacity = planRun({ ...scenario, fleet: { ...scenario.fleet, devices } }, a.workers ?? defaultWorkers(), '--workers', machineFacts());
  if (capacity.refusal) throw new UsageError(`${a.devices !== undefined ? '--devices' : `${a.scenario}: fleet.devices`}: ${capacity.refusal}`);
  if (capacity.warning) process.stderr.write(`ota-swarm: ${capacity.warning}\n`);
  const workers = capacity.workers;
  await prepareOutDir(a.out);
  if (a['exchange-log'] !== undefined) await checkWritable('--exchange-log', a['exchange-log']);
  const say = (line: string): void => {
    if (!a.quiet) process.stderr.write(`${line}\n`);
  };
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`ota-swarm: ${sig} again, leaving without a report\n`);
      process.exit(EXIT.interrupted);
    }
    process.stderr.write(`ota-swarm: ${sig}: stopping the run and writing the partial report (again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  say(`ota-swarm: ${scenario.name}: ${slice ? `${sliceLabel(slice)}: ${devices} of ` : ''}${scenario.fleet.devices} ${scenario.dialect} devices, ${workers} worker${workers === 1 ? '' : 's'}, ${scenario.target.url ?? 'embedded server'}`);
  const port = a['metrics-port'];
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError('--metrics-port: must be a port number (0-65535)');
  let latest: LiveView = { operations: {}, states: {} };
  let metrics: MetricsEndpoint | undefined;
  if (port !== undefined) {
    metrics = await serveMetrics(port, () => latest, a['metrics-host'] ?? '127.0.0.1', slice ? { shard: String(slice.index), shards: String(slice.count) } : {});
    say(`ota-swarm: Prometheus metrics at ${metrics.url}`);
  }
  const display = a.quiet ? undefined : createLiveDisplay(scenario.dialect, process.stderr);
  // Known before the run: violations.jsonl streams into it while the verdicts are judged.
  const runName = runDirName(scenario.name, new Date());
  const dir = join(resolve(a.out), runName);
  try {
    const report = await runScenario({
      scenario,
      workers,
      allowRemote: a['allow-remote'],
      probe: a.probe,
      plugins: a.plugin ?? [],
      signal: controller.signal,
      log: say,
      onProgress: (p) => {
        latest = p.live;
        display?.update(p);
      },
      progressEveryMs: process.stderr.isTTY ? 500 : 5000,
      violationsFile: join(dir, VIOLATIONS_FILE),
      ...(slice ? { slice } : {}),
      ...(startAtMs !== undefined ? { startAtMs } : {}),
      ...(a['device-finals'] === true ? { devicesFile: join(dir, DEVICES_FILE) } : {}),
      ...(a['exchange-log'] !== undefined ? { exchangeLog: resolve(a['exchange-log']) } : {}),
    });
    display?.stop();
    const saved = await saveRun(report, a.out, runName);
    await appendStepSummary(report);
    process.stdout.write(`${formatSummary(report, { color: Boolean(process.stdout.isTTY) })}\n`);
    process.stdout.write(`report: ${saved.file} (and report.html, junit.xml${report.violationsFile !== undefined ? `, ${report.violationsFile}` : ''} beside it)\n`);
    if (a['report-stdout'] === true) process.stdout.write(await framedRunFolder(saved.dir));
    if (a['exchange-log'] !== undefined) process.stdout.write(`exchange log: ${a['exchange-log']} (replay it with \`ota-swarm replay\`)\n`);
    if (saved.fallback) process.stderr.write(`ota-swarm: --out: cannot write ${saved.fallback.wanted} (${saved.fallback.reason}); the reports are in ${saved.dir} instead\n`);
    if (report.interrupted) return EXIT.interrupted;
    if (slice) {
      // A shard's figures are a part of the fleet's: the fleet's verdict is the merge's. The shard
      // fails only when it could not run its part (an Indexed Job must not give up on the others).
      process.stdout.write(`${sliceLabel(slice)}: the fleet's verdict comes from ota-swarm merge over every shard's folder\n`);
      return report.errors.length === 0 && !saved.fallback ? EXIT.passed : EXIT.failed;
    }
    // Reports not where CI looks for them are a failure even when every expectation held.
    return report.passed && !saved.fallback ? EXIT.passed : EXIT.failed;
  } finally {
    display?.stop();
    await metrics?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function sliceOrUsage(flag: string | undefined): FleetSlice | undefined {
  try {
    // Kept even as 1/1: a one-pod Job's report must still be a shard report for its merge Job.
    return resolveSlice(flag, process.env);
  } catch (err) {
    if (err instanceof SliceError) throw new UsageError(err.message);
    throw err;
  }
}

function startAtOrUsage(flag: string | undefined): number | undefined {
  try {
    return resolveStartAt(flag, process.env, Date.now());
  } catch (err) {
    if (err instanceof StartAtError) throw new UsageError(err.message);
    throw err;
  }
}

/** A file a run will write at its end, checked (and emptied) before the fleet starts. */
async function checkWritable(flag: string, file: string): Promise<void> {
  try {
    await writeFile(file, '');
  } catch (err) {
    throw new UsageError(`${flag}: cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

async function validateCommand(a: { scenario: string; plugin?: string[] }): Promise<number> {
  for (const p of a.plugin ?? []) await loadDialectPlugin(p);
  const s = loadScenario(a.scenario);
  const cohorts = s.fleet.cohorts.map((c) => `${c.name} ${c.count}`).join(', ');
  process.stdout.write(`${a.scenario}: ok: ${s.name}, ${s.dialect}, ${s.fleet.devices} devices (${cohorts}), ${s.expect.length} expectations\n`);
  return EXIT.passed;
}

export function buildCli(argv: string[]): Argv {
  const words = joinNegativeValues(argv);
  return yargs(words.argv)
    .scriptName('ota-swarm')
    .middleware(requireFlagValues(words), true)
    .usage('$0 <command> [options]')
    .command(
      'run <scenario>',
      'run a fleet of virtual devices (against --target, or the embedded reference server)',
      (y) =>
        y
          .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario YAML file' })
          .option('target', { type: 'string', describe: 'base URL of the OTA server (default: start the embedded one)' })
          .option('devices', { type: 'number', describe: 'fleet size (cohort shares apply to it)' })
          .option('workers', { type: 'number', describe: 'worker threads (default: cores - 1; more than the cores are capped, with a warning)' })
          .option('duration', { type: 'string', describe: 'stop after this real time (e.g. 90s, 5m)' })
          .option('time-scale', { type: 'string', describe: 'virtual seconds per real second, or max (as fast as the logic allows): the embedded server, or a --target whose /admin/clock says max (serve --time-scale max, with OTA_SWARM_ADMIN_TOKEN)' })
          .option('seed', { type: 'number', describe: 'seed of every random draw' })
          .option('out', { type: 'string', default: 'reports', describe: 'folder for the run folder with report.json (made and checked writable before the fleet starts)' })
          .option('allow-remote', { type: 'boolean', default: false, describe: 'permit a non-loopback --target' })
          .option('profile', { type: 'string', array: true, describe: `what the target promises, key=value (repeatable; wins over target.profile): ${PROFILE_KEYS.join(', ')}` })
          .option('allow-clock-skew', { type: 'boolean', default: false, describe: 'let a run whose --time-scale is not 1 go against a --target that keeps its own time (day-window verdicts then use its wall clock)' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no live progress' })
          .option('plugin', { type: 'string', array: true, describe: 'a dialect plugin module (repeatable); see docs/plugins.md' })
          .option('metrics-port', { type: 'number', describe: 'serve Prometheus metrics on 127.0.0.1:P/metrics while the run goes' })
          .option('product-id', { type: 'string', describe: 'OneNET product id (pid) the tokens are signed for; overrides target.onenet.productId' })
          .option('shard', { type: 'string', describe: 'run slice i of N of the fleet (0-based, e.g. 0/4; also JOB_COMPLETION_INDEX with OTA_SWARM_SHARDS); merge the slices with ota-swarm merge' })
          .option('start-at', { type: 'string', describe: 'ISO instant (with zone) every shard starts its virtual time at (also OTA_SWARM_START_AT)' })
          .option('device-finals', { type: 'boolean', default: false, describe: `write every started device's final state to ${DEVICES_FILE} beside report.json` })
          .option('report-stdout', { type: 'boolean', default: false, describe: 'also print the run folder (report.json, violations.jsonl, finals.jsonl) framed on stdout, for kubectl logs; ota-swarm merge reads the saved logs' })
          .option('metrics-host', { type: 'string', describe: 'address --metrics-port listens on (default 127.0.0.1; 0.0.0.0 in a pod, for its Service)' })
          .option('exchange-log', { type: 'string', describe: 'write every exchange to this file, one record a line (JSON lines; CSV when it ends in .csv); replay it with `ota-swarm replay` (docs/replay.md)' })
          .option('bug', { type: 'string', array: true, describe: 'switch on a named bug of the embedded server (repeatable; beside the scenario\'s server.bugs; docs/server.md)' })
          .option('probe', { type: 'boolean', default: true, describe: 'with --target, send one device through its first calls before the fleet and stop (exit 2) when the target refuses it for authentication; --no-probe skips it' })
          .epilogue(ENV_HELP),
      async (a) => {
        process.exitCode = await runCommand(a as unknown as RunArgs);
      },
    )
    .command(
      'validate <scenario>',
      'check a scenario file against the schema and its own rules',
      (y) =>
        y
          .positional('scenario', { type: 'string', demandOption: true })
          .option('plugin', { type: 'string', array: true, describe: 'a dialect plugin module (repeatable)' }),
      async (a) => {
        process.exitCode = await validateCommand(a as { scenario: string; plugin?: string[] });
      },
    )
    .command(serveCommand)
    .command(compareCommand)
    .command(reportCommand)
    .command(mergeCommand)
    .command(k8sCommand)
    .command(replayCommand)
    .demandCommand(1, 'name a command: run, validate, serve, compare, report, merge, k8s or replay')
    .epilogue(ENV_HELP)
    .strict()
    .help()
    .version(packageVersion())
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
}

/** Refuses a valued flag given without a value, or a number flag given text (see ./argv.ts). */
function requireFlagValues(words: JoinedArgv): MiddlewareFunction {
  return (parsed, y?: unknown) => {
    const kinds = (y as { getOptions(): OptionKinds }).getOptions();
    const error = flagValueError(words.argv, kinds, words.joined) ?? notANumberError(parsed, kinds, words.argv);
    if (error !== undefined) throw new UsageError(error);
  };
}

/** package.json's version, for `--version`; the file sits two folders above src/cli and dist/cli. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export async function main(argv = hideBin(process.argv)): Promise<number> {
  try {
    await buildCli(argv).parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.passed;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`ota-swarm: ${err.message}\n`);
      return EXIT.usage;
    }
    // Not the user's input: a run that could not happen (a port in use, a worker that died).
    const text = err instanceof Error ? err.message : String(err);
    process.stderr.write(`ota-swarm: ${text.split('\n')[0]}\n`);
    if (process.env['OTA_SWARM_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return EXIT.failed;
  }
}
