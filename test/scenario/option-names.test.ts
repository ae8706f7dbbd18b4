import { describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { DEFAULT_ONENET_ACCESS_KEY } from '../../src/catalog/default.js';
import { loadScenario } from '../../src/scenario/load.js';
import { API_OPTIONS, CLI_FLAGS } from '../../src/scenario/option-names.js';

const SCENARIO = 'scenarios/rollout-onenet.yaml';

describe('errors name the caller\'s options', () => {
  it('the CLI\'s flags by default, the API\'s option paths when asked', () => {
    expect(() => loadScenario(SCENARIO, { devices: 0 })).toThrow(/^--devices: must be a positive integer$/);
    expect(() => loadScenario(SCENARIO, { devices: 0 }, CLI_FLAGS)).toThrow(/^--devices: must be a positive integer$/);
    expect(() => loadScenario(SCENARIO, { devices: 0 }, API_OPTIONS)).toThrow(/^options\.overrides\.devices: must be a positive integer$/);
    expect(() => loadScenario(SCENARIO, { durationMs: -5000 }, API_OPTIONS)).toThrow(/^options\.overrides\.durationMs: must be a positive duration in ms$/);
    expect(() => loadScenario(SCENARIO, { targetUrl: 'ftp://x' }, API_OPTIONS)).toThrow(/^options\.overrides\.targetUrl: /);
  });

  it('run(...) of the programmatic API names options.overrides.* and options.allowRemote, never a flag', async () => {
    await expect(run(SCENARIO, { overrides: { devices: 0 } })).rejects.toThrow(/^options\.overrides\.devices: must be a positive integer$/);
    await expect(run(SCENARIO, { overrides: { seed: -1 } })).rejects.toThrow(/^options\.overrides\.seed: /);
    await expect(run(SCENARIO, { overrides: { targetUrl: 'http://192.0.2.1:8080', devices: 1 } })).rejects.toThrow(
      /^options\.overrides\.targetUrl: 192\.0\.2\.1:8080 is not a loopback address; set options\.allowRemote: true to load a remote server$/,
    );
    // A closed loopback port: the check of a max-scale target's clock fails before any request.
    process.env['OTA_SWARM_ONENET_ACCESS_KEY'] ??= DEFAULT_ONENET_ACCESS_KEY;
    await expect(run(SCENARIO, { overrides: { targetUrl: 'http://127.0.0.1:9', timeScale: 'max', devices: 1 } })).rejects.toThrow(/^options\.overrides\.timeScale max: /);
  });
});

describe('run(...) of a loaded scenario', () => {
  it('refuses overrides it cannot apply, instead of ignoring them', async () => {
    const loaded = loadScenario(SCENARIO);
    await expect(run(loaded, { overrides: { devices: 5 } })).rejects.toThrow(/^options\.overrides: applies to a scenario file; for a loaded Scenario set its fields instead$/);
  });
});
