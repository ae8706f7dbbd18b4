// The harness through its programmatic API (dist/api.js `run`), in a process of its own so that
// it can be measured alone. Used where a scenario needs what the YAML cannot say yet: `--wake
// steady` puts every PSM device on its own T3412 phase (Scenario.wake), as the project's e2e test
// of a simulated day does; a scenario that sets `wake` itself is left as it is.
//
//   node api-run-child.js SCENARIO --target URL --report FILE [--devices N] [--time-scale K] [--workers W] [--wake steady]
//
// Keys come from the environment as with the CLI (OTA_SWARM_ONENET_ACCESS_KEY, OTA_SWARM_ADMIN_TOKEN).
import { writeFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? undefined : argv[i + 1];
};
const [scenarioFile] = argv;
const reportFile = opt('report');
if (!scenarioFile || !reportFile || !opt('target')) {
  console.error('api-run-child: usage: SCENARIO --target URL --report FILE [--devices N] [--time-scale K] [--workers W] [--wake steady]');
  process.exit(2);
}
let api;
try {
  api = await import('../../../dist/index.js');
} catch {
  console.error('bench: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
const overrides = { targetUrl: opt('target') };
if (opt('devices')) overrides.devices = Number(opt('devices'));
if (opt('time-scale')) overrides.timeScale = Number(opt('time-scale'));
let scenario;
try {
  scenario = api.loadScenario(scenarioFile, overrides);
} catch (err) {
  console.error(`api-run-child: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}
if (opt('wake') && scenario.wake === undefined) scenario.wake = { pattern: opt('wake') };
const controller = new AbortController();
process.on('SIGTERM', () => controller.abort());
const report = await api.run(scenario, { workers: opt('workers') ? Number(opt('workers')) : undefined, signal: controller.signal });
writeFileSync(reportFile, JSON.stringify(report));
process.exit(0);
