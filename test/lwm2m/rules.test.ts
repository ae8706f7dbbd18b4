import { describe, expect, it } from 'vitest';
import { lwm2mDownlinkSchedule, lwm2mNoSecondDownload, lwm2mResultAgreement, lwm2mUpdateBeforeDownloaded, scheduleFaults, withoutDuplicates } from '../../src/verdicts/rules/lwm2m.js';
import { context, device } from '../faults/evidence-kit.js';
import { HUAWEI_DOWNLINK, RFC7252_DOWNLINK } from '../../src/protocol/lwm2m.js';
import { DOCUMENTED_PROFILE } from '../../src/protocol/profile.js';
import { rulesOf } from '../../src/verdicts/registry.js';
import { planTransmissionsForTest } from './plan.js';

const ctx = (over: Parameters<typeof context>[0] = {}) => context({ dialect: 'lwm2m', ...over });

describe('lwm2m-update-before-downloaded', () => {
  it('names a device the server executed Update on in State 1, passes one in State 2', () => {
    const early = device('ep-early', [{ op: 'listen', facts: { call: 'execute /5/0/2' } }, { op: 'reply', facts: { call: 'execute /5/0/2', fwState: 1, coapCode: '4.05' } }]);
    const fine = device('ep-fine', [{ op: 'reply', facts: { call: 'execute /5/0/2', fwState: 2, coapCode: '2.04' } }]);
    const out = lwm2mUpdateBeforeDownloaded.evaluate([early, fine], ctx());
    expect(out.checked).toBe(2);
    expect(out.violations.map((v) => v.device.id)).toEqual(['ep-early']);
    expect(out.violations[0]!.detail).toMatch(/State was 1 \(Downloading\), not 2/);
  });
});

describe('lwm2m-no-second-download', () => {
  it('catches block 0 asked again after a registration with Update Result 1', () => {
    const again = device('ep-again', [{ op: 'block', facts: { block: 0 } }, { op: 'register', facts: { fwResult: 1 } }, { op: 'block', facts: { block: 0 } }]);
    const once = device('ep-once', [{ op: 'block', facts: { block: 0 } }, { op: 'block', facts: { block: 1 } }, { op: 'register', facts: { fwResult: 1 } }]);
    const out = lwm2mNoSecondDownload.evaluate([again, once], ctx());
    expect(out.violations.map((v) => v.device.id)).toEqual(['ep-again']);
  });
});

describe('lwm2m-result-agreement', () => {
  // The device told the server its final result: by an acknowledged observe of /5/0/5, or by a notification of it.
  const dl = (id: string, code: number, told: 'read' | 'notify' = 'read') =>
    device(id, [{ op: 'block', facts: { block: 0 } }, told === 'read' ? { op: 'reply', facts: { call: 'read(observe register) /5/0/5', fwResult: code, coapCode: '2.05' } } : { op: 'notify', facts: { call: 'notify /5/0/5', fwResult: code } }], {
      final: { kind: code === 1 ? 'succeeded' : 'failed', code },
    });
  it('compares the final Update Result the device told the server with the server view', () => {
    const out = lwm2mResultAgreement.evaluate([dl('a', 1), dl('b', 5, 'notify')], ctx({ views: { a: { id: 'a', firmware: { updateResult: 1 } }, b: { id: 'b', firmware: { updateResult: 1 } } } }));
    expect(out.checked).toBe(2);
    expect(out.violations.map((v) => [v.device.id, v.detail])).toEqual([['b', 'the device ended with Update Result 5 and told the server so, the server shows 1']]);
  });
  it('does not blame the server for a result the device never told it (it left, or dropped the ACK of the read), and says so', () => {
    const end = { final: { kind: 'succeeded' as const, code: 1 } };
    // Registered with Update Result 1, then dropped the ACK of the only read of /5/0/5 and de-registered.
    const dropped = device('c', [{ op: 'block', facts: { block: 0 } }, { op: 'reply', facts: { call: 'read(observe register) /5/0/5', fwResult: 0, coapCode: '2.05' } }, { op: 'register', facts: { fwResult: 1 } }, { op: 'reply', facts: { call: 'read(observe register) /5/0/5', fwResult: 1, coapCode: '0.00', dropped: true } }], end);
    const out = lwm2mResultAgreement.evaluate([dropped], ctx({ views: { c: { id: 'c', firmware: { updateResult: 0 } } } }));
    expect([out.checked, out.violations.length]).toEqual([0, 0]);
    expect(out.note).toMatch(/1 device\(s\) not judged, because they ended before telling the server their last Update Result/);
    // Told, and the server kept 0: named.
    const told = device('d', [...dropped.exchanges.map((e) => ({ op: e.op, facts: e.facts })), { op: 'reply', facts: { call: 'read /5/0/5', fwResult: 1, coapCode: '2.05' } }], end);
    const named = lwm2mResultAgreement.evaluate([told], ctx({ views: { d: { id: 'd', firmware: { updateResult: 0 } } } }));
    expect(named.violations.map((v) => v.device.id)).toEqual(['d']);
  });
  it('is not judged without a server view, and says why', () => {
    const out = lwm2mResultAgreement.evaluate([dl('a', 1)], ctx());
    expect(out.notJudged).toMatch(/no view/);
  });
});

