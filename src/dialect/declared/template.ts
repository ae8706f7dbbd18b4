/**
 * The templates of a declared dialect: text with `{{ path | filter | ... }}` holes, compiled once
 * (a bad one is a load error naming its field) and rendered against a plain object of values.
 *
 * Paths are dotted (`device.id`, `offer.size`, `json.data.target`). Filters: `url` (encodeURIComponent),
 * `json` (JSON text), `lower`, `upper`, `map:K=V,K=V` (a lookup; an unlisted value stays as it is),
 * `default:TEXT` (when the value is absent or empty). A value that is absent renders as ''.
 */
export type Values = Readonly<Record<string, unknown>>;

type Filter = (v: unknown) => unknown;

interface Hole {
  readonly path: readonly string[];
  readonly filters: readonly Filter[];
}

export interface Template {
  readonly text: string;
  /** Every path the template reads, for checks at load. */
  readonly paths: readonly string[];
  render(values: Values): string;
  /** The value of a template made of one hole only, unconverted (a number stays a number); text otherwise. */
  value(values: Values): unknown;
}

const HOLE = /\{\{\s*([^}]*?)\s*\}\}/g;
const PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;

function filterOf(spec: string): Filter | string {
  const colon = spec.indexOf(':');
  const name = (colon < 0 ? spec : spec.slice(0, colon)).trim();
  const arg = colon < 0 ? '' : spec.slice(colon + 1);
  switch (name) {
    case 'url':
      return (v) => encodeURIComponent(text(v));
    case 'json':
      return (v) => JSON.stringify(v ?? null);
    case 'lower':
      return (v) => text(v).toLowerCase();
    case 'upper':
      return (v) => text(v).toUpperCase();
    case 'default':
      return (v) => (v === undefined || v === null || v === '' ? arg : v);
    case 'map': {
      const table = new Map<string, string>();
      for (const pair of arg.split(',')) {
        const eq = pair.indexOf('=');
        if (eq <= 0) return `map needs K=V pairs, got "${pair}"`;
        table.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      }
      return (v) => table.get(text(v)) ?? v;
    }
    default:
      return `unknown filter "${name}" (known: url, json, lower, upper, default, map)`;
  }
}

const text = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** The value at a dotted path of `values`; undefined where it stops. */
export function valueAt(values: unknown, path: readonly string[]): unknown {
  let v: unknown = values;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Compiles a template, or says what is wrong with it (one line). */
export function compileTemplate(source: string): Template | string {
  const parts: (string | Hole)[] = [];
  let last = 0;
  for (const m of source.matchAll(HOLE)) {
    const [all, inner = ''] = m;
    parts.push(source.slice(last, m.index));
    last = (m.index ?? 0) + all.length;
    const [pathText = '', ...filterTexts] = inner.split('|').map((s) => s.trim());
    if (!PATH.test(pathText)) return `"${all}": "${pathText}" is not a path such as device.id`;
    const filters: Filter[] = [];
    for (const f of filterTexts) {
      const filter = filterOf(f);
      if (typeof filter === 'string') return `"${all}": ${filter}`;
      filters.push(filter);
    }
    parts.push({ path: pathText.split('.'), filters });
  }
  parts.push(source.slice(last));
  const pieces = parts.filter((p) => p !== '');
  const holeValue = (h: Hole, values: Values): unknown => h.filters.reduce((v, f) => f(v), valueAt(values, h.path));
  const render = (values: Values): string => pieces.map((p) => (typeof p === 'string' ? p : text(holeValue(p, values)))).join('');
  const only = pieces.length === 1 && typeof pieces[0] !== 'string' ? pieces[0] : undefined;
  return {
    text: source,
    paths: pieces.filter((p): p is Hole => typeof p !== 'string').map((h) => h.path.join('.')),
    render,
    value: (values) => (only !== undefined ? holeValue(only, values) : render(values)),
  };
}
