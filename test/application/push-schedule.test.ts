import { describe, expect, it } from 'vitest';
import { HUAWEI_PUSH_POLICY, type PushMessage } from '../../src/protocol/aiot.js';
import { BUG_EVERY, PushSchedule, type Attempt } from '../../src/server/aiot/push-schedule.js';

const P = HUAWEI_PUSH_POLICY;
const progress = (did: string, p: number): PushMessage => ({ msgType: 'ota_upgrade_progress', did, firmwareVersion: 'V2.0', progress: p });
const result = (did: string): PushMessage => ({ msgType: 'ota_upgrade_result', did, firmwareVersion: 'V2.0', upgradeResult: '1', cause: '' });

/** Drives a schedule on a fake clock: every attempt fails while `fails(t)` says so; returns each attempt's instant. */
function drive(s: PushSchedule, fails: (t: number) => boolean, untilMs: number): { t: number; a: Attempt }[] {
  const log: { t: number; a: Attempt }[] = [];
  let t = 0;
  while (t <= untilMs) {
    for (const a of s.due(t)) {
      log.push({ t, a });
      s.ended(a.id, !fails(t), t, t + (fails(t) ? P.answerWithinMs : 5));
    }
    const next = s.nextWakeAt();
    if (next === undefined) break;
    t = Math.max(t + 1, next);
  }
  return log;
}

describe('push schedule (spec §3.3 retry policy)', () => {
  it('sends once and is done after a 200 in time', () => {
    const s = new PushSchedule(P, new Set());
    s.make(progress('d1', 10), 0);
    const log = drive(s, () => false, 10 * 60_000);
    expect(log).toHaveLength(1);
    expect(s.counts.delivered).toBe(1);
    expect(s.pending).toBe(0);
  });

  it('retries a failure every retryEveryMs and delivers when the backend recovers', () => {
    const s = new PushSchedule(P, new Set());
    s.make(result('d1'), 0);
    const log = drive(s, (t) => t < 150_000, 20 * 60_000);
    expect(log.map((l) => l.t)).toEqual([0, 60_000, 120_000, 180_000]);
    expect(s.counts.delivered).toBe(1);
    expect(s.valid).toBe(true);
  });

  it('gives up after 10 failed retries (11 attempts, within the 10 minute cache) and marks the URL invalid', () => {
    const s = new PushSchedule(P, new Set());
    s.make(result('d1'), 0);
    const log = drive(s, () => true, 60 * 60_000);
    expect(log).toHaveLength(1 + P.maxFailures);
    expect((log.at(-1) as { t: number }).t).toBeLessThanOrEqual(P.cacheMs);
    expect(s.counts.givenUp).toBe(1);
    expect(s.valid).toBe(false);
    expect(s.counts.urlInvalidTimes).toBe(1);
  });

  it('while the URL is invalid sends only one probe per interval, and sends the cache once a probe succeeds', () => {
    const s = new PushSchedule(P, new Set());
    s.make(result('a'), 0);
    const down = (t: number): boolean => t < 700_000;
    // Let 'a' be given up, then queue three more while invalid.
    let log = drive(s, down, 610_000);
    expect(s.valid).toBe(false);
    for (const d of ['b', 'c', 'd']) s.make(progress(d, 50), 620_000);
    log = drive(s, down, 1_000_000).filter((l) => l.t >= 620_000);
    const probes = log.filter((l) => l.a.probe);
    expect(probes.length).toBeGreaterThanOrEqual(1);
    // Never two sends at one instant while invalid; after the successful probe, the others go at once.
    const okProbe = probes.find((p) => !down(p.t)) as { t: number };
    const before = log.filter((l) => l.t < okProbe.t);
    expect(before.every((l) => l.a.probe)).toBe(true);
    expect(s.valid).toBe(true);
    expect(s.counts.delivered).toBe(3);
  });

  it('drops a message older than the cache time without sending it', () => {
    const s = new PushSchedule(P, new Set());
    s.make(result('a'), 0);
    drive(s, () => true, 610_000);
    s.make(progress('b', 1), 611_000);
    // The probe interval starts after the give-up: b is probed once, fails, and expires by 1_300_000.
    drive(s, () => true, 1_300_000);
    expect(s.counts.expired + s.counts.givenUp).toBe(2);
    expect(s.pending).toBe(0);
  });

  it('starts at most maxInFlight attempts at once, oldest first, and retries in the order they fall due', () => {
    const s = new PushSchedule(P, new Set(), 2);
    for (let i = 0; i < 5; i++) s.make(progress(`d${i}`, 10), i);
    const first = s.due(10);
    expect(first.map((a) => a.msg.did)).toEqual(['d0', 'd1']);
    expect(s.due(10)).toEqual([]);
    s.ended(first[1]!.id, false, 10, 11);
    s.ended(first[0]!.id, false, 5, 12);
    expect(s.due(12).map((a) => a.msg.did)).toEqual(['d2', 'd3']);
    expect(s.nextWakeAt()).toBe(60_005);
    expect(s.pending).toBe(5);
  });

  it('bug push-lost: every 10th result push is never sent', () => {
    const s = new PushSchedule(P, new Set(['push-lost']));
    for (let i = 0; i < 2 * BUG_EVERY; i++) s.make(result(`d${i}`), 0);
    for (let i = 0; i < 5; i++) s.make(progress(`d${i}`, 10), 0);
    const log = drive(s, () => false, 1000);
    expect(log).toHaveLength(2 * BUG_EVERY - 2 + 5);
    expect(s.counts.lostByBug).toBe(2);
  });

  it('bug push-duplicated: every 10th delivered push comes back to be sent again', () => {
    const s = new PushSchedule(P, new Set(['push-duplicated']));
    for (let i = 0; i < BUG_EVERY; i++) s.make(progress(`d${i}`, 10), 0);
    const again = s.due(0).map((a) => s.ended(a.id, true, 0, 5)).filter((m) => m !== undefined);
    expect(again).toHaveLength(1);
  });

  it('bug push-retry-early: retries after a sixth of the interval (or as soon as a timed-out attempt ends)', () => {
    const s = new PushSchedule(P, new Set(['push-retry-early']));
    s.make(result('d1'), 0);
    // The fake backend fails by timing out (15 s): the retry goes when the failure is known.
    expect(drive(s, (t) => t < 15_000, 60_000).map((l) => l.t)).toEqual([0, 15_000]);
    const quick = new PushSchedule(P, new Set(['push-retry-early']));
    quick.make(result('d1'), 0);
    const log: number[] = [];
    for (let t = 0; t <= 30_000; t += 1000) for (const a of quick.due(t)) log.push(t), quick.ended(a.id, t >= 20_000, t, t + 5);
    expect(log).toEqual([0, 10_000, 20_000]);
  });

  it('bug push-no-give-up: keeps retrying past 10 failures and the cache time', () => {
    const s = new PushSchedule(P, new Set(['push-no-give-up']));
    s.make(result('d1'), 0);
    const log = drive(s, () => true, 30 * 60_000);
    expect(log.length).toBeGreaterThan(1 + P.maxFailures);
    expect(s.valid).toBe(true);
    expect(s.counts.givenUp).toBe(0);
  });
});
