import { describe, expect, it } from 'vitest';
import { flagValueError, joinNegativeValues, notANumberError, type OptionKinds } from '../../src/cli/argv.js';
import { buildCli } from '../../src/cli/main.js';

const RUN: OptionKinds = { string: ['target', 'duration', 'time-scale', 'out'], number: ['devices', 'seed', 'workers'], boolean: ['quiet', 'allow-remote', 'help', 'version'] };

describe('flag values yargs would drop', () => {
  it('joins a negative value to its long flag, and nothing else', () => {
    expect(joinNegativeValues(['run', 'a.yaml', '--duration', '-5s', '--seed', '-1'])).toEqual({
      argv: ['run', 'a.yaml', '--duration=-5s', '--seed=-1'],
      joined: ['--duration', '--seed'],
    });
    expect(joinNegativeValues(['run', 'a.yaml', '--quiet', '--devices', '5']).argv).toEqual(['run', 'a.yaml', '--quiet', '--devices', '5']);
    expect(joinNegativeValues(['--', '--x', '-1']).argv).toEqual(['--', '--x', '-1']);
  });

  it('names a valued flag given no value: last word, before another flag, or --flag=', () => {
    expect(flagValueError(['run', 'a.yaml', '--devices'], RUN)).toBe('--devices: needs a value');
    expect(flagValueError(['run', 'a.yaml', '--devices', '--quiet'], RUN)).toBe('--devices: needs a value');
    expect(flagValueError(['run', 'a.yaml', '--target='], RUN)).toBe('--target: needs a value');
    expect(flagValueError(['run', 'a.yaml', '--timeScale'], RUN)).toBe('--timeScale: needs a value');
    expect(flagValueError(['run', 'a.yaml', '--devices', '5', '--quiet', '--duration=-5s'], RUN, ['--duration'])).toBeUndefined();
    expect(flagValueError(['run', 'a.yaml', '--quiet=-5s'], RUN, ['--quiet'])).toBe('--quiet: takes no value, got -5s');
  });

  it('names a number flag given text', () => {
    expect(notANumberError({ devices: Number.NaN }, RUN, ['--devices', 'abc'])).toBe('--devices: "abc" is not a number');
    expect(notANumberError({ devices: 5 }, RUN, ['--devices', '5'])).toBeUndefined();
  });
});

describe('the CLI parser', () => {
  const parse = async (argv: string[]): Promise<string> => {
    try {
      await buildCli(argv).parseAsync();
      return 'parsed';
    } catch (err) {
      return (err as Error).message;
    }
  };
  it('refuses a valued flag with no value instead of ignoring it, before the command runs', async () => {
    expect(await parse(['run', 'a.yaml', '--devices'])).toBe('--devices: needs a value');
    expect(await parse(['run', 'a.yaml', '--devices', 'many'])).toBe('--devices: "many" is not a number');
    expect(await parse(['validate', 'a.yaml', '--plugin'])).toBe('--plugin: needs a value');
  });
});
