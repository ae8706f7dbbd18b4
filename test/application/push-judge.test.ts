import { describe, expect, it } from 'vitest';
import { HUAWEI_PUSH_POLICY, pushKey, type PushMessage } from '../../src/protocol/aiot.js';
import { judgePushes, type DeviceTrail, type PushJudgeInput } from '../../src/receiver/judge.js';
import type { Arrival, ArrivalOutcome } from '../../src/receiver/server.js';

const P = HUAWEI_PUSH_POLICY;
const progress = (did: string, p: number): PushMessage => ({ msgType: 'ota_upgrade_progress', did, firmwareVersion: 'V2.0', progress: p });
const result = (did: string, ok = true): PushMessage => ({ msgType: 'ota_upgrade_result', did, firmwareVersion: 'V2.0', upgradeResult: ok ? '1' : '0', cause: ok ? '' : 'md5 failed (205)' });
const arrival = (at: number, push: PushMessage, outcome: ArrivalOutcome = 'ok', answerMs = 2): Arrival => ({
  at,
  push,
  key: pushKey(push),
  outcome,
  ...(outcome === 'ok' ? { status: 200 } : outcome === 'error' ? { status: 503 } : outcome === 'refused' ? { status: 401 } : {}),
  answerMs: outcome === 'hang' || outcome === 'reset' ? Infinity : answerMs,
});
const trail = (end?: { ok: boolean; at: number }, steps: [number, number][] = [[50, 10], [100, 20]]): DeviceTrail => ({
  progress: new Map(steps),
  ...(end ? { end: { ...end, code: end.ok ? 201 : 205 } } : {}),
});
const input = (arrivals: Arrival[], devices: [string, DeviceTrail][], over: Partial<PushJudgeInput> = {}): PushJudgeInput => ({
  arrivals,
  policy: P,
  toleranceMs: 1000,
  answerSlackMs: 1000,
  devices: new Map(devices),
  devicesUnknown: 0,
  dropped: 0,
  malformed: 0,
  maxSamples: 5,
  ...over,
});
const verdict = (i: PushJudgeInput, rule: string) => {
  const v = judgePushes(i).verdicts.find((r) => r.rule === rule);
  if (!v) throw new Error(`no verdict ${rule}`);
  return v;
};
const healthy = (did: string, t0 = 0): Arrival[] => [arrival(t0 + 15, progress(did, 50)), arrival(t0 + 25, progress(did, 100)), arrival(t0 + 35, result(did))];

