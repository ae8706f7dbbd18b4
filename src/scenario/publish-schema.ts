/**
 * Writes schema/scenario.schema.json and schema/dialect.schema.json (what editors read to complete
 * and check scenario and declared-dialect files).
 * Run as `node dist/scenario/publish-schema.js [out-file]`; the text comes from ./schema.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderScenarioSchema } from './schema.js';
import { renderDialectSchema } from '../dialect/declared/schema.js';

/** schema/scenario.schema.json of the package (the same from src/scenario and dist/scenario). */
export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/scenario.schema.json', import.meta.url));

export function writeScenarioSchema(file: string = SCHEMA_FILE): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderScenarioSchema());
  return file;
}

/** schema/dialect.schema.json: the format of a declared dialect file (docs/dialects.md). */
export const DIALECT_SCHEMA_FILE = fileURLToPath(new URL('../../schema/dialect.schema.json', import.meta.url));

export function writeDialectSchema(file: string = DIALECT_SCHEMA_FILE): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderDialectSchema());
  return file;
}

const invokedAsMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedAsMain) {
  try {
    const file = writeScenarioSchema(process.argv[2]);
    process.stdout.write(`wrote ${file}\n`);
    // A custom path is the scenario schema's only; the dialect schema goes beside the package's.
    if (process.argv[2] === undefined) process.stdout.write(`wrote ${writeDialectSchema()}\n`);
  } catch (err) {
    process.stderr.write(`publish-schema: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
