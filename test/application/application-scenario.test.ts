import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { prepareApplication } from '../../src/engine/application.js';
import { originNow } from '../../src/time/clock.js';

const base = (application: string, extra = ''): string => `name: a
dialect: onenet
timeScale: 60
target:
  onenet: { productId: "198291" }
${extra}application:
${application}
fleet:
  cohorts:
    - { name: c, count: 1, ids: "523100000..523100009", version: V1.0, manuf: "101", model: "10101" }
`;

const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
};

describe('scenario application section', () => {
  it('resolves steps, the receiver behaviour and the defaults', () => {
    const s = parseScenario(
      base(`  appId: app
  appKey: { env: K }
  northbound:
    - upgrade: all
    - wait: { until: none-upgradable, every: 200ms }
  receiver: { answerAfter: 20s, errorRate: 10%, down: [{ from: 1m, to: 2m }] }`),
      'a.yaml',
    );
    expect(s.application).toMatchObject({
      platform: 'aiot',
      appId: 'app',
      appKey: { env: 'K' },
      openId: 'ota-swarm',
      northbound: [{ kind: 'upgrade', did: 'all' }, { kind: 'wait', until: 'none-upgradable', everyMs: 200, timeoutMs: 30_000 }],
      receiver: { host: '127.0.0.1', port: 0, behaviour: { answerAfterMs: 20_000, errorRate: 0.1, errorStatus: 503, neverAnswer: false, down: [{ fromMs: 60_000, toMs: 120_000 }] } },
    });
  });

  it('names the field of a bad step or window in one line', () => {
    expect(errorOf(() => parseScenario(base('  appId: app\n  northbound:\n    - { upgrade: all, query: all }'), 'a.yaml'))).toMatch(/a\.yaml:\d+:\d+: application\.northbound\.0: give exactly one of query, upgrade, wait/);
    expect(errorOf(() => parseScenario(base('  appId: app\n  receiver: { down: [{ from: 2m, to: 1m }] }'), 'a.yaml'))).toMatch(/application\.receiver\.down\.0\.to: must be after from/);
    expect(errorOf(() => parseScenario(base('  appId: app\n  receiver: { errorRate: 150% }'), 'a.yaml'))).toMatch(/application\.receiver\.errorRate/);
  });

  it('refuses what it cannot run: another dialect, time scale max, a remote receiver, a target without keys', async () => {
    const ok = parseScenario(base('  appId: app'), 'a.yaml');
    await expect(prepareApplication({ ...ok, dialect: 'luat' }, originNow(60), false)).rejects.toThrow(/pushes for OneNET devices/);
    await expect(prepareApplication(ok, originNow('max'), false)).rejects.toThrow(/time scale/);
    const remote = parseScenario(base('  appId: app\n  receiver: { host: 10.0.0.5 }'), 'a.yaml');
    await expect(prepareApplication(remote, originNow(60), false)).rejects.toThrow(/receiver\.host: 10\.0\.0\.5 is not a loopback address; pass --allow-remote/);
    const target = { ...ok, target: { ...ok.target, url: 'http://127.0.0.1:9' } };
    await expect(prepareApplication(target, originNow(60), false, {})).rejects.toThrow(/application\.appKey: needed with --target \(e\.g\. \{ env: OTA_SWARM_AIOT_APP_KEY \}\)/);
  });
});
