/**
 * Reads a declared dialect file: the schema first (./schema.ts), then what a schema cannot say
 * (templates, calls a flow names, what each event needs), each error one line at file:line:col.
 */
import { parseYaml, readYamlText, ConfigError } from '../../config/load.js';
import { compileDialect } from './compile.js';
import { DeclaredDialectSchema } from './schema.js';
import type { DeclaredSpec } from './types.js';

export function loadDeclaredDialect(file: string): DeclaredSpec {
  return parseDeclaredDialect(readYamlText(file), file);
}

export function parseDeclaredDialect(text: string, file: string): DeclaredSpec {
  const doc = parseYaml(text, DeclaredDialectSchema, file);
  compileDialect(doc.value, (path, message) => {
    throw new ConfigError(`${doc.where(path)}: ${path}: ${message}`);
  });
  return { file, dialect: doc.value };
}
