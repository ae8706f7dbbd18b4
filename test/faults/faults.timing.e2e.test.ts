/**
 * The seven field faults end to end: each shipped scenario (scenarios/faults/) against the embedded
 * reference server passes with every verdict held; and for each named bug of the server, the
 * matching scenario with that bug switched on fails, the verdict naming the rule and the devices.
 * A verdict that cannot fail is worthless, so every rule here is seen both ways.
 *
 * Runs go through the programmatic API (`run`), with small fleets; slow virtual spans are sped up
 * with a higher time scale (the virtual timings are the scenario's own). Needs `npm run build`:
 * the workers and the server thread run compiled code.
 *
 * A timing file (`*.timing.e2e.test.ts`, see vitest.config.ts): several runs need the harness to
 * keep pace with a fast clock (the loop bans at ×20,000 and ×100,000; the republish at ×30 must find
 * the cohort offline two real seconds in), so it runs alone, never beside another file's load.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/api.js';
import { loadScenario, type ScenarioOverrides } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/types.js';
import type { Report, VerdictReport } from '../../src/report/types.js';

const file = (name: string): string => fileURLToPath(new URL(`../../scenarios/faults/${name}.yaml`, import.meta.url));

interface Options {
  bugs?: string[];
  overrides?: ScenarioOverrides;
  edit?: (s: Scenario) => Scenario;
  /** Virtual instant the run starts at (to place a UTC midnight), ms since the epoch. */
  startAt?: number;
}

async function runFault(name: string, o: Options = {}): Promise<Report> {
  const loaded = loadScenario(file(name), o.overrides);
  const base: Scenario = { ...loaded, server: { ...loaded.server, bugs: o.bugs ?? [] } };
  const scenario = o.edit ? o.edit(base) : base;
  const clock = o.startAt !== undefined ? { virtualMs: o.startAt, wallMs: Date.now(), scale: scenario.timeScale } : undefined;
  return run(scenario, { workers: 1, ...(clock ? { clock } : {}) });
}

const verdict = (r: Report, rule: string): VerdictReport | undefined => r.verdicts?.find((v) => v.rule === rule);

/** A clean run: completed, passed, every expectation and every verdict held (with reasons when not). */
function expectClean(r: Report, rules: string[]): void {
  expect(r.errors).toEqual([]);
  expect(r.endedBy).toBe('completed');
  expect(r.expectations.filter((e) => !e.passed).map((e) => `${e.name}: ${e.detail}`)).toEqual([]);
  expect((r.verdicts ?? []).filter((v) => v.violations > 0).map((v) => `${v.rule}: ${v.samples[0]?.device} ${v.samples[0]?.detail}`)).toEqual([]);
  for (const rule of rules) expect(verdict(r, rule)?.checked ?? 0, rule).toBeGreaterThan(0);
  expect(r.passed).toBe(true);
}

/** A run against a bug: it fails, and `rule` names devices of the fleet (`idPattern`) with `detail`. */
function expectCaught(r: Report, rule: string, detail: RegExp, idPattern: RegExp): void {
  const v = verdict(r, rule);
  expect(v, `verdict ${rule} in ${JSON.stringify(r.verdicts?.map((x) => x.rule))}`).toBeDefined();
  expect(v!.violations).toBeGreaterThan(0);
  expect(v!.samples.length).toBeGreaterThan(0);
  for (const s of v!.samples) {
    expect(s.device).toMatch(idPattern);
    expect(s.trace.length).toBeGreaterThan(0);
  }
  expect(v!.samples[0]!.detail).toMatch(detail);
  expect(r.passed).toBe(false);
}

const ONENET_ID = /^52\d{7}$/;
const LUAT_ID = /^8667140\d{8}$/;

