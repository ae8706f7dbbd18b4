/**
 * `ota-swarm merge DIR... --out DIR`: the shard reports of a fleet spread over machines into one
 * run folder (report.json, report.html, junit.xml, violations.jsonl, finals.jsonl), merged by
 * engine/merge-shards.ts. Each DIR is a run folder, a report.json, or a folder holding one run folder
 * (a shard's `--out`). `--wait` polls, bounded, until every shard's report is there (a merge pod
 * that starts with the shards). Exit 0 when the merged run passed, 1 when it failed (a shard
 * missing or failed included), 2 when the inputs cannot be merged.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { isLogFile, unpackLog } from './framed.js';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { STDIO, type Output } from './report-commands.js';
import { parseDuration } from '../config/units.js';
import { mergeShardReports, MergeInputError, type ShardInput } from '../engine/merge-shards.js';
import { readReport } from '../report/render-run.js';
import { REPORT_FILE } from '../report/write.js';
import { prepareOutDir, makeDirs } from '../report/out-dir.js';
import { saveRun } from '../report/save-run.js';
import { formatSummary } from '../report/console.js';
import { DEVICES_FILE } from '../report/devices-file.js';
import type { Report } from '../report/types.js';

export const MERGE_EXIT = { passed: 0, failed: 1, badInput: 2 } as const;
/** How often `--wait` looks again. */
const POLL_MS = 2000;

export interface MergeArgs {
  dirs: string[];
  out: string;
  shards?: number;
  wait?: string;
}

interface Found extends ShardInput {
  /** The folder the report and its violations.jsonl are in. */
  folder?: string;
}

/** report.json of a shard's folder: the folder's own, or that of the one run folder inside it. */
async function locate(source: string): Promise<{ file: string } | { problem: string }> {
  let info;
  try {
    info = await stat(source);
  } catch {
    return { problem: 'no such file or folder' };
  }
  if (!info.isDirectory()) return { file: source };
  const direct = join(source, REPORT_FILE);
  if (await exists(direct)) return { file: direct };
  const entries = await readdir(source, { withFileTypes: true }).catch(() => []);
  const inside: string[] = [];
  for (const e of entries) if (e.isDirectory() && (await exists(join(source, e.name, REPORT_FILE)))) inside.push(join(source, e.name, REPORT_FILE));
  if (inside.length === 1) return { file: inside[0] as string };
  if (inside.length === 0) return { problem: `no ${REPORT_FILE} in it, nor in a run folder inside it` };
  return { problem: `${inside.length} run folders with a ${REPORT_FILE} inside it: name the one to merge` };
}

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

async function readFound(source: string, file: string): Promise<Found> {
  try {
    return { source, report: await readReport(file), folder: dirname(file) };
  } catch (err) {
    return { source, problem: err instanceof Error ? err.message : String(err) };
  }
}

/** Each source's report: a folder's, or each frame's of a saved log (`run --report-stdout`). */
async function findAll(dirs: readonly string[], unpacked: string[]): Promise<Found[]> {
  const found = await Promise.all(
    dirs.map(async (source): Promise<Found[]> => {
      if (await isLogFile(source)) {
        const frames = await unpackLog(source);
        unpacked.push(...frames.flatMap((f) => ('dir' in f ? [f.dir] : [])));
        return Promise.all(frames.map((f) => ('dir' in f ? readFound(f.source, join(f.dir, REPORT_FILE)) : { source: f.source, problem: f.problem })));
      }
      const where = await locate(source);
      if ('problem' in where) return [{ source, problem: where.problem }];
      return [await readFound(source, where.file)];
    }),
  );
  return found.flat();
}

/** Shard indices found, and how many shards there are (the flag's, else the reports'). */
function complete(found: readonly Found[], shards: number | undefined): boolean {
  const n = shards ?? found.find((f) => f.report?.fleetSlice)?.report?.fleetSlice?.count;
  if (n === undefined) return false;
  const indices = new Set(found.flatMap((f) => (f.report?.fleetSlice ? [f.report.fleetSlice.index] : [])));
  return indices.size >= n;
}

/** Appends each shard's copy of `name` (violations.jsonl) to the merged folder's. */
async function concatenate(found: readonly Found[], name: string, outDir: string): Promise<void> {
  const target = join(outDir, name);
  await writeFile(target, '');
  for (const f of found) {
    if (f.folder === undefined) continue;
    const src = join(f.folder, name);
    if (!(await exists(src))) continue;
    await pipeline(createReadStream(src), createWriteStream(target, { flags: 'a' }));
  }
}

/**
 * finals.jsonl of every shard as one file sorted by device, like a single run's: each shard's file
 * is sorted already, so they are merged a line at a time (memory: one line per shard, whatever the
 * fleet). False when a shard has none.
 */
async function mergeFinals(found: readonly Found[], outDir: string): Promise<boolean> {
  const files: string[] = [];
  for (const f of found) {
    if (f.folder === undefined || f.report?.devicesFile === undefined) return false;
    // A shard whose finals file is gone (its reports fell back elsewhere): no merged file, rather than half of one.
    if (!(await exists(join(f.folder, f.report.devicesFile)))) return false;
    files.push(join(f.folder, f.report.devicesFile));
  }
  const out = createWriteStream(join(outDir, DEVICES_FILE), { encoding: 'utf8' });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => {});
  const readers = files.map((file) => createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })[Symbol.asyncIterator]());
  const heads = new SortedHeads();
  const advance = async (k: number): Promise<void> => {
    for (;;) {
      const next = await (readers[k] as AsyncIterator<string>).next();
      if (next.done === true) return;
      if (next.value === '') continue;
      heads.push({ key: (JSON.parse(next.value) as { device: string }).device, line: next.value, reader: k });
      return;
    }
  };
  await Promise.all(readers.map((_, k) => advance(k)));
  for (let head = heads.pop(); head !== undefined; head = heads.pop()) {
    if (!out.write(`${head.line}\n`)) await Promise.race([once(out, 'drain'), failed]);
    await advance(head.reader);
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return true;
}