describe('lwm2m-queue-mode', () => {
  it('names a UQ device a server message reached asleep; passes one reached awake', async () => {
    const { lwm2mQueueMode } = await import('../../src/verdicts/rules/lwm2m.js');
    const reg = { op: 'register', facts: { binding: 'UQ' } };
    const slept = device('ep-asleep', [reg, { op: 'listen', facts: { seen: [{ at: [5_000, 17_000], answered: true, asleep: true }] } }]);
    const awake = device('ep-awake', [reg, { op: 'listen', facts: { seen: [{ at: [5_000], answered: true }] } }]);
    const out = lwm2mQueueMode.evaluate([slept, awake], ctx());
    expect(out.checked).toBe(2);
    expect(out.violations.map((v) => v.device.id)).toEqual(['ep-asleep']);
    expect(out.violations[0]!.detail).toMatch(/reached it asleep .* answered after its wake/);
  });

  it('does not judge a device that closed its socket to sleep (sleepingSocket: close), and says why; judges the others', async () => {
    const { lwm2mQueueMode } = await import('../../src/verdicts/rules/lwm2m.js');
    const reg = { op: 'register', facts: { binding: 'UQ' } };
    const closed = (id: string) => device(id, [reg, { op: 'sleep', facts: { released: true } }, { op: 'update', facts: {} }]);
    const none = lwm2mQueueMode.evaluate([closed('c1'), closed('c2')], ctx());
    expect([none.checked, none.violations.length]).toEqual([0, 0]);
    expect(none.notJudged).toMatch(/^all 2 queue-mode device\(s\): their socket closed while they slept \(target\.lwm2m\.sleepingSocket: close\)/);
    const slept = device('ep-asleep', [reg, { op: 'listen', facts: { seen: [{ at: [5_000], answered: false, asleep: true }] } }]);
    const some = lwm2mQueueMode.evaluate([closed('c1'), slept], ctx());
    expect(some.checked).toBe(1);
    expect(some.violations.map((v) => v.device.id)).toEqual(['ep-asleep']);
    expect(some.note).toMatch(/^1 device\(s\) not judged, because their socket closed/);
  });
});

