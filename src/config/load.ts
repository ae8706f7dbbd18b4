/**
 * YAML documents checked against a JSON Schema, with errors that name the place:
 * `file:line:col: path.to.field: what is wrong`, in one line. Scenarios and catalogs both load
 * through here, so they report bad input the same way.
 */
import { readFileSync, statSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { Static, TSchema } from '@sinclair/typebox';

/** Bad input: the message is the whole story, one line, no stack trace needed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const ajv = new Ajv({ allErrors: false, strict: false, useDefaults: true });
const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: TSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

export interface Located<T> {
  value: T;
  /** Line (1-based) of the node at a JSON path such as `fleet.cohorts.0.count`; for later checks. */
  lineOf(path: string): number | undefined;
  where(path: string): string;
}

/**
 * Largest scenario or catalog document taken. The biggest shipped one is under 3 KiB (id ranges
 * keep fleets short). A 50 MB file once took 4 GB and 100 s; some checks grow with the square of
 * the cohorts, so a 4.9 MB file of 64,000 cohorts still took 49 s and 750 MB, and 1 MB 4.6 s and
 * 250 MB (measured on a loaded 2-core machine): 1 MiB it is, checked before reading.
 */
export const MAX_YAML_BYTES = 1024 * 1024;
/** Alias expansions allowed in one document: enough for shared cohort settings, not for an alias bomb. */
export const MAX_YAML_ALIASES = 100;

const tooLarge = (file: string, bytes: number): ConfigError =>
  new ConfigError(`${file}: ${bytes} bytes, over the ${MAX_YAML_BYTES / (1024 * 1024)} MiB limit of a scenario or catalog file`);

/** A YAML file's text, refused before reading when over MAX_YAML_BYTES; one-line ConfigError naming the file. */
export function readYamlText(file: string): string {
  try {
    const size = statSync(file).size;
    if (size > MAX_YAML_BYTES) throw tooLarge(file, size);
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`${file}: cannot read (${code ?? String(err)})`);
  }
}

/** Reads and validates a YAML file; throws ConfigError naming file:line and the field's path. */
export function loadYamlFile<S extends TSchema>(file: string, schema: S): Located<Static<S>> {
  return parseYaml(readYamlText(file), schema, file);
}

/** Parses and validates YAML text; `file` names it in messages. */
export function parseYaml<S extends TSchema>(text: string, schema: S, file: string): Located<Static<S>> {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_YAML_BYTES) throw tooLarge(file, bytes);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    // linePos is only filled with prettyErrors, which also rewrites the message; the offset is always there.
    const pos = lines.linePos(first.pos[0]);
    throw new ConfigError(`${file}:${pos.line}:${pos.col}: YAML: ${firstLine(first.message)}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) ?? {};
  } catch (err) {
    // The yaml package throws a ReferenceError for an alias bomb (and for an alias to no anchor).
    throw new ConfigError(`${file}: YAML: ${firstLine(err instanceof Error ? err.message : String(err))} (at most ${MAX_YAML_ALIASES} alias expansions)`);
  }
  const locate = (path: string): { line: number; col: number } | undefined => {
    const node = nodeAt(doc, path);
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lines.linePos(offset);
  };
  const where = (path: string): string => {
    const pos = locate(path);
    return pos ? `${file}:${pos.line}:${pos.col}` : file;
  };
  const validate = validatorFor(schema);
  if (!validate(value)) {
    const err = pickError(validate.errors ?? []);
    const path = pathOfError(err);
    throw new ConfigError(`${where(path)}: ${path || '(top level)'}: ${describe(err)}`);
  }
  return { value: value as Static<S>, lineOf: (p) => locate(p)?.line, where };
}

/**
 * Checks one value of a parsed document (at `path`) against a schema of its own, as parseYaml
 * checks the whole: defaults filled in, the first error one line at its file:line:col, its path
 * under `path`. A part that owns a piece of the file (a dialect's `target.<name>`) checks it so.
 */
export function validateAt<T = unknown>(doc: Pick<Located<unknown>, 'where'>, path: string, value: unknown, schema: object): T {
  let validate: ValidateFunction;
  try {
    validate = validatorFor(schema as TSchema);
  } catch (err) {
    throw new ConfigError(`${path}: its schema is no valid JSON Schema (${firstLine(err instanceof Error ? err.message : String(err))})`);
  }
  if (!validate(value)) {
    const err = pickError(validate.errors ?? []);
    const inner = pathOfError(err);
    const full = inner ? `${path}.${inner}` : path;
    throw new ConfigError(`${doc.where(full)}: ${full}: ${describe(err)}`);
  }
  return value as T;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

/** The deepest node that exists along a dotted path, so a missing field points at its parent. */
function nodeAt(doc: Document, path: string): Node | undefined {
  let node: unknown = doc.contents;
  if (!path) return node as Node | undefined;
  for (const key of path.split('.')) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === key);
      next = pair?.value ?? undefined;
      if (pair && next === undefined) next = pair.key;
    } else if (isSeq(node)) {
      next = node.items[Number(key)];
    }
    if (!next) break;
    node = next;
  }
  return node as Node | undefined;
}

/** `/fleet/cohorts/0/count` → `fleet.cohorts.0.count`, with the missing or extra key appended. */
function pathOfError(err: ErrorObject): string {
  const parts = err.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (err.keyword === 'additionalProperties') parts.push(String(err.params['additionalProperty']));
  return parts.join('.');
}

function describe(err: ErrorObject): string {
  switch (err.keyword) {
    case 'required':
      return `missing required field "${String(err.params['missingProperty'])}"`;
    case 'additionalProperties':
      return 'unknown field';
    case 'enum':
      return `must be one of ${(err.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(err.params['allowedValue'])}`;
    default:
      return err.message ?? err.keyword;
  }
}

/**
 * Ajv reports the first failing keyword, which for a union (anyOf) is the least helpful one.
 * Prefer an error about an unknown or missing field, then the deepest path.
 */
function pickError(errors: ErrorObject[]): ErrorObject {
  const ranked = [...errors].sort((a, b) => rank(b) - rank(a));
  return ranked[0] as ErrorObject;
}

function rank(e: ErrorObject): number {
  const depth = e.instancePath.split('/').length * 10;
  const kind = e.keyword === 'additionalProperties' || e.keyword === 'required' ? 5 : e.keyword === 'anyOf' ? 0 : 3;
  return depth + kind;
}
