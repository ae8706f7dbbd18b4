import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { DEFAULT_DEVICE_SETTINGS } from '../../src/device/types.js';
import { knownDialects, loadScenario, parseRate, parseScenario, registerScenarioDialect } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/types.js';
import { errorOf } from './config-error.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): string => join(here, 'fixtures', name);


const ONENET_HEAD = 'dialect: onenet\ntarget:\n  onenet: { productId: "198290" }\n';
/** A valid scenario with the given fleet section (indented as under `fleet:`) and extra top-level text. */
const withFleet = (fleet: string, extra = ''): string => `${ONENET_HEAD}fleet:\n${fleet}${extra}`;
const oneCohort = '  cohorts:\n    - { ids: "522700000..522799999", count: 10, version: V1.0 }\n';

describe('good files', () => {
  it('fills every default in a minimal file', () => {
    const file = fixture('minimal.yaml');
    const s = loadScenario(file);
    const expected: Scenario = {
      file,
      name: 'minimal',
      description: '',
      dialect: 'onenet',
      seed: 1,
      timeScale: 1,
      target: { block: { productId: '198290', signMethod: 'sha1', tokenTtlSec: 3600 } },
      server: { bugs: [] },
      fleet: {
        devices: 10,
        cohorts: [
          {
            name: 'cohort-0',
            count: 10,
            ids: '522700000..522799999',
            version: 'V1.0',
            manuf: '100',
            model: '10001',
            core: '3032',
            taskType: 2,
            battery: 100,
            signal: 25,
            radio: { mode: 'always-on' },
            behaviours: { corruptDownload: 0, rebootIntoOld: 0 },
            settings: {
              chunkSize: DEFAULT_DEVICE_SETTINGS.chunkSize,
              progressEvery: DEFAULT_DEVICE_SETTINGS.progressEvery,
              requestTimeoutMs: DEFAULT_DEVICE_SETTINGS.requestTimeoutMs,
              rebootMs: DEFAULT_DEVICE_SETTINGS.rebootMs,
              maxAttempts: DEFAULT_DEVICE_SETTINGS.maxAttempts,
              retryDelayMs: DEFAULT_DEVICE_SETTINGS.retryDelayMs,
              maxStalledAttempts: DEFAULT_DEVICE_SETTINGS.maxStalledAttempts,
              waitBackoffMs: DEFAULT_DEVICE_SETTINGS.waitBackoffMs,
              retransmit: DEFAULT_DEVICE_SETTINGS.retransmit,
            },
          },
        ],
      },
      arrival: { pattern: 'all-at-once' },
      stop: { maxDurationMs: 600_000 },
      engine: { maxInFlightPerWorker: 256, connectionsPerWorker: 32, lookaheadMs: 300_000 },
      expect: [],
    };
    expect(s).toEqual(expected);
  });

  it('resolves every unit and knob of a full file', () => {
    const file = fixture('full.yaml');
    const s = loadScenario(file);
    expect(s.name).toBe('mixed-fleet');
    expect(s.seed).toBe(1234);
    expect(s.timeScale).toBe(60);
    expect(s.target).toEqual({
      url: 'http://127.0.0.1:8080',
      block: { productId: '198290', accessKey: { env: 'ONENET_ACCESS_KEY' }, signMethod: 'sha256', tokenTtlSec: 7200 },
    });
    expect(s.server).toEqual({
      catalog: fixture('catalogs/tiny.yaml'),
      faults: { check: { latency: { dist: 'fixed', value: 50 } } },
      bugs: ['skip-token-check'],
    });
    // 50% of 1000, 100 by count, the rest (400) to the cohort that gives neither.
    expect(s.fleet.devices).toBe(1000);
    expect(s.fleet.cohorts.map((c) => [c.name, c.count])).toEqual([
      ['esp32', 500],
      ['bc28', 100],
      ['rest', 400],
    ]);
    const [esp32, bc28, rest] = s.fleet.cohorts;
    expect(esp32).toMatchObject({
      manuf: '101',
      model: '10101',
      battery: { dist: 'uniform', min: 40, max: 100 },
      signal: { dist: 'normal', mean: 20, stddev: 4, min: 6, max: 31 },
      radio: { mode: 'psm', t3412: { dist: 'uniform', min: 1_800_000, max: 7_200_000 }, t3324: 10_000 },
      behaviours: { corruptDownload: 0.1, rebootIntoOld: 0.02 },
      settings: { chunkSize: 4096, progressEvery: 10, requestTimeoutMs: 5000, rebootMs: 60_000, maxAttempts: 5, retryDelayMs: 30_000, waitBackoffMs: 120_000 },
    });
    expect(bc28).toMatchObject({ taskType: 1, signal: 99, radio: { mode: 'edrx', cycleMs: 81_920, ptwMs: 10_240 }, battery: 100 });
    expect(rest).toMatchObject({ version: 'V1.5', radio: { mode: 'drx', cycleMs: 2560 } });
    expect(s.arrival).toEqual({ pattern: 'constant-rate', perSecond: 10 });
    expect(s.stop).toEqual({ maxDurationMs: 90_000, maxVirtualMs: 2 * 86_400_000 });
    expect(s.engine).toEqual({ maxInFlightPerWorker: 64, connectionsPerWorker: 8, lookaheadMs: 2000 });
    expect(s.expect).toEqual([
      { text: 'check.p99 < 0.5s', metric: 'check.p99', op: '<', value: 500, unit: 'ms' },
      { text: 'download.errors < 1%', metric: 'download.errors', op: '<', value: 1, unit: '%' },
      { text: 'devices.succeeded >= 99%', metric: 'devices.succeeded', op: '>=', value: 99, unit: '%' },
      { text: 'transitions.violations == 0', metric: 'transitions.violations', op: '==', value: 0, unit: '' },
    ]);
  });

  it('reads timeScale max and the lookahead it runs with', () => {
    const s = parseScenario(withFleet(oneCohort, 'timeScale: max\nengine: { lookahead: 1m }\n'), 'm.yaml');
    expect(s.timeScale).toBe('max');
    expect(s.engine.lookaheadMs).toBe(60_000);
  });

  it('reads each arrival pattern', () => {
    const arrival = (a: string) => parseScenario(withFleet(oneCohort, `arrival: ${a}\n`), 'a.yaml').arrival;
    expect(arrival('{ pattern: all-at-once }')).toEqual({ pattern: 'all-at-once' });
    expect(arrival('{ pattern: ramp, over: 2m }')).toEqual({ pattern: 'ramp', overMs: 120_000 });
    expect(arrival('{ pattern: spread, over: 10s }')).toEqual({ pattern: 'spread', overMs: 10_000 });
    expect(arrival('{ pattern: constant-rate, rate: 500/s }')).toEqual({ pattern: 'constant-rate', perSecond: 500 });
    expect(arrival('{ pattern: constant-rate, rate: 3600/h }')).toEqual({ pattern: 'constant-rate', perSecond: 1 });
    expect(arrival('{ pattern: constant-rate, rate: 25 }')).toEqual({ pattern: 'constant-rate', perSecond: 25 });
    expect(arrival('{ pattern: beta, alpha: 3, beta: 4, over: 10s }')).toEqual({ pattern: 'beta', alpha: 3, beta: 4, overMs: 10_000 });
    expect(arrival('{ pattern: synchronised }')).toEqual({ pattern: 'beta', alpha: 3, beta: 4, overMs: 10_000 });
    expect(arrival('{ pattern: synchronised, over: 1m }')).toEqual({ pattern: 'beta', alpha: 3, beta: 4, overMs: 60_000 });
    expect(errorOf(() => arrival('{ pattern: beta, alpha: 3, over: 10s }'))).toMatch(/^a\.yaml:\d+:\d+: arrival: missing required field "beta"$/);
    expect(errorOf(() => arrival('{ pattern: beta, alpha: 0, beta: 4, over: 10s }'))).toMatch(/^a\.yaml:\d+:\d+: arrival\.alpha: /);
    expect(errorOf(() => arrival('{ pattern: synchronised, rate: 5/s }'))).toMatch(/^a\.yaml:\d+:\d+: arrival/);
  });

  it('reads distributions of durations for PSM timers, with defaults', () => {
    const radio = (r: string) =>
      parseScenario(withFleet(`  cohorts:\n    - { ids: "1..10", count: 10, version: V1, radio: ${r} }\n`), 'r.yaml').fleet.cohorts[0]?.radio;
    expect(radio('{ mode: psm }')).toEqual({ mode: 'psm', t3412: 3_600_000, t3324: 10_000 });
    expect(radio('{ mode: psm, t3412: { dist: lognormal, median: 1h, p99: 4h }, t3324: { dist: fixed, value: 20s } }')).toEqual({
      mode: 'psm',
      t3412: { dist: 'lognormal', median: 3_600_000, p99: 14_400_000 },
      t3324: { dist: 'fixed', value: 20_000 },
    });
    expect(radio('{ mode: drx, cycle: 5.12s }')).toEqual({ mode: 'drx', cycleMs: 5120 });
    expect(radio('{ mode: edrx }')).toEqual({ mode: 'edrx', cycleMs: 81_920, ptwMs: 10_240 });
  });

  it('reads a cohort\'s RRC set-up and link, and a named wake pattern', () => {
    const s = parseScenario(
      withFleet(
        '  cohorts:\n    - { ids: "1..10", count: 10, version: V1, rrcSetup: { dist: uniform, min: 1s, max: 2s }, link: { bitrate: { dist: lognormal, median: 25000, p99: 80000 }, rtt: 600ms } }\n',
        'wake: { pattern: daily-alignment, spread: 15m, at: 3h }\n',
      ),
      'w.yaml',
    );
    const c = s.fleet.cohorts[0];
    expect(c?.rrcSetup).toEqual({ dist: 'uniform', min: 1000, max: 2000 });
    expect(c?.link).toEqual({ bitrate: { dist: 'lognormal', median: 25_000, p99: 80_000 }, rtt: 600 });
    expect(s.wake).toEqual({ pattern: 'daily-alignment', spreadMs: 900_000, atMsOfDay: 10_800_000 });
    const wake = (w: string) => parseScenario(withFleet(oneCohort, `wake: ${w}\n`), 'w.yaml').wake;
    expect(wake('{ pattern: steady }')).toEqual({ pattern: 'steady' });
    expect(wake('{ pattern: outage-recovery, window: 10m }')).toEqual({ pattern: 'outage-recovery', windowMs: 600_000 });
    expect(wake('{ pattern: rollout-start }')).toEqual({ pattern: 'rollout-start' });
    expect(wake('{ pattern: synchronised }')).toEqual({ pattern: 'synchronised', windowMs: 10_000 });
    expect(wake('{ pattern: synchronised, window: 30s }')).toEqual({ pattern: 'synchronised', windowMs: 30_000 });
    expect(parseScenario(withFleet(oneCohort), 'w.yaml').wake).toBeUndefined();
  });

  it('names the field of a bad wake pattern or link', () => {
    expect(errorOf(() => parseScenario(withFleet(oneCohort, 'wake: { pattern: outage-recovery }\n'), 'w.yaml'))).toBe(
      'w.yaml:7:7: wake: missing required field "window"',
    );
    expect(errorOf(() => parseScenario(withFleet(oneCohort, 'wake: { pattern: daily-alignment, spread: 1h, at: 25h }\n'), 'w.yaml'))).toBe(
      'w.yaml:7:51: wake.at: must be a time of day, under 24h',
    );
    expect(errorOf(() => parseScenario(withFleet('  cohorts:\n    - { ids: "1..10", count: 10, version: V1, link: { rtt: 1s } }\n'), 'w.yaml'))).toBe(
      'w.yaml:6:53: fleet.cohorts.0.link: missing required field "bitrate"',
    );
  });

  it('sizes cohorts given by share exactly, by largest remainders', () => {
    const s = parseScenario(
      withFleet('  devices: 1001\n  cohorts:\n    - { share: 33.3%, ids: "1..1000", version: V1 }\n    - { share: 66.7%, ids: "2001..3000", version: V1 }\n'),
      's.yaml',
    );
    const counts = s.fleet.cohorts.map((c) => c.count);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1001);
    expect(counts).toEqual([333, 668]);
  });

  it('resolves a relative catalog path against the scenario file', () => {
    const s = parseScenario(withFleet(oneCohort, 'server: { catalog: ../cat.yaml }\n'), '/srv/scenarios/x.yaml');
    expect(s.server.catalog).toBe('/srv/cat.yaml');
  });

  it('accepts a luat scenario with its target', () => {
    const s = parseScenario(
      'dialect: luat\ntarget: { luat: { firmwareName: fw, projectKey: { file: ./key } } }\nfleet:\n  cohorts:\n    - { ids: "86671404{0000000..0099999}", count: 5, version: 1.3.1 }\nexpect: [luat.p99 < 2s]\n',
      'l.yaml',
    );
    expect(s.target).toEqual({ block: { firmwareName: 'fw', projectKey: { file: './key' } } });
    expect(s.expect[0]).toMatchObject({ metric: 'luat.p99', value: 2000, unit: 'ms' });
  });
});

