/**
 * Each hawkBit named bug of the reference server is caught by its rule, by name, with the device;
 * and the same device against the correct server breaks no rule. Devices run the dialect's own
 * machine, wire and evidence against a real server (./hawkbit-drive.ts) at `--time-scale max`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAWKBIT_RULES } from '../../src/verdicts/rules/hawkbit.js';
import { hawkbitRules } from '../../src/dialect/hawkbit/rules.js';
import type { BugName } from '../../src/server/bugs.js';
import type { Behaviour, DeviceProfile } from '../../src/device/types.js';
import { NO_FAULTS } from '../../src/device/types.js';
import { makeProfile, SETTINGS, illegalTransitions } from '../device/drive.js';
import { context } from '../faults/evidence-kit.js';
import { start, type TestServer } from '../server/helpers.js';
import { drive, type Drive } from './hawkbit-drive.js';
import type { HawkbitRequest } from '../../src/device/hawkbit/types.js';

const T0 = 1_000_000_000_000;
let s: TestServer;
beforeAll(async () => {
  s = await start({ clock: { virtualMs: T0, wallMs: Date.now(), scale: 'max' } });
});
afterAll(() => s.close());

let next = 100;
const profile = (behaviour: Partial<Behaviour> = {}): DeviceProfile =>
  makeProfile({ id: `dev-${String(next++).padStart(7, '0')}`, version: '1.0.0', battery: 80, behaviour: { ...NO_FAULTS, ...behaviour } });
const settings = { ...SETTINGS, chunkSize: 16 * 1024, progressEvery: 50, retryDelayMs: 30_000 };

/** Each rule's violations for one device, by rule name (rules that do not apply give []). */
function judge(d: Drive): Record<string, string[]> {
  const ctx = context({ dialect: 'hawkbit' });
  return Object.fromEntries(HAWKBIT_RULES.map((r) => [r.name, r.evaluate([d.evidence], ctx).violations.map((v) => v.detail)]));
}

const violated = (d: Drive): string[] => Object.entries(judge(d)).filter(([, v]) => v.length > 0).map(([k]) => k);

async function withBugs<T>(bugs: BugName[], fn: () => Promise<T>): Promise<T> {
  await s.admin('PUT', '/admin/bugs', { bugs });
  try {
    return await fn();
  } finally {
    await s.admin('PUT', '/admin/bugs', { bugs: [] });
  }
}

const cut = { disconnect: { at: { kind: 'share' as const, share: 0.3 }, times: 1, reconnectMs: 2_000 } };
const closing = (r: HawkbitRequest): boolean => r.op === 'feedback' && r.report.execution === 'closed';

/** Cancels the device's open action when it first starts downloading. */
const cancelOnDownload = (id: string) => async (kind: string): Promise<void> => {
  if (kind !== 'downloading') return;
  const view = (await s.admin('GET', `/admin/hawkbit/targets/DEFAULT/${id}`)).json;
  const open = view.actions.find((a: { state: string }) => a.state === 'running');
  if (open) await s.admin('POST', `/admin/hawkbit/actions/${open.id}/cancel`);
};

describe('against the correct server', () => {
  it('a device polls, reports, downloads (cut and resumed), installs and closes: succeeded, legal transitions, no rule broken', async () => {
    const p = profile(cut);
    const d = await drive(s.url, p, settings, { start: T0 });
    expect(d.final.kind).toBe('succeeded');
    expect(illegalTransitions(d.kinds, hawkbitRules)).toEqual([]);
    expect(d.evidence.exchanges.some((e) => e.op === 'download' && (e.facts.start ?? 0) > 0 && e.facts.status === 206)).toBe(true);
    expect(violated(d)).toEqual([]);
    expect(judge(d)['ddi-hash-matches']).toEqual([]);
  });

  it('a lost answer to the closing feedback: the retransmission is answered 410 and the device ends succeeded (duplicate)', async () => {
    const p = profile();
    let lost = 0;
    const d = await drive(s.url, p, settings, { start: T0, lose: (r) => closing(r) && lost++ === 0 });
    expect(d.final).toMatchObject({ kind: 'succeeded', duplicateResult: true });
    expect(d.evidence.exchanges.filter((e) => e.op === 'feedback' && e.facts.execution === 'closed').map((e) => e.facts.status ?? 'lost')).toEqual(['lost', 410]);
    expect(violated(d)).toEqual([]);
  });

  it('an action cancelled mid-download: its feedback is 409, the next poll offers cancelAction, the device acknowledges and ends cancelled', async () => {
    const p = profile();
    const d = await drive(s.url, p, settings, { start: T0, onKind: cancelOnDownload(p.id) });
    expect(d.final.kind).toBe('cancelled');
    expect(d.evidence.exchanges.some((e) => e.op === 'cancelFeedback' && e.facts.status === 200)).toBe(true);
    expect(illegalTransitions(d.kinds, hawkbitRules)).toEqual([]);
    expect(judge(d)['ddi-cancel-honoured']).toEqual([]);
    expect(HAWKBIT_RULES.find((r) => r.name === 'ddi-cancel-honoured')?.evaluate([d.evidence], context({ dialect: 'hawkbit' })).checked).toBe(1);
  });
});

