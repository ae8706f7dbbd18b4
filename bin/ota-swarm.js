#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (which `npm ci` runs through `prepare`).
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
