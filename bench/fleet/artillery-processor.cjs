// Functions of the Artillery script artillery-ota.yml: the parts of a OneNET device's OTA flow that
// YAML alone cannot say (which device a virtual user is, the next Range, when a progress step is
// due). Kept as close to ota-swarm's device as Artillery allows; unlike it, nothing here verifies
// the bytes (no md5) or reacts to error codes: Artillery follows the happy path.
'use strict';
const os = require('node:os');
const { threadId } = require('node:worker_threads');

const FIRST_DEVICE = Number(process.env.OTA_BENCH_FIRST_DEVICE ?? '522700000');
const CHUNK = Number(process.env.OTA_BENCH_CHUNK ?? 16384);
const PROGRESS_EVERY = 25;
// Artillery runs a local test in max(1, cpus - 1) worker threads (lib/platform/local/index.js),
// created first, so their threadIds are 1..N: each takes every N-th device id, and no two
// virtual users share a device.
const WORKERS = Math.max(1, os.cpus().length - 1);
const ordinal = Math.max(0, threadId - 1) % WORKERS;
let next = 0;

/** A fresh device for this virtual user, and the product-level Authorization (long expiry). */
function assignDevice(context, events, done) {
  context.vars.devId = String(FIRST_DEVICE + next * WORKERS + ordinal);
  next += 1;
  context.vars.authorization = process.env.OTA_BENCH_AUTHORIZATION;
  context.vars.held = 0;
  context.vars.lastStep = 0;
  return done();
}

/** Range of the next chunk, from the bytes held so far (the check answered the size). */
function nextRange(req, context, events, done) {
  const size = Number(context.vars.size);
  const start = context.vars.held;
  const end = Math.min(start + CHUNK, size) - 1;
  req.headers = { ...(req.headers ?? {}), range: `bytes=${start}-${end}` };
  context.vars.held = end + 1;
  return done();
}

/** A progress step is due when the download crossed the next multiple of 25% (below 100). */
function progressDue(vars) {
  const percent = Math.floor((vars.held * 100) / Number(vars.size));
  const step = Math.floor(percent / PROGRESS_EVERY) * PROGRESS_EVERY;
  if (step > vars.lastStep && step < 100) {
    vars.lastStep = step;
    return true;
  }
  return false;
}

function progressBody(req, context, events, done) {
  req.json = { step: context.vars.lastStep };
  return done();
}

function downloadUnfinished(context, done) {
  return done(context.vars.held < Number(context.vars.size));
}

module.exports = { assignDevice, nextRange, progressDue, progressBody, downloadUnfinished };
