import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCommand, runReport } from '../../src/cli/report-commands.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { appendStepSummary, readReport, renderRunDir } from '../../src/report/render-run.js';
import { writeReport } from '../../src/report/write.js';
import { passingReport, troubledReport } from './fixtures/reports.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ota-render-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('renderRunDir', () => {
  it('writes report.html and junit.xml beside report.json, exactly what the renderers give, and nothing else', async () => {
    const report = troubledReport();
    const run = join(dir, 'run-1');
    await writeReport(report, run);
    const written = await renderRunDir(run);
    expect(written).toEqual({ html: join(run, 'report.html'), junit: join(run, 'junit.xml') });
    const back = await readReport(run);
    expect(back).toEqual(report);
    expect(await readFile(written.html, 'utf8')).toBe(renderHtml(report));
    expect(await readFile(written.junit, 'utf8')).toBe(renderJunit(report));
    expect((await readdir(run)).sort()).toEqual(['junit.xml', 'report.html', 'report.json']);
  });

  it('accepts the path of report.json too, and re-renders over old files', async () => {
    const run = join(dir, 'run-2');
    await writeReport(passingReport(), run);
    await writeFile(join(run, 'report.html'), 'stale');
    const written = await renderRunDir(join(run, 'report.json'));
    expect(written.html).toBe(join(run, 'report.html'));
    expect(await readFile(written.html, 'utf8')).toContain('verdict-passed');
  });

  it('refuses what is not a report with one line naming the file and the field', async () => {
    const bad = join(dir, 'bad');
    await mkdir(bad);
    const r = passingReport() as unknown as Record<string, unknown>;
    delete r['harness'];
    await writeFile(join(bad, 'report.json'), JSON.stringify(r));
    await expect(renderRunDir(bad)).rejects.toThrow(/bad\/report\.json: not an ota-swarm report: harness: expected required property$/);
    await expect(renderRunDir(join(dir, 'missing'))).rejects.toThrow(/missing: no such file or folder/);
    await writeFile(join(bad, 'report.json'), '[1, 2');
    await expect(readReport(bad)).rejects.toThrow(/^[^\n]*report\.json: not JSON \([^\n]*\)$/);
    await writeFile(join(bad, 'report.json'), JSON.stringify({ ...passingReport(), endedBy: 'boredom' }));
    await expect(readReport(bad)).rejects.toThrow(/not an ota-swarm report: endedBy: /);
    expect(await readdir(bad)).toEqual(['report.json']);
  });
});

describe('appendStepSummary', () => {
  it('appends the Markdown summary to $GITHUB_STEP_SUMMARY, after what is there', async () => {
    const file = join(dir, 'summary.md');
    await writeFile(file, '# earlier step\n');
    const r = troubledReport();
    expect(await appendStepSummary(r, { GITHUB_STEP_SUMMARY: file })).toBe(true);
    expect(await appendStepSummary(passingReport(), { GITHUB_STEP_SUMMARY: file })).toBe(true);
    const text = await readFile(file, 'utf8');
    expect(text.startsWith(`# earlier step\n${renderMarkdown(r)}\n`)).toBe(true);
    expect(text).toContain('**FAILED**');
    expect(text).toContain('**PASSED**');
  });

  it('does nothing when the variable is unset or empty', async () => {
    expect(await appendStepSummary(passingReport(), {})).toBe(false);
    expect(await appendStepSummary(passingReport(), { GITHUB_STEP_SUMMARY: '' })).toBe(false);
  });
});

describe('the report command', () => {
  it('renders a run folder: exit 0 and the paths printed', async () => {
    const run = join(dir, 'run-cli');
    await writeReport(passingReport(), run);
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) };
    expect(await runReport({ runDir: run }, io)).toBe(0);
    expect(out.join('')).toBe(`html:  ${join(run, 'report.html')}\njunit: ${join(run, 'junit.xml')}\n`);
    expect(err).toEqual([]);
    expect(await runReport({ runDir: join(dir, 'nowhere') }, io)).toBe(2);
    expect(err).toEqual([`ota-swarm report: ${join(dir, 'nowhere')}: no such file or folder\n`]);
  });

  it('as a yargs command', async () => {
    const run = join(dir, 'run-yargs');
    await writeReport(troubledReport(), run);
    const saved = process.exitCode;
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await yargs(['report', run]).command(reportCommand).strict().parseAsync();
      expect(process.exitCode).toBe(0);
    } finally {
      process.stdout.write = write;
      process.exitCode = saved;
    }
    expect(await readFile(join(run, 'junit.xml'), 'utf8')).toContain('<testsuite name="ota-swarm: rollout-onenet"');
  });
});