describe('lwm2m-downlink-schedule', () => {
  const seen = (at: number[], answered = false) => ({ op: 'listen', facts: { seen: [{ at, answered }] } });

  it('passes retransmissions within the Huawei windows and a full set before giving up', () => {
    for (const u of [0, 0.5, 1]) {
      const at = planTransmissionsForTest(HUAWEI_DOWNLINK, u, false);
      expect(scheduleFaults({ at, answered: false }, HUAWEI_DOWNLINK, () => {})).toBeUndefined();
    }
    const out = lwm2mDownlinkSchedule.evaluate([device('ok', [seen([0, 12_000, 37_000, 87_000])])], ctx());
    expect(out.violations).toEqual([]);
    expect(out.checked).toBe(1);
    expect(out.counts).toMatchObject({ messages: 1, 'resend#1 12s': 1, 'resend#2 25s': 1, 'resend#3 50s': 1, 'give-up after 3 resends': 1 });
  });

  it('fails a server that retransmits too early (half the delays), naming the device', () => {
    const at = planTransmissionsForTest(HUAWEI_DOWNLINK, 0.5, true);
    const out = lwm2mDownlinkSchedule.evaluate([device('ep-7', [seen(at)])], ctx());
    expect(out.violations.map((v) => v.device.id)).toEqual(['ep-7']);
    expect(out.violations[0]!.detail).toMatch(/resend 1 came 6\.3 s after .* window is 10\.0 s–15\.0 s/);
  });

  it('fails a server that gives up early (fewer resends than the schedule), unanswered', () => {
    const out = lwm2mDownlinkSchedule.evaluate([device('ep-8', [seen([0, 12_000, 37_000])])], ctx());
    expect(out.violations[0]!.detail).toMatch(/given up after 2 resend\(s\).*resends 3 times/);
    // Answered on the second transmission: the device ended it, nothing to say of the give-up.
    expect(lwm2mDownlinkSchedule.evaluate([device('ep-9', [seen([0, 12_000], true)])], ctx()).violations).toEqual([]);
  });

  it('judges the resends of a message the device cut short by closing its socket to sleep, not its give-up', () => {
    const cut = (at: number[]) => ({ op: 'sleep', facts: { released: true, seen: [{ at, answered: false, cut: true }] } });
    const out = lwm2mDownlinkSchedule.evaluate([device('cut', [cut([0, 12_000])])], ctx());
    expect([out.checked, out.violations.length]).toEqual([1, 0]);
    expect(out.counts).toMatchObject({ messages: 1, 'cut short before its give-up': 1 });
    expect(out.counts?.['give-up after 1 resends']).toBeUndefined();
    // Its resends still count: one too early is named.
    const early = lwm2mDownlinkSchedule.evaluate([device('early', [cut([0, 5_000])])], ctx());
    expect(early.violations[0]!.detail).toMatch(/resend 1 came 5\.0 s after/);
  });

  it('judges against the profile’s schedule: RFC 7252 doubling passes there, fails under Huawei', () => {
    const rfc = [0, 2_500, 7_500, 17_500, 37_500];
    const profile = { ...ctx().profile, lwm2m: { downlinkSchedule: RFC7252_DOWNLINK } };
    expect(lwm2mDownlinkSchedule.evaluate([device('r', [seen(rfc)])], { ...ctx(), profile }).violations).toEqual([]);
    expect(lwm2mDownlinkSchedule.evaluate([device('r', [seen(rfc)])], ctx()).violations).toHaveLength(1);
    expect(DOCUMENTED_PROFILE.lwm2m?.downlinkSchedule.name).toBe('huawei');
  });

  it('sets apart the network\'s duplicates (a copy within a quarter of the first window): a correct schedule passes, a resend storm still fails', () => {
    // Answered at once; the network delivered the datagram twice, 30 ms apart: nothing to judge.
    const dup = lwm2mDownlinkSchedule.evaluate([device('d', [seen([5_000, 5_030], true)])], ctx());
    expect([dup.checked, dup.violations]).toEqual([0, []]);
    // Unanswered, every resend on time, resend 2 duplicated (2 s after it, under the 2.5 s bound).
    const full = lwm2mDownlinkSchedule.evaluate([device('f', [seen([0, 12_000, 37_000, 39_000, 87_000])])], ctx());
    expect(full.violations).toEqual([]);
    expect(full.counts).toMatchObject({ messages: 1, 'network duplicates set apart': 1, 'give-up after 3 resends': 1 });
    // A server resending every second: its copies add up past the bound and the first kept one is early.
    const storm = lwm2mDownlinkSchedule.evaluate([device('s', [seen([0, 1_000, 2_000, 3_000, 4_000])])], ctx());
    expect(storm.violations[0]!.detail).toMatch(/resend 1 came 3\.0 s after the transmission before it: the huawei window is 10\.0 s–15\.0 s/);
    // The bound follows the schedule: RFC 7252's first window is 2–3 s, so 0.5 s.
    expect(withoutDuplicates([0, 400, 2_600], RFC7252_DOWNLINK)).toEqual({ at: [0, 2_600], duplicates: 1 });
    expect(withoutDuplicates([0, 2_400, 2_600], HUAWEI_DOWNLINK)).toEqual({ at: [0, 2_600], duplicates: 1 });
  });

  it('says it did not judge when no message was left unanswered', () => {
    expect(lwm2mDownlinkSchedule.summary?.({})).toMatch(/^not judged/);
    expect(lwm2mDownlinkSchedule.evaluate([device('quiet', [seen([0], true)])], ctx()).checked).toBe(0);
  });

  it('every LwM2M rule is registered for the dialect', () => {
    expect(rulesOf('lwm2m').map((r) => r.name)).toEqual(expect.arrayContaining(['lwm2m-update-before-downloaded', 'lwm2m-no-second-download', 'lwm2m-result-agreement', 'lwm2m-downlink-schedule']));
  });
});

describe('lwm2m-package-integrity', () => {
  const MD5 = '0123456789abcdef0123456789abcdef';
  const fetched = (id: string, md5: string, path = '/fw/nb-fw-2') => device(id, [{ op: 'block', facts: { block: 0 } }, { op: 'block', facts: { block: 1, md5, path } }]);
  const packages = new Map([['nb-fw-2', { md5: MD5, size: 2048 }]]);

  it("names a device whose assembled bytes differ from the package's published md5; passes the one that matches", async () => {
    const { lwm2mPackageIntegrity } = await import('../../src/verdicts/rules/lwm2m.js');
    const out = lwm2mPackageIntegrity.evaluate([fetched('ep-good', MD5), fetched('ep-shifted', 'ffffffffffffffffffffffffffffffff')], ctx({ server: { lwm2mPackages: packages } }));
    expect(out.checked).toBe(2);
    expect(out.violations.map((v) => v.device.id)).toEqual(['ep-shifted']);
    expect(out.violations[0]!.detail).toMatch(/package nb-fw-2 .* md5 ffff.*the server publishes 0123/);
  });

  it('is not judged, and says why, when the server shows no LwM2M packages', async () => {
    const { lwm2mPackageIntegrity } = await import('../../src/verdicts/rules/lwm2m.js');
    const out = lwm2mPackageIntegrity.evaluate([fetched('ep-good', MD5)], ctx());
    expect(out.notJudged).toMatch(/shows no LwM2M packages/);
    expect(rulesOf('lwm2m').map((r) => r.name)).toContain('lwm2m-package-integrity');
  });
});
