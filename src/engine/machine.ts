/**
 * The machine's figures a run is planned against (./capacity.ts decides with them): the cores,
 * and the memory this process may use: the smaller of the physical memory and a cgroup limit
 * (v2 `memory.max`, v1 `memory.limit_in_bytes`) when one can be read, as in a container.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import type { MachineFacts } from './capacity.js';

const CGROUP_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

/** A cgroup limit file's bytes; undefined for `max`, an unlimited v1 value, or anything else. */
export function parseCgroupLimit(text: string, physical: number): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  // v1 writes a page-rounded 2^63 for "no limit"; anything at or above the physical memory limits nothing.
  return Number.isSafeInteger(n) && n > 0 && n < physical ? n : undefined;
}

export function machineFacts(read: (file: string) => string = (f) => readFileSync(f, 'utf8')): MachineFacts {
  const physical = totalmem();
  let memory = { bytes: physical, source: 'os.totalmem' };
  for (const file of CGROUP_FILES) {
    let text: string;
    try {
      text = read(file);
    } catch {
      continue;
    }
    const limit = parseCgroupLimit(text, physical);
    if (limit !== undefined && limit < memory.bytes) memory = { bytes: limit, source: `cgroup ${file}` };
  }
  return { cores: availableParallelism(), memory };
}
