/**
 * Worker threads run compiled JavaScript. When this module runs from TypeScript sources (tests
 * under vitest), the worker is taken from the same place in dist/, which `npm run build` fills.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function compiledSibling(moduleUrl: string, file: string): string {
  const here = new URL(file, moduleUrl);
  let path = fileURLToPath(here);
  if (path.endsWith('.ts')) {
    path = path.replace(/[\\/]src[\\/](?!.*[\\/]src[\\/])/, (m) => m.replace('src', 'dist')).replace(/\.ts$/, '.js');
  }
  if (!existsSync(path)) throw new Error(`compiled worker ${path} is missing: run \`npm run build\``);
  return path;
}
