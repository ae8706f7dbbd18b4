/**
 * The verdict runner and the server events: what they ask the admin API, what they make of the
 * answers (and of a server that has none), and the report section they build; plus the shipped
 * fault scenarios, which must load and match the published schema.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { rulesOf, runVerdicts, serverFactsOf, traceOf, MAX_TRACE_LINES } from '../../src/verdicts/run.js';
import { scheduleServerEvents, type AdminApi } from '../../src/verdicts/server-events.js';
import { loadScenario, parseScenario } from '../../src/scenario/load.js';
import { ScaledClock, originNow } from '../../src/time/clock.js';
import { onenetEvidence } from '../../src/dialect/onenet/evidence.js';
import { SCHEMA_FILE } from '../../src/scenario/publish-schema.js';
import { device } from './evidence-kit.js';

const scenario = parseScenario(['dialect: onenet', 'target: { onenet: { productId: "198290" } }', 'fleet:', '  cohorts:', '    - { name: c, count: 2, ids: "1..9", version: V1.0 }'].join('\n'), 'x.yaml');

/** An admin API that answers from tables and records what it was asked. */
function fakeAdmin(views: Record<string, unknown>, catalog: unknown = {}): AdminApi & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async get<T>(path: string): Promise<T> {
      asked.push(`GET ${path}`);
      return catalog as T;
    },
    async post<T>(path: string, body: unknown): Promise<T> {
      asked.push(`POST ${path}`);
      if (path === '/admin/devices/query') return { devices: (body as { ids: string[] }).ids.map((id) => views[id] ?? { id, error: 'in no device range' }) } as T;
      if (path.endsWith('/republish')) return { md5: 'new', previousMd5: 'old' } as T;
      return {} as T;
    },
  };
}

const twice201 = [
  { op: 'check', facts: { errno: 0, offerToken: 't1', offerSize: 10, offerMd5: 'a' } },
  { op: 'result', facts: { token: 't1', step: 201, errno: 0 } },
  { op: 'result', facts: { token: 't1', step: 201, errno: 0 } },
];

