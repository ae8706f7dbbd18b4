import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMerge, type MergeArgs } from '../../src/cli/merge-command.js';
import type { Report } from '../../src/report/types.js';
import { sampleReport } from '../report/fixture.js';
import { frameRun } from '../../src/report/frame.js';

const shard = (index: number, count: number, over: Partial<Report> = {}): Report =>
  sampleReport({ fleetSlice: { index, count, devices: 500, fleetDevices: 500 * count }, devices: { total: 500, byFinalState: { succeeded: 490, failed: 10 }, started: 500 }, expectations: [{ name: 'devices.succeeded >= 95%', passed: true, detail: '' }], ...over });

/** A shard's --out folder: one run folder inside, with report.json (and finals.jsonl when given). */
function writeShardOut(root: string, r: Report, finals?: string[]): string {
  const out = join(root, `shard-${r.fleetSlice?.index ?? 'x'}`);
  const run = join(out, '2026-12-01T13-00-00Z-rollout-onenet');
  mkdirSync(run, { recursive: true });
  if (finals) {
    r.devicesFile = 'finals.jsonl';
    writeFileSync(join(run, 'finals.jsonl'), finals.map((id) => `{"device":"${id}","state":"succeeded"}\n`).join(''));
  }
  writeFileSync(join(run, 'report.json'), JSON.stringify(r));
  return out;
}

async function merge(a: Partial<MergeArgs> & { dirs: string[]; out: string }): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runMerge(a, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('ota-swarm merge (the command)', () => {
  it('reads each shard\'s --out folder, merges finals.jsonl in device order and writes every output', async () => {
    const root = mkdtempSync(join(tmpdir(), 'merge-cmd-'));
    const a = writeShardOut(root, shard(0, 2), ['100', '102', '104']);
    const b = writeShardOut(root, shard(1, 2), ['101', '103']);
    const r = await merge({ dirs: [a, b], out: join(root, 'merged') });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('merged 2 of 2 shards');
    const finals = readFileSync(join(root, 'merged', 'finals.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { device: string }).device);
    expect(finals).toEqual(['100', '101', '102', '103', '104']);
    for (const f of ['report.json', 'report.html', 'junit.xml']) expect(readFileSync(join(root, 'merged', f), 'utf8').length).toBeGreaterThan(0);
    const merged = JSON.parse(readFileSync(join(root, 'merged', 'report.json'), 'utf8')) as Report;
    expect(merged.devicesFile).toBe('finals.jsonl');
    expect(merged.devices.total).toBe(1000);
  });

  it('waits, bounded, for a shard whose report comes late', async () => {
    const root = mkdtempSync(join(tmpdir(), 'merge-cmd-'));
    const a = writeShardOut(root, shard(0, 2));
    const late = join(root, 'shard-1');
    setTimeout(() => writeShardOut(root, shard(1, 2)), 300);
    const t0 = Date.now();
    const r = await merge({ dirs: [a, late], out: join(root, 'merged'), wait: '20s' });
    expect(r.code, r.err).toBe(0);
    expect(Date.now() - t0).toBeLessThan(20_000);
    // And gives up at its bound, failing the merge with the shard named.
    const never = await merge({ dirs: [a, join(root, 'shard-9')], out: join(root, 'merged-2'), wait: '1s', shards: 2 });
    expect(never.code).toBe(1);
    expect(never.out).toMatch(/shard 1: missing/);
    expect(never.out).toMatch(/shard-9: no such file or folder/);
  });

  it('names a folder with two run folders, and refuses inputs that are not shards of one run (exit 2)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'merge-cmd-'));
    const a = writeShardOut(root, shard(0, 2));
    mkdirSync(join(a, 'another-run'));
    writeFileSync(join(a, 'another-run', 'report.json'), JSON.stringify(shard(0, 2)));
    const b = writeShardOut(root, shard(1, 2));
    const two = await merge({ dirs: [a, b], out: join(root, 'merged') });
    expect(two.code).toBe(1);
    expect(two.out).toMatch(/2 run folders with a report\.json inside it: name the one to merge/);
    const other = await merge({ dirs: [b, writeShardOut(mkdtempSync(join(tmpdir(), 'merge-cmd-')), shard(0, 2, { scenario: 'other' }))], out: join(root, 'm') });
    expect(other).toMatchObject({ code: 2, err: expect.stringMatching(/^ota-swarm merge: .* are not shards of one run: scenario "rollout-onenet" vs "other"\n$/) });
    expect((await merge({ dirs: [b], out: join(root, 'm'), shards: 0 })).err).toBe('ota-swarm merge: --shards: must be a positive integer\n');
    expect((await merge({ dirs: [b], out: join(root, 'm'), wait: 'later' })).err).toBe('ota-swarm merge: --wait: "later" is not a duration (e.g. 90s, 30m)\n');
  });

  it('reads the shards from saved logs of runs with --report-stdout, and names a log cut short', async () => {
    const root = mkdtempSync(join(tmpdir(), 'merge-cmd-'));
    const frame = (r: Report, finals: string[]): string => frameRun({ 'report.json': JSON.stringify({ ...r, devicesFile: 'finals.jsonl' }), 'finals.jsonl': finals.map((id) => `{"device":"${id}","state":"succeeded"}\n`).join('') });
    const log = join(root, 'shards.log');
    writeFileSync(log, `ota-swarm · shard 0\n${frame(shard(0, 2), ['1', '3'])}ota-swarm · shard 1\n${frame(shard(1, 2), ['2'])}`);
    const r = await merge({ dirs: [log], out: join(root, 'merged') });
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toContain(`shard 0: merged ${log}#1`);
    expect(readFileSync(join(root, 'merged', 'finals.jsonl'), 'utf8')).toBe(['1', '2', '3'].map((id) => `{"device":"${id}","state":"succeeded"}\n`).join(''));
    const cut = join(root, 'cut.log');
    writeFileSync(cut, frame(shard(1, 2), ['2']).split('\n').slice(0, 2).join('\n'));
    const broken = await merge({ dirs: [log.replace('shards.log', 'none.log'), cut], out: join(root, 'merged-2'), shards: 2 });
    expect(broken.code).toBe(2);
    expect(broken.err).toMatch(/no shard report was found/);
    const half = join(root, 'half.log');
    writeFileSync(half, frame(shard(0, 2), ['1']) + frame(shard(1, 2), ['2']).split('\n').slice(0, 2).join('\n'));
    const partly = await merge({ dirs: [half], out: join(root, 'merged-3') });
    expect(partly.code).toBe(1);
    expect(partly.out).toMatch(/half\.log#2: frame at line \d+: no end marker \(the log was cut short\)/);
    expect(partly.out).toMatch(/shard 1: missing/);
  });
});
