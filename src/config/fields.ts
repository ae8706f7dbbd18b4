/**
 * Pieces of a file's schema that more than one part uses (the scenario, a dialect's `target`
 * block), so a secret or a duration reads and fails the same everywhere.
 */
import { Type } from '@sinclair/typebox';
import { parseDuration } from './units.js';

/** A secret field: `{ env: NAME }`, `{ file: path }` or inline text (config/secret.ts resolves it). */
export const secretSchema = (description: string) =>
  Type.Union(
    [
      Type.String({ minLength: 1, description: 'Inline (test setups only).' }),
      Type.Object({ env: Type.String({ minLength: 1 }) }, { additionalProperties: false, description: 'Read from an environment variable.' }),
      Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false, description: 'Read from a file.' }),
    ],
    { description: `${description} A secret: { env: NAME }, { file: path }, or inline text.` },
  );

/** A duration as the loader takes it (text with a unit, or ms); `durationMs` checks it in words. */
export const durationSchema = (description: string, extra: Record<string, unknown> = {}) =>
  Type.Union([Type.String({ examples: ['30s'] }), Type.Number()], { description: `${description} A duration: 250ms, 30s, 5m, 2h, 1d, or a number of ms.`, ...extra });

/** A duration field's ms, or `fail(path, why)` in the words every duration error uses. */
export function durationMs(v: string | number, path: string, fail: (path: string, message: string) => never): number {
  const ms = parseDuration(v);
  if (ms === undefined) fail(path, `${JSON.stringify(v)} is not a duration (e.g. 250ms, 30s, 5m, 2h, 1d, or a number of ms)`);
  return ms as number;
}
