/**
 * The push rules, judged on what the receiver logged and what the devices did (pure: no I/O).
 *
 * - push-result: every device whose end (201 or a failure code) the platform accepted gets a
 *   result push with the matching upgradeResult, and no result push names an end that did not
 *   happen.
 * - push-progress-order: a device's progress never decreases and never comes after its result
 *   (first deliveries, in arrival order: a retry of an old step is not a new step).
 * - push-duplicate: the same message again only after the receiver answered late or failed.
 * - push-retry-interval: a retry no sooner than the policy's interval after the failed attempt.
 * - push-give-up: no retry after `maxFailures` failed retries, nor past `cacheMs` from the first.
 * - push-headers: every push carries the Appid / Appkey registered with the platform.
 *
 * Figures: latency from the device's action (its accepted step's send) to the push's first
 * arrival per message type, retry intervals, attempts per message, messages given up. All on the
 * virtual clock (the retry policy's own), in ms.
 */
import { LatencyHistogram } from '../metrics/histogram.js';
import type { VerdictReport, VerdictTraceLine } from '../report/types.js';
import type { HistogramFigure, PushFigures } from '../report/application-types.js';
import type { PushRetryPolicy, PushType } from '../protocol/aiot.js';
import type { Arrival } from './server.js';

/** What a device did that causes pushes: virtual ms since the run's start. */
export interface DeviceTrail {
  /** Accepted progress steps (0–100) → when the device sent them. */
  readonly progress: ReadonlyMap<number, number>;
  /** The accepted end (201 succeeded, another code failed) and when it was sent. */
  readonly end?: { readonly ok: boolean; readonly at: number; readonly code: number };
}

export interface PushJudgeInput {
  readonly arrivals: readonly Arrival[];
  readonly policy: PushRetryPolicy;
  /** Virtual ms a measured interval may fall short of the policy's (timers, loopback, threads). */
  readonly toleranceMs: number;
  /**
   * Virtual ms before the answer time from which a 200 counts as possibly late: the platform
   * measures the answer on its side, after the loopback and its own event loop.
   */
  readonly answerSlackMs: number;
  readonly devices: ReadonlyMap<string, DeviceTrail>;
  /** Devices the run had but whose evidence is missing (lost with a worker, capped). */
  readonly devicesUnknown: number;
  readonly dropped: number;
  readonly malformed: number;
  readonly firstMalformed?: string;
  readonly maxSamples: number;
}

interface Violation {
  did: string;
  detail: string;
}

const figure = (h: LatencyHistogram): HistogramFigure => ({ count: h.count, summary: h.summary(), histogram: h.encode() });

/**
 * Whether the platform may have counted an attempt failed: not a 200, or a 200 written late,
 * counted from the arrival or, when the platform stamps its sends, from the send (a push that
 * waited on its way in was answered late however fast the receiver wrote).
 */
const failed = (a: Arrival, lateAfter: number): boolean => a.outcome !== 'ok' || a.answerMs > lateAfter || (a.sentAt !== undefined && a.at + a.answerMs - a.sentAt > lateAfter);
/** When an attempt left the platform: its own stamp when it gives one, else its arrival. */
const sentOf = (a: Arrival): number => a.sentAt ?? a.at;

/** The message as a trace line's request. */
const requestText = (a: Arrival): string =>
  a.push.msgType === 'ota_upgrade_progress' ? `push progress ${a.push.progress}%` : `push result ${a.push.upgradeResult}${a.push.cause ? ` (${a.push.cause})` : ''}`;
const answerText = (a: Arrival): string =>
  a.outcome === 'ok' || a.outcome === 'error' || a.outcome === 'refused' ? `http:${a.status ?? 0} after ${Math.round(a.answerMs)} ms` : a.outcome === 'hang' ? 'never answered' : 'connection reset (down)';