interface Head {
  key: string;
  line: string;
  reader: number;
}

/** A binary min-heap of the shards' current lines, by device id. */
class SortedHeads {
  private readonly items: Head[] = [];
  private less(a: Head, b: Head): boolean {
    return a.key < b.key || (a.key === b.key && a.reader < b.reader);
  }
  push(h: Head): void {
    const xs = this.items;
    xs.push(h);
    for (let i = xs.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.less(xs[i] as Head, xs[parent] as Head)) break;
      [xs[i], xs[parent]] = [xs[parent] as Head, xs[i] as Head];
      i = parent;
    }
  }
  pop(): Head | undefined {
    const xs = this.items;
    const top = xs[0];
    const last = xs.pop();
    if (xs.length > 0 && last !== undefined) {
      xs[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < xs.length && this.less(xs[l] as Head, xs[m] as Head)) m = l;
        if (r < xs.length && this.less(xs[r] as Head, xs[m] as Head)) m = r;
        if (m === i) break;
        [xs[i], xs[m]] = [xs[m] as Head, xs[i] as Head];
        i = m;
      }
    }
    return top;
  }
}

function shardTable(report: Report): string {
  const m = report.merged;
  if (m === undefined) return '';
  const lines = m.slices.map((s) => `  shard ${s.index}: ${s.status}${s.source ? ` ${s.source}` : ''}${s.reason ? ` (${s.reason})` : ''}`);
  return `merged ${m.slices.filter((s) => s.status !== 'missing').length} of ${m.shards} shards:\n${lines.join('\n')}\n`;
}

export async function runMerge(a: MergeArgs, io: Output = STDIO): Promise<number> {
  const bad = (why: string): number => {
    io.err(`ota-swarm merge: ${why}\n`);
    return MERGE_EXIT.badInput;
  };
  if (a.shards !== undefined && (!Number.isInteger(a.shards) || a.shards < 1)) return bad('--shards: must be a positive integer');
  const waitMs = a.wait === undefined ? 0 : parseDuration(a.wait);
  if (waitMs === undefined) return bad(`--wait: "${a.wait}" is not a duration (e.g. 90s, 30m)`);
  const outDir = resolve(a.out);
  try {
    await prepareOutDir(dirname(outDir));
  } catch (err) {
    return bad(err instanceof Error ? err.message : String(err));
  }
  const until = Date.now() + waitMs;
  const unpacked: string[] = [];
  try {
    let found = await findAll(a.dirs, unpacked);
    while (!complete(found, a.shards) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, until - Date.now()))));
      await removeAll(unpacked);
      found = await findAll(a.dirs, unpacked);
    }
    return await mergeFound(found, a, outDir, io, bad);
  } finally {
    await removeAll(unpacked);
  }
}

async function removeAll(dirs: string[]): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

async function mergeFound(found: Found[], a: MergeArgs, outDir: string, io: Output, bad: (why: string) => number): Promise<number> {
  let report: Report;
  try {
    report = mergeShardReports(found, a.shards !== undefined ? { shards: a.shards } : {});
  } catch (err) {
    if (err instanceof MergeInputError) return bad(err.message);
    throw err;
  }
  const present = found.filter((f) => f.report !== undefined);
  await makeDirs(outDir);
  if (report.violationsFile !== undefined) await concatenate(present, report.violationsFile, outDir);
  if (await mergeFinals(present, outDir)) report.devicesFile = DEVICES_FILE;
  const saved = await saveRun(report, dirname(outDir), basename(outDir));
  io.out(shardTable(report));
  io.out(`${formatSummary(report, { color: false })}\n`);
  io.out(`report: ${saved.file} (and report.html, junit.xml beside it)\n`);
  if (saved.fallback) io.err(`ota-swarm merge: --out: cannot write ${saved.fallback.wanted} (${saved.fallback.reason}); the reports are in ${saved.dir} instead\n`);
  return report.passed && !saved.fallback ? MERGE_EXIT.passed : MERGE_EXIT.failed;
}

export const mergeCommand: CommandModule<object, MergeArgs> = {
  command: 'merge <dirs..>',
  describe: 'merge the shard reports of a fleet run over several machines (--shard i/N) into one run folder',
  builder: (y: Argv<object>) =>
    y
      .positional('dirs', { type: 'string', array: true, demandOption: true, describe: "shards' run folders (or their --out folders, report.json files, or saved logs of runs with --report-stdout)" })
      .option('out', { type: 'string', demandOption: true, describe: 'the merged run folder (report.json, report.html, junit.xml, violations.jsonl)' })
      .option('shards', { type: 'number', describe: 'how many shards the run had (default: what the reports say); a missing one fails the merge' })
      .option('wait', { type: 'string', describe: "wait up to this long (e.g. 30m) for every shard's report to appear" }) as unknown as Argv<MergeArgs>,
  handler: async (argv: ArgumentsCamelCase<MergeArgs>) => {
    process.exitCode = await runMerge(argv);
  },
};
