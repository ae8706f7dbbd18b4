/**
 * A declared dialect as a DialectPlugin: the file's calls compiled into a wire, the one declared
 * machine (inside the transmission layer, as the built-in ones), fixed transition rules, and a
 * target spec made from the file's `settings` (secrets from the scenario or the environment, keys
 * a reference server's catalog has). Registered in the main thread by the scenario loader and in
 * each worker from the scenario it is given.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { ConfigError } from '../../config/load.js';
import { secretSchema } from '../../config/fields.js';
import { resolveSecret, secretSourceOf, type SecretRef } from '../../config/secret.js';
import { UNANSWERED_CODES, withRetransmit, type TransmissionAdapter } from '../../device/retransmit.js';
import type { StateCategory } from '../categories.js';
import { registerDialect, withLoss } from '../registry.js';
import type { DialectPlugin, DialectTargetSpec, HttpRequest, HttpResult, TargetContext } from '../types.js';
import { compileDialect, type CompiledDialect } from './compile.js';
import { DECLARED_RULES, declaredMachine } from './machine.js';
import { compileTemplate, valueAt } from './template.js';
import type { DeclaredAnswer, DeclaredKind, DeclaredRequest, DeclaredSpec } from './types.js';
import { declaredWire, type DeclaredSettings } from './wire.js';

const CATEGORIES = {
  starting: 'checking',
  checking: 'checking',
  waiting: 'asleep',
  retrying: 'asleep',
  accepting: 'downloading',
  downloading: 'downloading',
  'reporting-progress': 'downloading',
  reconnecting: 'asleep',
  'reporting-downloaded': 'upgrading',
  rebooting: 'upgrading',
  confirming: 'upgrading',
  'reporting-failure': 'other',
  succeeded: 'succeeded',
  'up-to-date': 'succeeded',
  rejected: 'failed',
  failed: 'failed',
  'gave-up': 'failed',
} as const satisfies Record<DeclaredKind, StateCategory>;

type Settings = NonNullable<DeclaredSpec['dialect']['settings']>;

const transmission = (d: CompiledDialect): TransmissionAdapter<DeclaredRequest, DeclaredAnswer> => ({
  opOf: (r) => (r.call === '#download' ? d.flow.download.operation : (d.calls.get(r.call)?.operation ?? r.call)),
  withLoss,
  isUnanswered: (a) => a.type === 'net' && UNANSWERED_CODES.has(a.code) && a.held === undefined,
});

/** The JSON Schema of `target.<name>`: the file's settings, each optional (defaults, the environment or a catalog fill them). */
function blockSchema(settings: Settings): TSchema {
  const props: Record<string, TSchema> = {};
  for (const [name, s] of Object.entries(settings)) {
    props[name] = Type.Optional(s.secret ? secretSchema(s.description ?? name) : Type.Union([Type.String(), Type.Number()], { description: s.description ?? name }));
  }
  return Type.Object(props, { additionalProperties: false });
}

/** A catalog path such as `onenet.products[id={{settings.productId}}].accessKey`, read from `catalog`. */
function fromCatalogPath(catalog: unknown, path: string, settings: DeclaredSettings): unknown {
  const t = compileTemplate(path);
  const text = typeof t === 'string' ? path : t.render({ settings });
  let v: unknown = catalog;
  for (const part of text.split(/\.(?![^[]*\])/)) {
    const m = /^([^[]+)(?:\[([^=\]]+)=([^\]]*)\])?$/.exec(part);
    if (m === null) return undefined;
    v = valueAt(v, [m[1] as string]);
    if (m[2] !== undefined) v = Array.isArray(v) ? v.find((e) => String(valueAt(e, [m[2] as string])) === m[3]) : undefined;
  }
  return v;
}

