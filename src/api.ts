/**
 * The programmatic face: `import { run } from 'ota-swarm'` runs a scenario and returns the same
 * report the CLI writes, so a user can wrap scenarios in their own test suites.
 */
import { join } from 'node:path';
import type { Report } from './report/types.js';
import type { Scenario } from './scenario/types.js';
import { loadScenario, type ScenarioOverrides } from './scenario/load.js';
import { runScenario, type RunOptions } from './engine/run.js';
import { writeReport, runDirName } from './report/write.js';
import { loadDialectPlugin } from './dialect/plugins.js';
import { API_OPTIONS } from './scenario/option-names.js';
import { prepareOutDir } from './report/out-dir.js';

export interface RunApiOptions extends Omit<RunOptions, 'scenario' | 'names'> {
  /** The CLI's overrides: devices, durationMs, timeScale, seed, targetUrl. */
  overrides?: ScenarioOverrides;
  /** Folder under which the run's folder is made; false writes nothing. Default false. */
  outDir?: string | false;
}

export interface RunApiResult extends Report {}

/** Runs a scenario file (or an already loaded scenario) and returns its report. */
export async function run(scenario: string | Scenario, options: RunApiOptions = {}): Promise<Report> {
  // Plugins first: a scenario may name a dialect only a plugin brings.
  for (const p of options.plugins ?? []) await loadDialectPlugin(p);
  // Errors name this function's options (options.overrides.devices), not the CLI's flags.
  const loaded = typeof scenario === 'string' ? loadScenario(scenario, options.overrides, API_OPTIONS) : scenario;
  if (options.outDir) await prepareOutDir(options.outDir, 'outDir');
  const report = await runScenario({ ...options, scenario: loaded, names: API_OPTIONS });
  if (options.outDir) {
    await writeReport(report, join(options.outDir, runDirName(loaded.name, new Date(report.startedAt))));
  }
  return report;
}
