/**
 * Dialect plugins: a module whose default export is a DialectPlugin (a pure device machine, its
 * wire codec and its transition rules). It is loaded in the main thread, so scenarios may name
 * it, and again in every worker, which runs its devices.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DialectPlugin, DialectTargetSpec } from './types.js';
import { registerDialect } from './registry.js';
import { registerScenarioDialect } from '../scenario/load.js';
import { ConfigError } from '../config/load.js';

const loaded = new Map<string, DialectPlugin>();

/** A plugin path or URL as an absolute file URL, the form workers are given. */
export const pluginUrl = (specifier: string): string =>
  /^(file|data):/.test(specifier) ? specifier : pathToFileURL(resolve(specifier)).href;

/** What is wrong with a module's export as a plugin, or undefined. */
export function pluginProblem(p: unknown): string | undefined {
  const o = p as Partial<Record<string, unknown>> | undefined;
  if (!o || typeof o !== 'object') return 'the module has no default export';
  if (typeof o['name'] !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(o['name'])) return 'name must be a lower-case word';
  if (!Array.isArray(o['operations']) || o['operations'].some((x) => typeof x !== 'string')) return 'operations must be a list of names';
  const fns = (obj: unknown, names: string[]): boolean => !!obj && names.every((n) => typeof (obj as Record<string, unknown>)[n] === 'function');
  if (!fns(o['machine'], ['start', 'onTimer', 'onAnswer'])) return 'machine needs start, onTimer and onAnswer';
  if (!fns(o['wire'], ['encode', 'decode', 'operationOf', 'outcomeOf', 'isError'])) return 'wire needs encode, decode, operationOf, outcomeOf and isError';
  if (o['transport'] !== undefined && o['transport'] !== 'http' && o['transport'] !== 'coap') return 'transport must be "http" or "coap" (absent: http)';
  const t = o['target'] as Record<string, unknown> | undefined;
  if (t !== undefined) {
    if (!t || typeof t !== 'object' || typeof t['fromScenario'] !== 'function') return 'target needs fromScenario';
    if (t['schema'] !== undefined && (typeof t['schema'] !== 'object' || t['schema'] === null)) return 'target.schema must be a JSON Schema object';
    const optional = ['resolve', 'fromCatalog', 'withProfile', 'deviceSettings', 'firmwareName', 'authTtlSec', 'secretSource'];
    const bad = optional.find((n) => t[n] !== undefined && typeof t[n] !== 'function');
    if (bad !== undefined) return `target.${bad} must be a function`;
  }
  const r = o['rules'] as Record<string, unknown> | undefined;
  if (!r || !Array.isArray(r['kinds']) || !Array.isArray(r['initial']) || !Array.isArray(r['final']) || typeof r['next'] !== 'object') {
    return 'rules need kinds, next, initial and final';
  }
  return undefined;
}

/** Imports, checks and registers a plugin (once per module); errors name the module, in one line. */
export async function loadDialectPlugin(specifier: string): Promise<DialectPlugin> {
  const url = pluginUrl(specifier);
  const known = loaded.get(url);
  if (known) return known;
  let mod: { default?: unknown };
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (err) {
    throw new ConfigError(`--plugin ${specifier}: cannot load (${(err as Error).message.split('\n')[0]})`);
  }
  const problem = pluginProblem(mod.default);
  if (problem) throw new ConfigError(`--plugin ${specifier}: not a dialect plugin: ${problem}`);
  const plugin = mod.default as DialectPlugin;
  registerDialect(plugin);
  registerScenarioDialect(plugin.name, plugin.operations, plugin.rules.kinds, plugin.target as DialectTargetSpec<never> | undefined);
  loaded.set(url, plugin);
  return plugin;
}