describe('1. ACK-less retransmit', () => {
  it('duplicated progress and results leave one success per task; the duplicates are counted apart', async () => {
    const r = await runFault('ack-less-retransmit');
    expectClean(r, ['one-success-per-task', 'coap-retransmit', 'final-state-agreement']);
    expect(verdict(r, 'one-success-per-task')?.counts?.['duplicates-answered-20']).toBeGreaterThan(0);
    expect(verdict(r, 'coap-retransmit')?.counts?.['retransmissions']).toBeGreaterThan(100);
  });

  it("retransmits when the server's dropped-response knob eats the answers, with the same verdicts", async () => {
    const r = await runFault('ack-less-retransmit', {
      edit: (s) => ({
        ...s,
        // Progress and results share the progress endpoint.
        server: { ...s.server, faults: { progress: { dropRate: 0.3 }, check: { dropRate: 0.2 } } },
        fleet: { ...s.fleet, cohorts: s.fleet.cohorts.map((c) => ({ ...c, behaviours: { corruptDownload: 0, rebootIntoOld: 0 } })) },
        expect: s.expect.filter((e) => !e.metric.startsWith('verdicts.one-success-per-task.duplicates')),
      }),
    });
    expectClean(r, ['one-success-per-task', 'coap-retransmit']);
    expect(r.operations['result']?.byOutcome['net:ECONNRESET']).toBeGreaterThan(0);
    expect(verdict(r, 'one-success-per-task')?.counts?.['duplicates-answered-20']).toBeGreaterThan(0);
  });

  it('catches double-count-success: a retransmitted 201 accepted again', async () => {
    const r = await runFault('ack-less-retransmit', { bugs: ['double-count-success'] });
    expectCaught(r, 'one-success-per-task', /result step 201 at .* was answered errno 0 \(expected 20, task finished\)|counts 2 successes/, ONENET_ID);
  });

  it('catches progress-after-success: a flushed progress report moves a succeeded task back', async () => {
    const r = await runFault('ack-less-retransmit', { bugs: ['progress-after-success'] });
    expectCaught(r, 'final-state-agreement', /the device ended succeeded; the server shows task downloading/, /^5227010\d\d$/);
    expectCaught(r, 'one-success-per-task', /yet the server's task is now downloading/, /^5227010\d\d$/);
  });
});

describe('2. Disconnect mid-download, then resume', () => {
  // The republish (60 s virtual) must find the V1.5 cohort offline: 2 real seconds after the start.
  const fast: ScenarioOverrides = { timeScale: 30 };

  it('resumes from the byte held, starts over after a republish, receives no more bytes than needed', async () => {
    const r = await runFault('disconnect-resume', { overrides: fast });
    expectClean(r, ['resume-from-held', 'restart-on-republish']);
    expect(verdict(r, 'resume-from-held')?.counts?.['cuts']).toBeGreaterThanOrEqual(60);
    expect(verdict(r, 'restart-on-republish')?.counts?.['started-over']).toBe(10);
  });

  it('catches ignore-range: a ranged request answered with the whole file', async () => {
    const r = await runFault('disconnect-resume', { overrides: fast, bugs: ['ignore-range'] });
    expectCaught(r, 'resume-from-held', /answered 200 with \d+ bytes from byte 0 \(the Range was ignored\)/, ONENET_ID);
  });

  it('catches stale-md5: the old md5 offered after the republish', async () => {
    const r = await runFault('disconnect-resume', { overrides: fast, bugs: ['stale-md5'] });
    expectCaught(r, 'restart-on-republish', /offered md5 .*: the package's md5 before the republish/, /^5228000\d\d$/);
  });
});

/** Only the devices that ignore bans, asking again every two hours; every ban lifted at 3 h. */
const liftAtThreeHours = (s: Scenario): Scenario => ({
  ...s,
  fleet: { ...s.fleet, devices: 10, cohorts: [{ ...s.fleet.cohorts[1]!, settings: { ...s.fleet.cohorts[1]!.settings, retryDelayMs: 7_200_000 } }] },
  server: { ...s.server, events: [{ atMs: 3 * 3_600_000, action: 'lift-bans' }] },
  expect: [],
});

describe('3. Loop ban', () => {
  // The clock starts at 10:00 UTC (the run itself a few virtual hours later, as workers start):
  // the slow loopers ask every two hours, so fewer than eleven asks fit before midnight and the
  // next day's window is exercised.
  const startAt = Date.UTC(2027, 0, 5, 10, 0, 0);

  it('answers normally N times per device and day, then 40 until lifted; a new day counts afresh', async () => {
    const r = await runFault('loop-ban', { overrides: { timeScale: 20_000 }, startAt });
    expectClean(r, ['loop-ban']);
    const v = verdict(r, 'loop-ban')!;
    expect(v.counts).toMatchObject({ banned: 30, 'asks-after-ban': 30 });
    expect(v.counts?.['multi-day']).toBeGreaterThanOrEqual(10);
  });

  it('answers normally again after the bans are lifted, and counts afresh from the lift', async () => {
    const r = await runFault('loop-ban', {
      overrides: { timeScale: 20_000 },
      startAt,
      edit: liftAtThreeHours,
    });
    expectClean(r, ['loop-ban']);
    const v = verdict(r, 'loop-ban')!;
    expect(v.checked).toBe(10);
    // Banned, asked again, lifted, looped again to a second ban: more than one 40 each.
    expect(r.operations['luat']?.byOutcome['code:40']).toBeGreaterThanOrEqual(20);
    // About ten files before the first ban (43s count too) and ten after the lift.
    expect(r.operations['luat']?.byOutcome['file']).toBeGreaterThanOrEqual(10 * 15);
  });

  it('catches skip-loop-ban: the eleventh request of a day answered normally', async () => {
    const r = await runFault('loop-ban', { overrides: { timeScale: 100_000 }, startAt, bugs: ['skip-loop-ban'] });
    expectCaught(r, 'loop-ban', /its request 11 of the day .* was answered file; the limit is 10 a day, so it should have been 40/, LUAT_ID);
  });
});

describe('4. Wait (43)', () => {
  const fast: ScenarioOverrides = { timeScale: 60 };

  it('answers 43 while the diff package is built; patient devices get it, bans by 43s alone are counted', async () => {
    const r = await runFault('diff-wait', { overrides: fast });
    expectClean(r, ['diff-wait', 'waits-not-banned']);
    expect(verdict(r, 'waits-not-banned')?.counts?.['banned-by-waits']).toBe(10);
  });

  it('catches no-diff-wait: a diff package served before it could have been built', async () => {
    const r = await runFault('diff-wait', { overrides: fast, bugs: ['no-diff-wait'] });
    expectCaught(r, 'diff-wait', /the build takes at least 60\.0s, so it should have been 43/, LUAT_ID);
  });
});

describe('5. Battery and signal gating', () => {
  it('each path reports its documented code and the server fails the task', async () => {
    const r = await runFault('gating');
    expectClean(r, ['gating', 'failure-codes', 'final-state-agreement']);
    expect(verdict(r, 'gating')?.counts).toEqual({ 'gated-105': 8, 'gated-106': 8 });
    expect(verdict(r, 'failure-codes')?.counts).toEqual({ 'reported-102': 8, 'reported-105': 8, 'reported-202': 8, 'reported-203': 8 });
  });
});

describe('6. Token expiry across a long sleep', () => {
  const fast: ScenarioOverrides = { timeScale: 100_000 };

  it('an expired token is refused, the stale Authorization too; the device renews and carries on', async () => {
    const r = await runFault('token-expiry', { overrides: fast });
    expectClean(r, ['token-renewal', 'own-token']);
    expect(verdict(r, 'token-renewal')?.counts).toEqual({ 'expired-auth-refused': 20, renewed: 20 });
  });

  it('catches accept-expired-auth: a call with an expired Authorization accepted', async () => {
    const r = await runFault('token-expiry', { overrides: fast, bugs: ['accept-expired-auth'] });
    expectCaught(r, 'token-renewal', /carried an expired Authorization and was answered errno 0 \(expected 1/, ONENET_ID);
  });

  it("catches check-wrong-device: a check that hands out another device's token", async () => {
    const r = await runFault('token-expiry', { overrides: fast, bugs: ['check-wrong-device'] });
    expectCaught(r, 'own-token', /then the tokenCheck at .* was answered 4 \(token and device differ\)/, ONENET_ID);
  });
});

describe('7. Mismatches', () => {
  it('errno 8 and 9 fail the task and are counted as expected failures', async () => {
    const r = await runFault('mismatches');
    expectClean(r, ['expected-failures', 'final-state-agreement']);
    expect(verdict(r, 'expected-failures')?.counts).toEqual({ 'errno-8': 10, 'errno-9': 10 });
    expect(r.devices.byFinalState['harness-error']).toBeUndefined();
  });
});

describe('the same faults at --time-scale max (no wall clock; server events as barriers)', () => {
  const max: ScenarioOverrides = { timeScale: 'max' };
  const startAt = Date.UTC(2027, 0, 5, 10, 0, 0);

  it('loop ban: N a day, then 40; a new day counts afresh, judged at each request\'s own instant', async () => {
    const r = await runFault('loop-ban', { overrides: max, startAt });
    expectClean(r, ['loop-ban']);
    expect(r.timeScale).toBe('max');
    const v = verdict(r, 'loop-ban')!;
    expect(v.counts).toMatchObject({ banned: 30, 'asks-after-ban': 30 });
    expect(v.counts?.['multi-day']).toBeGreaterThanOrEqual(10);
  });

  it('loop ban: a lift at 3 h is done before any ask at or after 3 h', async () => {
    const r = await runFault('loop-ban', {
      overrides: max,
      startAt,
      edit: liftAtThreeHours,
    });
    expectClean(r, ['loop-ban']);
    expect(r.operations['luat']?.byOutcome['code:40']).toBeGreaterThanOrEqual(20);
    expect(r.operations['luat']?.byOutcome['file']).toBeGreaterThanOrEqual(10 * 15);
  });

  it('catches skip-loop-ban', async () => {
    const r = await runFault('loop-ban', { overrides: max, startAt, bugs: ['skip-loop-ban'] });
    expectCaught(r, 'loop-ban', /its request 11 of the day .* was answered file; the limit is 10 a day, so it should have been 40/, LUAT_ID);
  });

  it('disconnect and resume, with a republish during the outage: every device starts over on the new image', async () => {
    const r = await runFault('disconnect-resume', { overrides: max });
    expectClean(r, ['resume-from-held', 'restart-on-republish']);
    expect(verdict(r, 'restart-on-republish')?.counts?.['started-over']).toBe(10);
  });

  it('catches stale-md5 after the republish barrier', async () => {
    const r = await runFault('disconnect-resume', { overrides: max, bugs: ['stale-md5'] });
    expectCaught(r, 'restart-on-republish', /offered md5 .*: the package's md5 before the republish/, /^5228000\d\d$/);
  });
});
