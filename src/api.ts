/**
 * The programmatic face: `import { run } from 'ota-swarm'` runs a scenario and returns the same
 * report the CLI writes, so a user can wrap scenarios in their own test suites.
 */
import { join, resolve } from 'node:path';
import type { Report } from './report/types.js';
import type { Scenario } from './scenario/types.js';
import { loadScenario, type ScenarioOverrides } from './scenario/load.js';
import { runScenario, type RunOptions } from './engine/run.js';
import { runDirName } from './report/write.js';
import { saveRun } from './report/save-run.js';
import { VIOLATIONS_FILE } from './verdicts/violations-file.js';
import { ConfigError } from './config/load.js';
import { loadDialectPlugin } from './dialect/plugins.js';
import { API_OPTIONS } from './scenario/option-names.js';
import { prepareOutDir } from './report/out-dir.js';

export interface RunApiOptions extends Omit<RunOptions, 'scenario' | 'names'> {
  /** The CLI's overrides: devices, durationMs, timeScale, seed, targetUrl. */
  overrides?: ScenarioOverrides;
  /** Folder under which the run's folder is made (report.json, report.html, junit.xml, violations.jsonl); false writes nothing. Default false. */
  outDir?: string | false;
}

export interface RunApiResult extends Report {}

/** Runs a scenario file (or an already loaded scenario) and returns its report. */
export async function run(scenario: string | Scenario, options: RunApiOptions = {}): Promise<Report> {
  // Overrides are applied while a file is read and checked; a loaded scenario is already resolved.
  if (typeof scenario !== 'string' && options.overrides !== undefined && Object.keys(options.overrides).length > 0) {
    throw new ConfigError('options.overrides: applies to a scenario file; for a loaded Scenario set its fields instead');
  }
  // Plugins first: a scenario may name a dialect only a plugin brings.
  for (const p of options.plugins ?? []) await loadDialectPlugin(p);
  // Errors name this function's options (options.overrides.devices), not the CLI's flags.
  const loaded = typeof scenario === 'string' ? loadScenario(scenario, options.overrides, API_OPTIONS) : scenario;
  if (!options.outDir) return runScenario({ ...options, scenario: loaded, names: API_OPTIONS });
  await prepareOutDir(options.outDir, 'outDir');
  // Named before the run, as the CLI does: violations.jsonl streams into it while the verdicts are judged.
  const runName = runDirName(loaded.name, new Date());
  const report = await runScenario({ ...options, scenario: loaded, names: API_OPTIONS, violationsFile: join(resolve(options.outDir), runName, VIOLATIONS_FILE) });
  const saved = await saveRun(report, options.outDir, runName);
  if (saved.fallback) options.log?.(`outDir: cannot write ${saved.fallback.wanted} (${saved.fallback.reason}); the reports are in ${saved.dir} instead`);
  return report;
}
