/**
 * Writes schema/scenario.schema.json (what editors read to complete and check scenario files).
 * Run as `node dist/scenario/publish-schema.js [out-file]`; the text comes from ./schema.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderScenarioSchema } from './schema.js';

/** schema/scenario.schema.json of the package (the same from src/scenario and dist/scenario). */
export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/scenario.schema.json', import.meta.url));

export function writeScenarioSchema(file: string = SCHEMA_FILE): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderScenarioSchema());
  return file;
}

const invokedAsMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedAsMain) {
  try {
    const file = writeScenarioSchema(process.argv[2]);
    process.stdout.write(`wrote ${file}\n`);
  } catch (err) {
    process.stderr.write(`publish-schema: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
