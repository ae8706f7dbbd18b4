/**
 * Field faults as scenario data: each behaviour by share or count, its parameters resolved with
 * their defaults, one-line errors naming the field, the retransmission settings, server events,
 * and the fleet giving each fault to exactly its share of the cohort, the same for a seed.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { expandFleet } from '../../src/scenario/fleet.js';
import { ConfigError } from '../../src/config/load.js';

const scenario = (behaviours: string, opts: { dialect?: string; extra?: string; settings?: string; count?: number } = {}): string => {
  const dialect = opts.dialect ?? 'onenet';
  const target = dialect === 'onenet' ? 'target: { onenet: { productId: "198290" } }' : 'target: { luat: { firmwareName: fw } }';
  return [
    `dialect: ${dialect}`,
    target,
    opts.extra ?? '',
    'fleet:',
    '  cohorts:',
    `    - { name: a, count: ${opts.count ?? 100}, ids: "1000..1999", version: V1.0, behaviours: ${behaviours}${opts.settings ? `, settings: ${opts.settings}` : ''} }`,
  ].join('\n');
};
const load = (text: string) => parseScenario(text, 'x.yaml');
const error = (text: string): string => {
  try {
    load(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return 'no error';
};

describe('behaviours in a scenario', () => {
  it('reads every fault with its defaults, by share, count or the whole cohort', () => {
    const s = load(
      scenario(
        '{ corruptDownload: { count: 5 }, rebootIntoOld: 10%, answerLoss: { share: 20%, rate: 30%, ops: [progress, result], requeue: true }, ' +
          'disconnect: { count: 10, at: 40% }, batteryDies: { at: 25% }, storageFull: 0.05, flashFails: { share: 1%, code: 203 }, longSleep: { sleep: 3d, staleAuth: true } }',
      ),
    );
    expect(s.fleet.cohorts[0]?.behaviours).toEqual({
      corruptDownload: 0.05,
      rebootIntoOld: 0.1,
      answerLoss: { share: 0.2, rate: 0.3, ops: ['progress', 'result'], requeue: true },
      disconnect: { share: 0.1, at: { kind: 'share', share: 0.4 }, times: 1, reconnectMs: 30_000 },
      batteryDies: { share: 1, atShare: 0.25 },
      storageFull: 0.05,
      flashFails: { share: 0.01, code: 203 },
      longSleep: { share: 1, sleepMs: 3 * 86_400_000, staleAuth: true },
    });
  });

  it('reads cut points as a share, a byte offset or random, and the answer loss defaults to every operation', () => {
    const at = (v: string) => load(scenario(`{ disconnect: { at: ${v}, times: 2, reconnect: 1m } }`)).fleet.cohorts[0]?.behaviours.disconnect;
    expect(at('70000')).toEqual({ share: 1, at: { kind: 'bytes', bytes: 70000 }, times: 2, reconnectMs: 60_000 });
    expect(at('64KiB')?.at).toEqual({ kind: 'bytes', bytes: 65536 });
    expect(at('random')?.at).toEqual({ kind: 'random' });
    expect(load(scenario('{ answerLoss: {} }')).fleet.cohorts[0]?.behaviours.answerLoss).toEqual({
      share: 1,
      rate: 1,
      ops: ['reportVersion', 'check', 'tokenCheck', 'download', 'progress', 'result'],
      requeue: false,
    });
    expect(load(scenario('{ askAfterBan: { count: 3 } }', { dialect: 'luat' })).fleet.cohorts[0]?.behaviours.askAfterBan).toEqual({ share: 0.03, asks: 3 });
  });

  it('names the field of a bad behaviour in one line', () => {
    expect(error(scenario('{ disconnect: { at: 140% } }'))).toMatch(/^x\.yaml:\d+:\d+: fleet\.cohorts\.0\.behaviours\.disconnect\.at: "140%" is not a share/);
    expect(error(scenario('{ disconnect: { at: 100% } }'))).toMatch(/behaviours\.disconnect\.at: a share of the file must be above 0% and below 100%$/);
    expect(error(scenario('{ disconnect: { at: soon } }'))).toMatch(/behaviours\.disconnect\.at: "soon" is not a cut point \(e\.g\. 40%, 70000, 64KiB, or random\)$/);
    expect(error(scenario('{ storageFull: { count: 101 } }'))).toMatch(/behaviours\.storageFull\.count: 101 devices, but the cohort has 100$/);
    expect(error(scenario('{ storageFull: { count: 1, share: 1% } }'))).toMatch(/behaviours\.storageFull\.count: give share or count, not both$/);
    expect(error(scenario('{ answerLoss: { ops: [progress, ask] } }'))).toMatch(/behaviours\.answerLoss\.ops\.1: dialect "onenet" has no operation "ask" \(it has: reportVersion, check/);
    expect(error(scenario('{ disconnect: {} }', { dialect: 'luat' }))).toMatch(/behaviours\.disconnect: a behaviour of ranged downloads \(the onenet and hawkbit dialects, and declared ones that say so\); dialect "luat" has no use for it$/);
    expect(error(scenario('{ askAfterBan: {} }'))).toMatch(/behaviours\.askAfterBan: a Luat behaviour; dialect "onenet" has no use for it$/);
    const lwm2m = (behaviours: string): string => ['dialect: lwm2m', 'fleet:', '  cohorts:', `    - { name: a, count: 10, ids: "1000..1009", version: V1.0, behaviours: ${behaviours} }`].join('\n');
    expect(error(lwm2m('{ answerLoss: { rate: 30% } }'))).toMatch(/behaviours\.answerLoss: dialect "lwm2m" does not read answerLoss \(.*dropAcks.*\)$/);
    expect(load(lwm2m('{ dropAcks: { rate: 30% } }')).fleet.cohorts[0]?.behaviours.dropAcks).toEqual({ share: 1, rate: 0.3 });
    expect(error(scenario('{ flashFails: { code: 204 } }'))).toMatch(/flashFails\.code/);
    expect(error(scenario('{ teleport: 5% }'))).toMatch(/behaviours/);
  });

  it('reads the retransmission settings, with RFC 7252 defaults', () => {
    const settings = (s: string) => load(scenario('{}', { settings: s })).fleet.cohorts[0]?.settings.retransmit;
    expect(settings('{}')).toEqual({ ackTimeoutMs: 2000, randomFactor: 1.5, maxRetransmit: 4 });
    expect(settings('{ retransmit: { ackTimeout: 500ms, randomFactor: 2, maxRetransmit: 0 } }')).toEqual({ ackTimeoutMs: 500, randomFactor: 2, maxRetransmit: 0 });
    expect(error(scenario('{}', { settings: '{ retransmit: { randomFactor: 0.5 } }' }))).toMatch(/retransmit\/randomFactor|retransmit\.randomFactor/);
  });

  it('reads server events, one action each', () => {
    const s = load(scenario('{}', { extra: 'server: { events: [ { at: 30s, republish: app-v2-diff }, { at: 2h, liftBans: true } ] }' }));
    expect(s.server.events).toEqual([
      { atMs: 30_000, action: 'republish', package: 'app-v2-diff' },
      { atMs: 7_200_000, action: 'lift-bans' },
    ]);
    expect(error(scenario('{}', { extra: 'server: { events: [ { at: 30s } ] }' }))).toMatch(/server\.events\.0: give exactly one action: republish: PACKAGE, liftBans: true or campaign: \{ endpoints, package \}$/);
    expect(error(scenario('{}', { extra: 'server: { events: [ { at: 30s, republish: p, liftBans: true } ] }' }))).toMatch(/server\.events\.0: give exactly one action/);
    expect(error(scenario('{}', { extra: 'server: { events: [ { at: 30s, liftBans: false } ] }' }))).toMatch(/server\.events\.0\.liftBans: must be true/);
  });

  it('reads an LwM2M campaign event (observe by default)', () => {
    const s = load(scenario('{}', { extra: 'server: { events: [ { at: 5m, campaign: { endpoints: "lwm2m-{000000..000099}", package: lwm2m-fw-2 } } ] }' }));
    expect(s.server.events).toEqual([{ atMs: 300_000, action: 'campaign', endpoints: 'lwm2m-{000000..000099}', package: 'lwm2m-fw-2', observe: true }]);
    expect(error(scenario('{}', { extra: 'server: { events: [ { at: 5m, campaign: { endpoints: x } } ] }' }))).toMatch(/server\.events\.0\.campaign/);
  });
});

describe('behaviours in the fleet', () => {
  const plan = (seed: number) =>
    expandFleet({
      ...load(scenario('{ answerLoss: { share: 20%, rate: 30%, ops: [progress] }, disconnect: { count: 7, at: random, times: 2 }, flashFails: { share: 50%, code: 203 }, rebootIntoOld: 10% }', { count: 100 })),
      seed,
    });

  it('gives each fault to exactly its share of the cohort, independently, with its parameters', () => {
    const p = plan(1);
    const bs = Array.from({ length: 100 }, (_, i) => p.profileOf(i).behaviour);
    expect(bs.filter((b) => b.answerLoss).length).toBe(20);
    expect(bs.filter((b) => b.disconnect).length).toBe(7);
    expect(bs.filter((b) => b.flashFails).length).toBe(50);
    expect(bs.filter((b) => b.rebootIntoOld).length).toBe(10);
    expect(bs.find((b) => b.answerLoss)?.answerLoss).toEqual({ rate: 0.3, ops: ['progress'], requeue: false });
    expect(bs.find((b) => b.disconnect)?.disconnect).toEqual({ at: { kind: 'random' }, times: 2, reconnectMs: 30_000 });
    expect(bs.find((b) => b.flashFails)?.flashFails).toEqual({ code: 203 });
    // Independent picks: some devices carry two faults, some none.
    expect(bs.some((b) => b.answerLoss && b.flashFails)).toBe(true);
    expect(bs.some((b) => !b.answerLoss && !b.flashFails && !b.disconnect)).toBe(true);
  });

  it('picks the same devices for a seed, others for another seed', () => {
    const picked = (seed: number) => Array.from({ length: 100 }, (_, i) => (plan(seed).profileOf(i).behaviour.disconnect ? i : -1)).filter((i) => i >= 0);
    expect(picked(1)).toEqual(picked(1));
    expect(picked(2)).not.toEqual(picked(1));
  });
});