describe('bad files: one line naming file:line:col and the field', () => {
  const cases: [string, string][] = [
    ['bad-unknown-field.yaml', '9:15: fleet.cohorts.0.colour: unknown field'],
    ['bad-wrong-type.yaml', '2:7: seed: must be integer'],
    ['bad-missing-required.yaml', '6:7: fleet.cohorts.0: missing required field "version"'],
    ['bad-unit.yaml', '10:20: fleet.cohorts.0.settings.chunkSize: "12 parsecs" is not a size (e.g. 512B, 16KiB, 1MiB, or a number of bytes)'],
    ['bad-dialect.yaml', '2:10: dialect: unknown dialect "mqtt" (known: "onenet", "luat")'],
    ['bad-enum.yaml', '3:46: target.onenet.signMethod: must be one of "md5", "sha1", "sha256"'],
    ['bad-shares.yaml', '8:25: fleet.cohorts.1.share: cohort shares add up to 110%, over 100%'],
    ['bad-count-range.yaml', '7:14: fleet.cohorts.0.count: cohort "small" needs 200 ids but 522700000..522700099 holds 100'],
    [
      'bad-counts-sum.yaml',
      '7:5: fleet.cohorts: cohorts add up to 200 of 300 devices; make counts and shares add up to the fleet, or leave one cohort without count or share to take the rest',
    ],
    ['bad-expectation.yaml', '9:5: expect.1: "check.p99 below 200ms": expected METRIC OP VALUE[UNIT], OP one of < <= > >= == !=, e.g. check.p99 < 200ms'],
    ['bad-luat-target.yaml', '3:3: target.luat.firmwareName: required by dialect "luat"'],
    ['bad-dist.yaml', '9:16: fleet.cohorts.0.battery: missing required field "max"'],
    ['bad-syntax.yaml', '4:1: YAML: Flow map in block collection must be sufficiently indented and end with a }'],
  ];
  it.each(cases)('%s', (name, message) => {
    const file = fixture(name);
    expect(errorOf(() => loadScenario(file))).toBe(`${file}:${message}`);
  });

  it('names a file it cannot read', () => {
    const file = fixture('no-such-file.yaml');
    expect(errorOf(() => loadScenario(file))).toBe(`${file}: cannot read (ENOENT)`);
  });
});

