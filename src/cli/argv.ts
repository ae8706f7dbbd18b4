/**
 * Flag values yargs would lose without a word. Given `--devices` with no value, yargs drops the
 * option (the scenario's fleet size is used silently); given `--duration -5s`, it reads `-5s` as
 * the short flags -5 and -s and reports "Unknown arguments: 5, s". Both are checked here, as pure
 * functions of the raw words, so each mistake is one line naming the flag.
 */

/** A value after a long flag that starts like a negative number (`-5s`, `-1`, `-0.5`). */
const NEGATIVE_VALUE = /^-\d|^-\.\d/;

export interface JoinedArgv {
  argv: string[];
  /** Flags (`--duration`) given a value that was joined to them, to refuse it on a boolean flag. */
  joined: string[];
}

/**
 * Joins `--flag -5s` into `--flag=-5s`, so the value reaches the flag's own check ("must be a
 * positive duration"). A word starting "-digit" is never a flag (short flags are letters).
 */
export function joinNegativeValues(argv: readonly string[]): JoinedArgv {
  const out: string[] = [];
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (isLongFlag(word) && !word.includes('=') && next !== undefined && NEGATIVE_VALUE.test(next)) {
      out.push(`${word}=${next}`);
      joined.push(word);
      i++;
    } else {
      out.push(word);
    }
  }
  return { argv: out, joined };
}

/** The option kinds of the command being parsed, as yargs' getOptions() lists them. */
export interface OptionKinds {
  string: readonly string[];
  number: readonly string[];
  boolean: readonly string[];
  alias?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The first flag of `argv` that needs a value and has none (the last word, or followed by another
 * flag, or `--flag=`), or a boolean flag given a joined value; the error line, or undefined.
 */
export function flagValueError(argv: readonly string[], kinds: OptionKinds, joined: readonly string[] = []): string | undefined {
  const valued = namesWithAliases([...kinds.string, ...kinds.number], kinds.alias);
  const booleans = namesWithAliases(kinds.boolean, kinds.alias);
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') break;
    if (!isLongFlag(word)) continue;
    const eq = word.indexOf('=');
    const name = word.slice(2, eq < 0 ? undefined : eq);
    if (booleans.has(name) && joined.includes(`--${name}`)) return `--${name}: takes no value, got ${word.slice(eq + 1)}`;
    if (!valued.has(name)) continue;
    if (eq >= 0) {
      if (word.slice(eq + 1) === '') return `--${name}: needs a value`;
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('-')) return `--${name}: needs a value`;
  }
  return undefined;
}

/** A number option's value that is not a number (`--devices abc` gives NaN). */
export function notANumberError(parsed: Readonly<Record<string, unknown>>, kinds: OptionKinds, argv: readonly string[]): string | undefined {
  for (const name of kinds.number) {
    const v = parsed[name];
    const values = Array.isArray(v) ? v : [v];
    if (values.some((x) => typeof x === 'number' && Number.isNaN(x))) return `--${name}: "${givenValue(argv, name) ?? ''}" is not a number`;
  }
  return undefined;
}

function givenValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i]!.startsWith(`--${name}=`)) return argv[i]!.slice(name.length + 3);
  }
  return undefined;
}

function isLongFlag(word: string): boolean {
  return word.startsWith('--') && word.length > 2;
}

/** Option names with their aliases and the camelCase / kebab-case spellings yargs accepts. */
function namesWithAliases(names: readonly string[], alias: OptionKinds['alias']): Set<string> {
  const out = new Set<string>();
  for (const n of names) {
    for (const m of [n, ...(alias?.[n] ?? [])]) {
      out.add(m);
      out.add(m.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()));
      out.add(m.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
    }
  }
  return out;
}
