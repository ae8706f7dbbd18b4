/**
 * The Luat verdict rules on hand-built evidence: the loop ban per device and UTC day (with lifts
 * and requests that straddle midnight), the 43 wait, and the diff build window.
 */
import { describe, expect, it } from 'vitest';
import { diffWait, loopBan, waitsNotBanned } from '../../src/verdicts/rules/luat.js';
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