export function judgePushes(input: PushJudgeInput): { verdicts: VerdictReport[]; figures: PushFigures } {
  const { policy, toleranceMs } = input;
  // A 200 that took this long may have crossed the platform's limit on its way: it excuses a retry.
  const lateAfter = policy.answerWithinMs - input.answerSlackMs;
  const byKey = new Map<string, Arrival[]>();
  const byDid = new Map<string, Arrival[]>();
  let refusedAuth = 0;
  const received: Record<PushType, number> = { ota_upgrade_progress: 0, ota_upgrade_result: 0 };
  for (const a of input.arrivals) {
    received[a.push.msgType]++;
    if (a.outcome === 'refused') refusedAuth++;
    let k = byKey.get(a.key);
    if (!k) byKey.set(a.key, (k = []));
    k.push(a);
    let d = byDid.get(a.push.did);
    if (!d) byDid.set(a.push.did, (d = []));
    d.push(a);
  }

  const retriedDevices = new Set<string>();
  const duplicates: Violation[] = [];
  const early: Violation[] = [];
  const noGiveUp: Violation[] = [];
  const retryHist = new LatencyHistogram();
  const giveUpHist = new LatencyHistogram();
  const attempts: Record<string, number> = {};
  let retries = 0;
  let delivered = 0;
  let givenUp = 0;
  for (const list of byKey.values()) {
    attempts[String(list.length)] = (attempts[String(list.length)] ?? 0) + 1;
    const first = list[0] as Arrival;
    // Retries that failed before this attempt, while the message was never delivered.
    let failedRetries = 0;
    let everOk = !failed(first, lateAfter);
    let flagged = false;
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1] as Arrival;
      const cur = list[i] as Arrival;
      if (!failed(prev, lateAfter)) {
        duplicates.push({ did: cur.push.did, detail: `${requestText(cur)} again at ${Math.round(cur.at)} ms, ${Math.round(cur.at - prev.at)} ms after a 200 in ${Math.round(prev.answerMs)} ms` });
      } else {
        retries++;
        retriedDevices.add(cur.push.did);
        // Both stamped by the platform: measured at the source; else at arrival (with the tolerance).
        const gap = cur.sentAt !== undefined && prev.sentAt !== undefined ? cur.sentAt - prev.sentAt : cur.at - prev.at;
        retryHist.record(gap);
        if (gap < policy.retryEveryMs - toleranceMs) {
          early.push({ did: cur.push.did, detail: `${requestText(cur)} retried ${Math.round(gap)} ms after a failed attempt (policy: every ${policy.retryEveryMs} ms)` });
        }
        const overCount = failedRetries >= policy.maxFailures;
        const overTime = sentOf(cur) - sentOf(first) > policy.cacheMs + toleranceMs;
        if (!everOk && !flagged && (overCount || overTime)) {
          flagged = true;
          noGiveUp.push({ did: cur.push.did, detail: `${requestText(cur)} sent again ${Math.round(sentOf(cur) - sentOf(first))} ms after its first attempt, after ${failedRetries} failed retries (policy: give up after ${policy.maxFailures} or ${policy.cacheMs} ms)` });
        }
      }
      if (failed(cur, lateAfter)) failedRetries++;
      else everOk = true;
    }
    if (list.some((a) => !failed(a, lateAfter))) delivered++;
    const last = list[list.length - 1] as Arrival;
    if (failed(last, lateAfter) && !list.some((a) => !failed(a, lateAfter))) {
      givenUp++;
      giveUpHist.record(sentOf(last) - sentOf(first));
    }
  }

  // Latency and order: first arrivals of each message, per device, in arrival order.
  const latency: Partial<Record<PushType, LatencyHistogram>> = {};
  const order: Violation[] = [];
  let unmatched = 0;
  for (const [did, list] of byDid) {
    const seen = new Set<string>();
    let maxProgress = -1;
    let resultAt: number | undefined;
    const trail = input.devices.get(did);
    for (const a of list) {
      if (seen.has(a.key)) continue;
      seen.add(a.key);
      const p = a.push;
      const at = p.msgType === 'ota_upgrade_progress' ? trail?.progress.get(p.progress) : trail?.end?.at;
      if (at === undefined) unmatched++;
      else (latency[p.msgType] ??= new LatencyHistogram()).record(Math.max(0, a.at - at));
      if (p.msgType === 'ota_upgrade_progress') {
        if (resultAt !== undefined) order.push({ did, detail: `${requestText(a)} at ${Math.round(a.at)} ms, after the result push (${Math.round(resultAt)} ms)` });
        else if (p.progress < maxProgress) order.push({ did, detail: `${requestText(a)} at ${Math.round(a.at)} ms after ${maxProgress}%` });
        maxProgress = Math.max(maxProgress, p.progress);
      } else resultAt ??= a.at;
    }
  }

  // A result push for every accepted end, matching it; none for an end that did not happen. A
  // missing one is excused when the receiver failed pushes and answered none in time for the whole
  // cache time after the end: the platform may then have given it up unsent (URL invalid, expired).
  const sortedAt = (keep: (a: Arrival) => boolean): number[] => input.arrivals.filter(keep).map((a) => a.at).sort((x, y) => x - y);
  const okTimes = sortedAt((a) => !failed(a, lateAfter));
  const failTimes = sortedAt((a) => failed(a, lateAfter));
  const anyWithin = (times: readonly number[], from: number, to: number): boolean => {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((times[mid] as number) < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < times.length && (times[lo] as number) <= to;
  };
  const receiverDown = (from: number, to: number): boolean => anyWithin(failTimes, from, to) && !anyWithin(okTimes, from, to);
  const results: Violation[] = [];
  let ended = 0;
  let exactlyOnce = 0;
  let excused = 0;
  for (const [did, trail] of input.devices) {
    if (!trail.end) continue;
    ended++;
    const want = trail.end.ok ? '1' : '0';
    const got = (byDid.get(did) ?? []).filter((a) => a.push.msgType === 'ota_upgrade_result');
    if (got.length === 1) exactlyOnce++;
    if (got.length === 0) {
      if (receiverDown(trail.end.at, trail.end.at + policy.cacheMs + toleranceMs)) excused++;
      else results.push({ did, detail: `no result push for its accepted ${trail.end.code} (sent at ${Math.round(trail.end.at)} ms)` });
    } else if (got.some((a) => a.push.msgType === 'ota_upgrade_result' && a.push.upgradeResult !== want)) results.push({ did, detail: `a result push says upgradeResult ${want === '1' ? '0' : '1'}, but the device's ${trail.end.code} was accepted` });
  }
  for (const [did, list] of byDid) {
    const trail = input.devices.get(did);
    if (trail !== undefined && trail.end === undefined && list.some((a) => a.push.msgType === 'ota_upgrade_result')) {
      results.push({ did, detail: 'a result push for a device whose end the platform never accepted' });
    }
  }

  const auth: Violation[] = input.arrivals.filter((a) => a.outcome === 'refused').map((a) => ({ did: a.push.did, detail: `${requestText(a)} with an Appid or Appkey other than the registered ones` }));

  const messages = byKey.size;
  const notes: string[] = [];
  if (input.devicesUnknown > 0) notes.push(`${input.devicesUnknown} device(s) left no evidence: their pushes were judged for order and retries only`);
  if (input.dropped > 0) notes.push(`${input.dropped} arrival(s) past the receiver's cap were not judged`);
  const note = notes.length > 0 ? notes.join('; ') : undefined;
  const rule = (name: string, description: string, checked: number, violations: Violation[], counts?: Record<string, number>, notJudged?: string): VerdictReport => {
    const status = notJudged !== undefined ? 'not-judged' : note !== undefined ? 'partly-judged' : 'judged';
    return {
      rule: name,
      description,
      status,
      ...(notJudged !== undefined ? { reason: notJudged } : note !== undefined ? { reason: note, note } : {}),
      checked: notJudged !== undefined ? 0 : checked,
      violations: violations.length,
      ...(counts ? { counts } : {}),
      samples: violations.slice(0, input.maxSamples).map((v) => ({ device: v.did, detail: v.detail, trace: traceOf(byDid.get(v.did) ?? []) })),
    };
  };
  const noPushes = messages === 0 ? 'no push arrived at the receiver' : undefined;
  const noFailure = input.arrivals.some((a) => failed(a, lateAfter)) ? undefined : 'the receiver never failed a push, so no retry was owed';
  const verdicts: VerdictReport[] = [
    rule('push-result', 'every device whose end the platform accepted gets one result push saying so', ended, results, { ended, exactlyOnce, resultPushes: received.ota_upgrade_result, ...(excused > 0 ? { missingWhileReceiverDown: excused } : {}) }, ended === 0 ? 'no device reached an end the platform accepted' : undefined),
    rule('push-progress-order', "a device's progress pushes never decrease and never follow its result", byDid.size, order, undefined, noPushes),
    rule('push-duplicate', 'a message comes again only after the receiver answered late or failed', byDid.size, duplicates, { messages, duplicatesWithoutCause: duplicates.length }, noPushes),
    rule('push-retry-interval', `a failed push is retried no sooner than the policy's ${policy.retryEveryMs} ms`, retriedDevices.size, early, { retries }, noPushes ?? (retries === 0 ? noFailure ?? 'no push was retried' : undefined)),
    rule('push-give-up', `a failing push is given up after ${policy.maxFailures} failed retries or ${policy.cacheMs} ms`, retriedDevices.size, noGiveUp, { givenUp }, noPushes ?? (retries === 0 ? noFailure ?? 'no push was retried' : undefined)),
    rule('push-headers', 'every push carries the registered Appid and Appkey', byDid.size, auth, { pushes: input.arrivals.length, refusedAuth }, noPushes),
  ];
  if (input.malformed > 0) {
    verdicts.push({
      rule: 'push-format',
      description: 'every push is a documented AIOT message',
      status: 'judged',
      checked: input.malformed + input.arrivals.length,
      violations: input.malformed,
      samples: [{ device: '-', detail: `${input.malformed} body(ies) were not a push; first: ${input.firstMalformed ?? '?'}`, trace: [] }],
    });
  }
  const latencyMs: Partial<Record<PushType, HistogramFigure>> = {};
  for (const [type, h] of Object.entries(latency) as [PushType, LatencyHistogram][]) latencyMs[type] = figure(h);
  return {
    verdicts,
    figures: {
      received,
      delivered,
      messages,
      retries,
      duplicatesWithoutCause: duplicates.length,
      givenUp,
      attemptsPerMessage: attempts,
      latencyMs,
      retryIntervalMs: figure(retryHist),
      giveUpAfterMs: figure(giveUpHist),
      unmatched,
      refusedAuth,
      malformed: input.malformed,
      dropped: input.dropped,
    },
  };
}

const MAX_TRACE = 30;
const traceOf = (list: readonly Arrival[]): VerdictTraceLine[] =>
  list.slice(0, MAX_TRACE).map((a) => ({ t: Math.round(a.at), request: requestText(a), answer: answerText(a), state: a.outcome }));
