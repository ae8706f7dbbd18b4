/**
 * A run from start to report: resolve the target, start the worker pool, hand each worker its
 * shard, watch the clock and the stop signals, then merge what came back (histograms merged,
 * never percentiles) into one report. Always produces a report, even when interrupted.
 */
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { Piscina } from 'piscina';
import type { Scenario } from '../scenario/types.js';
import type { Report } from '../report/types.js';
import { getDialect } from '../dialect/registry.js';
import { expandFleet } from '../scenario/fleet.js';
import { loadDialectPlugin, pluginUrl } from '../dialect/plugins.js';
import { originNow, ScaledClock, type ClockOrigin } from '../time/clock.js';
import { evaluateExpectations } from '../scenario/expectations.js';
import { mergeSnapshots, operationsReport, mergeLagSnapshots, harnessReport } from '../metrics/recorder.js';
import { mergeTransitionChecks, transitionsReport } from '../metrics/transitions.js';
import { mergeSeries } from '../metrics/series.js';
import { stateCategory } from '../dialect/categories.js';
import { evidenceFolder, judgeVerdicts, serverAgreementOf } from '../verdicts/judge-run.js';
import { scheduleServerEvents, type AppliedEvent, type EventTiming } from '../verdicts/server-events.js';
import { compiledSibling } from './worker-file.js';
import { resolveTarget, type ResolvedTarget } from './target.js';
import { profileEntries } from '../protocol/profile.js';
import { Frontier } from '../time/frontier.js';
import { PROGRESS_FIELDS, readProgress, type ProgressTotals } from './progress.js';
import type { ShardResult, ShardTask } from './shard-task.js';
import { MessageChannel } from 'node:worker_threads';
import { CLI_FLAGS, type OptionNames } from '../scenario/option-names.js';
import { checkFdLimit } from './udp.js';
import { sumCounts } from '../metrics/counts.js';
import { LiveFeed, type LiveView } from './live.js';
import { DEFAULT_WATCHDOG_MS, describeLoss, LOST_WITH_WORKER, lostShards, superviseShards, WorkerWatch, type LostShard } from './worker-watch.js';
import { probeOrRefuse, probeAmendment, type ProbeOutcome } from './probe.js';
import { rerunHints } from '../report/hints.js';
import { planRun } from './capacity.js';
import { machineFacts } from './machine.js';
import { ConfigError } from '../config/load.js';
import { fleetIndexOf, isWholeFleet, sliceSize, WHOLE_FLEET, type FleetSlice } from './fleet-slice.js';
import { judgeStart, readDateHeader, sleepUntilStart, startNotes, waitBeforeStart } from './start-barrier.js';
import { writeDevicesFile } from '../report/devices-file.js';
import type { StartReport } from '../report/types.js';
import { prepareApplication } from './application.js';
import { mergeExchangeParts, partFileOf } from '../exchanges/log-writer.js';

export interface RunOptions {
  scenario: Scenario;
  /** Worker threads; default: cores minus one (a core stays for the embedded server), at least 1. */
  workers?: number;
  /** Permit a non-loopback `--target`. */
  allowRemote?: boolean;
  /** Aborting it stops the run; the report is still produced, marked interrupted. */
  signal?: AbortSignal;
  /** Called every `progressEveryMs` with live counters and the merged live view. */
  onProgress?: (p: LiveProgress) => void;
  progressEveryMs?: number;
  /** Notices for the user (never secrets). */
  log?: (line: string) => void;
  /**
   * The virtual clock's origin; default: now, at the scenario's time scale. Give the one a
   * reference server runs on (`ota-swarm serve` prints it) so both agree on every virtual instant.
   */
  clock?: ClockOrigin;
  /** Dialect plugin modules (paths or file URLs), loaded here and in every worker. */
  plugins?: string[];
  /** Real ms a worker may stay silent before it is declared hung and terminated (default 60 s). */
  watchdogMs?: number;
  /** Where every verdict violation is written as it is judged (the run folder's violations.jsonl). */
  violationsFile?: string;
  /** Probe a target of the user's with one device before the fleet (./probe.ts); default true. */
  probe?: boolean;
  /** How errors name the caller's options (the CLI's flags by default; the API its option paths). */
  names?: OptionNames;
  /** Run only this machine's slice of the fleet (./fleet-slice.ts); default: the whole fleet. */
  slice?: FleetSlice;
  /** Wall-clock ms (epoch) every slice starts its virtual time at (./start-barrier.ts). */
  startAtMs?: number;
  /** Write every started device's final state here, one JSON line each (report/devices-file.ts). */
  devicesFile?: string;
  /** Write every exchange to this file, one record a line (JSON lines; CSV when it ends in .csv): see docs/replay.md. */
  exchangeLog?: string;
}

