/**
 * The Luat verdict rules on hand-built evidence: the loop ban per device and UTC day (with lifts
 * and requests that straddle midnight), the 43 wait, and the diff build window.
 */
import { describe, expect, it } from 'vitest';
import { diffWait, loopBan, versionConfirm, waitsNotBanned } from '../../src/verdicts/rules/luat.js';
import type { DeviceEvidence } from '../../src/verdicts/evidence.js';
import type { Rule, VerdictContext } from '../../src/verdicts/rule.js';
import { context, device, type Step } from './evidence-kit.js';

const DAY = 86_400_000;
const judge = (rule: Rule, devices: DeviceEvidence[], ctx: VerdictContext) => {
  const r = rule.evaluate(devices, ctx);
  return { ...r, why: r.violations.map((v) => `${v.device.id}: ${v.detail}`) };
};

const file = (at?: number): Step => ({ op: 'luat', facts: { version: '1.3.1', core: '3032', status: 200, bytes: 100, held: 100 }, outcome: 'file', ...(at !== undefined ? { at } : {}) });
const code = (c: number, at?: number): Step => ({ op: 'luat', facts: { version: '1.3.1', core: '3032', status: 400, code: c }, ...(at !== undefined ? { at } : {}) });
const ctx = (over: Parameters<typeof context>[0] = {}) => context({ dialect: 'luat', luat: { banLimitPerDay: 3 }, origin: 10 * DAY, ...over });
const BANNED = { kind: 'banned', code: 40 };

describe('loop-ban', () => {
  it('passes N normal answers then 40, per device', () => {
    const r = judge(loopBan, [device('d', [file(), file(), file(), code(40)], { final: BANNED })], ctx());
    expect(r.why).toEqual([]);
    expect(r.counts).toEqual({ banned: 1 });
  });

  it('flags a request past the limit answered normally (no ban), and a ban before the limit', () => {
    expect(judge(loopBan, [device('d', [file(), file(), file(), file()])], ctx()).why).toEqual([
      'd: its request 4 of the day (UTC day 10) at 4.0s was answered file; the limit is 3 a day, so it should have been 40',
    ]);
    expect(judge(loopBan, [device('d', [file(), file(), code(40)])], ctx()).why).toEqual(['d: banned (40) at 3.0s after 2 counted request(s) that day; the limit is 3 a day']);
  });

  it('flags a banned device answered normally again, and counts 43s only when the server does', () => {
    const again = device('d', [file(), file(), file(), code(40), file()], { behaviour: { askAfterBan: { asks: 1 } } });
    expect(judge(loopBan, [again], ctx()).why[0]).toMatch(/^d: it was banned at 4\.0s, yet its ask at 5\.0s was answered file/);
    const waits = device('w', [code(43), code(43), file(), code(40)], { final: BANNED });
    expect(judge(loopBan, [waits], ctx()).why).toEqual([]);
    expect(judge(loopBan, [waits], ctx({ luat: { banLimitPerDay: 3, banCountsWaits: false } })).why[0]).toMatch(/banned \(40\) .* after 1 counted request/);
  });

  it('counts each UTC day afresh', () => {
    const steps = [file(DAY - 3000), file(DAY - 2000), file(DAY - 1000), file(DAY + 1000), file(DAY + 2000), file(DAY + 3000), code(40, DAY + 4000)];
    const r = judge(loopBan, [device('d', steps, { final: BANNED })], ctx({ origin: 10 * DAY }));
    expect(r.why).toEqual([]);
    expect(r.counts).toEqual({ 'multi-day': 1, banned: 1 });
  });

  it('accepts either day for a request whose answer came after midnight', () => {
    // The third request was sent before midnight and answered after: the server may have counted it
    // in either day; with it in the first day the fourth is the first of a new day, which is fine.
    const steps: Step[] = [file(DAY - 3000), file(DAY - 2000), { ...file(DAY - 10), took: 20 }, file(DAY + 1000)];
    expect(judge(loopBan, [device('d', steps)], ctx({ origin: 10 * DAY })).why).toEqual([]);
  });

  it('starts over after the bans are lifted', () => {
    const lift = { action: 'lift-bans' as const, startedAt: 4500, doneAt: 4600 };
    const steps = [file(), file(), file(), code(40), file(), file(), file(), code(40)];
    const r = judge(loopBan, [device('d', steps, { behaviour: { askAfterBan: { asks: 1 } } })], ctx({ events: [lift] }));
    expect(r.why).toEqual([]);
    expect(r.counts?.['asks-after-ban']).toBe(1);
    // Without the lift, the answer after the ban must be 40.
    expect(judge(loopBan, [device('d', steps, { behaviour: { askAfterBan: { asks: 1 } } })], ctx()).why[0]).toMatch(/it was banned at .*, yet its ask at .* was answered file/);
  });

  it('a lift under way while an ask was in flight may have come before or after it: either reading is accepted', () => {
    // The lift started after the ask was sent and was done after its answer came (a slow admin call
    // at a high time scale): the server handled the ask after the lift, so a file is right.
    const lift = { action: 'lift-bans' as const, startedAt: 5100, doneAt: 5300 };
    const deaf = { behaviour: { askAfterBan: { asks: 2 } } };
    const afterLift = [file(), file(), file(), code(40), { ...file(5040), took: 200 }, file()];
    expect(judge(loopBan, [device('d', afterLift, deaf)], ctx({ events: [lift] })).why).toEqual([]);
    // ... or before it: still 40, then a file.
    const beforeLift = [file(), file(), file(), code(40), { ...code(40, 5040), took: 200 }, file()];
    expect(judge(loopBan, [device('d', beforeLift, deaf)], ctx({ events: [lift] })).why).toEqual([]);
    // Either way the limit counts afresh from the lift: a fourth file after it is a violation.
    const tooMany = [...afterLift, file(), file(), file()];
    expect(judge(loopBan, [device('d', tooMany, deaf)], ctx({ events: [lift] })).why[0]).toMatch(/the limit is 3 a day, so it should have been 40/);
  });

  it("flags a device that asks again after a 40 when it should stop, but not one that ignores bans by design", () => {
    const steps = [file(), file(), file(), code(40), code(40)];
    expect(judge(loopBan, [device('d', steps)], ctx()).why).toEqual(['d: it asked again 1 time(s) after a 40 (it may ask 0)']);
    const r = judge(loopBan, [device('d', steps, { behaviour: { askAfterBan: { asks: 1 } } })], ctx());
    expect(r.why).toEqual([]);
    expect(r.counts?.['asks-after-ban']).toBe(1);
  });
});