describe('each named bug is caught by its rule', () => {
  it('ignore-range → ddi-range-honoured', async () => {
    const p = profile(cut);
    const d = await withBugs(['ignore-range'], () => drive(s.url, p, settings, { start: T0 }));
    expect(violated(d)).toContain('ddi-range-honoured');
    expect(judge(d)['ddi-range-honoured']?.[0]).toMatch(/answered http:200 from byte 0 \(expected 206 from \d+\)/);
  });

  it('wrong-hash → ddi-hash-matches (and the device reports the mismatch, closed/failure)', async () => {
    const p = profile();
    const d = await withBugs(['wrong-hash'], () => drive(s.url, p, settings, { start: T0 }));
    expect(d.final.kind).toBe('failed');
    expect(violated(d)).toEqual(['ddi-hash-matches']);
    expect(d.evidence.exchanges.some((e) => e.op === 'feedback' && e.facts.execution === 'closed' && e.facts.finished === 'failure')).toBe(true);
  });

  it('double-count-success → ddi-closed-once', async () => {
    const p = profile();
    let lost = 0;
    const d = await withBugs(['double-count-success'], () => drive(s.url, p, settings, { start: T0, lose: (r) => closing(r) && lost++ === 0 }));
    expect(violated(d)).toEqual(['ddi-closed-once']);
    expect((await s.admin('GET', `/admin/hawkbit/targets/DEFAULT/${p.id}`)).json.actions[0].successCounts).toBe(2);
    // With the server's view the rule also reads the count itself.
    const view = (await s.admin('POST', '/admin/devices/query', { ids: [p.id], dialect: 'hawkbit' })).json.devices[0];
    const withView = HAWKBIT_RULES.find((r) => r.name === 'ddi-closed-once')!.evaluate([d.evidence], context({ dialect: 'hawkbit', views: { [p.id]: view } }));
    expect(withView.violations[0]?.detail).toMatch(/the server counts action \d+ finished 2 times \(expected once\)/);
  });

  it('answer-cancelled-action → ddi-cancel-honoured', async () => {
    const p = profile();
    const d = await withBugs(['answer-cancelled-action'], () => drive(s.url, p, settings, { start: T0, maxSteps: 400, onKind: cancelOnDownload(p.id) }));
    expect(violated(d)).toContain('ddi-cancel-honoured');
    expect(d.final.kind).not.toBe('cancelled');
  });
});

describe('per-client limits from one machine', () => {
  it('each device sends its own X-Forwarded-For: over the limit it is answered 429, backs off 1–2 s and finishes; two devices are limited apart', async () => {
    const { DEFAULT_CATALOG } = await import('../../src/catalog/default.js');
    const catalog = structuredClone(DEFAULT_CATALOG);
    catalog.hawkbit = { ...catalog.hawkbit!, maxReadPerSecond: 2, maxWritePerSecond: 1 };
    const limited = await start({ catalog, clock: { virtualMs: T0, wallMs: Date.now(), scale: 'max' } });
    try {
      const [a, b] = [profile(), profile()];
      const [da, db] = await Promise.all([drive(limited.url, a, settings, { start: T0 }), drive(limited.url, b, settings, { start: T0 })]);
      for (const d of [da, db]) {
        expect(d.final.kind).toBe('succeeded');
        const throttled = d.evidence.exchanges.filter((e) => e.facts.status === 429);
        expect(throttled.length).toBeGreaterThan(0);
        expect(d.kinds).toContain('backing-off');
        expect(illegalTransitions(d.kinds, hawkbitRules)).toEqual([]);
      }
      // A device never makes more than 2 GETs and 1 write in one virtual second that are answered.
      const perSecond = new Map<string, number>();
      for (const e of da.evidence.exchanges) {
        if (e.facts.status === 429) continue;
        const k = `${Math.floor(e.sent / 1000)}:${e.op === 'feedback' || e.op === 'config' ? 'w' : 'r'}`;
        perSecond.set(k, (perSecond.get(k) ?? 0) + 1);
      }
      for (const [k, count] of perSecond) expect(count, k).toBeLessThanOrEqual(k.endsWith('w') ? 1 : 2);
    } finally {
      await limited.close();
    }
  });
});