/**
 * Real ms the workers are given to start before the first device is due: a fixed part for the
 * thread and its modules, and a part for scheduling every device's first wake (about half a
 * microsecond a device measured; a microsecond allowed), so a large fleet does not start late.
 */
const startLeadMs = (devicesPerWorker: number): number => 300 + devicesPerWorker / 1000;
/** Real ms the workers are given to wind down after a stop before their results are given up. */
const STOP_GRACE_MS = 15_000;
const AGREEMENT_SAMPLE_PER_WORKER = 2000;
const MAX_VIOLATION_SAMPLES = 5;

export interface LiveProgress extends ProgressTotals {
  elapsedMs: number;
  total: number;
  /** Real ms left before the run's duration cap stops it. */
  capLeftMs: number;
  live: LiveView;
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

export async function runScenario(opts: RunOptions): Promise<Report> {
  const { scenario } = opts;
  const log = opts.log ?? (() => {});
  const plugins = (opts.plugins ?? []).map(pluginUrl);
  for (const url of plugins) await loadDialectPlugin(url);
  getDialect(scenario.dialect); // fails fast, before any thread or server starts, on an unknown dialect
  expandFleet(scenario); // and on a fleet that would run one device twice (a scenario built in code)
  const slice = opts.slice ?? WHOLE_FLEET;
  // The devices this process runs: the whole fleet, or its slice of it.
  const total = sliceSize(scenario.fleet.devices, slice);
  // Every shard would do the scenario's server events on a target they share: N republishes, not one.
  if (!isWholeFleet(slice) && scenario.target.url !== undefined && (scenario.server.events?.length ?? 0) > 0) {
    throw new ConfigError(`${scenario.file}: server.events: a sharded run against a shared --target would do each event once per shard; run the events from one place (the admin API) or run unsharded`);
  }
  const capacity = planRun({ ...scenario, fleet: { ...scenario.fleet, devices: total } }, opts.workers ?? defaultWorkers(), 'workers', machineFacts());
  if (capacity.refusal) throw new ConfigError(`${scenario.file}: fleet.devices: ${capacity.refusal}`);
  if (capacity.warning) log(capacity.warning);
  const workers = Math.max(1, Math.min(capacity.workers, total));
  let startedAt = new Date();
  let t0 = performance.now();
  if (opts.startAtMs !== undefined && opts.clock !== undefined) throw new RangeError('a run is given either an agreed start or a clock origin, not both');
  // An agreed start: virtual time reads the start instant at that wall instant, on every slice.
  const clock: ClockOrigin = opts.clock ?? (opts.startAtMs !== undefined ? { virtualMs: opts.startAtMs, wallMs: opts.startAtMs, scale: scenario.timeScale } : originNow(scenario.timeScale));
  if (clock.scale !== scenario.timeScale) throw new RangeError(`the clock runs at ×${clock.scale} but the scenario at ×${scenario.timeScale}`);
  const errors: string[] = [];
  // Before anything starts that would need stopping: the compiled worker must be there.
  const workerFile = compiledSibling(import.meta.url, './worker.ts');

  checkTransport(scenario, clock, opts.names ?? CLI_FLAGS);
  const transportKind = getDialect(scenario.dialect).transport ?? 'http';
  // The exchange log's columns are an HTTP exchange's (docs/replay.md); another transport's are not defined yet.
  if (opts.exchangeLog !== undefined && transportKind !== 'http') throw new ConfigError(`--exchange-log: records HTTP exchanges only; dialect ${scenario.dialect} speaks ${transportKind}`);
  // The push receiver listens before the target starts: the embedded server is told its URL.
  const application = await prepareApplication(scenario, clock, opts.allowRemote ?? false);
  let target: ResolvedTarget;
  try {
    target = await resolveTarget({ scenario, clock, allowRemote: opts.allowRemote ?? false, clockDeclared: opts.clock !== undefined, ...(opts.names ? { names: opts.names } : {}), ...(application ? { aiot: application.serverOptions } : {}) });
  } catch (err) {
    await application?.close();
    throw err;
  }
  if (application) {
    log(`ota-swarm: push receiver at ${application.receiverUrl}`);
    const started = await application.northbound(target.baseUrl, opts.signal);
    if (!started.ok) {
      await target.close().catch(() => {});
      await application.close();
      throw new Error(`${scenario.file}: ${started.error}`);
    }
  }
  // A target of the user's: one device's first calls first, so a refused key stops the run here.
  const probe =
    target.embedded || opts.probe === false || total === 0
      ? undefined
      : await probeOrRefuse({ scenario, plugin: getDialect(scenario.dialect), target: target.dialect, baseUrl: target.baseUrl, now: virtualNowOf(clock), env: process.env, deviceIndex: fleetIndexOf(slice, 0) }).catch(async (err: unknown) => {
          await application?.close();
          throw err;
        });
  if (probe) log(`ota-swarm: ${probe.report.note}`);
  const leadMs = clock.scale === 'max' ? 0 : startLeadMs(Math.ceil(total / workers));
  let start: StartReport | undefined;
  if (opts.startAtMs !== undefined) {
    const skew = target.embedded ? undefined : await readDateHeader(target.baseUrl);
    const waitMs = waitBeforeStart(opts.startAtMs, Date.now(), leadMs);
    if (waitMs > 0) log(`ota-swarm: waiting ${Math.round(waitMs / 1000)} s for the agreed start ${new Date(opts.startAtMs).toISOString()}`);
    await sleepUntilStart(waitMs, opts.signal);
    start = judgeStart({ startAtMs: opts.startAtMs, startedWallMs: Date.now(), leadMs, skew });
    if (start.lateByMs > 0) log(`ota-swarm: started ${start.lateByMs} ms after the agreed start`);
    // The run's own figures (duration, real time) count from the start, not from the wait.
    startedAt = new Date();
    t0 = performance.now();
  }
  const spill = await evidenceFolder(opts.violationsFile !== undefined ? dirname(opts.violationsFile) : undefined);
  const stopBuffer = new SharedArrayBuffer(4);
  const stopFlag = new Int32Array(stopBuffer);
  const progressBuffer = new SharedArrayBuffer(workers * PROGRESS_FIELDS * 4);
  const progress = new Int32Array(progressBuffer);
  let endedBy: Report['endedBy'] = 'completed';
  const stop = (why: Report['endedBy']): void => {
    if (Atomics.load(stopFlag, 0) !== 0) return;
    endedBy = why;
    Atomics.store(stopFlag, 0, 1);
  };

  const pool = new Piscina({
    filename: workerFile,
    minThreads: workers,
    maxThreads: workers,
    concurrentTasksPerWorker: 1,
    idleTimeout: 1_000,
  });
  const onAbort = (): void => stop('interrupted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop('interrupted');
  const deadline = setTimeout(() => stop('duration'), scenario.stop.maxDurationMs);
  const feed = new LiveFeed();
  const ticker = opts.onProgress
    ? setInterval(() => {
        const elapsedMs = performance.now() - t0;
        opts.onProgress?.({ ...readProgress(progress, workers), elapsedMs, total, capLeftMs: Math.max(0, scenario.stop.maxDurationMs - elapsedMs), live: feed.view() });
      }, opts.progressEveryMs ?? 2000)
    : undefined;

  const results: ShardResult[] = [];
  // Under max nothing is due at a wall-clock instant, so no start lead is needed.
  const runStartVirtual = opts.startAtMs !== undefined || clock.scale === 'max' ? clock.virtualMs : new ScaledClock(clock).now() + leadMs * clock.scale;
  const frontier = clock.scale === 'max' ? Frontier.share(workers, runStartVirtual, scenario.engine.lookaheadMs) : undefined;
  const frontierView = frontier ? new Frontier(frontier) : undefined;
  let virtualEnd = runStartVirtual;
  application?.setRunStart(runStartVirtual);
  const eventTiming: EventTiming = frontierView ? { kind: 'frontier', frontier: frontierView } : { kind: 'clock', clock: new ScaledClock(clock) };
  const serverEvents = scheduleServerEvents(scenario.server.events ?? [], target.admin, eventTiming, runStartVirtual, log);
  try {
    const tasks = Array.from({ length: workers }, (_, workerIndex): ShardTask => ({
      scenario,
      target: target.dialect,
      baseUrl: target.baseUrl,
      clock,
      runStartVirtual,
      ...(frontier ? { frontier } : {}),
      workerIndex,
      workers,
      ...(isWholeFleet(slice) ? {} : { slice }),
      ...(opts.devicesFile !== undefined ? { allFinals: true } : {}),
      stop: stopBuffer,
      progress: progressBuffer,
      plugins,
      agreementSampleSize: AGREEMENT_SAMPLE_PER_WORKER,
      maxSamples: MAX_VIOLATION_SAMPLES,
      evidence: { dir: spill.dir },
      ...(opts.exchangeLog !== undefined ? { exchangeLog: partFileOf(opts.exchangeLog, workerIndex) } : {}),
    }));
    const watch = new WorkerWatch(workers);
    const settled = await superviseShards(
      tasks.map((t) => (signal: AbortSignal) => {
        const channel = new MessageChannel();
        feed.listen(channel.port1);
        watch.listen(t.workerIndex, channel.port1);
        const running = pool.run({ ...t, live: channel.port2 }, { transferList: [channel.port2], signal }) as Promise<ShardResult>;
        // A worker that died holds nobody back: its floor would otherwise stay where it fell.
        if (!frontierView) return running;
        return running.catch((err: unknown) => {
          frontierView.publish(t.workerIndex, Infinity);
          throw err;
        });
      }),
      watch,
      { stopFlag, graceMs: STOP_GRACE_MS, silentMs: opts.watchdogMs ?? DEFAULT_WATCHDOG_MS },
    );
    for (const s of settled) if (s.status === 'fulfilled') results.push(s.value);
    const lost = lostShards(settled, watch, progress, total, workers);
    errors.push(...lost.map(describeLoss));
    if (opts.exchangeLog !== undefined) errors.push(...(await exchangeLogErrors(opts.exchangeLog, workers, results, log)));
    virtualEnd = frontier ? Math.max(runStartVirtual, ...results.map((r) => r.outcome.virtualEnd)) : new ScaledClock(clock).now();
    const applied = await serverEvents.settle();
    if (results.some((r) => r.outcome.end === 'virtual-limit') && endedBy === 'completed') endedBy = 'duration';
    if (errors.length > 0 && endedBy === 'completed') endedBy = 'error';

    const report = await buildReport({
      scenario,
      slice,
      sliced: opts.slice !== undefined,
      total,
      start,
      virtualStartMs: runStartVirtual,
      target,
      results,
      workers,
      startedAt,
      durationMs: performance.now() - t0,
      virtualDurationMs: Math.max(0, virtualEnd - runStartVirtual),
      endedBy,
      errors,
      log,
      events: applied,
      lost,
      ...(opts.violationsFile !== undefined ? { violationsFile: opts.violationsFile } : {}),
      probe: probe?.evidence,
    });
    if (probe) report.probe = probe.report;
    if (opts.devicesFile !== undefined) {
      const written = await writeDevicesFile(opts.devicesFile, results.flatMap((r) => r.finals), log);
      if (written !== undefined) report.devicesFile = written;
    }
    await application?.finish(report, results.flatMap((r) => (r.evidence ? [r.evidence] : [])), lost.reduce((n, l) => n + l.devices, 0), target.profile, opts.signal);
    const hints = rerunHints(report, target.embedded);
    if (hints.length > 0) report.hints = hints;
    return report;
  } finally {
    await serverEvents.settle();
    clearTimeout(deadline);
    if (ticker) clearInterval(ticker);
    opts.signal?.removeEventListener('abort', onAbort);
    await pool.destroy().catch(() => {});
    await target.close().catch(() => {});
    await application?.close();
    await spill.remove();
  }
}

/** Merges the workers' exchange-log parts; a log short of the requests made is a run error. */
async function exchangeLogErrors(file: string, workers: number, results: readonly ShardResult[], log: (line: string) => void): Promise<string[]> {
  const made = results.reduce((n, r) => n + r.outcome.requests, 0);
  try {
    const merged = await mergeExchangeParts(file, workers);
    if (!merged.ordered) log(`ota-swarm: exchange log ${file}: too large to sort in memory, written worker by worker (replay sorts it by time as it reads)`);
    return merged.records < made ? [`exchange log ${file}: ${merged.records} of ${made} exchanges written (a worker could not write its part)`] : [];
  } catch (err) {
    return [`exchange log ${file}: ${(err as Error).message.split('\n')[0]}`];
  }
}

/** The virtual clock's reading now (under max, the origin: no wall clock moves it). */
function virtualNowOf(clock: ClockOrigin): () => number {
  if (clock.scale === 'max') return () => clock.virtualMs;
  const scaled = new ScaledClock(clock);
  return () => scaled.now();
}

/** Why no rule judged every device: those lost with their worker left no evidence to read. */
const lostNotes = (lost: readonly LostShard[]): string[] => {
  const devices = lost.reduce((n, l) => n + l.devices, 0);
  return devices === 0 ? [] : [`${devices.toLocaleString('en-US')} device(s) lost with their worker were not judged`];
};


interface BuildInput {
  scenario: Scenario;
  slice: FleetSlice;
  /** The run was given a slice (even 1/1): its report is a shard report. */
  sliced: boolean;
  /** Devices this process ran (its slice's). */
  total: number;
  start: StartReport | undefined;
  virtualStartMs: number;
  target: ResolvedTarget;
  results: ShardResult[];
  workers: number;
  startedAt: Date;
  durationMs: number;
  virtualDurationMs: number;
  endedBy: Report['endedBy'];
  errors: string[];
  log: (line: string) => void;
  events: AppliedEvent[];
  /** Workers lost on the way: their devices and what they measured before. */
  lost: LostShard[];
  violationsFile?: string;
  probe: ProbeOutcome['evidence'] | undefined;
}

async function buildReport(b: BuildInput): Promise<Report> {
  const { scenario, results } = b;
  const operations = operationsReport(mergeSnapshots([...results.map((r) => r.metrics), ...b.lost.flatMap((l) => (l.metrics ? [l.metrics] : []))]));
  const transitions = mergeTransitionChecks(
    results.map((r) => r.transitions),
    MAX_VIOLATION_SAMPLES,
  );
  const byFinalState: Record<string, number> = { ...transitions.finalStates };
  const started = results.reduce((n, r) => n + r.outcome.started, 0) + b.lost.reduce((n, l) => n + l.started, 0);
  const lostDevices = b.lost.reduce((n, l) => n + l.devices, 0);
  if (lostDevices > 0) byFinalState[LOST_WITH_WORKER] = lostDevices;
  const notStarted = b.total - lostDevices - results.reduce((n, r) => n + r.outcome.started, 0);
  if (notStarted > 0) byFinalState['not-started'] = notStarted;
  const backpressureWaits = results.reduce((n, r) => n + r.outcome.backpressureWaits, 0);
  const queuedSends = results.reduce((n, r) => n + r.outcome.queuedSends, 0);
  const lag = mergeLagSnapshots(results.map((r) => r.lag));
  const harness = harnessReport(lag, b.workers, operations, { maxInFlightHits: queuedSends });
  harness.lagHistograms = { eventLoop: lag.eventLoop, schedule: lag.schedule };
  if (b.start !== undefined) {
    harness.start = b.start;
    harness.notes.push(...startNotes(b.start));
  }
  if (scenario.timeScale === 'max') {
    harness.notes.push('time scale max: devices act as soon as the harness can take them, so no schedule lag is measured and the wait in the harness is part of every latency from intent');
  }
  if (backpressureWaits > 0) {
    harness.notes.push(`devices were held back ${backpressureWaits} time(s) while the send queue was full: the target was slower than the fleet`);
  }
  const report: Report = {
    format: 1,
    scenario: scenario.name,
    target: b.target.label,
    dialect: scenario.dialect,
    seed: scenario.seed,
    timeScale: scenario.timeScale,
    startedAt: b.startedAt.toISOString(),
    virtualStartMs: Math.round(b.virtualStartMs),
    durationMs: Math.round(b.durationMs),
    virtualDurationMs: Math.round(b.virtualDurationMs),
    devices: { total: b.total, byFinalState, started },
    operations,
    transitions: transitionsReport(transitions),
    expectations: [],
    harness,
    timeseries: mergeSeries(
      results.map((r) => r.series),
      (kind) => stateCategory(scenario.dialect, kind),
    ),
    interrupted: b.endedBy === 'interrupted',
    endedBy: b.endedBy,
    errors: b.errors,
    profile: profileEntries(b.target.profile, scenario.dialect),
    passed: false,
  };
  const wire = sumCounts(results.map((r) => r.outcome.wire));
  if (wire !== undefined) report.wire = wire;
  if (b.sliced) report.fleetSlice = { index: b.slice.index, count: b.slice.count, devices: b.total, fleetDevices: scenario.fleet.devices };
  report.transitions.serverAgreement = await serverAgreementOf(scenario.dialect, results.flatMap((r) => r.finals), b.target.admin, b.endedBy, b.log);
  // Judged also when interrupted: the devices that stopped left their evidence, and
  // violations.jsonl streams what was judged.
  const judged = await judgeVerdicts({ scenario, results, admin: b.target.admin, events: b.events, originVirtual: b.virtualStartMs, log: b.log, violationsFile: b.violationsFile, amend: probeAmendment(b.probe, b.virtualStartMs), profile: b.target.profile, targetClock: b.target.clock, notes: lostNotes(b.lost) });
  if (judged.verdicts !== undefined) report.verdicts = judged.verdicts;
  if (judged.violationsFile !== undefined) report.violationsFile = judged.violationsFile;
  if (judged.error !== undefined) report.errors.push(judged.error);
  report.expectations = evaluateExpectations(scenario.expect, report);
  report.passed =
    b.endedBy !== 'interrupted' &&
    b.endedBy !== 'error' &&
    // A run error (a lost worker) fails the run however it ended: its devices were not judged.
    report.errors.length === 0 &&
    report.expectations.every((e) => e.passed) &&
    report.transitions.violations === 0 &&
    (report.transitions.serverAgreement?.disagreements ?? 0) === 0 &&
    (report.verdicts ?? []).every((v) => v.violations === 0);
  return report;
}

/**
 * What a dialect's transport needs before anything starts: the CoAP transport waits in real time
 * for its virtual instants (a listen window, a retransmission), so not under `--time-scale max`;
 * and it keeps a UDP socket per device, which must fit under the open-files limit.
 */
function checkTransport(scenario: Scenario, clock: ClockOrigin, names: OptionNames): void {
  const plugin = getDialect(scenario.dialect);
  if (plugin.transport !== 'coap') return;
  if (clock.scale === 'max') throw new ConfigError(`${names('timeScale')}: max is not supported by the ${scenario.dialect} dialect (its CoAP transport waits in real time); give a number, e.g. 100`);
  const held = plugin.target?.socketsHeld?.(scenario.target.block, scenario.fleet.devices) ?? scenario.fleet.devices;
  if (held > 0) checkFdLimit(held, names('devices'));
}
