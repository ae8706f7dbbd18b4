/**
 * The streaming judge: evidence spilled to files and read back, every device judged in bounded
 * batches with the same verdicts as all at once, fleet-wide folds across batches, every violation
 * handed to the sink (violations.jsonl) while the report keeps counts and samples.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvidenceSpill, readSpill } from '../../src/verdicts/spill.js';
import { MAX_VERDICT_SAMPLES, runVerdicts, type ViolationLine } from '../../src/verdicts/run.js';
import { openViolationsFile } from '../../src/verdicts/violations-file.js';
import { judgeVerdicts } from '../../src/verdicts/judge-run.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { DeviceEvidence } from '../../src/verdicts/evidence.js';
import { device, type Step } from './evidence-kit.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'judge-test-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const onenet = parseScenario(['dialect: onenet', 'target: { onenet: { productId: "198290" } }', 'fleet:', '  cohorts:', '    - { name: c, count: 2, ids: "1..9", version: V1.0 }'].join('\n'), 'x.yaml');
const luat = parseScenario(['dialect: luat', 'target: { luat: { projectKey: k, firmwareName: f } }', 'fleet:', '  cohorts:', '    - { name: c, count: 2, ids: "860000000000001..860000000000009", version: 1.0.0 }'].join('\n'), 'y.yaml');

const twice201: Step[] = [
  { op: 'check', facts: { errno: 0, offerToken: 't1', offerSize: 10, offerMd5: 'a' } },
  { op: 'result', facts: { token: 't1', step: 201, errno: 0 } },
  { op: 'result', facts: { token: 't1', step: 201, errno: 0 } },
];
const once201: Step[] = twice201.slice(0, 2);

/** n devices, every k-th one answering its 201 twice (a one-success-per-task violation). */
const fleet = (n: number, k: number): DeviceEvidence[] => Array.from({ length: n }, (_, i) => device(`d${i}`, i % k === 0 ? twice201 : once201, { final: { kind: 'succeeded', code: 201 } }));

function spill(file: string, devices: readonly DeviceEvidence[]): void {
  const s = new EvidenceSpill(file);
  for (const d of devices) s.append(d);
  s.close();
}

describe('evidence spill', () => {
  it('reads back every device written, in order, and counts a torn last line instead of failing', async () => {
    const file = join(tempDir(), 'w.jsonl');
    const devices = fleet(2500, 7);
    spill(file, devices);
    appendFileSync(file, '{"id":"torn","exch');
    let torn = 0;
    const back: DeviceEvidence[] = [];
    for await (const d of readSpill(file, () => torn++)) back.push(d);
    expect(back).toEqual(devices);
    expect(torn).toBe(1);
  });
});

describe('runVerdicts in batches', () => {
  it('judges every device from the spill files in batches, as one batch would', async () => {
    const dir = tempDir();
    const devices = fleet(1000, 10);
    spill(join(dir, 'a.jsonl'), devices.slice(0, 600));
    spill(join(dir, 'b.jsonl'), devices.slice(600));
    const lines: ViolationLine[] = [];
    const batched = await runVerdicts({
      scenario: onenet,
      batches: [
        { file: join(dir, 'a.jsonl'), seen: 600, stored: 600, originVirtual: 0 },
        { file: join(dir, 'b.jsonl'), seen: 400, stored: 400, originVirtual: 0 },
      ],
      events: [],
      originVirtual: 0,
      batchSize: 64,
      violations: (l) => void lines.push(l),
    });
    const whole = await runVerdicts({ scenario: onenet, batches: [{ devices, seen: 1000, stored: 1000, originVirtual: 0 }], events: [], originVirtual: 0 });
    expect(batched).toEqual(whole);
    const one = batched.find((v) => v.rule === 'one-success-per-task')!;
    expect(one).toMatchObject({ checked: 1000, violations: 100 });
    expect(one.samples).toHaveLength(MAX_VERDICT_SAMPLES);
    // Every violation, not only the samples, reaches the sink with its trace.
    const flagged = lines.filter((l) => l.rule === 'one-success-per-task');
    expect(flagged.map((l) => l.device)).toEqual(devices.filter((_, i) => i % 10 === 0).map((d) => d.id));
    expect(flagged[0]?.trace.map((t) => t.request)).toEqual(['check version=? manuf=? model=? signal=? battery=?', 'result step=201 token#1', 'result step=201 token#1']);
    expect(flagged[0]?.reason).toBe(one.samples[0]?.detail);
  });

  it("compares a device with the fleet's first diff request even when they fall in different batches", async () => {
    const ask43 = (at: number): Step => ({ op: 'luat', facts: { version: '1.3.1', core: '3032', status: 400, code: 43 }, at });
    // The fleet's first request at 0; device b, judged in another batch, is still told 43 five minutes later.
    const devices = [device('a', [ask43(0)]), device('b', [ask43(300_000)])];
    const out = await runVerdicts({ scenario: luat, batches: [{ devices, seen: 2, stored: 2, originVirtual: 0 }], events: [], originVirtual: 0, batchSize: 1 });
    const diff = out.find((v) => v.rule === 'diff-wait')!;
    expect(diff.violations).toBe(1);
    expect(diff.samples[0]?.device).toBe('b');
  });

  it('a failure while judging is a run error (no rule reads as passed), and says so for every rule', async () => {
    const out = await judgeVerdicts({
      scenario: onenet,
      results: [{ evidence: { file: join(tempDir(), 'missing.jsonl'), seen: 1, stored: 1, originVirtual: 0 } }],
      admin: undefined,
      events: [],
      originVirtual: 0,
      log: () => {},
      violationsFile: undefined,
    });
    expect(out.error).toMatch(/^the verdicts could not be judged: /);
    expect(out.verdicts?.every((v) => v.status === 'not-judged' && /^judging failed: /.test(v.reason ?? ''))).toBe(true);
  });

  it('writes violations.jsonl as a stream, one JSON line per violation', async () => {
    const path = join(tempDir(), 'run', 'violations.jsonl');
    const file = await openViolationsFile(path);
    await runVerdicts({ scenario: onenet, batches: [{ devices: fleet(30, 3), seen: 30, stored: 30, originVirtual: 0 }], events: [], originVirtual: 0, violations: (l) => file.write(l) });
    await file.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as ViolationLine);
    expect(lines.filter((l) => l.rule === 'one-success-per-task')).toHaveLength(10);
    expect(Object.keys(lines[0]!).sort()).toEqual(['device', 'reason', 'rule', 'trace']);
  });
});

