/**
 * The OneNET verdict rules on hand-built evidence: each passes what the protocol allows and names
 * the device, with a reason, for each way it can be broken.
 */
import { describe, expect, it } from 'vitest';
import { coapRetransmit, finalStateAgreement } from '../../src/verdicts/rules/common.js';
import { expectedFailures, failureCodes, gating, oneSuccessPerTask, ownToken, restartOnRepublish, resumeFromHeld, tokenRenewal } from '../../src/verdicts/rules/onenet.js';
import type { DeviceEvidence } from '../../src/verdicts/evidence.js';
import type { Rule, VerdictContext } from '../../src/verdicts/rule.js';
import { context, device, task, type Step } from './evidence-kit.js';

const judge = (rule: Rule, devices: DeviceEvidence[], ctx: VerdictContext = context()) => {
  const r = rule.evaluate(devices, ctx);
  return { ...r, why: r.violations.map((v) => `${v.device.id}: ${v.detail}`) };
};

const offer = (token: string, over: Record<string, unknown> = {}): Step => ({
  op: 'check',
  facts: { errno: 0, offerToken: token, offerSize: 1000, offerMd5: 'aaa', offerSignal: 5, offerPower: 20, offerTarget: 'V2.0', manuf: '101', model: '10101', version: 'V1.0', ...over },
});
const result = (step: number, errno: number | undefined, extra: Record<string, unknown> = {}): Step => ({ op: 'result', facts: { token: 't1', step, ...(errno !== undefined ? { errno } : {}), ...extra } });
const dl = (start: number, end: number, answer: Record<string, unknown>): Step => ({ op: 'download', facts: { token: 't1', start, end, ...answer } });
const SUCCEEDED = { kind: 'succeeded', code: 201, version: 'V2.0' };