describe('bad text: semantic checks', () => {
  const bad = (text: string): string => errorOf(() => parseScenario(text, 'x.yaml'));
  const cohort = (fields: string) => withFleet(`  cohorts:\n    - { ids: "522700000..522799999", version: V1.0, ${fields} }\n`);

  it('rejects unit text in every unit kind', () => {
    expect(bad(withFleet(oneCohort, 'stop: { after: soon }\n'))).toBe('x.yaml:7:16: stop.after: "soon" is not a duration (e.g. 250ms, 30s, 5m, 2h, 1d, or a number of ms)');
    expect(bad(cohort('count: 10, behaviours: { corruptDownload: 150% }'))).toBe(
      'x.yaml:6:95: fleet.cohorts.0.behaviours.corruptDownload: "150%" is not a share (e.g. 10%, or a fraction from 0 to 1)',
    );
    expect(bad(withFleet(oneCohort, 'arrival: { pattern: constant-rate, rate: fast }\n'))).toBe(
      'x.yaml:7:42: arrival.rate: "fast" is not a rate (e.g. 500/s, 30/m, 1000/h, or a number per second)',
    );
    expect(bad(cohort('count: 10, settings: { chunkSize: -3 }'))).toBe(
      'x.yaml:6:87: fleet.cohorts.0.settings.chunkSize: -3 is not a size (e.g. 512B, 16KiB, 1MiB, or a number of bytes)',
    );
    expect(bad(cohort('count: 10, settings: { chunkSize: 0 }'))).toBe('x.yaml:6:87: fleet.cohorts.0.settings.chunkSize: must be more than 0');
    expect(bad(withFleet(oneCohort, 'engine: { lookahead: 0.5 }\n'))).toBe('x.yaml:7:22: engine.lookahead: must be at least 1 ms');
    expect(bad(cohort('count: 10, radio: { mode: psm, t3412: { dist: uniform, min: 1h, max: 2 weeks } }'))).toBe(
      'x.yaml:6:122: fleet.cohorts.0.radio.t3412.max: "2 weeks" is not a duration (e.g. 250ms, 30s, 5m, 2h, 1d, or a number of ms)',
    );
  });

  it('rejects fields of another arrival pattern or radio mode, and missing ones', () => {
    expect(bad(withFleet(oneCohort, 'arrival: { pattern: ramp, rate: 5/s, over: 1m }\n'))).toBe('x.yaml:7:33: arrival.rate: unknown field');
    expect(bad(withFleet(oneCohort, 'arrival: { pattern: spread }\n'))).toBe('x.yaml:7:10: arrival: missing required field "over"');
    expect(bad(withFleet(oneCohort, 'arrival: { pattern: burst }\n'))).toBe(
      'x.yaml:7:21: arrival.pattern: must be one of "all-at-once", "ramp", "constant-rate", "spread", "beta", "synchronised"',
    );
    expect(bad(cohort('count: 10, radio: { mode: drx, ptw: 1s }'))).toBe('x.yaml:6:89: fleet.cohorts.0.radio.ptw: unknown field');
    expect(bad(cohort('count: 10, battery: { dist: uniform, min: 1, max: 2, mean: 3 }'))).toBe('x.yaml:6:112: fleet.cohorts.0.battery.mean: unknown field');
  });

  it('refuses radio timers a network could not send', () => {
    expect(bad(cohort('count: 10, radio: { mode: drx, cycle: 3s }'))).toBe(
      'x.yaml:6:91: fleet.cohorts.0.radio.cycle: 3000 ms (3s) is not an NB-IoT DRX cycle; use one of 1.28s, 2.56s, 5.12s, 10.24s',
    );
    expect(bad(cohort('count: 10, radio: { mode: edrx, cycle: 20.48s, ptw: 25.6s }'))).toBe(
      'x.yaml:6:105: fleet.cohorts.0.radio.ptw: the paging time window (25600 ms (25.6s)) must be shorter than the eDRX cycle (20480 ms (20.48s))',
    );
  });

  it('checks distribution parameters against each other', () => {
    expect(bad(cohort('count: 10, battery: { dist: uniform, min: 90, max: 40 }'))).toBe('x.yaml:6:104: fleet.cohorts.0.battery.max: must be at least min (90)');
    expect(bad(cohort('count: 10, signal: { dist: lognormal, median: 20, p99: 10 }'))).toBe('x.yaml:6:108: fleet.cohorts.0.signal.p99: must be at least median (20)');
    expect(bad(cohort('count: 10, signal: weak'))).toBe('x.yaml:6:72: fleet.cohorts.0.signal: must be a number, a distribution or none');
  });

  it('checks cohort sizes against the fleet and the id ranges', () => {
    expect(bad(cohort('count: 10, share: 10%'))).toBe('x.yaml:6:71: fleet.cohorts.0.share: give count or share, not both');
    expect(bad(withFleet('  devices: 100\n  cohorts:\n    - { ids: "1..100", version: V1 }\n    - { ids: "201..300", version: V1 }\n'))).toBe(
      'x.yaml:8:7: fleet.cohorts.1: give count or share: only one cohort may take the rest (cohort 0 does)',
    );
    expect(bad(withFleet('  cohorts:\n    - { ids: "1..100", share: 50%, version: V1 }\n'))).toBe(
      'x.yaml:5:3: fleet.devices: required when a cohort gives a share or takes the rest',
    );
    expect(bad(withFleet('  devices: 100\n  cohorts:\n    - { ids: "1..100", count: 60, version: V1 }\n    - { ids: "201..300", count: 50, version: V1 }\n'))).toBe(
      'x.yaml:8:33: fleet.cohorts.1.count: cohort counts add up to 110, over fleet.devices (100)',
    );
    expect(bad(withFleet('  devices: 100\n  cohorts:\n    - { ids: "1..100", count: 60, version: V1 }\n    - { ids: "201..300", share: 50%, version: V1 }\n'))).toBe(
      'x.yaml:7:5: fleet.cohorts: cohorts take 110 devices, over the fleet size (100)',
    );
    expect(bad(withFleet('  devices: 1000\n  cohorts:\n    - { share: 100%, ids: "1..100", version: V1 }\n'))).toBe(
      'x.yaml:7:27: fleet.cohorts.0.ids: cohort "cohort-0" needs 1000 ids but 1..100 holds 100',
    );
    expect(bad(withFleet('  cohorts:\n    - { ids: "100..1", count: 1, version: V1 }\n'))).toBe('x.yaml:6:14: fleet.cohorts.0.ids: id range 100..1: last is below first');
  });

  it('refuses two cohorts handing out the same ids, and two cohorts of one name', () => {
    expect(bad(withFleet('  cohorts:\n    - { name: a, ids: "1..100", count: 50, version: V1 }\n    - { name: b, ids: "40..100", count: 5, version: V1 }\n'))).toBe(
      'x.yaml:7:23: fleet.cohorts.1.ids: cohort "b" and cohort "a" (x.yaml:6:23) both take ids 40..44: give each cohort its own part of the range',
    );
    expect(bad(withFleet('  cohorts:\n    - { name: a, ids: "1..100", count: 50, version: V1 }\n    - { name: a, ids: "201..300", count: 5, version: V1 }\n'))).toBe(
      'x.yaml:7:15: fleet.cohorts.1.name: "a" is also the name of cohort 0',
    );
    // Same numbers under another prefix are other ids.
    const s = parseScenario(withFleet('  cohorts:\n    - { ids: "A{001..100}", count: 50, version: V1 }\n    - { ids: "B{001..100}", count: 50, version: V1 }\n'), 'ok.yaml');
    expect(s.fleet.devices).toBe(100);
  });

  it('catches overlapping ids written in two notations, naming both cohorts', () => {
    // 522700000..522700019 and 5227{00005..} hand out 522700005..522700019 twice.
    expect(
      bad(withFleet('  cohorts:\n    - { name: plain, ids: "522700000..522799999", count: 20, version: V1 }\n    - { name: braced, ids: "5227{00005..99999}", count: 10, version: V1 }\n')),
    ).toBe('x.yaml:7:28: fleet.cohorts.1.ids: cohort "braced" and cohort "plain" (x.yaml:6:27) both take ids 522700005..522700014: give each cohort its own part of the range');
    // A lone id inside another cohort's range, and a braced range with a prefix that is all digits.
    expect(bad(withFleet('  cohorts:\n    - { ids: "86671404{0000000..0099999}", count: 50, version: V1 }\n    - { ids: "866714040000007", count: 1, version: V1 }\n'))).toMatch(
      /fleet\.cohorts\.1\.ids: cohort "cohort-1" and cohort "cohort-0" \(x\.yaml:6:\d+\) both take id 866714040000007:/,
    );
    // Same digits, other lengths: 0005 is not 5, and the ids a cohort does not take are free.
    const ok = parseScenario(
      withFleet('  cohorts:\n    - { ids: "{0000..9999}", count: 10, version: V1 }\n    - { ids: "1..9999", count: 10, version: V1 }\n    - { ids: "9{000..999}", count: 5, version: V1 }\n    - { ids: "9010..9020", count: 3, version: V1 }\n'),
      'ok.yaml',
    );
    expect(ok.fleet.devices).toBe(28);
  });

  it('checks expectations against the dialect and their units', () => {
    expect(bad(withFleet(oneCohort, 'expect: [luat.p99 < 1s]\n'))).toBe(
      'x.yaml:7:10: expect.0: "luat.p99 < 1s": dialect "onenet" has no operation "luat" (it has: reportVersion, check, tokenCheck, download, progress, result)',
    );
    expect(bad(withFleet(oneCohort, 'expect: ["devices.succeeded >= 99ms"]\n'))).toBe(
      'x.yaml:7:10: expect.0: "devices.succeeded >= 99ms": devices.succeeded is a count or a share: give a bare number or %, not ms',
    );
  });

  it('refuses an expectation naming a state or a verdict rule the dialect does not have, with file:line', () => {
    expect(bad(withFleet(oneCohort, 'expect: ["devices.faild == 0"]\n'))).toBe(
      'x.yaml:7:10: expect.0: "devices.faild == 0": dialect "onenet" has no state "faild" (it has: reporting-version, checking, token-checking, downloading, reporting-progress, reporting-downloaded, rebooting, reporting-new-version, flushing, rechecking, reporting-upgraded, reporting-failure, waiting, succeeded, up-to-date, stale-offer, failed, no-progress, rejected, gated, gave-up, cancelled, not-started, lost-with-worker, harness-error, plugin-error)',
    );
    expect(bad(withFleet(oneCohort, 'expect: ["devices.failed == 0", "verdicts.no-such-rule.violations == 0"]\n'))).toMatch(
      /^x\.yaml:7:33: expect\.1: "verdicts\.no-such-rule\.violations == 0": dialect "onenet" has no verdict rule "no-such-rule" \(it has: final-state-agreement, coap-retransmit, one-success-per-task, /,
    );
    // A Luat rule is unknown to OneNET, a OneNET state too.
    expect(bad(withFleet(oneCohort, 'expect: ["verdicts.loop-ban.checked > 0"]\n'))).toMatch(/has no verdict rule "loop-ban"/);
    expect(bad(withFleet(oneCohort, 'expect: ["devices.banned == 0"]\n'))).toMatch(/has no state "banned"/);
    expect(() => parseScenario(withFleet(oneCohort, 'expect: ["devices.not-started == 0", "devices.gated < 1%", "verdicts.gating.gated-105 == 0"]\n'), 'x.yaml')).not.toThrow();
  });

  it('requires the target section of the dialect and a well-formed url', () => {
    expect(bad('dialect: onenet\nfleet:\n  cohorts:\n    - { ids: "1..2", count: 2, version: V1 }\n')).toBe('x.yaml:1:1: target.onenet.productId: required by dialect "onenet"');
    expect(bad(withFleet(oneCohort).replace('target:\n', 'target:\n  url: ftp://example\n'))).toBe('x.yaml:3:8: target.url: must be an http:// or https:// URL');
    expect(bad(withFleet(oneCohort).replace('"198290" }', '"198290", tokenTtl: 10ms }'))).toBe('x.yaml:3:44: target.onenet.tokenTtl: must be at least 1s');
  });

  it('rejects duplicate keys as YAML errors', () => {
    expect(bad(`${withFleet(oneCohort)}seed: 1\nseed: 2\n`)).toBe('x.yaml:8:1: YAML: Map keys must be unique');
  });
});

describe('overrides', () => {
  const text = withFleet('  cohorts:\n    - { name: a, ids: "1..100000", count: 300, version: V1 }\n    - { name: b, ids: "200001..300000", count: 100, version: V1 }\n');

  it('replace the file values', () => {
    const s = parseScenario(text, 'o.yaml', { devices: 40, durationMs: 5000, timeScale: 10, seed: 9, targetUrl: 'http://127.0.0.1:1234' });
    expect(s.fleet.devices).toBe(40);
    // Counts scale with --devices: 3:1 stays 3:1.
    expect(s.fleet.cohorts.map((c) => c.count)).toEqual([30, 10]);
    expect(s.stop.maxDurationMs).toBe(5000);
    expect(s.timeScale).toBe(10);
    expect(s.seed).toBe(9);
    expect(s.target.url).toBe('http://127.0.0.1:1234');
  });

  it('take --time-scale max', () => {
    expect(parseScenario(text, 'o.yaml', { timeScale: 'max' }).timeScale).toBe('max');
  });

  it('keep counts exact under a --devices that does not divide evenly', () => {
    const s = parseScenario(text, 'o.yaml', { devices: 7 });
    expect(s.fleet.cohorts.map((c) => c.count)).toEqual([5, 2]);
  });

  it('let shares go without fleet.devices when --devices is given', () => {
    const s = parseScenario(withFleet('  cohorts:\n    - { ids: "1..100", share: 100%, version: V1 }\n'), 'o.yaml', { devices: 20 });
    expect(s.fleet.cohorts[0]?.count).toBe(20);
  });

  it('name the flag when invalid, before reading the file', () => {
    const bad = (o: object) => errorOf(() => parseScenario('not: [valid', 'o.yaml', o));
    expect(bad({ devices: 0 })).toBe('--devices: must be a positive integer');
    expect(bad({ devices: 2.5 })).toBe('--devices: must be a positive integer');
    expect(bad({ durationMs: -1 })).toBe('--duration: must be a positive duration, e.g. 90s or 5m');
    expect(bad({ timeScale: 0 })).toBe('--time-scale: must be a number above 0 and at most 1000000, or max');
    expect(bad({ timeScale: 'fast' })).toBe('--time-scale: must be a number above 0 and at most 1000000, or max');
    expect(bad({ seed: -3 })).toBe('--seed: must be an integer from 0 to 4294967295');
    expect(bad({ targetUrl: 'localhost:8080' })).toBe('--target: must be an http:// or https:// URL');
  });

  it('can make a fleet that no longer fits its id range', () => {
    expect(errorOf(() => parseScenario(text, 'o.yaml', { devices: 800_000 }))).toBe(
      'o.yaml:6:43: fleet.cohorts.0.count: cohort "a" needs 600000 ids but 1..100000 holds 100000',
    );
  });
});

describe('dialects', () => {
  it('lets a plugin dialect be named once registered', () => {
    const text = 'dialect: coap-lwm2m\nfleet:\n  cohorts:\n    - { ids: "1..2", count: 2, version: V1 }\nexpect: [observe.p99 < 1s]\n';
    expect(errorOf(() => parseScenario(text, 'p.yaml'))).toBe('p.yaml:1:10: dialect: unknown dialect "coap-lwm2m" (known: "onenet", "luat")');
    registerScenarioDialect('coap-lwm2m', ['observe']);
    expect(knownDialects()).toContain('coap-lwm2m');
    expect(parseScenario(text, 'p.yaml').expect[0]?.metric).toBe('observe.p99');
  });
});

describe('parseRate', () => {
  it('reads rates per second, minute and hour', () => {
    expect(parseRate('500/s')).toBe(500);
    expect(parseRate('30 / m')).toBe(0.5);
    expect(parseRate('120/min')).toBe(2);
    expect(parseRate('7200/h')).toBe(2);
    expect(parseRate(12)).toBe(12);
    for (const bad of ['0/s', 'fast', '5/d', -1, 0, '5']) expect(parseRate(bad)).toBeUndefined();
  });
});
