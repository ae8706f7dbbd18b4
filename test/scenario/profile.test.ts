/**
 * The target profile: parsing from the scenario (file:line errors) and from --profile flags (errors
 * naming the flag), what a reference server's catalog fills in, and the precedence flag > scenario >
 * admin > documented, each value keeping its source.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { parseScenario } from '../../src/scenario/load.js';
import { DOCUMENTED_PROFILE, parseProfileFlags, profileEntries, profileFromCatalog, resolveProfile } from '../../src/protocol/profile.js';
import { profileLine } from '../../src/report/profile.js';

const LUAT = (profile: string): string =>
  `dialect: luat\ntarget:\n  luat: { firmwareName: fw }\n  profile:\n${profile}fleet:\n  cohorts:\n    - { ids: "866714040000000..866714040000999", count: 10, version: 1.0.0 }\n`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('target.profile in a scenario', () => {
  it('parses every key', () => {
    const s = parseScenario(
      LUAT('    luat: { banLimitPerDay: 20, banDayStartUtc: "16:30", banCountsWaits: false, diffBuild: { min: 30s, max: 2m }, dfota: false, versionConfirm: header, firmwareVersion: 1.3.2 }\n    onenet: { tokenTtl: 36h }\n'),
      'p.yaml',
    );
    expect(s.target.profile).toEqual({
      'luat.banLimitPerDay': 20,
      'luat.banDayStartUtc': (16 * 60 + 30) * 60_000,
      'luat.banCountsWaits': false,
      'luat.diffBuild': { minMs: 30_000, maxMs: 120_000 },
      'luat.dfota': false,
      'luat.versionConfirm': 'header',
      'luat.firmwareVersion': '1.3.2',
      'onenet.tokenTtl': 36 * 3_600_000,
    });
    expect(parseScenario(LUAT('    luat: { diffBuild: none }\n'), 'p.yaml').target.profile).toEqual({ 'luat.diffBuild': 'none' });
  });

  it('names file:line and the path of a bad value', () => {
    expect(errorOf(() => parseScenario(LUAT('    luat: { banDayStartUtc: "25:00" }\n'), 'p.yaml'))).toMatch(/^p\.yaml:5:\d+: target\.profile\.luat\.banDayStartUtc: /);
    expect(errorOf(() => parseScenario(LUAT('    luat: { banLimitPerDay: 0 }\n'), 'p.yaml'))).toMatch(/^p\.yaml:5:\d+: target\.profile\.luat\.banLimitPerDay: /);
    expect(errorOf(() => parseScenario(LUAT('    luat: { diffBuild: { min: 3m, max: 1m } }\n'), 'p.yaml'))).toBe('p.yaml:5:24: target.profile.luat.diffBuild: min 3m is above max 1m');
    expect(errorOf(() => parseScenario(LUAT('    luat: { versionConfirm: guess }\n'), 'p.yaml'))).toMatch(/^p\.yaml:5:\d+: target\.profile\.luat\.versionConfirm: /);
    expect(errorOf(() => parseScenario(LUAT('    luat: { banLimit: 20 }\n'), 'p.yaml'))).toMatch(/^p\.yaml:5:\d+: target\.profile\.luat/);
  });

  it('allows a device without a core', () => {
    const text = LUAT('    luat: {}\n').replace('version: 1.0.0 }', 'version: 1.0.0, core: "" }');
    expect(parseScenario(text, 'p.yaml').fleet.cohorts[0]?.core).toBe('');
  });
});

describe('--profile flags', () => {
  it('parses key=value, repeatable', () => {
    expect(parseProfileFlags(['luat.banLimitPerDay=20', 'luat.diffBuild=none', 'luat.dfota=false', 'onenet.tokenTtl=3d'])).toEqual({
      'luat.banLimitPerDay': 20,
      'luat.diffBuild': 'none',
      'luat.dfota': false,
      'onenet.tokenTtl': 3 * 86_400_000,
    });
    expect(parseProfileFlags(['luat.diffBuild=30s..90s'])).toEqual({ 'luat.diffBuild': { minMs: 30_000, maxMs: 90_000 } });
  });

  it('refuses a bad key or value in one line naming the flag', () => {
    expect(() => parseProfileFlags(['luat.banLimit=20'])).toThrow(/^--profile luat\.banLimit=20: unknown key luat\.banLimit \(known: luat\.banLimitPerDay, /);
    expect(() => parseProfileFlags(['luat.banLimitPerDay=many'])).toThrow('--profile luat.banLimitPerDay=many: "many" is not a whole number of asks, 1 or more');
    expect(() => parseProfileFlags(['luat.dfota'])).toThrow('--profile luat.dfota: expected key=value (e.g. luat.banLimitPerDay=20)');
    expect(() => parseProfileFlags(['luat.dfota=yes'])).toThrow('--profile luat.dfota=yes: "yes" is not true or false');
  });
});

describe('what the admin API fills in, and precedence', () => {
  const catalog = {
    luat: {
      banLimitPerDay: 6,
      banCountsWaits: false,
      diffBuildMs: { min: 1000, max: 2000 },
      banDayStartUtc: '00:00',
      versionConfirm: 're-ask',
      projects: [{ firmware: [{ name: 'fw', version: '1.3.2', diff: true }, { name: 'plain', version: '2.0.0', diff: false }] }],
    },
  };

  it('reads the limits, the conventions and the served version of the scenario firmware', () => {
    expect(profileFromCatalog(catalog, 'fw')).toEqual({
      'luat.banLimitPerDay': 6,
      'luat.banCountsWaits': false,
      'luat.banDayStartUtc': 0,
      'luat.versionConfirm': 're-ask',
      'luat.diffBuild': { minMs: 1000, maxMs: 2000 },
      'luat.firmwareVersion': '1.3.2',
    });
    expect(profileFromCatalog(catalog, 'plain')['luat.diffBuild']).toBe('none');
    expect(profileFromCatalog('garbage')).toEqual({});
    expect(profileFromCatalog({ luat: { banLimitPerDay: -1, diffBuildMs: { min: 5, max: 1 } } })).toEqual({});
  });

  it('flag > scenario > admin > documented, each value with its source', () => {
    const r = resolveProfile({
      flag: { 'luat.banLimitPerDay': 20 },
      scenario: { 'luat.banLimitPerDay': 15, 'luat.dfota': false },
      admin: profileFromCatalog(catalog, 'fw'),
    });
    expect(r.profile.luat).toEqual({ banLimitPerDay: 20, banDayStartMs: 0, banCountsWaits: false, diffBuild: { minMs: 1000, maxMs: 2000 }, dfota: false, versionConfirm: 're-ask', firmwareVersion: '1.3.2' });
    expect(r.sources).toMatchObject({ 'luat.banLimitPerDay': 'flag', 'luat.dfota': 'scenario', 'luat.banCountsWaits': 'admin', 'onenet.tokenTtl': 'documented' });
    const documented = resolveProfile({});
    expect(documented.profile).toEqual(DOCUMENTED_PROFILE);
    expect(DOCUMENTED_PROFILE.luat).toEqual({ banLimitPerDay: 10, banDayStartMs: 0, banCountsWaits: true, diffBuild: { minMs: 60_000, maxMs: 180_000 }, dfota: true, versionConfirm: 're-ask' });
    expect(DOCUMENTED_PROFILE.onenet.tokenTtlMs).toBe(2 * 86_400_000);
  });

  it('reports the dialect keys with their values and sources, one line for console and HTML', () => {
    const r = resolveProfile({ flag: { 'luat.banLimitPerDay': 20 }, scenario: { 'luat.diffBuild': 'none' } });
    const entries = profileEntries(r, 'luat');
    expect(entries).toEqual([
      { key: 'luat.banLimitPerDay', value: '20', source: 'flag' },
      { key: 'luat.banDayStartUtc', value: '00:00', source: 'documented' },
      { key: 'luat.banCountsWaits', value: 'true', source: 'documented' },
      { key: 'luat.diffBuild', value: 'none', source: 'scenario' },
      { key: 'luat.dfota', value: 'true', source: 'documented' },
      { key: 'luat.versionConfirm', value: 're-ask', source: 'documented' },
      { key: 'luat.firmwareVersion', value: '(unknown)', source: 'documented' },
    ]);
    expect(profileLine(entries)).toBe('banLimitPerDay 20 (flag) · banDayStartUtc 00:00 · banCountsWaits true · diffBuild none (scenario) · dfota true · versionConfirm re-ask · firmwareVersion (unknown)');
    expect(profileEntries(resolveProfile({}), 'onenet')).toEqual([{ key: 'onenet.tokenTtl', value: '2d', source: 'documented' }]);
  });
});
