/**
 * Piscina task: runs one shard of the fleet to its end and returns what it measured. All devices
 * of the shard live here, driven by one ShardRunner over one keep-alive pool to the target.
 */
import { getDialect } from '../dialect/registry.js';
import type { HttpRequest, HttpResult } from '../dialect/types.js';
import { loadDialectPlugin } from '../dialect/plugins.js';
import { registerDeclaredDialect } from '../dialect/declared/plugin.js';
import { expandFleet } from '../scenario/fleet.js';
import { arrivalTimeOf } from '../scenario/arrival.js';
import { firstWakeMs } from '../radio/wake.js';
import { ScaledClock } from '../time/clock.js';
import { OperationRecorder, LagRecorder } from '../metrics/recorder.js';
import { TransitionLog } from '../metrics/transitions.js';
import { SeriesRecorder } from '../metrics/series.js';
import { makeTransport } from './transports.js';
import { ShardRunner, type ShardTiming } from './shard.js';
import { Frontier } from '../time/frontier.js';
import { PROGRESS_FIELDS } from './progress.js';
import type { ShardResult, ShardTask } from './shard-task.js';
import { LIVE_EVERY_MS, type LivePost } from './live.js';
import { radioOfDevice, usesRadio } from './radio.js';
import { EvidenceCollector } from '../verdicts/collect.js';
import { armTestFault } from './test-fault.js';
import { EvidenceSpill } from '../verdicts/spill.js';
import { join } from 'node:path';
import { withTargetSettings } from './target-settings.js';
import { WHOLE_FLEET, workerStripe } from './fleet-slice.js';
import { ExchangeLogPart } from '../exchanges/log-writer.js';
import { exchangeRecord } from '../exchanges/record.js';
import { taskPseudonyms } from '../exchanges/pseudonym.js';

