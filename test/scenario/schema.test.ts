/**
 * The published JSON Schema: the committed file is what the code generates, it accepts the
 * shipped scenarios, and its unit patterns agree with the loader's parsers.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { parseDuration, parseShare, parseSize } from '../../src/config/units.js';
import { DEFAULT_DEVICE_SETTINGS } from '../../src/device/types.js';
import { SCHEMA_FILE } from '../../src/scenario/publish-schema.js';
import { parseRate } from '../../src/scenario/load.js';
import { DEFAULTS, UNIT_PATTERNS, renderScenarioSchema, scenarioJsonSchema } from '../../src/scenario/schema.js';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));

describe('schema/scenario.schema.json', () => {
  it('is what publish-schema generates (run `node dist/scenario/publish-schema.js` after changing schema.ts)', () => {
    expect(SCHEMA_FILE).toBe(root('schema/scenario.schema.json'));
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(renderScenarioSchema());
  });

  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);

  it('accepts every shipped scenario and the good fixtures', () => {
    const files = [
      ...readdirSync(root('scenarios'))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => root(`scenarios/${f}`)),
      root('test/scenario/fixtures/minimal.yaml'),
      root('test/scenario/fixtures/full.yaml'),
    ];
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const ok = validate(parse(readFileSync(file, 'utf8')));
      expect(ok ? 'valid' : JSON.stringify(validate.errors), file).toBe('valid');
    }
  });

  it('flags what an editor should flag', () => {
    const base = { dialect: 'onenet', fleet: { cohorts: [{ ids: '1..10', count: 10, version: 'V1' }] } };
    const withCohort = (extra: object) => ({ ...base, fleet: { cohorts: [{ ...base.fleet.cohorts[0], ...extra }] } });
    expect(validate(base)).toBe(true);
    expect(validate(withCohort({ settings: { chunkSize: '12 parsecs' } }))).toBe(false);
    expect(validate(withCohort({ settings: { requestTimeout: '10 sec' } }))).toBe(false);
    expect(validate(withCohort({ behaviours: { corruptDownload: 'ten%' } }))).toBe(false);
    expect(validate(withCohort({ signal: 'weak' }))).toBe(false);
    expect(validate(withCohort({ colour: 'blue' }))).toBe(false);
    expect(validate(withCohort({ battery: { dist: 'uniform', min: 1 } }))).toBe(false);
    expect(validate({ ...base, arrival: { pattern: 'ramp' } })).toBe(false);
    expect(validate({ ...base, arrival: { pattern: 'constant-rate', rate: '5 per second' } })).toBe(false);
    expect(validate({ ...base, arrival: { pattern: 'constant-rate', rate: '5/s' } })).toBe(true);
    expect(validate({ ...base, seed: 'x' })).toBe(false);
    expect(validate({ ...base, expect: ['check.p99 < 1s'] })).toBe(true);
  });

  it('lists no defaulted field as required, so editors do not ask for them', () => {
    const schema = scenarioJsonSchema() as { required: string[] };
    expect(schema.required).toEqual(['dialect', 'fleet']);
  });
});

describe('unit patterns agree with the parsers', () => {
  const agree = (pattern: string, parser: (v: unknown) => number | undefined, samples: string[]) => {
    const re = new RegExp(pattern);
    for (const s of samples) expect(re.test(s), s).toBe(parser(s) !== undefined);
  };
  it('durations', () => agree(UNIT_PATTERNS.duration, parseDuration, ['30s', '250ms', '1.5h', '2d', '5 min', '10', ' 3m ', '3 sec', 's', '-1s', '1e3ms', '2w']));
  it('sizes', () => agree(UNIT_PATTERNS.size, parseSize, ['16KiB', '1mib', '512B', '1.5KB', '100', '12 parsecs', 'KiB', '-3', '2 TiB']));
  it('shares', () => agree(UNIT_PATTERNS.share, parseShare, ['10%', '0%', '100%', '2.5 %', '10', 'ten%', '-1%']));
  it('rates', () => agree(UNIT_PATTERNS.rate, parseRate, ['500/s', '30/m', '2/min', '1000/h', '5 / s', '5/d', '5', 'fast']));
});

describe('defaults', () => {
  it('are the device defaults, written in units', () => {
    const d = DEFAULTS.settings;
    expect({
      chunkSize: parseSize(d.chunkSize),
      progressEvery: d.progressEvery,
      requestTimeoutMs: parseDuration(d.requestTimeout),
      rebootMs: parseDuration(d.reboot),
      maxAttempts: d.maxAttempts,
      retryDelayMs: parseDuration(d.retryDelay),
      maxStalledAttempts: d.maxStalledAttempts,
      waitBackoffMs: parseDuration(d.waitBackoff),
      retransmit: { ackTimeoutMs: parseDuration(d.ackTimeout), randomFactor: d.randomFactor, maxRetransmit: d.maxRetransmit },
    }).toEqual(DEFAULT_DEVICE_SETTINGS);
  });
});