describe('push rules', () => {
  it('a clean run passes every rule and measures latency from the device action per type', () => {
    const r = judgePushes(input([...healthy('a'), ...healthy('b')], [['a', trail({ ok: true, at: 30 })], ['b', trail({ ok: true, at: 30 })]]));
    for (const v of r.verdicts.filter((v) => v.status !== 'not-judged')) expect(v.violations, v.rule).toBe(0);
    expect(r.figures.latencyMs.ota_upgrade_progress?.count).toBe(4);
    expect(r.figures.latencyMs.ota_upgrade_result?.summary.max).toBeCloseTo(5, 0);
    expect(r.figures.delivered).toBe(6);
    // Nothing failed: the retry rules say why they judged nothing instead of passing.
    expect(verdict(input(healthy('a'), [['a', trail({ ok: true, at: 30 })]]), 'push-retry-interval')).toMatchObject({ status: 'not-judged', reason: expect.stringContaining('never failed') });
  });

  it('push-result: a finished device without a result push, and a result that contradicts the device', () => {
    const v = verdict(input([arrival(15, progress('a', 50)), arrival(40, result('b', false))], [['a', trail({ ok: true, at: 30 })], ['b', trail({ ok: true, at: 30 })]]), 'push-result');
    expect(v.violations).toBe(2);
    expect(v.samples.map((s) => s.device).sort()).toEqual(['a', 'b']);
  });

  it('push-result: a missing result is excused only when the receiver answered nothing in time for the whole cache time after the end', () => {
    const down = [arrival(10, progress('a', 50), 'reset'), arrival(400_000, progress('b', 50), 'reset')];
    const r = judgePushes(input(down, [['a', trail({ ok: true, at: 5 })]]));
    expect(r.verdicts.find((v) => v.rule === 'push-result')).toMatchObject({ violations: 0, counts: { ended: 1, exactlyOnce: 0, missingWhileReceiverDown: 1 } });
    const upLater = [...down, arrival(500_000, progress('b', 100))];
    expect(verdict(input(upLater, [['a', trail({ ok: true, at: 5 })]]), 'push-result').violations).toBe(1);
  });

  it('push-result: a result push for a device whose end was never accepted', () => {
    expect(verdict(input([arrival(40, result('a'))], [['a', trail()]]), 'push-result').violations).toBe(1);
  });

  it('push-progress-order: decreasing progress and progress after the result are caught; a retry of an old step is not', () => {
    const dec = [arrival(10, progress('a', 100)), arrival(20, progress('a', 50))];
    expect(verdict(input(dec, [['a', trail()]]), 'push-progress-order').violations).toBe(1);
    const after = [arrival(10, result('a')), arrival(20, progress('a', 100))];
    expect(verdict(input(after, [['a', trail({ ok: true, at: 5 })]]), 'push-progress-order').violations).toBe(1);
    const retry = [arrival(0, progress('a', 50), 'error'), arrival(10, progress('a', 100)), arrival(60_000, progress('a', 50))];
    expect(verdict(input(retry, [['a', trail()]]), 'push-progress-order').violations).toBe(0);
  });

  it('push-duplicate: again after a 200 in time is a violation; after a late 200, a 5xx, no answer or a reset it is not', () => {
    const dup = [arrival(0, result('a')), arrival(5, result('a'))];
    expect(verdict(input(dup, [['a', trail({ ok: true, at: 0 })]]), 'push-duplicate').violations).toBe(1);
    for (const [outcome, answerMs] of [['ok', 16_000], ['error', 1], ['hang', 0], ['reset', 0]] as const) {
      const excused = [arrival(0, result('a'), outcome, answerMs), arrival(60_000, result('a'))];
      expect(verdict(input(excused, [['a', trail({ ok: true, at: 0 })]]), 'push-duplicate').violations, outcome).toBe(0);
    }
  });

  it('push-duplicate: a 200 written fast but more than the answer time after the platform\'s stamped send excuses the retry', () => {
    const slowWayIn = [{ ...arrival(20_000, result('a')), sentAt: 0 }, { ...arrival(60_000, result('a')), sentAt: 60_000 }];
    expect(verdict(input(slowWayIn, [['a', trail({ ok: true, at: 0 })]]), 'push-duplicate').violations).toBe(0);
    const fastWayIn = [{ ...arrival(100, result('a')), sentAt: 0 }, { ...arrival(60_000, result('a')), sentAt: 60_000 }];
    expect(verdict(input(fastWayIn, [['a', trail({ ok: true, at: 0 })]]), 'push-duplicate').violations).toBe(1);
  });

  it('push-retry-interval: a retry sooner than the interval (less the tolerance) is caught, and intervals are measured', () => {
    const early = [arrival(0, result('a'), 'error'), arrival(10_000, result('a'))];
    const r = judgePushes(input(early, [['a', trail({ ok: true, at: 0 })]]));
    expect(r.verdicts.find((v) => v.rule === 'push-retry-interval')?.violations).toBe(1);
    expect(r.figures.retryIntervalMs.count).toBe(1);
    const onTime = [arrival(0, result('a'), 'error'), arrival(59_500, result('a'))];
    expect(verdict(input(onTime, [['a', trail({ ok: true, at: 0 })]]), 'push-retry-interval').violations).toBe(0);
  });

  it('push-retry-interval: measured between the platform\'s own send stamps when both attempts carry one', () => {
    // The first attempt took 30 s on its way in; the platform sent the two 60 s apart.
    const stamped = [{ ...arrival(30_000, result('a'), 'error'), sentAt: 0 }, { ...arrival(60_100, result('a')), sentAt: 60_000 }];
    const r = judgePushes(input(stamped, [['a', trail({ ok: true, at: 0 })]]));
    expect(r.verdicts.find((v) => v.rule === 'push-retry-interval')?.violations).toBe(0);
    expect(r.figures.retryIntervalMs.summary.max).toBeCloseTo(60_000, -2);
    const early = [{ ...arrival(0, result('a'), 'error'), sentAt: 0 }, { ...arrival(60_000, result('a')), sentAt: 10_000 }];
    expect(verdict(input(early, [['a', trail({ ok: true, at: 0 })]]), 'push-retry-interval').violations).toBe(1);
  });

  it('push-give-up: an 11th retry, or a retry past the cache time, is caught; 10 failed retries then a give-up is not', () => {
    const attempts = (n: number, every: number): Arrival[] => Array.from({ length: n }, (_, i) => arrival(i * every, result('a'), 'error'));
    const ok = judgePushes(input(attempts(1 + P.maxFailures, 60_000), [['a', trail({ ok: true, at: 0 })]]));
    expect(ok.verdicts.find((v) => v.rule === 'push-give-up')?.violations).toBe(0);
    expect(ok.figures.givenUp).toBe(1);
    expect(ok.figures.giveUpAfterMs.summary.max).toBeCloseTo(600_000, -4);
    expect(verdict(input(attempts(2 + P.maxFailures, 60_000), [['a', trail({ ok: true, at: 0 })]]), 'push-give-up').violations).toBe(1);
    const late = [arrival(0, result('a'), 'error'), arrival(700_000, result('a'), 'error')];
    expect(verdict(input(late, [['a', trail({ ok: true, at: 0 })]]), 'push-give-up').violations).toBe(1);
  });

  it('push-headers: a push with other keys is caught', () => {
    expect(verdict(input([arrival(0, result('a'), 'refused')], [['a', trail({ ok: true, at: 0 })]]), 'push-headers').violations).toBe(1);
  });

  it('says what it could not judge: no pushes at all, evidence missing, arrivals dropped, malformed bodies', () => {
    const none = judgePushes(input([], [['a', trail({ ok: true, at: 0 })]]));
    expect(none.verdicts.find((v) => v.rule === 'push-result')?.violations).toBe(1);
    expect(none.verdicts.find((v) => v.rule === 'push-duplicate')).toMatchObject({ status: 'not-judged', reason: 'no push arrived at the receiver' });
    const partly = judgePushes(input(healthy('a'), [['a', trail({ ok: true, at: 30 })]], { devicesUnknown: 3, dropped: 2, malformed: 1, firstMalformed: 'did: expected a non-empty string' }));
    expect(partly.verdicts.find((v) => v.rule === 'push-result')).toMatchObject({ status: 'partly-judged' });
    expect(partly.verdicts.find((v) => v.rule === 'push-format')?.violations).toBe(1);
  });
});
