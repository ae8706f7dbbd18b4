/**
 * The application side of a run (scenario `application`): before the target starts, the push
 * receiver listens and the keys are settled (the embedded server is given them and the
 * receiver's URL); as the run's first phase the north-bound steps start the rollout; after the
 * fleet, the run waits for the pushes still owed, judges them and adds their verdicts, figures
 * and call latencies to the report.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../config/load.js';
import { resolveSecret, type SecretRef } from '../config/secret.js';
import { resolveProfile, type ResolvedProfile } from '../protocol/profile.js';
import type { PushRetryPolicy } from '../protocol/aiot.js';
import type { Report } from '../report/types.js';
import type { ApplicationReport, StepResult } from '../report/application-types.js';
import type { Scenario } from '../scenario/types.js';
import type { ApplicationSpec } from '../scenario/application.js';
import type { ReceiverBehaviour } from '../receiver/behaviour.js';
import { judgePushes } from '../receiver/judge.js';
import { startReceiver, type RunningReceiver } from '../receiver/server.js';
import { readTrails } from '../receiver/trails.js';
import { NorthboundClient } from '../northbound/client.js';
import type { AiotServerOptions } from '../server/aiot/side.js';
import { ScaledClock, type ClockOrigin } from '../time/clock.js';
import type { EvidenceBatch } from '../verdicts/evidence.js';
import { isLoopbackUrl } from './target.js';

export const ENV_AIOT_APP_KEY = 'OTA_SWARM_AIOT_APP_KEY';
export const ENV_AIOT_ACCESS_TOKEN = 'OTA_SWARM_AIOT_ACCESS_TOKEN';

/** Real ms between looks at the receiver's log while settling. */
const SETTLE_POLL_MS = 50;
/** Whatever the settle time, the run waits at most this long (real ms) for pushes. */
const MAX_SETTLE_REAL_MS = 10 * 60_000;
/**
 * Real ms a measured push interval may fall short of the policy's: the receiver sees arrivals,
 * not sends, and one attempt's way in (a new connection, the platform's busy thread) can take
 * this much longer than the next one's on a loaded machine.
 */
const JITTER_REAL_MS = 200;
/** Real ms by which a 200 may have crossed the platform's answer window on its way back. */
const ANSWER_SLACK_REAL_MS = 50;
const MAX_SAMPLES = 5;

