/**
 * YAML documents checked against a JSON Schema, with errors that name the place:
 * `file:line:col: path.to.field: what is wrong`, in one line. Scenarios and catalogs both load
 * through here, so they report bad input the same way.
 */
import { readFileSync } from 'node:fs';
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

/** Reads and validates a YAML file; throws ConfigError naming file:line and the field's path. */
export function loadYamlFile<S extends TSchema>(file: string, schema: S): Located<Static<S>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`${file}: cannot read (${code ?? String(err)})`);
  }
  return parseYaml(text, schema, file);
}

/** Parses and validates YAML text; `file` names it in messages. */
export function parseYaml<S extends TSchema>(text: string, schema: S, file: string): Located<Static<S>> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    // linePos is only filled with prettyErrors, which also rewrites the message; the offset is always there.
    const pos = lines.linePos(first.pos[0]);
    throw new ConfigError(`${file}:${pos.line}:${pos.col}: YAML: ${firstLine(first.message)}`);
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
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
