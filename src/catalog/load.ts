/**
 * Loads a catalog: YAML through config/load.ts (schema, defaults, file:line errors), secrets
 * resolved through config/secret.ts, then the checks a schema cannot express: references to
 * packages that do not exist, id ranges that do not parse or that overlap, tasks for devices the
 * product does not have. Every failure is one ConfigError line naming the place.
 *
 * Cross-check rules (written down because the schema is silent):
 * - OneNET product ids are unique, and package ids are unique across all products (the admin API
 *   names a package by id alone).
 * - A diff package lists at least one `from` version; a full package lists none.
 * - Device ranges never overlap, across all products (a dev_id belongs to one product) and across
 *   all Luat projects (an IMEI belongs to one project).
 * - A task or auto-add range lies inside one device range of its product; two tasks of the same
 *   type never cover the same device.
 * - Luat project keys are unique; firmware names are unique within a project.
 */
import { Value } from '@sinclair/typebox/value';
import { ConfigError, loadYamlFile, parseYaml } from '../config/load.js';
import { resolveSecret } from '../config/secret.js';
import { CatalogSchema, type Catalog } from './schema.js';
import { parseIdRange, type IdRange } from './id-range.js';
import { checkHawkbitCatalog } from './hawkbit.js';

/** Names the place of a field path: `file:line:col` for files, `catalog` for objects. */
export type Where = (path: string) => string;

/** Reads a catalog YAML file; throws a one-line ConfigError naming file:line. */
export function loadCatalog(file: string, env: NodeJS.ProcessEnv = process.env): Catalog {
  const doc = loadYamlFile(file, CatalogSchema);
  return finishCatalog(doc.value, doc.where, env);
}

/** Parses catalog YAML text; `file` names it in messages. */
export function parseCatalog(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Catalog {
  const doc = parseYaml(text, CatalogSchema, file);
  return finishCatalog(doc.value, doc.where, env);
}

/**
 * Prepares a catalog given as an object (the built-in one, a test's, or one sent to a worker
 * thread): a deep copy with defaults filled, validated, secrets resolved, cross-checked.
 */
export function prepareCatalog(input: unknown, env: NodeJS.ProcessEnv = process.env): Catalog {
  const copy: unknown = structuredClone(input ?? {});
  const filled: unknown = Value.Default(CatalogSchema, copy);
  if (!Value.Check(CatalogSchema, filled)) {
    const first = Value.Errors(CatalogSchema, filled).First();
    const path = (first?.path ?? '').split('/').slice(1).join('.');
    throw new ConfigError(`catalog: ${path || '(top level)'}: ${first?.message ?? 'invalid'}`);
  }
  return finishCatalog(filled, () => 'catalog', env);
}

function finishCatalog(catalog: Catalog, where: Where, env: NodeJS.ProcessEnv): Catalog {
  resolveCatalogSecrets(catalog, where, env);
  checkCatalog(catalog, where);
  return catalog;
}

/** Replaces every secret reference by its value, in place. */
export function resolveCatalogSecrets(catalog: Catalog, where: Where, env: NodeJS.ProcessEnv = process.env): void {
  catalog.onenet.products.forEach((product, i) => {
    const path = `onenet.products.${i}.accessKey`;
    const key = resolveSecret(product.accessKey, `${where(path)}: ${path}`, env);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, 'base64').length === 0) {
      throw new ConfigError(`${where(path)}: ${path}: not a base64 access key`);
    }
    product.accessKey = key;
  });
}

const fail = (where: Where, path: string, message: string): never => {
  throw new ConfigError(`${where(path)}: ${path}: ${message}`);
};

function rangeAt(where: Where, path: string, text: string): IdRange {
  try {
    return parseIdRange(text);
  } catch (err) {
    return fail(where, path, (err as Error).message);
  }
}

/** The checks beyond the schema; throws on the first problem. */
export function checkCatalog(catalog: Catalog, where: Where): void {
  const { min, max } = catalog.luat.diffBuildMs;
  if (min > max) fail(where, 'luat.diffBuildMs', `min (${min}) is above max (${max})`);
  checkOnenet(catalog, where);
  checkLuat(catalog, where);
  if (catalog.hawkbit !== undefined) checkHawkbitCatalog(catalog.hawkbit, (path, message) => fail(where, `hawkbit.${path}`, message));
  checkLwm2m(catalog, where);
}

