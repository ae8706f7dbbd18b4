/**
 * Where a run's reports go: the folder is made sure of before the run (a file in the way, or a
 * place that cannot hold folders such as /proc, is refused at once, never spun on), and when
 * writing fails at the end the reports go to a fallback folder that the result names.
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { makeDirs, prepareOutDir } from '../../src/report/out-dir.js';
import { saveRun } from '../../src/report/save-run.js';
import { sampleReport } from './fixture.js';

const root = mkdtempSync(join(tmpdir(), 'ota-save-run-'));
const onLinux = process.platform === 'linux' && existsSync('/proc/self');

describe('makeDirs', () => {
  it('creates missing parents and accepts a folder that is there', async () => {
    const deep = join(root, 'a', 'b', 'c');
    await makeDirs(deep);
    await makeDirs(deep);
    expect(existsSync(deep)).toBe(true);
  });

  it('refuses a file in the way with ENOTDIR', async () => {
    const file = join(root, 'plain-file');
    writeFileSync(file, 'x');
    await expect(makeDirs(join(file, 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(makeDirs(file)).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  // Node's recursive mkdir never returns here (it retries ENOENT forever); one mkdir a level does.
  it.runIf(onLinux)('returns an error under /proc instead of spinning', async () => {
    await expect(makeDirs('/proc/ota-swarm-test/run')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('prepareOutDir', () => {
  it('creates the folder and leaves no probe file behind', async () => {
    const out = join(root, 'fresh', 'reports');
    await prepareOutDir(out);
    expect(readdirSync(out)).toEqual([]);
  });

  it('a file as --out: one line naming --out', async () => {
    const file = join(root, 'out-is-a-file');
    writeFileSync(file, 'x');
    const err = await prepareOutDir(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`--out: ${file}: a file is in the way (not a folder)`);
  });

  it.runIf(onLinux)('under /proc: one line naming --out, no spin', async () => {
    const err = await prepareOutDir('/proc/ota-swarm-test').catch((e: unknown) => e);
    expect((err as Error).message).toBe('--out: /proc/ota-swarm-test: cannot create or write a folder there (ENOENT)');
  });

  it('names the option it checks for the programmatic API', async () => {
    const file = join(root, 'api-out-file');
    writeFileSync(file, 'x');
    await expect(prepareOutDir(file, 'outDir')).rejects.toThrow(/^outDir: /);
  });
});

describe('saveRun', () => {
  it('writes report.json, report.html and junit.xml in <out>/<run folder>', async () => {
    const out = join(root, 'ok');
    const saved = await saveRun(sampleReport(), out, 'demo', join(root, 'unused-fallback'));
    expect(saved.fallback).toBeUndefined();
    expect(saved.dir.startsWith(out)).toBe(true);
    expect(readdirSync(saved.dir).sort()).toEqual(['junit.xml', 'report.html', 'report.json']);
  });

  it('when the folder cannot be written at the end, writes to the fallback and says where and why', async () => {
    const blocked = join(root, 'became-a-file');
    writeFileSync(blocked, 'x');
    const fallbackRoot = join(root, 'fallback');
    const saved = await saveRun(sampleReport(), blocked, 'demo', fallbackRoot);
    expect(saved.fallback).toEqual({ wanted: expect.stringContaining(blocked) as string, reason: 'ENOTDIR' });
    expect(saved.dir.startsWith(join(fallbackRoot, 'ota-swarm-'))).toBe(true);
    expect(readdirSync(saved.dir).sort()).toEqual(['junit.xml', 'report.html', 'report.json']);
  });

  it('when neither can be written: one error naming both', async () => {
    const blocked = join(root, 'blocked-2');
    writeFileSync(blocked, 'x');
    await expect(saveRun(sampleReport(), blocked, 'demo', blocked)).rejects.toThrow(/^report not written: .*blocked-2.* \(ENOTDIR\), nor .*blocked-2.* \(ENOTDIR\)$/);
  });
});
