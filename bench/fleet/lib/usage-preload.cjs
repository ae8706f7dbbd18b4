// Preloaded into a measured Node process (NODE_OPTIONS=--require this file): on exit, the main
// thread writes its own resource usage (getrusage RUSAGE_SELF: every thread of the process, the
// whole lifetime) to $OTA_BENCH_USAGE_DIR/<pid>.json. This is exact where polling /proc is not:
// a peak or a CPU burst in the last instants before exit is still counted.
'use strict';
const { isMainThread } = require('node:worker_threads');
const dir = process.env.OTA_BENCH_USAGE_DIR;
if (isMainThread && dir) {
  const { writeFileSync, readFileSync } = require('node:fs');
  const { join } = require('node:path');
  process.on('exit', (code) => {
    try {
      const u = process.resourceUsage();
      let vmHwmKiB;
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
        if (m) vmHwmKiB = Number(m[1]);
      } catch {
        // Not Linux: maxRSS alone.
      }
      const usage = { pid: process.pid, ppid: process.ppid, code, userUs: u.userCPUTime, systemUs: u.systemCPUTime, maxRssKiB: u.maxRSS, vmHwmKiB };
      writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(usage));
    } catch {
      // Measurement must never change how the tool exits.
    }
  });
}