/** LwM2M campaigns name a package of the section and a parsable endpoint range. */
function checkLwm2m(catalog: Catalog, where: Where): void {
  const section = catalog.lwm2m;
  if (!section) return;
  const ids = new Set<string>();
  section.packages.forEach((pkg, k) => {
    if (ids.has(pkg.id)) fail(where, `lwm2m.packages.${k}.id`, `package id ${pkg.id} is listed twice`);
    ids.add(pkg.id);
  });
  section.campaigns.forEach((c, k) => {
    rangeAt(where, `lwm2m.campaigns.${k}.endpoints`, c.endpoints);
    if (!ids.has(c.package)) fail(where, `lwm2m.campaigns.${k}.package`, `no package "${c.package}" in lwm2m.packages`);
  });
}

function checkOnenet(catalog: Catalog, where: Where): void {
  const productIds = new Set<string>();
  const packageIds = new Map<string, string>();
  const deviceRanges: { span: Span; path: string }[] = [];
  catalog.onenet.products.forEach((product, p) => {
    const base = `onenet.products.${p}`;
    if (productIds.has(product.id)) fail(where, `${base}.id`, `product ${product.id} is listed twice`);
    productIds.add(product.id);
    const packages = new Map<string, (typeof product.packages)[number]>();
    product.packages.forEach((pkg, k) => {
      const path = `${base}.packages.${k}`;
      const other = packageIds.get(pkg.id);
      if (other !== undefined) fail(where, `${path}.id`, `package id ${pkg.id} is already used at ${other}`);
      packageIds.set(pkg.id, path);
      packages.set(pkg.id, pkg);
      if (pkg.kind === 'diff' && !(pkg.from && pkg.from.length > 0)) fail(where, path, 'a diff package needs "from" (the versions it upgrades from)');
      if (pkg.kind === 'full' && pkg.from && pkg.from.length > 0) fail(where, `${path}.from`, 'a full package takes no "from" list');
    });
    const own: Span[] = [];
    product.devices.forEach((dev, d) => {
      const path = `${base}.devices.${d}.ids`;
      const span = spanOf(rangeAt(where, path, dev.ids));
      for (const other of deviceRanges) {
        if (spansOverlap(span, other.span)) fail(where, path, `${dev.ids} overlaps the device range at ${other.path}`);
      }
      deviceRanges.push({ span, path });
      own.push(span);
    });
    const taskSpans: { span: Span; type: number; path: string }[] = [];
    const checkTaskLike = (path: string, rangeText: string | undefined, packageId: string): Span | undefined => {
      if (!packages.has(packageId)) fail(where, `${path}.package`, `no package "${packageId}" in product ${product.id}`);
      if (rangeText === undefined) return undefined;
      const span = spanOf(rangeAt(where, `${path}.devices`, rangeText));
      if (!own.some((r) => spanContains(r, span))) fail(where, `${path}.devices`, `${rangeText} is not inside one device range of product ${product.id}`);
      return span;
    };
    product.tasks.forEach((task, t) => {
      const path = `${base}.tasks.${t}`;
      const span = checkTaskLike(path, task.devices, task.package) as Span;
      for (const other of taskSpans) {
        if (other.type === task.type && spansOverlap(span, other.span)) fail(where, `${path}.devices`, `overlaps the task of the same type at ${other.path}`);
      }
      taskSpans.push({ span, type: task.type, path });
    });
    product.autoAdd.forEach((rule, a) => {
      const path = `${base}.autoAdd.${a}`;
      checkTaskLike(path, rule.devices, rule.package);
      const pkg = packages.get(rule.package);
      if (pkg?.kind === 'diff' && rule.fromVersions) {
        const bad = rule.fromVersions.find((v) => !(pkg.from ?? []).includes(v));
        if (bad !== undefined) fail(where, `${path}.fromVersions`, `${bad} is not a "from" version of diff package ${pkg.id}`);
      }
    });
  });
}

