import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/metrics/histogram.js';
import { runDirName, writeReport } from '../../src/report/write.js';
import { sampleReport } from './fixture.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ota-report-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeReport', () => {
  it('creates the folder and writes JSON that reads back as the same report', async () => {
    const report = sampleReport();
    const dir = join(root, 'reports', runDirName(report.scenario, new Date(report.startedAt)));
    const path = await writeReport(report, dir);
    expect(path).toBe(join(dir, 'report.json'));
    const text = await readFile(path, 'utf8');
    expect(text.startsWith('{\n  "format": 1,')).toBe(true);
    expect(JSON.parse(text)).toEqual(report);
    // The histograms in the file still decode to the counts.
    const back = JSON.parse(text) as typeof report;
    expect(LatencyHistogram.decode(back.operations['check']!.histogram).count).toBe(1000);
    expect(await readdir(dir)).toEqual(['report.json']);
  });

  it('replaces an existing report whole', async () => {
    const dir = join(root, 'run');
    await mkdir(dir);
    await writeFile(join(dir, 'report.json'), 'old and much longer than nothing '.repeat(1000));
    const report = sampleReport({ passed: false });
    await writeReport(report, dir);
    expect(JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'))).toEqual(report);
    expect(await readdir(dir)).toEqual(['report.json']);
  });

  it('refuses a report with a number JSON cannot hold, naming the field, and writes nothing', async () => {
    const report = sampleReport();
    report.operations['check']!.latencyMs.p99 = Number.NaN;
    const dir = join(root, 'bad');
    await expect(writeReport(report, dir)).rejects.toThrow('report.operations.check.latencyMs.p99 is NaN');
    await expect(readdir(dir)).rejects.toThrow();
  });
});

describe('runDirName', () => {
  it('is the UTC start to the second and the scenario name', () => {
    expect(runDirName('rollout-onenet', new Date('2026-11-25T19:04:10.789Z'))).toBe('2026-11-25T19-04-10Z-rollout-onenet');
  });

  it('makes any name filesystem-safe', () => {
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(runDirName('Rollout / OneNET: 50%!', at)).toBe('2026-01-02T03-04-05Z-Rollout-OneNET-50');
    expect(runDirName('../../etc/passwd', at)).toBe('2026-01-02T03-04-05Z-etc-passwd');
    expect(runDirName('', at)).toBe('2026-01-02T03-04-05Z-run');
    expect(runDirName('..', at)).toBe('2026-01-02T03-04-05Z-run');
    expect(runDirName('x'.repeat(500), at)).toHaveLength('2026-01-02T03-04-05Z-'.length + 64);
    for (const name of ['a:b', 'a\\b', 'a\u0000b', 'ü ñ', '<>|?*"']) expect(runDirName(name, at)).toMatch(/^[A-Za-z0-9TZ._-]+$/);
  });

  it('rejects an invalid date', () => {
    expect(() => runDirName('x', new Date('nope'))).toThrow(RangeError);
  });
});
