// Whether dist/ is current with src/, for the launcher (plain JS: it runs before anything is built).
// In an installed package there is no src/: dist/ is what was published, and nothing is checked.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every `.ts` source (not `.d.ts`) under `dir`. */
function sources(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/**
 * 'missing' when dist/ (or a module of it) is not there, 'stale' when a source is newer than its
 * compiled module, undefined when dist/ is current or there is no src/ to compare with.
 * tsc (not incremental here) rewrites every output on each build, so per-file mtimes suffice.
 */
export function distStaleness(root) {
  const src = join(root, 'src');
  const dist = join(root, 'dist');
  if (!existsSync(src)) return undefined;
  if (!existsSync(join(dist, 'cli', 'main.js'))) return 'missing';
  for (const file of sources(src)) {
    const out = join(dist, relative(src, file).replace(/\.ts$/, '.js'));
    let built;
    try {
      built = statSync(out).mtimeMs;
    } catch {
      return 'stale';
    }
    if (statSync(file).mtimeMs > built) return 'stale';
  }
  return undefined;
}