export default async function runShard(task: ShardTask): Promise<ShardResult> {
  const { scenario, workerIndex, workers } = task;
  for (const url of task.plugins) await loadDialectPlugin(url);
  if (scenario.declared) registerDeclaredDialect(scenario.declared);
  const plugin = getDialect(scenario.dialect);
  const plan = withTargetSettings(expandFleet(scenario), plugin, task.target);
  const { count, fleetIndex: globalIndex } = workerStripe(plan.total, task.slice ?? WHOLE_FLEET, workerIndex, workers);
  const timing: ShardTiming = task.frontier ? { kind: 'frontier', frontier: new Frontier(task.frontier), index: workerIndex } : { kind: 'clock', clock: new ScaledClock(task.clock) };
  const transport = makeTransport(plugin.transport, {
    baseUrl: task.baseUrl,
    connections: scenario.engine.connectionsPerWorker,
    maxBodyBytes: 300 * 1024 * 1024,
    ...(timing.kind === 'clock' ? { clock: timing.clock } : {}),
    retransmit: plan.settingsOf(plan.cohortOf(globalIndex(0))).retransmit,
    retransmitOf: (slot) => plan.settingsOf(plan.cohortOf(globalIndex(slot))).retransmit,
    seed: (scenario.seed ^ Math.imul(workerIndex + 1, 0x85ebca6b)) >>> 0,
  });
  const recorder = new OperationRecorder();
  const lag = new LagRecorder();
  const log = new TransitionLog(count);
  const series = new SeriesRecorder(task.runStartVirtual, task.clock.scale, { realStartWallMs: task.clock.wallMs, virtualSpanMs: scenario.stop.maxVirtualMs });
  const progress = new Int32Array(task.progress, workerIndex * PROGRESS_FIELDS * 4, PROGRESS_FIELDS);
  lag.start();
  const evidence = EvidenceCollector.for(plugin, {
    originVirtual: task.runStartVirtual,
    authTtlSec: plugin.target?.authTtlSec?.(task.target),
    profileOf: (slot) => plan.profileOf(globalIndex(slot)),
    ...(plugin.evidence ? { sink: new EvidenceSpill(join(task.evidence.dir, `worker-${workerIndex}.jsonl`)) } : {}),
  });
  const exchangeLog = task.exchangeLog !== undefined ? new ExchangeLogPart(task.exchangeLog) : undefined;
  const pseudonym = taskPseudonyms();
  const runner = new ShardRunner({
    plugin,
    plan,
    target: task.target,
    timing,
    runStartVirtual: task.runStartVirtual,
    maxVirtualMs: scenario.stop.maxVirtualMs,
    count,
    globalIndex,
    arrivalOffset: (i) => {
      // A named wake pattern places first wakes on the devices' own radio timers.
      const radio = scenario.wake ? radioOfDevice(scenario, plan, i, task.runStartVirtual) : undefined;
      if (radio && scenario.wake) return firstWakeMs(radio.config, scenario.wake, scenario.seed, i, task.runStartVirtual) - task.runStartVirtual;
      return arrivalTimeOf(scenario.arrival, i, plan.total, scenario.seed);
    },
    radioOf: usesRadio(scenario) ? (i) => radioOfDevice(scenario, plan, i, task.runStartVirtual) : undefined,
    transport,
    maxInFlight: scenario.engine.maxInFlightPerWorker,
    recorder,
    lag,
    log,
    series,
    stopFlag: new Int32Array(task.stop),
    progress,
    ...(evidence ? { evidence } : {}),
    // The run refuses an exchange log for a transport other than HTTP (run.ts): the messages are HTTP's.
    ...(exchangeLog ? { exchanges: (slot, message, result, sentVirtual) => exchangeLog.write(exchangeRecord(plan.profileOf(globalIndex(slot)).id, plugin.name, message as HttpRequest, result as HttpResult, sentVirtual, pseudonym)) } : {}),
  });
  const live = task.live;
  // The posts are also the worker's heartbeat (worker-watch.ts): the first goes out at once.
  const postLive = (): void => {
    const post: LivePost = { worker: workerIndex, metrics: recorder.snapshot(), states: series.currentStates(count - runner.startedCount) };
    live?.postMessage(post);
  };
  if (live) postLive();
  const ticker = live ? setInterval(postLive, LIVE_EVERY_MS) : undefined;
  const disarmTestFault = armTestFault(workerIndex);
  try {
    const outcome = await runner.run();
    lag.stop();
    const idOf = (slot: number): string => plan.profileOf(globalIndex(slot)).id;
    const transitions = log.check(plugin.rules, idOf, { maxSamples: task.maxSamples, allowUnfinished: outcome.end !== 'completed' });
    const finals: { id: string; state: string }[] = [];
    // A sample for comparing final states with the server: every device that did not succeed
    // (up to the cap), then every k-th of the rest.
    const cap = task.allFinals === true ? count : task.agreementSampleSize;
    const stride = task.allFinals === true ? 1 : Math.max(1, Math.ceil(count / Math.max(1, cap)));
    for (let slot = 0; slot < count && finals.length < cap; slot++) {
      const state = runner.finalKind(slot);
      if (state === undefined) continue;
      if (state !== 'succeeded' || slot % stride === 0) finals.push({ id: idOf(slot), state });
    }
    const finalKinds = new Set(plugin.rules.final);
    // Devices still going at the end: what their transport saw and had not reported yet goes to the verdicts too.
    if (evidence !== undefined && transport.leftover !== undefined) {
      for (let slot = 0; slot < count; slot++) {
        const state = runner.stateOf(slot);
        if (state === undefined || finalKinds.has(state.kind)) continue;
        const left = transport.leftover(slot);
        if (left !== undefined) evidence.leftover(slot, left, state, outcome.virtualEnd);
      }
    }
    const collected = evidence?.finish((slot) => runner.stateOf(slot), (state) => finalKinds.has(state.kind));
    return {
      workerIndex,
      outcome,
      metrics: recorder.snapshot(),
      lag: lag.snapshot(),
      transitions,
      finals,
      series: series.snapshot(),
      ...(collected ? { evidence: collected } : {}),
    };
  } finally {
    disarmTestFault();
    if (ticker) clearInterval(ticker);
    live?.close();
    await transport.close();
    // A part that failed to write is found short when the parts are merged (run.ts).
    await exchangeLog?.close().catch(() => {});
  }
}
