/** The emitted scenario loads and carries the inferred behaviours; anonymised ids are stable, salted and private. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadScenario } from '../../src/scenario/load.js';
import { emitScenario, inferCohort } from '../../src/replay/emit.js';
import { buildScripts } from '../../src/replay/script.js';
import { readLog } from '../../src/exchanges/read-log.js';
import { Anonymiser } from '../../src/replay/anonymise.js';
import { replayOptionsFromArgs, logText, type ReplayArgs } from '../../src/cli/replay.js';
import { parseJsonLines } from '../../src/exchanges/formats/jsonl.js';
import { ConfigError } from '../../src/config/load.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

describe('the emitted scenario', () => {
  it('infers the cut at byte X and the reconnect gap, the lost answers, the long sleep and the chunk size; it loads as a scenario', () => {
    const set = buildScripts(readLog(join(FIXTURES, 'onenet-field.har')).exchanges);
    const cohort = inferCohort(set.scripts[0]!);
    expect(cohort).toMatchObject({
      ids: '522700042',
      count: 1,
      version: 'V1.0',
      manuf: '101',
      model: '10101',
      taskType: 2,
      behaviours: {
        disconnect: { count: 1, at: 65536 + 30000, times: 1, reconnect: '7200s' },
        answerLoss: { count: 1, rate: '50%', ops: ['result'] },
        longSleep: { count: 1, sleep: '7200s' },
      },
      settings: { chunkSize: 65536 },
    });
    const scenario = emitScenario({ name: 'replay-field', source: 'onenet-field.har', scripts: set.scripts });
    const dir = mkdtempSync(join(tmpdir(), 'emit-'));
    const file = join(dir, 'emitted.yaml');
    writeFileSync(file, stringify(scenario));
    const loaded = loadScenario(file);
    expect(loaded.dialect).toBe('onenet');
    expect(loaded.fleet.devices).toBe(1);
    expect(loaded.fleet.cohorts[0]?.behaviours.disconnect?.at).toEqual({ kind: 'bytes', bytes: 95536 });
    expect(loaded.fleet.cohorts[0]?.behaviours.answerLoss?.rate).toBeCloseTo(0.5);
  });

  it('gives a Luat device its wait backoff from the gap after a 43', () => {
    const exchanges = parseJsonLines(
      [
        '{"t":0,"method":"GET","path":"/api/site/firmware_upgrade?imei=866714040000001&firmware_name=fw&version=1.3.1&core_version=3032","status":400,"code":43}',
        '{"t":120000,"method":"GET","path":"/api/site/firmware_upgrade?imei=866714040000001&firmware_name=fw&version=1.3.1&core_version=3032","status":200,"bytes":100}',
      ].join('\n'),
      'l.jsonl',
    );
    const scenario = emitScenario({ name: 'l', source: 'l.jsonl', scripts: buildScripts(exchanges).scripts });
    expect(scenario).toMatchObject({ dialect: 'luat', target: { luat: { firmwareName: 'fw' } }, fleet: { cohorts: [{ version: '1.3.1', core: '3032', settings: { waitBackoff: '120s' } }] } });
  });
});

describe('anonymising', () => {
  it('maps ids to stable test ids of the same shape, differently for another salt, everywhere they appear', () => {
    const a = new Anonymiser('salt-one-for-tests');
    const b = new Anonymiser('salt-two-for-tests');
    const imei = a.id('866714040000123');
    expect(imei).toMatch(/^86671404\d{7}$/);
    expect(imei).not.toBe('866714040000123');
    expect(a.id('866714040000123')).toBe(imei);
    expect(b.id('866714040000123')).not.toBe(imei);
    expect(a.id('522700042')).toMatch(/^5227\d{5}$/);
    expect(a.id('ota_fieldTok3n0000000001')).toMatch(/^anon-[0-9a-f]{16}$/);
    expect(() => new Anonymiser('short')).toThrow(/at least 8/);

    const exchanges = readLog(join(FIXTURES, 'onenet-field.har')).exchanges.map((e) => a.exchange(e));
    const text = logText(exchanges, 'out.jsonl');
    expect(text).not.toContain('522700042');
    expect(text).not.toContain('ota_fieldTok3n');
    const set = buildScripts(parseJsonLines(text, 'out.jsonl'));
    expect(set.scripts).toHaveLength(1);
    expect(set.scripts[0]?.steps).toHaveLength(9);
    // The anonymised check answer's task is the one the later paths carry: the script still ties them.
    const task = set.scripts[0]!.steps[1]!.logged.task!;
    expect(set.scripts[0]!.steps.slice(2).every((s) => s.path.includes(task))).toBe(true);
  });
});

describe('replay flags', () => {
  const base: ReplayArgs = { log: 'x', format: 'auto', anonymise: false, 'allow-remote': false, run: true };
  const err = (a: Partial<ReplayArgs>, env: NodeJS.ProcessEnv = {}): string => {
    try {
      replayOptionsFromArgs({ ...base, ...a }, env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('expected an error');
  };
  it('refuses bad values in one line naming the flag', () => {
    expect(err({ format: 'pcap' })).toBe('--format: "pcap" is not one of auto, jsonl, csv, har, nginx');
    expect(err({ devices: 0 })).toBe('--devices: must be an integer 1..100000, got 0');
    expect(err({ spread: '10m' })).toBe('--spread: needs --devices N (the clones it spreads)');
    expect(err({ devices: 2, spread: 'soon' })).toBe('--spread: "soon" is not a duration (e.g. 10m)');
    expect(err({ 'time-scale': 'max' })).toMatch(/^--time-scale: max is not for replays/);
    expect(err({ bug: ['ignore-range'], target: 'http://127.0.0.1:1' })).toMatch(/^--bug: switches on a named bug of the embedded server/);
    expect(err({ bug: ['no-such-bug'] })).toMatch(/^--bug.0: unknown bug "no-such-bug"/);
    expect(err({ anonymise: true })).toBe('--anonymise (the salt: set OTA_SWARM_REPLAY_SALT or give --salt-file): environment variable OTA_SWARM_REPLAY_SALT is not set');
    expect(err({ 'salt-file': '/nonexistent' })).toBe('--salt-file: only with --anonymise');
  });
  it('takes the salt from the environment, never the command line', () => {
    expect(replayOptionsFromArgs({ ...base, anonymise: true, devices: 3, spread: '10m', 'time-scale': '100' }, { OTA_SWARM_REPLAY_SALT: 'a-long-enough-salt' })).toEqual({
      format: 'auto',
      devices: 3,
      spreadMs: 600_000,
      timeScale: 100,
      bugs: [],
      salt: 'a-long-enough-salt',
    });
  });
});