describe('runVerdicts', () => {
  it('judges the evidence with the server view, listing every rule with its status', async () => {
    const admin = fakeAdmin({ bad: { id: 'bad', tasks: [{ state: 'succeeded', successes: 2, token: 't1' }] } });
    const out = await runVerdicts({
      scenario,
      batches: [{ devices: [device('bad', twice201, { final: { kind: 'succeeded', code: 201 } })], seen: 1, stored: 1, originVirtual: 0 }],
      admin,
      events: [],
      originVirtual: 0,
    });
    expect(admin.asked).toEqual(['GET /admin/catalog', 'POST /admin/devices/query']);
    expect(out.map((v) => v.rule)).toEqual(rulesOf('onenet').map((r) => r.name));
    expect(out.filter((v) => v.status !== 'not-judged').map((v) => v.rule)).toEqual(['final-state-agreement', 'one-success-per-task', 'own-token', 'stale-task']);
    expect(out.find((v) => v.rule === 'gating')).toMatchObject({ status: 'not-judged', checked: 0, reason: 'none of the 1 devices judged is one it applies to' });
    const one = out.find((v) => v.rule === 'one-success-per-task')!;
    expect(one).toMatchObject({ status: 'judged', checked: 1, violations: 1 });
    expect(one.samples[0]?.device).toBe('bad');
    expect(one.samples[0]?.trace.map((l) => l.request)).toEqual(['check version=? manuf=? model=? signal=? battery=?', 'result step=201 token#1', 'result step=201 token#1']);
  });

  it('without an admin API judges from the devices alone, and says so', async () => {
    const out = await runVerdicts({ scenario, batches: [{ devices: [device('d', twice201)], seen: 5, stored: 1, originVirtual: 0 }], events: [], originVirtual: 0 });
    const one = out.find((v) => v.rule === 'one-success-per-task')!;
    expect(one.violations).toBe(1);
    expect(one.status).toBe('partly-judged');
    expect(one.reason).toMatch(/^no server view .*; evidence of 1 of 5 devices \(4 lost with a worker/);
    expect(out.find((v) => v.rule === 'final-state-agreement')).toMatchObject({ status: 'not-judged', checked: 0, reason: expect.stringMatching(/^no admin API on the target/) });
  });

  it('survives an admin API that fails, judging without it', async () => {
    const lines: string[] = [];
    const admin: AdminApi = { get: async () => Promise.reject(new Error('admin GET /admin/catalog: HTTP 500')), post: async () => ({}) as never };
    const out = await runVerdicts({ scenario, batches: [{ devices: [device('d', twice201)], seen: 1, stored: 1, originVirtual: 0 }], admin, events: [], originVirtual: 0, log: (l) => lines.push(l) });
    expect(out.find((v) => v.rule === 'one-success-per-task')?.violations).toBe(1);
    expect(lines).toEqual(["verdicts: the server's view is not available (admin GET /admin/catalog: HTTP 500): judged from the devices alone"]);
  });

  it('reads the server packages from its catalog view (its limits are the profile: test/scenario/profile.test.ts)', () => {
    const facts = serverFactsOf({
      onenet: { products: [{ packages: [{ id: 'p', version: 'V2', size: 5, md5: 'ABC', kind: 'diff', from: ['V1'] }, { id: 7 }] }] },
      luat: { banLimitPerDay: 6, banCountsWaits: false },
    });
    expect([...facts.packages]).toEqual([['p', { version: 'V2', size: 5, md5: 'abc', kind: 'diff', from: ['V1'] }]]);
    expect(serverFactsOf('garbage').packages.size).toBe(0);
  });

  it('has rules for each dialect, and cuts long traces in the middle', () => {
    expect(rulesOf('onenet').map((r) => r.name)).toEqual(['final-state-agreement', 'coap-retransmit', 'one-success-per-task', 'own-token', 'resume-from-held', 'restart-on-republish', 'gating', 'failure-codes', 'token-renewal', 'expected-failures', 'stale-task']);
    expect(rulesOf('luat').map((r) => r.name)).toEqual(['final-state-agreement', 'coap-retransmit', 'loop-ban', 'waits-not-banned', 'diff-wait', 'version-confirm', 'stale-task']);
    const long = device('d', Array.from({ length: 200 }, () => ({ op: 'progress', facts: { step: 1, errno: 0 } })));
    const trace = traceOf(long, onenetEvidence as never);
    expect(trace).toHaveLength(MAX_TRACE_LINES);
    expect(trace.some((l) => /lines left out/.test(l.answer))).toBe(true);
  });
});

describe('server events', () => {
  it('does each event at its virtual offset and records what the server changed', async () => {
    const clock = new ScaledClock(originNow(1000));
    const start = clock.now();
    const admin = fakeAdmin({});
    const run = scheduleServerEvents(
      [
        { atMs: 20_000, action: 'republish', package: 'app v2' },
        { atMs: 40_000, action: 'lift-bans' },
        { atMs: 3_600_000, action: 'lift-bans' },
      ],
      admin,
      { kind: 'clock', clock },
      start,
      () => {},
    );
    await new Promise((r) => setTimeout(r, 200));
    const done = await run.settle();
    expect(admin.asked).toEqual(['POST /admin/packages/app%20v2/republish', 'POST /admin/bans/lift-all']);
    expect(done.map((e) => e.action)).toEqual(['republish', 'lift-bans']);
    expect(done[0]).toMatchObject({ package: 'app v2', md5: ['new'], previousMd5: ['old'] });
    // Timers fire to within a real millisecond or two (a virtual second or two at ×1000).
    expect(done[0]!.startedAt).toBeGreaterThan(18_000);
    expect(done[1]!.startedAt).toBeGreaterThan(38_000);
    expect(done[0]!.doneAt).toBeGreaterThanOrEqual(done[0]!.startedAt);
  });

  it('says so when there is no admin API to do them with', async () => {
    const lines: string[] = [];
    const run = scheduleServerEvents([{ atMs: 0, action: 'lift-bans' }], undefined, { kind: 'clock', clock: new ScaledClock(originNow(1)) }, 0, (l) => lines.push(l));
    expect(await run.settle()).toEqual([]);
    expect(lines).toEqual(['server.events: the target has no admin API we can use: no server events were done']);
  });
});

describe('the shipped fault scenarios', () => {
  const dir = fileURLToPath(new URL('../../scenarios/faults/', import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  const validate = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);

  it("are nine, one per fault (hawkBit's in one file), each loading and matching the published schema", () => {
    expect(files.sort()).toEqual(['ack-less-retransmit.yaml', 'diff-wait.yaml', 'disconnect-resume.yaml', 'gating.yaml', 'hawkbit-field.yaml', 'loop-ban.yaml', 'mismatches.yaml', 'stale-task.yaml', 'token-expiry.yaml']);
    for (const f of files) {
      const s = loadScenario(`${dir}${f}`);
      expect(s.expect.some((e) => e.metric === 'verdicts.violations'), f).toBe(true);
      expect(s.stop.maxDurationMs, f).toBeLessThanOrEqual(60_000);
      expect(validate(parse(readFileSync(`${dir}${f}`, 'utf8'))) ? 'valid' : JSON.stringify(validate.errors), f).toBe('valid');
    }
  });
});
