/**
 * The probe: before the fleet starts against a target of the user's, one device of the first
 * cohort goes through its first calls (OneNET: version report, check, token check; Luat: one ask),
 * driven by its own machine, so a target that refuses it (wrong key, product id, ids) stops the
 * run in one line instead of a fleet of identical rejections. It stops before any download and at
 * the device's first sleep; its calls are kept out of the histograms and the verdicts. Whether
 * the answers mean "stop" is decided in ./diagnosis.ts.
 */
import type { DialectPlugin, DialectTarget, HttpRequest, HttpResult } from '../dialect/types.js';
import type { Step } from '../device/types.js';
import type { Scenario } from '../scenario/types.js';
import { expandFleet } from '../scenario/fleet.js';
import { Network, type RawResult } from './network.js';
import { createHash } from 'node:crypto';
import { ConfigError } from '../config/load.js';
import { outcomeMeaning } from '../protocol/meanings.js';
import type { ProbeReport } from '../report/types.js';
import { diagnoseProbe, keySourceOf, probeNote, type ProbeCall, type ProbeResult } from './diagnosis.js';
import { ENV_LUAT_PROJECT_KEY, ENV_ONENET_KEY } from './target.js';

/** Calls the probe makes at most (OneNET: report version, check, token check). */
export const PROBE_MAX_CALLS = 3;
/** Largest answer body the probe reads (a Luat file is hashed, not kept). */
const PROBE_MAX_BODY = 300 * 1024 * 1024;

export interface ProbeOptions {
  scenario: Scenario;
  plugin: DialectPlugin;
  target: DialectTarget;
  baseUrl: string;
  /** The virtual instant of the probe (signs the OneNET Authorization). */
  now: number;
}

/** Runs the probe device until it would download, sleep or stop, or PROBE_MAX_CALLS calls. */
export async function probeTarget(o: ProbeOptions): Promise<ProbeResult> {
  const plan = expandFleet(o.scenario);
  const profile = plan.profileOf(0);
  const settings = plan.settingsOf(plan.cohortOf(0));
  const { machine, wire } = o.plugin;
  const net = new Network({ origin: o.baseUrl, connections: 1, maxBodyBytes: PROBE_MAX_BODY });
  const calls: ProbeCall[] = [];
  try {
    let step: Step<{ readonly kind: string }, unknown> = machine.start(profile, settings, o.now);
    while (step.action.type === 'send' && calls.length < PROBE_MAX_CALLS) {
      const request = step.action.request;
      const op = wire.operationOf(request);
      if (op === 'download') break;
      const http = wire.encode(request, o.target, o.now);
      const result = asResult(http, await net.send(http, settings.requestTimeoutMs));
      const answer = wire.decode(request, result);
      calls.push({ op, outcome: wire.outcomeOf(answer) });
      step = machine.onAnswer(step.state, answer, profile, settings, o.now);
      // No answer (or none readable): the probe does not retransmit; the fleet will meet it too.
      if (wire.isError(answer)) break;
    }
  } finally {
    await net.close();
  }
  return { device: profile.id, cohort: profile.cohort, calls };
}

/** The HttpResult the wire decodes; a Luat body (the whole file) is digested as the engine does. */
function asResult(http: HttpRequest, raw: RawResult): HttpResult {
  if (raw.kind !== 'response') return raw;
  const { headersAt: _at, ...res } = raw;
  if (http.download && http.download.total === 0 && raw.status < 300) {
    return { ...res, held: raw.body.length, md5: createHash('md5').update(raw.body).digest('hex') };
  }
  return res;
}

export interface ProbeStep {
  scenario: Scenario;
  plugin: DialectPlugin;
  target: DialectTarget;
  baseUrl: string;
  now: number;
  env: NodeJS.ProcessEnv;
}

/**
 * Probes the target and stops the run (ConfigError, exit 2) when it refuses the probe device for
 * authentication; otherwise returns what the report says of the probe.
 */
export async function probeOrRefuse(o: ProbeStep): Promise<ProbeReport> {
  const result = await probeTarget(o);
  const verdict = diagnoseProbe(o.scenario, result, keySource(o.scenario, o.env));
  if (verdict.kind === 'refused') throw new ConfigError(verdict.line);
  return {
    device: result.device,
    calls: result.calls.map((c) => {
      const meaning = outcomeMeaning(o.scenario.dialect, c.op, c.outcome);
      return meaning === undefined ? c : { ...c, meaning };
    }),
    note: probeNote(o.scenario.dialect, result),
  };
}

function keySource(s: Scenario, env: NodeJS.ProcessEnv): string {
  if (s.dialect === 'onenet') {
    const ref = s.target.onenet?.accessKey;
    return keySourceOf(ref, 'target.onenet.accessKey', ENV_ONENET_KEY, ref === undefined && !env[ENV_ONENET_KEY]);
  }
  const ref = s.target.luat?.projectKey;
  return keySourceOf(ref, 'target.luat.projectKey', ENV_LUAT_PROJECT_KEY, ref === undefined && !env[ENV_LUAT_PROJECT_KEY]);
}
