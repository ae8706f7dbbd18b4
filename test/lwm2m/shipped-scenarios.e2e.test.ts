/**
 * The shipped LwM2M scenario files themselves, run through the CLI (not copies), shrunk only by
 * flags: what a user who types the command in docs/lwm2m.md gets.
 *
 * `scenarios/lwm2m-rollout.yaml` at `--devices 20 --time-scale 300`: about 85 virtual minutes
 * (the last device's Register after its reboot waits for its next TAU wake, t3412 up to 2 h), so
 * about 18 s real. ×300 keeps CoAP's ACK_TIMEOUT (2 s virtual) at 6.7 ms real, above the harness's
 * timer lag (p99 2–7 ms on a busy 2-core machine; the outcomes held at ×600 and ×1200 too, but
 * there ACK_TIMEOUT is at or under that lag, and device retransmissions stand in for waiting); 20 devices, arriving over its 10 virtual
 * minutes, each go through the whole flow (Register, Observe, Write, Block2 download, Execute,
 * reboot, Register with Update Result 1, De-register) while others do.
 *
 * `scenarios/lwm2m/blockwise-resume-under-loss.yaml` (256 KiB by Block2 under 5 % loss, duplicates,
 * reordering, late ACKs) at `--time-scale 40` (the reordering knob holds datagrams up to 50 ms
 * real: at most 2 virtual seconds here), a correct server and `--bug block2-off-by-one`, side by
 * side (they mostly wait on timers): 12–18 s. The ACK-less sleeping-downlink scenario takes
 * minutes (hourly wakes): its measured runs are in docs/lwm2m.md.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { rulesOf } from '../../src/verdicts/registry.js';
import type { Report } from '../../src/report/types.js';
import { cli, readOnlyReport, tempDir, type CliResult } from '../e2e/helpers.js';

const DEVICES = 20;
/** The built-in catalog's lwm2m-fw-2 (64 KiB) in the dialect's default 1 KiB blocks. */
const BLOCKS_PER_PACKAGE = 64;

/** Every LwM2M rule is in the report: judged with no violation, or not judged with its reason. */
function expectEveryRuleClean(r: Report): void {
  const rules = rulesOf('lwm2m').map((x) => x.name);
  expect(rules.length).toBeGreaterThanOrEqual(6);
  const verdicts = new Map((r.verdicts ?? []).map((v) => [v.rule, v]));
  for (const rule of rules) {
    const v = verdicts.get(rule);
    expect(v, `${rule} missing from report.json`).toBeDefined();
    if (v!.status === 'not-judged') {
      expect(v!.reason, `${rule}: not judged without a reason`).toMatch(/\w{3,}/);
      continue;
    }
    expect([rule, v!.checked > 0, v!.violations]).toEqual([rule, true, 0]);
    if (v!.status === 'partly-judged') expect(v!.reason, `${rule}: partly judged without a reason`).toMatch(/\w{3,}/);
  }
}

/** `ota-swarm run <file> <flags>` into a fresh folder: the CLI's result and its report.json. */
async function runShipped(file: string, flags: string[]): Promise<{ cli: CliResult; report: Report }> {
  const out = tempDir();
  const result = await cli(['run', file, ...flags, '--out', out, '--quiet'], { timeoutMs: 90_000 });
  return { cli: result, report: readOnlyReport(out) };
}

let rollout: CliResult;
let report: Report;

beforeAll(async () => {
  ({ cli: rollout, report } = await runShipped('scenarios/lwm2m-rollout.yaml', ['--devices', String(DEVICES), '--time-scale', '300']));
}, 100_000);

