import { describe, expect, it } from 'vitest';
import { withBugFlags } from '../../src/cli/run-bugs.js';
import { loadScenario } from '../../src/scenario/load.js';
import { ROOT } from '../e2e/helpers.js';

const FILE = `${ROOT}scenarios/lwm2m/blockwise-resume-under-loss.yaml`;

describe('run --bug', () => {
  it("adds the named bugs to the scenario's server.bugs, once each; none given leaves the scenario as it is", () => {
    const s = loadScenario(FILE);
    expect(withBugFlags(s, undefined)).toBe(s);
    const withFile = { ...s, server: { ...s.server, bugs: ['lwm2m-no-queue'] } };
    expect(withBugFlags(withFile, ['block2-off-by-one', 'lwm2m-no-queue']).server.bugs).toEqual(['lwm2m-no-queue', 'block2-off-by-one']);
  });

  it('refuses an unknown name, naming the flag and the known ones', () => {
    expect(() => withBugFlags(loadScenario(FILE), ['block2-of-by-one'])).toThrow(/^--bug\.0: unknown bug "block2-of-by-one" \(expected one of .*block2-off-by-one/);
  });

  it('refuses a bug with a --target: that server runs its own code', () => {
    const s = loadScenario(FILE, { targetUrl: 'coap://127.0.0.1:5683' });
    expect(() => withBugFlags(s, ['block2-off-by-one'])).toThrow(/^--bug: switches on a named bug of the embedded server; the target coap:\/\/127\.0\.0\.1:5683 runs its own code/);
  });
});
