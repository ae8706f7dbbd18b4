/** Secrets come inline (test catalogs only), from an environment variable, or from a file. */
import { readFileSync } from 'node:fs';
import { ConfigError } from './load.js';

export type SecretRef = string | { env: string } | { file: string };

/** Resolves a secret; `where` names the field in the one-line error. Never echoes the value. */
export function resolveSecret(ref: SecretRef, where: string, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof ref === 'string') return ref;
  if ('env' in ref) {
    const v = env[ref.env];
    if (!v) throw new ConfigError(`${where}: environment variable ${ref.env} is not set`);
    return v.trim();
  }
  try {
    return readFileSync(ref.file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`${where}: cannot read secret file ${ref.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Where a secret came from, in words: the variable or file to fix (never the secret). `discovered`:
 * none was given and the key was read from a reference server's admin catalog.
 */
export function secretSourceOf(ref: SecretRef | undefined, field: string, fallbackEnv: string, discovered: boolean): string {
  if (ref === undefined) return discovered ? `the key read from the server's admin catalog (no ${fallbackEnv})` : `${fallbackEnv} (environment)`;
  if (typeof ref === 'string') return `${field} (inline in the scenario)`;
  if ('env' in ref) return `${ref.env} (environment, named by ${field})`;
  return `the file ${ref.file} (${field})`;
}
