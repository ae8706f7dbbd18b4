/** Shared by the scenario and YAML tests: the one-line message of the ConfigError a call throws. */
import { expect } from 'vitest';
import { ConfigError } from '../../src/config/load.js';

/** The message of the ConfigError `fn` throws (fails the test if it throws anything else, or a message of more than one line). */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}