describe('waits-not-banned', () => {
  it('passes devices that back off after each 43 and then get the file', () => {
    const r = judge(waitsNotBanned, [device('d', [code(43, 0), code(43, 60_000), file(120_000)], { final: { kind: 'succeeded', code: 27 } })], ctx({ waitBackoffMs: 60_000 }));
    expect(r.why).toEqual([]);
    expect(r.counts).toEqual({ waits: 2 });
  });

  it('flags a device that asks again too soon, and one that never gets the file', () => {
    expect(judge(waitsNotBanned, [device('d', [code(43, 0), code(43, 10_000)])], ctx({ waitBackoffMs: 60_000 })).why[0]).toMatch(/^d: told 43 at 10ms, it asked again 10.0s later \(its backoff is at least 48.0s\)$/);
    expect(judge(waitsNotBanned, [device('g', [code(43, 0)], { final: { kind: 'gave-up', code: 0 } })], ctx()).why).toEqual(['g: after 1 43(s) it never got the file (it ended gave-up, code 0)']);
    // The probe's 43 never reached the device's machine: its first own ask owes that answer no backoff.
    const probed: Step = { ...code(43, -500), facts: { ...code(43).facts, probe: true } };
    expect(judge(waitsNotBanned, [device('p', [probed, code(43, 200), file(60_000)], { final: { kind: 'succeeded', code: 27 } })], ctx({ waitBackoffMs: 60_000 })).why).toEqual([]);
  });

  it('counts devices banned by 43s when the server counts them, and flags them when it does not', () => {
    const steps = [code(43, 0), code(43, 70_000), code(43, 140_000), code(40, 210_000)];
    const counted = judge(waitsNotBanned, [device('d', steps, { final: BANNED })], ctx());
    expect(counted.why).toEqual([]);
    expect(counted.counts).toEqual({ waits: 3, 'banned-by-waits': 1 });
    const refused = judge(waitsNotBanned, [device('d', steps, { final: BANNED })], ctx({ luat: { banLimitPerDay: 3, banCountsWaits: false } }));
    expect(refused.why[0]).toMatch(/banned at .* after 0 counted request\(s\) and 3 43\(s\): the server does not count 43s towards the ban/);
  });
});