describe('one-success-per-task', () => {
  it('accepts a retransmitted 201 answered 20 and counts it apart', () => {
    const d = device('d1', [offer('t1'), result(201, undefined, { lost: true, net: 'ANSWER_LOST' }), result(201, 20)], { final: { ...SUCCEEDED, duplicateResult: true } });
    const r = judge(oneSuccessPerTask, [d], context({ views: { d1: task({ successes: 1, duplicateResults: 1 }) } }));
    expect(r.why).toEqual([]);
    expect(r.checked).toBe(1);
    expect(r.counts).toEqual({ 'duplicates-answered-20': 1, 'duplicate-results': 1 });
  });

  it('flags a second 201 accepted, and a progress step accepted after the success', () => {
    const twice = device('twice', [offer('t1'), result(201, 0), result(201, 0)]);
    const late = device('late', [offer('t1'), result(201, 0), { op: 'progress', facts: { token: 't1', step: 50, errno: 0 } }]);
    expect(judge(oneSuccessPerTask, [twice, late]).why).toEqual([
      expect.stringMatching(/^twice: result step 201 at .* was answered errno 0 \(expected 20, task finished\)$/),
      expect.stringMatching(/^late: progress step 50 at .* was answered errno 0 \(expected 20/),
    ]);
  });

  it('flags a server that counts two successes, none, or moved the task back', () => {
    const d = device('d', [offer('t1'), result(201, 0)]);
    expect(judge(oneSuccessPerTask, [d], context({ views: { d: task({ successes: 2 }) } })).why).toEqual(['d: the server counts 2 successes of one task (expected 1)']);
    expect(judge(oneSuccessPerTask, [d], context({ views: { d: task({ successes: 0 }) } })).why).toEqual(['d: its 201 was answered errno 0 but the server counts no success']);
    expect(judge(oneSuccessPerTask, [d], context({ views: { d: task({ state: 'downloading' }) } })).why[0]).toMatch(/server's task is now downloading/);
  });

  it('flags a server that counts fewer refused duplicates than it answered 20', () => {
    const d = device('d', [offer('t1'), result(201, 0), result(201, 20), result(201, 20)]);
    expect(judge(oneSuccessPerTask, [d], context({ views: { d: task({ duplicateResults: 1 }) } })).why[0]).toMatch(/counts 1 refused duplicate results, but answered 20 to 2/);
  });

  it('applies only to devices that reported 201', () => {
    expect(judge(oneSuccessPerTask, [device('d', [offer('t1')])]).checked).toBe(0);
  });
});

describe('own-token', () => {
  it('passes a device that uses the token its check handed it, which its task holds', () => {
    const d = device('d', [offer('t1'), { op: 'tokenCheck', facts: { token: 't1', errno: 0 } }]);
    expect(judge(ownToken, [d], context({ views: { d: task({ token: 't1' }) } })).why).toEqual([]);
  });

  it("flags a token called another device's, and one no task of the device holds", () => {
    const d = device('d', [offer('t1'), { op: 'tokenCheck', facts: { token: 't1', errno: 4 } }]);
    expect(judge(ownToken, [d]).why[0]).toMatch(/handed it token#1, then the tokenCheck at .* was answered 4/);
    const e = device('e', [offer('t1')]);
    expect(judge(ownToken, [e], context({ views: { e: task({ token: 't9' }) } })).why).toEqual(['e: its last check handed it token#1, which no task of this device holds on the server']);
  });
});

describe('resume-from-held', () => {
  const cutThenResume: Step[] = [
    offer('t1'),
    dl(0, 499, { status: 206, rangeStart: 0, bytes: 500, held: 500 }),
    dl(500, 999, { status: 206, rangeStart: 500, bytes: 200, held: 700, cut: true, cutAfter: 200 }),
    offer('t1'),
    dl(700, 999, { status: 206, rangeStart: 700, bytes: 300, held: 1000, md5: 'aaa' }),
  ];

  it('passes a cut download resumed from the byte held, with exactly the file received', () => {
    const r = judge(resumeFromHeld, [device('d', cutThenResume)]);
    expect(r.why).toEqual([]);
    expect(r.counts).toEqual({ cuts: 1, resumed: 1 });
  });

  it('flags a resume from another byte', () => {
    const steps = [...cutThenResume.slice(0, 4), dl(500, 999, { status: 206, rangeStart: 500, bytes: 500, held: 1000, md5: 'aaa' })];
    expect(judge(resumeFromHeld, [device('d', steps)]).why).toEqual(['d: the link dropped at byte 700; its next request asked for bytes=500-999 (expected 700-)']);
  });

  it('flags a Range answered with the whole file, or from another byte', () => {
    const whole = device('w', [offer('t1'), dl(0, 499, { status: 200, rangeStart: 0, bytes: 1000, held: 1000, md5: 'aaa' })]);
    expect(judge(resumeFromHeld, [whole]).why).toEqual(['w: asked for bytes=0-499 of 1000; answered 200 with 1000 bytes from byte 0 (the Range was ignored)']);
    const shifted = device('s', [offer('t1'), dl(0, 499, { status: 206, rangeStart: 0, bytes: 500, held: 500 }), dl(500, 999, { status: 206, rangeStart: 400, bytes: 500, held: 500 })]);
    expect(judge(resumeFromHeld, [shifted]).why).toEqual(['s: asked for bytes=500-999; answered 206 from byte 400']);
  });

  it('flags more bytes received than the file and its restarts need, and a wrong md5', () => {
    const extra = device('x', [offer('t1'), dl(0, 499, { status: 206, rangeStart: 0, bytes: 500, held: 500 }), dl(500, 999, { status: 206, rangeStart: 500, bytes: 1000, held: 1000, md5: 'aaa' })]);
    expect(judge(resumeFromHeld, [extra]).why).toEqual(['x: it received 1500 bytes for a 1000-byte file (0 discarded by restarts): 500 more than needed']);
    const wrong = device('m', [offer('t1'), dl(0, 999, { status: 206, rangeStart: 0, bytes: 1000, held: 1000, md5: 'bbb' })]);
    expect(judge(resumeFromHeld, [wrong]).why[0]).toMatch(/assemble to md5 bbb…, the task's md5 is aaa…/);
  });
});

describe('restart-on-republish', () => {
  const event = { action: 'republish' as const, package: 'p', startedAt: 2500, doneAt: 2510, md5: ['new'], previousMd5: ['aaa'] };
  const ctx = context({ events: [event] });
  const before: Step[] = [offer('t1'), dl(0, 499, { status: 206, rangeStart: 0, bytes: 500, held: 500, cut: true })];

  it('passes a device that starts over and upgrades with the new image, counted', () => {
    const d = device('d', [...before, offer('t1', { offerMd5: 'new' }), dl(0, 999, { status: 206, rangeStart: 0, bytes: 1000, held: 1000, md5: 'new' })], { final: SUCCEEDED });
    const r = judge(restartOnRepublish, [d], ctx);
    expect(r.why).toEqual([]);
    expect(r.counts).toEqual({ 'started-over': 1 });
  });

  it('flags a check that offers the old md5 after the republish (stale md5)', () => {
    const d = device('d', [...before, offer('t1', { offerMd5: 'aaa' })]);
    expect(judge(restartOnRepublish, [d], ctx).why[0]).toMatch(/^d: its check at .*, after the republish done at .*, offered md5 aaa…: the package's md5 before the republish \(now new…\)$/);
  });

  it('flags a device that keeps the old bytes, or ends without the new image', () => {
    const resumed = device('r', [...before, offer('t1', { offerMd5: 'new' }), dl(500, 999, { status: 206, rangeStart: 500, bytes: 500, held: 1000, md5: 'mix' })]);
    expect(judge(restartOnRepublish, [resumed], ctx).why).toEqual(['r: it held 500 bytes of the old image; after the check offered the new md5 it asked for bytes=500- (expected to start over at 0)']);
    const failed = device('f', [...before, offer('t1', { offerMd5: 'new' })], { final: { kind: 'failed', code: 205 } });
    expect(judge(restartOnRepublish, [failed], ctx).why).toEqual(['f: it ended failed (205) instead of upgrading with the republished image']);
  });

  it('applies only to devices still at work after a republish of their package', () => {
    expect(judge(restartOnRepublish, [device('d', before)], ctx).checked).toBe(0);
    expect(judge(restartOnRepublish, [device('d', [...before, offer('t1', { offerMd5: 'new' })])], context()).checked).toBe(0);
  });
});

describe('gating and failure codes', () => {
  const weak = { profile: { signal: 3 } };
  const report106: Step = result(106, 0);

  it('passes a weak device that reports 106 without downloading, and whose task failed', () => {
    const d = device('d', [offer('t1'), report106], { ...weak, final: { kind: 'gated', code: 106 } });
    const r = judge(gating, [d], context({ views: { d: task({ state: 'failed' }) } }));
    expect(r.why).toEqual([]);
    expect(r.counts).toEqual({ 'gated-106': 1 });
  });

  it('flags a gated device that downloads, reports nothing, or whose task the server keeps', () => {
    const downloads = device('a', [offer('t1'), { op: 'tokenCheck', facts: { token: 't1', errno: 0 } }], weak);
    expect(judge(gating, [downloads]).why[0]).toMatch(/below the task's thresholds, it still made a tokenCheck/);
    expect(judge(gating, [device('b', [offer('t1')], { ...weak, final: { kind: 'gated', code: 106 } })]).why).toEqual(['b: it never reported 106']);
    const kept = device('c', [offer('t1'), report106], { ...weak, final: { kind: 'gated', code: 106 } });
    expect(judge(gating, [kept], context({ views: { c: task({ state: 'pending' }) } })).why).toEqual(["c: it reported 106, but the server's task is pending (expected failed)"]);
  });

  it('expects 105 from a battery at or below the power threshold', () => {
    const d = device('d', [offer('t1'), result(106, 0)], { profile: { battery: 20 }, final: { kind: 'gated', code: 106 } });
    expect(judge(gating, [d]).why).toEqual(['d: it never reported 105']);
  });

  it('checks the failure each faulty device must report', () => {
    const full = device('full', [offer('t1'), result(102, 0)], { behaviour: { storageFull: true }, final: { kind: 'failed', code: 102 } });
    const flash = device('flash', [offer('t1'), dl(0, 999, { status: 206, rangeStart: 0, bytes: 1000, held: 1000, md5: 'aaa' }), result(101, 0), result(203, 0)], {
      behaviour: { flashFails: { code: 203 } },
      final: { kind: 'failed', code: 203 },
    });
    const r = judge(failureCodes, [full, flash]);
    expect(r.why).toEqual([]);
    expect(r.counts).toEqual({ 'reported-102': 1, 'reported-203': 1 });
    const downloaded = device('x', [offer('t1'), dl(0, 999, { status: 206, rangeStart: 0, bytes: 1000, held: 1000 }), result(102, 0)], { behaviour: { storageFull: true } });
    expect(judge(failureCodes, [downloaded]).why).toEqual(['x: its storage is full, yet it downloaded (1 requests)']);
    const refused = device('y', [offer('t1'), result(102, 17)], { behaviour: { storageFull: true } });
    expect(judge(failureCodes, [refused]).why).toEqual(['y: its report of 102 was answered errno:17 (expected errno 0)']);
    const wrongEnd = device('z', [offer('t1'), result(102, 0)], { behaviour: { storageFull: true }, final: { kind: 'gave-up', code: 0 } });
    expect(judge(failureCodes, [wrongEnd]).why).toEqual(['z: it ended gave-up (0); expected failed (102)']);
  });
});

describe('token-renewal', () => {
  const DAY = 86_400_000;
  const renewed: Step[] = [
    { ...offer('t1'), at: 0 },
    dl(0, 499, { status: 206, rangeStart: 0, bytes: 500, held: 500 }),
    { ...dl(500, 999, { code: 3, bytes: 1, status: 200 }), at: 3 * DAY },
    { op: 'check', facts: { errno: 1, authExpired: true } },
    offer('t2'),
    { op: 'download', facts: { token: 't2', start: 500, end: 999, status: 206, rangeStart: 500, bytes: 500, held: 1000 } },
  ];

  it('passes a device refused after its long sleep that renews, refuses a stale Authorization and carries on', () => {
    const r = judge(tokenRenewal, [device('d', renewed, { behaviour: { longSleep: { sleepMs: 3 * DAY, staleAuth: true } }, final: SUCCEEDED })]);
    expect(r.why).toEqual([]);
    expect(r.counts).toEqual({ 'expired-auth-refused': 1, renewed: 1 });
  });

  it('flags an expired Authorization accepted', () => {
    const steps = renewed.map((s) => (s.facts?.authExpired ? { ...s, facts: { ...s.facts, errno: 0 } } : s));
    expect(judge(tokenRenewal, [device('d', steps)]).why[0]).toMatch(/carried an expired Authorization and was answered errno 0 \(expected 1/);
  });

  it('flags a token past its two days that is still served', () => {
    const steps: Step[] = [{ ...offer('t1'), at: 0 }, { ...dl(0, 499, { status: 206, rangeStart: 0, bytes: 500, held: 500 }), at: 3 * DAY }];
    expect(judge(tokenRenewal, [device('d', steps, { behaviour: { longSleep: { sleepMs: 3 * DAY, staleAuth: false } } })]).why[0]).toMatch(/^d: token#1 was 72\.0h old \(tokens live 48\.0h, profile onenet\.tokenTtl\) and its download at .* was still served$/);
  });

  it('judges the token life by the profile: a server promising 4 days may serve a token 3 days old', () => {
    const steps: Step[] = [{ ...offer('t1'), at: 0 }, { ...dl(0, 499, { status: 206, rangeStart: 0, bytes: 500, held: 500 }), at: 3 * DAY }];
    const sleeper = device('d', steps, { behaviour: { longSleep: { sleepMs: 3 * DAY, staleAuth: false } } });
    expect(judge(tokenRenewal, [sleeper], context({ tokenTtlMs: 4 * DAY })).why).toEqual([]);
    expect(judge(tokenRenewal, [sleeper], context({ tokenTtlMs: 2.5 * DAY })).why[0]).toMatch(/tokens live 60\.0h/);
  });

  it('flags the refused token used again, and a device that never renews', () => {
    const reuse = [...renewed, { op: 'progress', facts: { token: 't1', step: 50, errno: 12 } }];
    expect(judge(tokenRenewal, [device('d', reuse)]).why[0]).toMatch(/used the refused token#1 again/);
    expect(judge(tokenRenewal, [device('e', renewed.slice(0, 4), { final: { kind: 'gave-up', code: 1 } })]).why).toEqual(['e: after token#1 was refused it never got a new one']);
  });
});

describe('expected-failures', () => {
  it('counts 8 and 9 that end failed with the task failed', () => {
    const eight = device('e8', [{ op: 'check', facts: { errno: 8, manuf: '102', model: '10201', version: 'V1.0' } }], { final: { kind: 'failed', code: 8 } });
    const nine = device('e9', [{ op: 'check', facts: { errno: 9, manuf: '101', model: '10101', version: 'V1.2' } }], { final: { kind: 'failed', code: 9 } });
    const ctx = context({
      views: { e8: task({ state: 'failed' }), e9: task({ state: 'failed', package: 'diff' }) },
      server: { packages: new Map([['diff', { version: 'V2.0', size: 10, md5: 'x', kind: 'diff' as const, from: ['V1.5'] }]]) },
    });
    const r = judge(expectedFailures, [eight, nine], ctx);
    expect(r.why).toEqual([]);
    expect(r.counts).toEqual({ 'errno-8': 1, 'errno-9': 1 });
  });

  it('flags a mismatch the server did not refuse, and an expected failure that ended otherwise', () => {
    const missed = device('m', [offer('t1', { manuf: '102', model: '10201' })]);
    expect(judge(expectedFailures, [missed], context({ views: { m: task() } })).why).toEqual(["m: manuf/model 102/10201 differ from the task's; its check was answered errno:0 (expected errno 8)"]);
    const gaveUp = device('g', [{ op: 'check', facts: { errno: 9, version: 'V1.2' } }], { final: { kind: 'gave-up', code: 9 } });
    expect(judge(expectedFailures, [gaveUp]).why).toEqual(['g: it ended gave-up (9); expected failed (9)']);
  });
});

describe('final-state-agreement and coap-retransmit', () => {
  it('flags a device whose final state the server does not share', () => {
    const d = device('d', [offer('t1')], { final: SUCCEEDED });
    const r = judge(finalStateAgreement, [d], context({ views: { d: task({ state: 'downloading' }) } }));
    expect(r.why).toEqual(['d: the device ended succeeded; the server shows task downloading (expected task succeeded)']);
    expect(judge(finalStateAgreement, [d], context({ views: { d: task() } })).why).toEqual([]);
  });

  const lost = (decided: number, took = 10): Step => ({ op: 'progress', facts: { token: 't1', step: 25, lost: true, net: 'ANSWER_LOST' }, at: decided, decided, took });

  it('passes retransmissions inside the RFC 7252 windows, doubling, up to the budget', () => {
    // Default: ACK_TIMEOUT 2 s, factor 1.5, 4 retransmissions: windows 2–3 s, 4–6 s, 8–12 s, 16–24 s.
    const steps = [lost(0), lost(2500), lost(7000), lost(17_000), lost(35_000), { op: 'progress', facts: { token: 't1', step: 25, errno: 0 }, at: 100_000 }];
    const r = judge(coapRetransmit, [device('d', steps)]);
    expect(r.why).toEqual([]);
    expect(r.counts).toEqual({ retransmissions: 4 });
  });

  it('flags a retransmission outside its window, and giving up early', () => {
    expect(judge(coapRetransmit, [device('early', [lost(0), lost(1500)])]).why).toEqual(['early: retransmission 1 of progress came 1.5s after the previous transmission; expected 2.0s–3.0s']);
    expect(judge(coapRetransmit, [device('late', [lost(0), lost(2500), lost(2500 + 6100)])]).why[0]).toMatch(/retransmission 2 of progress came 6\.1s .* expected 4\.0s–6\.0s/);
    const gaveUp = device('g', [lost(0), { op: 'check', facts: { errno: 0 }, at: 2500 }]);
    expect(judge(coapRetransmit, [gaveUp]).why).toEqual(['g: after 0 of 4 retransmissions of an unanswered progress (net:ANSWER_LOST) it sent a check instead of retransmitting']);
  });

  it('judges only the count where the engine models the radio (it may hold a transmission back)', () => {
    expect(judge(coapRetransmit, [device('d', [lost(0), lost(1500)])], context({ radio: true })).why).toEqual([]);
  });

  it('allows a late answer to push the retransmission back', () => {
    // The answer (a timeout) took 5 s: the retransmission goes at once, past the 2–3 s window.
    expect(judge(coapRetransmit, [device('d', [lost(0, 5000), lost(5000)])]).why).toEqual([]);
  });
});