describe('the final-state agreement never falls silent', () => {
  it('says not judged, and why, without an admin API, on an interrupted run, and when the admin API fails', async () => {
    const { serverAgreementOf, NO_ADMIN_API } = await import('../../src/verdicts/judge-run.js');
    const finals = [{ id: 'd1', state: 'succeeded' }];
    const logged: string[] = [];
    expect(await serverAgreementOf('onenet', finals, undefined, 'completed', (l) => logged.push(l))).toEqual({ status: 'not-judged', reason: NO_ADMIN_API, checked: 0, disagreements: 0, samples: [] });
    const failing = { get: async () => Promise.reject(new Error('x')), post: async () => Promise.reject(new Error('admin POST /admin/devices/query: HTTP 500')) };
    expect(await serverAgreementOf('onenet', finals, failing as never, 'interrupted', () => {})).toMatchObject({ status: 'not-judged', reason: expect.stringMatching(/interrupted/) });
    expect(await serverAgreementOf('onenet', finals, failing as never, 'completed', (l) => logged.push(l))).toMatchObject({ status: 'not-judged', reason: 'the admin API failed: admin POST /admin/devices/query: HTTP 500' });
    expect(logged).toEqual(['could not compare final states with the server: admin POST /admin/devices/query: HTTP 500']);
    const answering = { get: async () => ({}), post: async () => ({ devices: [{ id: 'd1', tasks: [{ state: 'succeeded' }] }] }) };
    expect(await serverAgreementOf('onenet', finals, answering as never, 'completed', () => {})).toEqual({ status: 'judged', checked: 1, disagreements: 0, samples: [] });
  });
});

describe('restart-on-republish', () => {
  it('says why it was not judged when the scenario asked for a republish the target could not do', async () => {
    const withEvents = parseScenario(
      ['dialect: onenet', 'target: { onenet: { productId: "198290" } }', 'server:', '  events:', '    - { at: 60s, republish: app-v2-diff }', 'fleet:', '  cohorts:', '    - { name: c, count: 2, ids: "1..9", version: V1.0 }'].join('\n'),
      'z.yaml',
    );
    const out = await runVerdicts({ scenario: withEvents, batches: [{ devices: fleet(3, 1), seen: 3, stored: 3, originVirtual: 0 }], events: [], originVirtual: 0 });
    expect(out.find((v) => v.rule === 'restart-on-republish')).toMatchObject({ status: 'not-judged', reason: "the scenario's server events were not done: the target has no admin API we can use" });
    const plain = await runVerdicts({ scenario: onenet, batches: [{ devices: fleet(3, 1), seen: 3, stored: 3, originVirtual: 0 }], events: [], originVirtual: 0 });
    expect(plain.find((v) => v.rule === 'restart-on-republish')).toMatchObject({ status: 'not-judged', reason: 'no republish happened in this run' });
  });
});