describe('diff-wait', () => {
  const fleet = (second: Step): DeviceEvidence[] => [device('a', [code(43, 0), file(70_000)]), device('b', [second])];

  it('passes 43 during the shortest build time and a file after it', () => {
    const r = judge(diffWait, fleet(code(43, 10_000)), ctx());
    expect(r.why).toEqual([]);
    expect(r.checked).toBe(2);
  });

  it('flags a file before the shortest build time could have passed', () => {
    expect(judge(diffWait, fleet(file(10_000)), ctx()).why).toEqual([
      "b: got file 10.0s after the fleet's first request for this diff package; the build takes at least 60.0s, so it should have been 43 (if the server serves full files at once, say luat.diffBuild: none)",
    ]);
  });

  it('flags a 43 after the longest build time', () => {
    expect(judge(diffWait, fleet(code(43, 200_000)), ctx()).why[0]).toMatch(/^b: still told 43 3\.3m after the first request for this diff package; the build takes at most 3\.0m$/);
  });
});

describe('the target profile (rules judge against ctx.profile, not the documented values)', () => {
  const asks = (n: number): Step[] => Array.from({ length: n }, () => file());

  it('a ban limit of 20: no violation at 15 asks, a violation when ask 21 is answered normally', () => {
    const twenty = ctx({ luat: { banLimitPerDay: 20 } });
    expect(judge(loopBan, [device('d', asks(15))], twenty).why).toEqual([]);
    expect(judge(loopBan, [device('d', [...asks(20), code(40)], { final: BANNED })], twenty).why).toEqual([]);
    expect(judge(loopBan, [device('d', asks(21))], twenty).why).toEqual([expect.stringMatching(/^d: its request 21 of the day \(UTC day 10\) at 21\.\ds was answered file; the limit is 20 a day, so it should have been 40$/)]);
    // The same server judged by the documented 10 a day: the false alarm of a server that promises 20.
    expect(judge(loopBan, [device('d', asks(15))], ctx({ luat: { banLimitPerDay: 10 } })).why).toHaveLength(1);
    expect(judge(loopBan, [device('d', [...asks(10), code(40)], { final: BANNED })], twenty).why[0]).toMatch(/banned \(40\) at 11\.\ds after 10 counted request\(s\) that day; the limit is 20 a day/);
  });

  it('the ban day starts at banDayStartUtc', () => {
    // Three asks before 16:00 UTC and three after: a new day at 16:00, one day at 00:00.
    const at16 = 16 * 3_600_000;
    const steps = [file(at16 - 3000), file(at16 - 2000), file(at16 - 1000), file(at16 + 1000), file(at16 + 2000), file(at16 + 3000)];
    expect(judge(loopBan, [device('d', steps)], ctx({ luat: { banLimitPerDay: 3, banDayStartMs: at16 } })).why).toEqual([]);
    expect(judge(loopBan, [device('d', steps)], ctx()).why[0]).toMatch(/its request 4 of the day/);
  });

  it("days are counted on the target's wall clock when it does not share the run's scale", () => {
    // ×10000: six asks 1.5 virtual days apart all fall in one real day of a server keeping its own time.
    const steps = Array.from({ length: 4 }, (_, i) => file(i * 1.5 * DAY));
    const wall = { kind: 'wall' as const, origin: { virtualMs: 10 * DAY, wallMs: 10 * DAY + 3_600_000, scale: 10_000 } };
    expect(judge(loopBan, [device('d', steps)], ctx()).why).toEqual([]);
    const r = judge(loopBan, [device('d', steps)], ctx({ clock: wall }));
    expect(r.why[0]).toMatch(/its request 4 of the day/);
    expect(r.note).toMatch(/days counted on the target's wall clock/);
  });

  it('says which values were the documented ones, in its own words per rule', () => {
    const documented = ctx({ luat: { banLimitPerDay: 10 }, sources: { 'luat.banLimitPerDay': 'documented', 'luat.diffBuild': 'documented' } });
    expect(judge(loopBan, [device('d', asks(2))], documented).note).toBe('judged with the documented banLimitPerDay 10 (set target.profile or --profile if the server promises otherwise)');
    expect(judge(diffWait, [device('a', [code(43, 0), file(70_000)])], documented).note).toBe('judged with the documented diffBuild 1m..3m (set target.profile or --profile if the server promises otherwise)');
    expect(judge(loopBan, [device('d', asks(2))], ctx()).note).toBeUndefined();
  });

  describe('diffBuild none: a server that serves full files at once', () => {
    const plain = Array.from({ length: 200 }, (_, i) => device(`d${i}`, [file(i * 10), code(27, i * 10 + 5_000)]));

    it('a plain rollout without 43s is clean (it is flagged under the documented 1–3 min builds)', () => {
      const r = judge(diffWait, plain, ctx({ luat: { diffBuild: 'none' } }));
      expect(r.checked).toBe(200);
      expect(r.why).toEqual([]);
      expect(judge(diffWait, plain, ctx()).why).toHaveLength(200);
    });

    it('a 43 is then a violation', () => {
      const r = judge(diffWait, [device('w', [code(43, 0), file(70_000)]), ...plain.slice(0, 3)], ctx({ luat: { diffBuild: 'none' } }));
      expect(r.why).toEqual(['w: answered 43 (please wait) at 0ms, but the profile says the server builds no diffs and serves full files at once (luat.diffBuild: none, from scenario)']);
    });
  });

  it('dfota false: the devices ask for no diff, so diff-wait is not judged and says why', () => {
    const r = judge(diffWait, [device('a', [code(43, 0), file(10_000)])], ctx({ luat: { dfota: false } }));
    expect(r).toMatchObject({ checked: 0, why: [], notJudged: 'the devices do not ask for diff packages (profile luat.dfota: false), so no diff is built' });
  });

  it('a device without a core asks for no diff package: not one diff-wait checks', () => {
    const noCore: Step = { op: 'luat', facts: { version: '1.3.1', core: '', status: 200, bytes: 100, held: 100 }, outcome: 'file', at: 0 };
    expect(judge(diffWait, [device('n', [noCore])], ctx()).checked).toBe(0);
  });
});

describe('version-confirm', () => {
  const served = (over: Record<string, unknown> = {}, at?: number): Step => ({ op: 'luat', facts: { version: '1.3.1', core: '3032', status: 200, bytes: 100, held: 100, fileVersion: '1.3.2', fileLabels: 'both', ...over }, outcome: 'file', ...(at !== undefined ? { at } : {}) });
  const reask = (answer: Step['facts']): Step => ({ op: 'luat', facts: { version: '1.3.2', core: '3032', ...answer } });

  it('re-ask: the ask with the flashed version answered 27 confirms; a file served again is a violation', () => {
    const ok = device('ok', [served(), reask({ status: 400, code: 27 })], { final: { kind: 'succeeded', code: 27 } });
    const again = device('again', [served(), reask({ status: 200, bytes: 100, held: 100 })], { final: { kind: 'failed', code: 0 } });
    const r = judge(versionConfirm, [ok, again], ctx());
    expect(r.why).toEqual(['again: after flashing it asked again with 1.3.2 at 2.0s and was served a file again, not 27 (already newest)']);
    expect(r.counts).toEqual({ confirmed: 1 });
  });

  it('re-ask: a device that booted back into its old version asking again is no violation', () => {
    const looper = device('l', [served(), served(), served()], { behaviour: { rebootIntoOld: true } });
    expect(judge(versionConfirm, [looper], ctx()).why).toEqual([]);
  });

  it('header / filename: a file without that label is a violation', () => {
    const nameOnly = device('n', [served({ fileLabels: 'filename' })]);
    expect(judge(versionConfirm, [nameOnly], ctx({ luat: { versionConfirm: 'header' } })).why[0]).toMatch(/^n: its file at 0?.*named no version in X-Firmware-Version/);
    expect(judge(versionConfirm, [nameOnly], ctx({ luat: { versionConfirm: 'filename' } })).why).toEqual([]);
    const headerOnly = device('h', [served({ fileLabels: 'header' })]);
    expect(judge(versionConfirm, [headerOnly], ctx({ luat: { versionConfirm: 'filename' } })).why[0]).toMatch(/had no version in its file name/);
  });

  it('none: not judged, and the devices that succeeded unconfirmed are counted', () => {
    const d = (id: string) => device(id, [served({ fileLabels: undefined, fileVersion: undefined })], { final: { kind: 'succeeded', code: 0, unconfirmed: true } });
    const r = judge(versionConfirm, [d('a'), d('b')], ctx({ luat: { versionConfirm: 'none' } }));
    expect(r).toMatchObject({ checked: 0, why: [], counts: { flashed: 2, unconfirmed: 2 } });
    expect(r.notJudged).toMatch(/versionConfirm: none.*the devices that succeeded unconfirmed are counted/);
  });
});