function targetSpec(spec: DeclaredSpec, d: CompiledDialect): DialectTargetSpec<DeclaredSettings> {
  const settings: Settings = spec.dialect.settings ?? {};
  const name = spec.dialect.name;
  const field = (ctx: TargetContext, key: string): string => `${ctx.file}: target.${name}.${key}`;
  const blockOf = (raw: unknown): Readonly<Record<string, unknown>> => (raw ?? {}) as Record<string, unknown>;

  /** Each setting from the block, the environment or its default; `missing(key)` for one with none. */
  function resolve(raw: unknown, ctx: TargetContext, missing: (key: string, so: DeclaredSettings) => string | number | undefined): DeclaredSettings {
    const block = blockOf(raw);
    const out: Record<string, string | number> = {};
    // Plain settings first: a catalog path may name them.
    const order = Object.entries(settings).sort(([, a], [, b]) => Number(a.catalog !== undefined) - Number(b.catalog !== undefined));
    for (const [key, s] of order) {
      const given = block[key] as string | number | SecretRef | undefined;
      const ref = given ?? (s.env !== undefined && ctx.env[s.env] ? { env: s.env } : undefined);
      if (ref !== undefined) {
        out[key] = typeof ref === 'object' ? resolveSecret(ref, field(ctx, key), ctx.env) : ref;
        continue;
      }
      const found = missing(key, out) ?? s.default;
      if (found === undefined) throw new ConfigError(`${field(ctx, key)}: needed${s.env !== undefined ? ` (e.g. ${key}: { env: ${s.env} })` : ''}`);
      out[key] = found;
    }
    return out;
  }

  const firstSecret = Object.entries(settings).find(([, s]) => s.secret);
  return {
    schema: blockSchema(settings),
    fromScenario: (raw, ctx) => resolve(raw, ctx, () => undefined),
    fromCatalog: (raw, catalog, ctx) =>
      resolve(raw, ctx, (key, so) => {
        const path = settings[key]?.catalog;
        const v = path === undefined ? undefined : fromCatalogPath(catalog, path, so);
        return typeof v === 'string' || typeof v === 'number' ? v : undefined;
      }),
    ...(d.auth.hmac !== undefined && d.auth.hmac.expiresInSec > 0 ? { authTtlSec: () => d.auth.hmac?.expiresInSec } : {}),
    ...(firstSecret !== undefined
      ? {
          secretSource: (raw, ctx) => {
            const [key, s] = firstSecret;
            const ref = blockOf(raw)[key] as SecretRef | undefined;
            const envName = s.env ?? '(no variable)';
            return secretSourceOf(ref, `target.${name}.${key}`, envName, ref === undefined && (s.env === undefined || !ctx.env[s.env]));
          },
        }
      : {}),
  };
}

export type DeclaredPlugin = DialectPlugin<{ readonly kind: string }, DeclaredRequest, DeclaredAnswer, DeclaredSettings, HttpRequest, HttpResult> & { readonly categories: typeof CATEGORIES };

/** The plugin of a checked dialect file (its data already passed ./load.ts). */
export function declaredPlugin(spec: DeclaredSpec): DeclaredPlugin {
  const d = compileDialect(spec.dialect, (path, message) => {
    throw new ConfigError(`${spec.file}: ${path}: ${message}`);
  });
  return {
    name: d.name,
    transport: 'http',
    operations: d.operations,
    machine: withRetransmit(declaredMachine(d), transmission(d)),
    wire: declaredWire(d),
    rules: DECLARED_RULES,
    target: targetSpec(spec, d),
    categories: CATEGORIES,
  };
}

const registered = new Map<string, string>();

/** Registers a declared dialect in this thread (once per name and file contents). */
export function registerDeclaredDialect(spec: DeclaredSpec): DeclaredPlugin {
  const plugin = declaredPlugin(spec);
  const key = JSON.stringify(spec.dialect);
  if (registered.get(plugin.name) !== key) {
    registerDialect(plugin as unknown as DialectPlugin);
    registered.set(plugin.name, key);
  }
  return plugin;
}