function checkLuat(catalog: Catalog, where: Where): void {
  const keys = new Set<string>();
  const deviceRanges: { span: Span; path: string }[] = [];
  catalog.luat.projects.forEach((project, p) => {
    const base = `luat.projects.${p}`;
    if (keys.has(project.key)) fail(where, `${base}.key`, 'project key is listed twice');
    keys.add(project.key);
    const names = new Set<string>();
    project.firmware.forEach((fw, f) => {
      const path = `${base}.firmware.${f}`;
      if (names.has(fw.name)) fail(where, `${path}.name`, `firmware ${fw.name} is listed twice in this project`);
      names.add(fw.name);
      fw.forbiddenJumps.forEach((jump, j) => {
        const [from, to] = jump.split('->').map((s) => s.trim());
        if (!from || !to || from === to) fail(where, `${path}.forbiddenJumps.${j}`, `"${jump}" is not a FROM->TO jump between two cores`);
      });
    });
    project.devices.forEach((dev, d) => {
      const path = `${base}.devices.${d}.imeis`;
      const span = spanOf(rangeAt(where, path, dev.imeis));
      for (const other of deviceRanges) {
        if (spansOverlap(span, other.span)) fail(where, path, `${dev.imeis} overlaps the device range at ${other.path}`);
      }
      deviceRanges.push({ span, path });
    });
    project.barred.forEach((text, b) => rangeAt(where, `${base}.barred.${b}`, text));
  });
}

/**
 * A range as the set of strings it produces: a non-digit head, then either canonical decimals
 * (no leading zeros, `digits: 'canonical'`) or fixed-width digit strings, over [lo, hi]. Two
 * ranges can share an id only when their heads are equal, which makes overlap exact.
 */
export interface Span {
  head: string;
  digits: 'canonical' | number;
  lo: bigint;
  hi: bigint;
}

export function spanOf(r: IdRange): Span {
  const m = /^(.*?)(\d*)$/.exec(r.prefix) as RegExpExecArray;
  const head = m[1] ?? '';
  const tail = m[2] ?? '';
  if (r.width === -1) {
    const v = BigInt(tail === '' ? 0 : tail);
    return { head, digits: tail.length, lo: v, hi: v };
  }
  if (r.width === 0 && r.prefix === '') return { head: '', digits: 'canonical', lo: BigInt(r.first), hi: BigInt(r.last) };
  const scale = 10n ** BigInt(r.width);
  const base = BigInt(tail === '' ? 0 : tail) * scale;
  return { head, digits: tail.length + r.width, lo: base + BigInt(r.first), hi: base + BigInt(r.last) };
}

/** The canonical decimals with exactly `n` digits. */
function canonicalBand(n: number): [bigint, bigint] {
  return n <= 1 ? [0n, 9n] : [10n ** BigInt(n - 1), 10n ** BigInt(n) - 1n];
}

const intersect = (a: [bigint, bigint], b: [bigint, bigint]): [bigint, bigint] | undefined => {
  const lo = a[0] > b[0] ? a[0] : b[0];
  const hi = a[1] < b[1] ? a[1] : b[1];
  return lo <= hi ? [lo, hi] : undefined;
};

export function spansOverlap(a: Span, b: Span): boolean {
  if (a.head !== b.head) return false;
  if (a.digits === b.digits) return intersect([a.lo, a.hi], [b.lo, b.hi]) !== undefined;
  if (a.digits === 'canonical' || b.digits === 'canonical') {
    const [canon, fixed] = a.digits === 'canonical' ? [a, b] : [b, a];
    if (fixed.digits === 0) return false;
    const band = intersect([fixed.lo, fixed.hi], canonicalBand(fixed.digits as number));
    return band !== undefined && intersect(band, [canon.lo, canon.hi]) !== undefined;
  }
  return false;
}

/** Whether every id of `inner` is an id of `outer`. */
export function spanContains(outer: Span, inner: Span): boolean {
  if (outer.head !== inner.head) return false;
  const within = (lo: bigint, hi: bigint): boolean => lo >= outer.lo && hi <= outer.hi;
  if (outer.digits === inner.digits) return within(inner.lo, inner.hi);
  if (outer.digits === 'canonical') {
    if (inner.digits === 0) return false;
    const band = canonicalBand(inner.digits as number);
    return inner.lo >= band[0] && inner.hi <= band[1] && within(inner.lo, inner.hi);
  }
  if (inner.digits === 'canonical') {
    const band = canonicalBand(outer.digits);
    return inner.lo >= band[0] && inner.hi <= band[1] && within(inner.lo, inner.hi);
  }
  return false;
}
