/** LwM2M's `target.lwm2m` block: what a sleeping device's socket does, with its default and a one-line error naming the field. */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { ConfigError } from '../../src/config/load.js';

const scenario = (block: string): string =>
  ['dialect: lwm2m', block, 'fleet:', '  cohorts:', '    - { name: a, count: 10, ids: "lwm2m-{000000..000009}", version: "1.0.0" }'].join('\n');

describe('target.lwm2m.sleepingSocket', () => {
  it('keeps the socket by default (the queue-mode verdict needs the witness); close is taken as given', () => {
    expect(parseScenario(scenario(''), 'x.yaml').target.block).toMatchObject({ sleepingSocket: 'keep' });
    const closed = parseScenario(scenario('target: { lwm2m: { sleepingSocket: close } }'), 'x.yaml');
    expect(closed.target.block).toMatchObject({ sleepingSocket: 'close', binding: 'UQ' });
    expect(parseScenario(scenario('target: { lwm2m: { wakes: 2 } }'), 'x.yaml').target.block).toMatchObject({ sleepingSocket: 'keep' });
  });

  it('refuses another value in one line naming the file, line and field', () => {
    let message = '';
    try {
      parseScenario(scenario('target:\n  lwm2m:\n    sleepingSocket: sometimes'), 'x.yaml');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      message = err.message;
    }
    expect(message).toMatch(/^x\.yaml:4.*sleepingSocket/);
    expect(message).not.toContain('\n');
  });
});
