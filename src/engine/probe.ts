/**
 * The probe: before the fleet starts against a target of the user's, one device of the first
 * cohort goes through its first calls (OneNET: version report, check, token check; Luat: one ask),
 * driven by its own machine, so a target that refuses it (wrong key, product id, ids) stops the
 * run in one line instead of a fleet of identical rejections. It stops before any download and at
 * the device's first sleep; its calls are kept out of the histograms and the verdicts. Whether
 * the answers mean "stop" is decided in ./diagnosis.ts.
 */
import type { DialectPlugin } from '../dialect/types.js';
import type { Step } from '../device/types.js';
import type { Scenario } from '../scenario/types.js';
import { expandFleet } from '../scenario/fleet.js';
import { withTargetSettings } from './target-settings.js';
import { makeTransport } from './transports.js';
import { ConfigError } from '../config/load.js';
import { outcomeMeaning } from '../protocol/meanings.js';
import type { ProbeReport } from '../report/types.js';
import type { DeviceEvidence, Exchange } from '../verdicts/evidence.js';
import { innerState } from '../device/retransmit.js';
import { diagnoseProbe, probeNote, type ProbeCall, type ProbeResult } from './diagnosis.js';

/** Calls the probe makes at most (OneNET: report version, check, token check). */
export const PROBE_MAX_CALLS = 3;
/** Largest answer body the probe reads (a Luat file is hashed, not kept). */
const PROBE_MAX_BODY = 300 * 1024 * 1024;

export interface ProbeOptions {
  scenario: Scenario;
  plugin: DialectPlugin;
  /** The dialect's target settings. */
  target: unknown;
  baseUrl: string;
  /** The virtual clock (signs the OneNET Authorization, times the exchanges). */
  now: () => number;
  /**
   * Fleet index of the device to probe (default 0). A fleet slice probes its own first device, so
   * N shards against one target never send one device's first calls N times.
   */
  deviceIndex?: number;
}

/** What the probe did, for the verdicts: its exchanges, at absolute virtual instants. */
export interface ProbeRun extends ProbeResult {
  exchanges: Exchange[];
}

/** Runs the probe device until it would download, sleep or stop, or PROBE_MAX_CALLS calls. */
export async function probeTarget(o: ProbeOptions): Promise<ProbeRun> {
  // As the workers see the fleet: the target's settings (the profile's versionConfirm, ...) applied.
  const plan = withTargetSettings(expandFleet(o.scenario), o.plugin, o.target);
  const index = o.deviceIndex ?? 0;
  const profile = plan.profileOf(index);
  const settings = plan.settingsOf(plan.cohortOf(index));
  const { machine, wire } = o.plugin;
  const transport = makeTransport(o.plugin.transport, { baseUrl: o.baseUrl, connections: 1, maxBodyBytes: PROBE_MAX_BODY });
  const calls: ProbeCall[] = [];
  const exchanges: Exchange[] = [];
  const codec = o.plugin.evidence;
  const authTtlSec = o.plugin.target?.authTtlSec?.(o.target);
  let left: ProbeResult['left'];
  try {
    let step: Step<{ readonly kind: string }, unknown> = machine.start(profile, settings, o.now());
    while (step.action.type === 'send' && calls.length < PROBE_MAX_CALLS) {
      const request = step.action.request;
      const op = wire.operationOf(request);
      // A download is the fleet's to measure; a listen would hold the probe for a device's awake window.
      if (op === 'download' || op === 'listen') break;
      const sent = o.now();
      const message = wire.encode(request, o.target, sent);
      // A Luat body (the whole file) is digested as the engine does.
      const { result } = await transport.exchange(0, message, { timeoutMs: settings.requestTimeoutMs, paceMs: 0 });
      const answer = wire.decode(request, result);
      const outcome = wire.outcomeOf(answer);
      const answered = o.now();
      calls.push({ op, outcome });
      step = machine.onAnswer(step.state, answer, profile, settings, answered);
      if (codec !== undefined) {
        const facts = codec.factsOf(request, result, answer, { sentVirtual: sent, authTtlSec });
        exchanges.push({ decided: sent, sent, answered, op, outcome, state: innerState(step.state).kind, facts });
      }
      // No answer (or none readable): the probe does not retransmit; the fleet will meet it too.
      if (wire.isError(answer)) break;
    }
    // What the probe opened on the user's server (an LwM2M registration) is closed again before the fleet starts.
    const leave = o.plugin.probeLeave?.(innerState(step.state));
    if (leave !== undefined) {
      const op = wire.operationOf(leave);
      const sent = o.now();
      const { result } = await transport.exchange(0, wire.encode(leave, o.target, sent), { timeoutMs: settings.requestTimeoutMs, paceMs: 0 });
      const answer = wire.decode(leave, result);
      const outcome = wire.outcomeOf(answer);
      const answered = o.now();
      calls.push({ op, outcome });
      left = { op, outcome, failed: wire.isError(answer) };
      if (codec !== undefined) exchanges.push({ decided: sent, sent, answered, op, outcome, state: innerState(step.state).kind, facts: codec.factsOf(leave, result, answer, { sentVirtual: sent, authTtlSec }) });
    }
  } finally {
    await transport.close();
  }
  return { device: profile.id, cohort: profile.cohort, calls, exchanges, ...(left === undefined ? {} : { left }) };
}

export interface ProbeStep extends ProbeOptions {
  env: NodeJS.ProcessEnv;
}

/** The probe as the run keeps it: the report's words, and the exchanges the verdicts count. */
export interface ProbeOutcome {
  report: ProbeReport;
  /** Device id and its probe exchanges (absolute virtual times). */
  evidence: { device: string; exchanges: Exchange[] };
}

/**
 * Probes the target and stops the run (ConfigError, exit 2) when it refuses the probe device for
 * authentication; otherwise returns what the report says of the probe.
 */
export async function probeOrRefuse(o: ProbeStep): Promise<ProbeOutcome> {
  const result = await probeTarget(o);
  const verdict = diagnoseProbe(o.scenario, result, o.plugin.target?.secretSource?.(o.scenario.target.block, { file: o.scenario.file, env: o.env }) ?? 'none');
  if (verdict.kind === 'refused') throw new ConfigError(verdict.line);
  const report: ProbeReport = {
    device: result.device,
    calls: result.calls.map((c) => {
      const meaning = outcomeMeaning(o.scenario.dialect, c.op, c.outcome);
      return meaning === undefined ? c : { ...c, meaning };
    }),
    note: probeNote(o.scenario.dialect, result),
  };
  return { report, evidence: { device: result.device, exchanges: result.exchanges } };
}

/**
 * The server saw the probe's calls as the device's (a Luat ask counts toward its ban; the first
 * ask for a diff package starts the build): the verdicts count them too, as the device's first
 * exchanges, at times relative to the run's origin (so before 0).
 */
export function probeAmendment(probe: ProbeOutcome['evidence'] | undefined, originVirtual: number): ((d: DeviceEvidence) => DeviceEvidence) | undefined {
  if (probe === undefined || probe.exchanges.length === 0) return undefined;
  const shift = (e: Exchange): Exchange => ({ ...e, decided: e.decided - originVirtual, sent: e.sent - originVirtual, answered: e.answered - originVirtual, facts: { ...e.facts, probe: true } });
  const first = probe.exchanges.map(shift);
  return (d) => (d.id === probe.device ? { ...d, exchanges: [...first, ...d.exchanges] } : d);
}
