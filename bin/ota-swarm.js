#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (which `npm ci` runs through `prepare`).
// In a clone, a dist/ that is missing or older than src/ is built first, in one announced step, so a
// first run is not silent for half a minute and a run after a pull never uses stale code; when dist/
// is current nothing is built.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { distStaleness } from './dist-freshness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const staleness = distStaleness(root);
if (staleness !== undefined) {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    tsc = undefined;
  }
  if (tsc === undefined) {
    if (staleness === 'missing') {
      console.error('ota-swarm: dist/ is missing and TypeScript is not installed; run `npm ci` (or `npm run build`) first');
      process.exit(2);
    }
    console.error('ota-swarm: dist/ is older than src/ and TypeScript is not installed to rebuild it; running the old build (`npm run build` to refresh)');
  } else {
    console.error(`ota-swarm: building dist/ (${staleness === 'missing' ? 'first run' : 'src/ changed since the last build'}) ...`);
    // tsc writes its errors to stdout: send them to stderr, where the CLI's own errors go.
    const built = spawnSync(process.execPath, [tsc, '-p', fileURLToPath(new URL('../tsconfig.json', import.meta.url))], { cwd: root, stdio: ['ignore', 2, 2] });
    if (built.status !== 0) {
      console.error('ota-swarm: the build failed (errors above); fix them or run `npm run build`');
      process.exit(1);
    }
  }
}

let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (err) {
  const missing = err && err.code === 'ERR_MODULE_NOT_FOUND';
  console.error(missing ? 'ota-swarm: dist/ is missing; run `npm run build` first' : `ota-swarm: ${err && err.message ? err.message : err}`);
  process.exit(2);
}
const code = await cli.main();
// Worker pools and sockets are closed by then; exit explicitly so a stray handle cannot hold the CLI.
process.exit(code);