describe('the shipped scenarios/lwm2m-rollout.yaml, run by the CLI', () => {
  it('passes: exit 0, PASSED, every device succeeded, every expectation held', () => {
    expect(rollout.code, rollout.stderr).toBe(0);
    expect(rollout.stdout).toMatch(/^PASSED$/m);
    expect(report.passed).toBe(true);
    expect(report.endedBy).toBe('completed');
    expect(report.devices.byFinalState).toEqual({ succeeded: DEVICES });
    expect(report.transitions.violations).toBe(0);
    expect(report.expectations.map((e) => [e.name, e.passed])).toEqual([
      ['devices.succeeded >= 99%', true],
      ['transitions.violations == 0', true],
      ['verdicts.violations == 0', true],
    ]);
  });

  it('went through the whole flow: each device downloaded the package once, was executed, registered again and left', () => {
    const ops = report.operations;
    expect(ops['block']?.byOutcome['coap:2.05']).toBeGreaterThanOrEqual(DEVICES * BLOCKS_PER_PACKAGE);
    expect(ops['register']?.byOutcome).toEqual({ 'coap:2.01': 2 * DEVICES });
    expect(ops['deregister']?.byOutcome).toEqual({ 'coap:2.02': DEVICES });
    expect(ops['listen']?.byOutcome['server:execute']).toBe(DEVICES);
    expect(ops['listen']?.byOutcome['server:write']).toBe(DEVICES);
  });

  it('judges every LwM2M rule with no violation, or says why it did not judge it', () => {
    expectEveryRuleClean(report);
    const verdicts = new Map((report.verdicts ?? []).map((v) => [v.rule, v]));
    // Every device's package and the server's Update Result are judged on a fleet this small too.
    for (const rule of ['lwm2m-update-before-downloaded', 'lwm2m-no-second-download', 'lwm2m-result-agreement', 'lwm2m-queue-mode', 'lwm2m-package-integrity']) {
      expect([rule, verdicts.get(rule)?.status, verdicts.get(rule)?.checked]).toEqual([rule, 'judged', DEVICES]);
    }
  });
});

describe('the shipped scenarios/lwm2m/blockwise-resume-under-loss.yaml, run by the CLI', () => {
  const BLOCKWISE = 'scenarios/lwm2m/blockwise-resume-under-loss.yaml';
  const FLAGS = ['--time-scale', '40'];
  let correct: { cli: CliResult; report: Report };
  let offByOne: { cli: CliResult; report: Report };

  beforeAll(async () => {
    [correct, offByOne] = await Promise.all([runShipped(BLOCKWISE, ['--devices', '5', ...FLAGS]), runShipped(BLOCKWISE, ['--devices', '3', ...FLAGS, '--bug', 'block2-off-by-one'])]);
  }, 100_000);

  it('a correct server: every device resumes its download under loss and finishes; PASSED, every rule clean', () => {
    expect(correct.cli.code, correct.cli.stderr).toBe(0);
    expect(correct.cli.stdout).toMatch(/^PASSED$/m);
    expect(correct.report.devices.byFinalState).toEqual({ succeeded: 5 });
    expect(correct.report.transitions.violations).toBe(0);
    expectEveryRuleClean(correct.report);
    const integrity = correct.report.verdicts?.find((v) => v.rule === 'lwm2m-package-integrity');
    expect([integrity?.status, integrity?.checked]).toEqual(['judged', 5]);
  });

  it('--bug block2-off-by-one: exit 1, FAILED; the devices cannot tell, lwm2m-package-integrity names every one with both md5s', () => {
    expect(offByOne.cli.code, offByOne.cli.stderr).toBe(1);
    expect(offByOne.cli.stdout).toMatch(/^FAILED .*verdicts broken: lwm2m-package-integrity/m);
    expect(offByOne.report.devices.byFinalState).toEqual({ succeeded: 3 });
    const v = offByOne.report.verdicts?.find((x) => x.rule === 'lwm2m-package-integrity');
    expect([v?.status, v?.checked, v?.violations]).toEqual(['judged', 3, 3]);
    expect(v!.samples.map((x) => x.device).sort()).toEqual(['lwm2m-000000', 'lwm2m-000001', 'lwm2m-000002']);
    expect(v!.samples[0]!.detail).toMatch(/the package nb-fw-big it assembled at .* has md5 [0-9a-f]{32}; the server publishes [0-9a-f]{32}/);
    expect(offByOne.report.expectations.find((e) => e.name === 'verdicts.violations == 0')?.passed).toBe(false);
  });
});