export interface ApplicationSide {
  /** For the embedded server. */
  readonly serverOptions: AiotServerOptions;
  readonly receiverUrl: string;
  setRunStart(virtualMs: number): void;
  /** The north-bound steps; false (with the run's error line) when one failed. */
  northbound(baseUrl: string, signal?: AbortSignal): Promise<{ ok: true } | { ok: false; error: string }>;
  /** Waits for the pushes owed, judges them and writes them into the report. */
  finish(report: Report, batches: readonly EvidenceBatch[], lost: number, profile: ResolvedProfile, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

const secretOr = (ref: SecretRef | undefined, envName: string, where: string, embedded: boolean, env: NodeJS.ProcessEnv): string => {
  const given = ref ?? (env[envName] ? { env: envName } : undefined);
  if (given !== undefined) return resolveSecret(given, where, env);
  if (embedded) return randomBytes(18).toString('base64url');
  throw new ConfigError(`${where}: needed with --target (e.g. { env: ${envName} })`);
};

export const describeBehaviour = (b: ReceiverBehaviour): string => {
  const parts: string[] = [];
  if (b.answerAfterMs > 0) parts.push(`answers after ${b.answerAfterMs} ms`);
  if (b.errorRate > 0) parts.push(`${Math.round(b.errorRate * 1000) / 10}% answered ${b.errorStatus}`);
  if (b.neverAnswer) parts.push('never answers');
  for (const w of b.down) parts.push(`down from ${w.fromMs} to ${w.toMs} ms`);
  return parts.length === 0 ? 'healthy (200 at once)' : parts.join(', ');
};

export async function prepareApplication(scenario: Scenario, clock: ClockOrigin, allowRemote: boolean, env: NodeJS.ProcessEnv = process.env): Promise<ApplicationSide | undefined> {
  const app = scenario.application;
  if (app === undefined) return undefined;
  const where = `${scenario.file}: application`;
  if (!allowRemote && !isLoopbackUrl(`http://${app.receiver.host.includes(':') ? `[${app.receiver.host}]` : app.receiver.host}/`)) {
    throw new ConfigError(`${where}.receiver.host: ${app.receiver.host} is not a loopback address; pass --allow-remote to listen on it`);
  }
  if (clock.scale === 'max') throw new ConfigError(`${where}: pushes need a time scale that is a number (not max): the platform's retry timers run on the clock`);
  if (scenario.dialect !== 'onenet') throw new ConfigError(`${where}: the AIOT side pushes for OneNET devices (progress steps and results); dialect is ${scenario.dialect}`);
  const embedded = scenario.target.url === undefined;
  const appKey = secretOr(app.appKey, ENV_AIOT_APP_KEY, `${where}.appKey`, embedded, env);
  const accessToken = secretOr(app.accessToken, ENV_AIOT_ACCESS_TOKEN, `${where}.accessToken`, embedded, env);
  const policy = resolveProfile({ ...(scenario.target.profileFlags ? { flag: scenario.target.profileFlags } : {}), ...(scenario.target.profile ? { scenario: scenario.target.profile } : {}) }).profile.push;
  const virtual = new ScaledClock(clock);
  let runStart = virtual.now();
  let receiver: RunningReceiver;
  try {
    receiver = await startReceiver({
      host: app.receiver.host,
      port: app.receiver.port,
      appId: app.appId,
      appKey,
      behaviour: app.receiver.behaviour,
      now: () => virtual.now(),
      scale: virtual.scale,
      startAt: () => runStart,
      seed: scenario.seed,
    });
  } catch (err) {
    throw new ConfigError(`${where}.receiver: cannot listen on ${app.receiver.host}:${app.receiver.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const client = (baseUrl: string) => new NorthboundClient(baseUrl, { appId: app.appId, appKey, accessToken, openId: app.openId });
  let steps: StepResult[] = [];
  let calls: NorthboundClient | undefined;
  return {
    serverOptions: { appId: app.appId, appKey, accessToken, pushUrl: receiver.url, policy, ...(onenetProductOf(scenario) !== undefined ? { productId: onenetProductOf(scenario) as string } : {}) },
    receiverUrl: receiver.url,
    setRunStart: (v) => {
      runStart = v;
    },
    async northbound(baseUrl, signal) {
      calls = client(baseUrl);
      steps = await calls.run(app.northbound, signal);
      const failed = steps.find((s) => !s.ok);
      return failed ? { ok: false, error: `north-bound ${failed.step}: ${failed.detail}` } : { ok: true };
    },
    async finish(report, batches, lost, profile, signal) {
      const judgedPolicy = profile.profile.push;
      const { trails, unknown } = await readTrails(batches, lost);
      const settle = await settlePushes(app, receiver, trails, judgedPolicy, virtual, signal);
      const tolerance = Math.min(judgedPolicy.retryEveryMs / 2, Math.max(judgedPolicy.retryEveryMs * 0.05, JITTER_REAL_MS * virtual.scale));
      const log = receiver.log;
      const judged = judgePushes({
        arrivals: log.arrivals,
        policy: judgedPolicy,
        toleranceMs: tolerance,
        answerSlackMs: Math.min(judgedPolicy.answerWithinMs / 2, ANSWER_SLACK_REAL_MS * virtual.scale),
        devices: trails,
        devicesUnknown: unknown,
        dropped: log.dropped,
        malformed: log.malformed,
        ...(log.firstMalformed !== undefined ? { firstMalformed: log.firstMalformed } : {}),
        maxSamples: MAX_SAMPLES,
      });
      report.verdicts = [...(report.verdicts ?? []), ...judged.verdicts];
      Object.assign(report.operations, calls?.operations() ?? {});
      const sources: Record<string, string> = {};
      for (const k of ['push.answerWithin', 'push.cacheFor', 'push.maxFailures', 'push.retryEvery'] as const) sources[k] = profile.sources[k];
      const section: ApplicationReport = {
        platform: app.platform,
        receiverUrl: receiver.url,
        policy: { ...judgedPolicy, sources },
        receiver: describeBehaviour(app.receiver.behaviour),
        northbound: steps,
        pushes: judged.figures,
        settle,
        notes: scaleNotes(judgedPolicy, virtual.scale),
      };
      report.application = section;
      report.passed = report.passed && judged.verdicts.every((v) => v.violations === 0) && steps.every((s) => s.ok);
    },
    close: () => receiver.close(),
  };
}

/** Whether the wait for pushes is over, and why (pure). */
export function settleState(o: { aborted: boolean; allDelivered: boolean; quietForMs: number; quietMs: number; pastCap: boolean }): ApplicationReport['settle']['endedBy'] | undefined {
  if (o.aborted) return 'interrupted';
  if (o.allDelivered && o.quietForMs >= o.quietMs) return 'quiet';
  if (o.pastCap) return 'settle-time';
  return undefined;
}

/** Real ms of the platform's answer window below which its own lag may read as a late answer. */
const TIGHT_WINDOW_REAL_MS = 1000;

const scaleNotes = (policy: PushRetryPolicy, scale: number): string[] => {
  const real = policy.answerWithinMs / scale;
  return real >= TIGHT_WINDOW_REAL_MS
    ? []
    : [`at ×${scale} the platform's ${policy.answerWithinMs / 1000}s answer window is ${Math.round(real)} ms of real time: lag in the platform's own event loop can make it retry pushes the receiver answered in time (a lower --time-scale gives it more)`];
};

/**
 * After the fleet: waits (virtual `settleMs`, default the policy's cache time and one interval)
 * for the pushes still owed, and stops early once every device whose end the platform accepted
 * has its result delivered and nothing arrived for an interval and an answer time (a retry due
 * would have come).
 */
async function settlePushes(
  app: ApplicationSpec,
  receiver: RunningReceiver,
  trails: ReadonlyMap<string, { end?: unknown }>,
  policy: PushRetryPolicy,
  virtual: ScaledClock,
  signal: AbortSignal | undefined,
): Promise<ApplicationReport['settle']> {
  const settleMs = app.settleMs ?? policy.cacheMs + policy.retryEveryMs;
  const quietMs = policy.retryEveryMs + policy.answerWithinMs;
  const start = virtual.now();
  const realCap = performance.now() + Math.min(MAX_SETTLE_REAL_MS, settleMs / virtual.scale);
  const owed = [...trails].filter(([, t]) => t.end !== undefined).map(([id]) => id);
  const delivered = new Set<string>();
  let seen = 0;
  let lastArrivalAt = start;
  for (;;) {
    const log = receiver.log.arrivals;
    for (; seen < log.length; seen++) {
      const a = log[seen] as (typeof log)[number];
      lastArrivalAt = virtual.now();
      if (a.push.msgType === 'ota_upgrade_result' && a.outcome === 'ok' && a.answerMs <= policy.answerWithinMs) delivered.add(a.push.did);
    }
    const now = virtual.now();
    const ended = settleState({ aborted: signal?.aborted === true, allDelivered: owed.every((id) => delivered.has(id)), quietForMs: now - lastArrivalAt, quietMs, pastCap: performance.now() >= realCap });
    if (ended !== undefined) return { virtualMs: Math.round(now - start), endedBy: ended };
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
  }
}

/** The OneNET product the AIOT side pushes for: the onenet dialect's own `target.onenet.productId`, when the scenario speaks it. */
function onenetProductOf(scenario: Scenario): string | undefined {
  if (scenario.dialect !== 'onenet') return undefined;
  const productId = (scenario.target.block as { productId?: unknown } | undefined)?.productId;
  return typeof productId === 'string' ? productId : undefined;
}
