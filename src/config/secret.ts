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
