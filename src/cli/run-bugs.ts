/**
 * `run --bug NAME` (repeatable): named bugs of the embedded server, switched on from the command
 * line beside the scenario's own `server.bugs`, so a shipped fault scenario can be shown failing
 * on its named bug without an edited copy of the file.
 */
import { ConfigError } from '../config/load.js';
import { parseBugs } from '../server/bugs.js';
import type { Scenario } from '../scenario/types.js';

export function withBugFlags(scenario: Scenario, flags: readonly unknown[] | undefined): Scenario {
  const named = parseBugs((flags ?? []).map(String), '--bug');
  if (named.length === 0) return scenario;
  if (scenario.target.url !== undefined) throw new ConfigError(`--bug: switches on a named bug of the embedded server; the target ${scenario.target.url} runs its own code`);
  const bugs = [...new Set([...scenario.server.bugs, ...named])];
  return { ...scenario, server: { ...scenario.server, bugs } };
}
