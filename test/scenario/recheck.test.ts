/** The cohort's `recheck` setting: parsed with units, bounded, and given to every device of the cohort. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { expandFleet, parseScenario } from '../../src/scenario/index.js';

const scenario = (recheck: string): string =>
  `dialect: onenet\ntarget:\n  onenet: { productId: "198290" }\nfleet:\n  cohorts:\n    - { ids: "522700000..522799999", count: 4, version: V1.0${recheck} }\n    - { ids: "522800000..522899999", count: 4, version: V1.0 }\n`;

function messageOf(text: string): string {
  try {
    parseScenario(text, 'x.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('recheck', () => {
  it('`recheck: { times: 2, every: 10m }` becomes { times: 2, everyMs: 600000 } on the cohort and its devices', () => {
    const s = parseScenario(scenario(', recheck: { times: 2, every: 10m }'), 'x.yaml');
    expect(s.fleet.cohorts[0]?.recheck).toEqual({ times: 2, everyMs: 600_000 });
    expect(s.fleet.cohorts[1]?.recheck).toBeUndefined();
    const plan = expandFleet(s);
    expect(plan.settingsOf(0).recheck).toEqual({ times: 2, everyMs: 600_000 });
    expect(plan.settingsOf(1).recheck).toBeUndefined();
  });

  it('bad values are one-line errors naming the field', () => {
    expect(messageOf(scenario(', recheck: { times: 0, every: 10m }'))).toMatch(/fleet\.cohorts\.0\.recheck\.times/);
    expect(messageOf(scenario(', recheck: { times: 2, every: soon }'))).toMatch(/recheck\.every/);
    expect(messageOf(scenario(', recheck: { times: 2, every: 0s }'))).toMatch(/fleet\.cohorts\.0\.recheck\.every: must be more than 0/);
    expect(messageOf(scenario(', recheck: { times: 2 }'))).toMatch(/recheck/);
  });
});
