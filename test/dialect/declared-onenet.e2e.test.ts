/**
 * The declared form is expressive enough: OneNET re-expressed in YAML
 * (scenarios/dialects/onenet.yaml) runs scenarios/rollout-onenet.yaml against the reference
 * server with exactly the outcome counts of the built-in, coded dialect.
 */
import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/api.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { Report } from '../../src/report/types.js';

const ROLLOUT = fileURLToPath(new URL('../../scenarios/rollout-onenet.yaml', import.meta.url));

/** The shipped scenario with only its dialect swapped for the declared one (same file, same place). */
function swapped(text: string): string {
  const out = text
    .replace(/^dialect: onenet$/m, 'dialect: onenet-declared\ndialectFile: dialects/onenet.yaml')
    .replace(/^  onenet:\n    productId: "198290"\n    signMethod: sha1\n    tokenTtl: 1h$/m, '  onenet-declared:\n    productId: "198290"');
  expect(out).toContain('dialect: onenet-declared');
  expect(out).toContain('  onenet-declared:\n');
  return out;
}

const countsOf = (r: Report): Record<string, Record<string, number>> => Object.fromEntries(Object.entries(r.operations).map(([op, o]) => [op, o.byOutcome]));

it('OneNET declared in YAML runs the OneNET rollout with the coded dialect\'s outcome counts', async () => {
  const text = readFileSync(ROLLOUT, 'utf8');
  // A few hundred devices compare exactly; a high time scale keeps the test short.
  const overrides = { devices: 120, timeScale: 50 };
  // Side by side (each with its own embedded server): the two runs share nothing but the machine.
  const [coded, declared] = await Promise.all([
    run(parseScenario(text, ROLLOUT, overrides), { workers: 1 }),
    run(parseScenario(swapped(text), ROLLOUT, overrides), { workers: 1 }),
  ]);
  expect(declared.dialect).toBe('onenet-declared');
  expect(coded.devices.byFinalState).toEqual({ succeeded: 120 });
  expect(declared.devices.byFinalState).toEqual({ succeeded: 120 });
  expect(countsOf(declared)).toEqual(countsOf(coded));
  // Every call of the protocol was made: report version, check, token check, chunks, progress, 101 and 201.
  expect(Object.keys(countsOf(declared)).sort()).toEqual(['check', 'download', 'progress', 'reportVersion', 'result', 'tokenCheck']);
  expect(declared.transitions.violations).toBe(0);
});
