#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by `npm ci` through `prepare`).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('ota-swarm: dist/ is missing; run `npm run build` first');
  } else {
    console.error(`ota-swarm: ${err && err.message ? err.message : err}`);
  }
  process.exit(2);
});
