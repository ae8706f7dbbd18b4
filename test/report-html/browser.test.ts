/**
 * report.html in a real browser: Debian's Chromium, headless, driven by playwright-core. The page
 * must load with no console error, fetch nothing, and every chart must have drawn its data. With
 * SCREENSHOT=1 it also writes docs/report-screenshot.png (the README's picture).
 *
 * Skipped only on a machine without /usr/bin/chromium outside CI; in CI (CI set) a missing
 * Chromium fails the test, so the check cannot silently vanish.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRunDir } from '../../src/report/render-run.js';
import type { Report } from '../../src/report/types.js';
import { writeReport } from '../../src/report/write.js';
import { buildReport, emptyReport, passingReport, troubledReport } from './fixtures/reports.js';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = !existsSync(CHROMIUM) && !process.env['CI'];
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCREENSHOT = join(ROOT, 'docs', 'report-screenshot.png');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface DrawnChart {
  id: string;
  kind: string;
  series: number;
  points: number;
  colors: string[];
}

/** What the page's script exposes, typed here without the DOM library (the tests run in Node). */
interface Plot {
  ctx: { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
  bbox: { left: number; top: number; width: number; height: number };
}
interface PageGlobals {
  __charts: DrawnChart[];
  __uplot: Record<string, Plot>;
  uPlot: new (options: unknown, data: unknown, target: unknown) => Plot;
  document: { createElement(tag: string): { id: string }; body: { appendChild(node: unknown): void } };
}

interface Loaded {
  page: Page;
  problems: string[];
  requests: string[];
  dialogs: string[];
}

describe.skipIf(SKIP)('report.html in headless Chromium', () => {
  let dir: string;
  let context: BrowserContext;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ota-browser-'));
    // A fresh profile (user data dir) per run: playwright passes it as --user-data-dir.
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
      deviceScaleFactor: 1,
      offline: true,
    });
  });

  afterAll(async () => {
    await context?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes the report as a run folder, renders it as the CLI does, and opens report.html. */
  async function open(report: Report, name: string): Promise<Loaded> {
    const run = join(dir, name);
    await writeReport(report, run);
    const { html } = await renderRunDir(run);
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    await page.waitForFunction(() => Array.isArray((globalThis as unknown as Partial<PageGlobals>).__charts));
    return { page, problems, requests, dialogs };
  }

  /**
   * Pixels of the chart's plotting area (its canvas, inside the axes) that have one of its series'
   * colours: the data drawn, not the axes or grid (which are grey).
   */
  async function dataPixels(page: Page, id: string): Promise<number> {
    return page.evaluate((chartId) => {
      const w = globalThis as unknown as PageGlobals;
      const u = w.__uplot[chartId]!;
      const colors = w.__charts.find((c) => c.id === chartId)!.colors.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
      const { left, top, width, height } = u.bbox;
      const px = u.ctx.getImageData(Math.round(left), Math.round(top), Math.round(width), Math.round(height)).data;
      let hits = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3]! < 200) continue;
        if (colors.some(([r, g, b]) => Math.abs(px[i]! - r!) + Math.abs(px[i + 1]! - g!) + Math.abs(px[i + 2]! - b!) < 40)) hits++;
      }
      return hits;
    }, id);
  }

  it('the troubled report: no console error, nothing fetched, every chart drew its data', async () => {
    const report = troubledReport();
    const { page, problems, requests, dialogs } = await open(report, 'troubled');
    expect(problems).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:'))).toEqual([]);
    expect(requests.filter((u) => u.startsWith('file://'))).toHaveLength(1);

    const charts = await page.evaluate(() => (globalThis as unknown as PageGlobals).__charts);
    const containers = await page.$$eval('div.chart', (els) => els.map((e) => e.id));
    expect(charts.map((c) => c.id)).toEqual(containers);
    expect(charts).toHaveLength(Object.keys(report.operations).length + 3);
    expect(charts.filter((c) => c.kind === 'latency')).toHaveLength(Object.keys(report.operations).length);
    for (const c of charts) {
      expect(c.series, c.id).toBeGreaterThan(0);
      expect(c.points, c.id).toBeGreaterThan(10);
      expect(await dataPixels(page, c.id), c.id).toBeGreaterThan(150);
    }
    // Each chart's canvas is inside its container and has a size.
    const sizes = await page.$$eval('div.chart canvas', (els) => els.map((e) => [(e as unknown as { width: number }).width, (e as unknown as { height: number }).height]));
    expect(sizes).toHaveLength(charts.length);
    for (const [w, h] of sizes) {
      expect(w).toBeGreaterThan(300);
      expect(h).toBeGreaterThan(100);
    }
    expect(await page.locator('#verdict .verdict-label').textContent()).toBe('FAILED');
    expect(await page.locator('#bottleneck').isVisible()).toBe(true);

    if (process.env['SCREENSHOT'] === '1') {
      await mkdir(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }
    await page.close();
  });

  it('the pixel check sees an empty chart as empty (so it can fail)', async () => {
    const { page } = await open(passingReport({ timeseries: false }), 'probe');
    const hits = await page.evaluate(() => {
      const w = globalThis as unknown as PageGlobals;
      const el = w.document.createElement('div');
      el.id = 'probe';
      w.document.body.appendChild(el);
      const u = new w.uPlot({ width: 600, height: 240, scales: { x: { time: false } }, series: [{}, { stroke: '#1f6fd1' }] }, [[1, 2, 3], [null, null, null]], el);
      w.__uplot['probe'] = u;
      w.__charts.push({ id: 'probe', kind: 'probe', series: 1, points: 0, colors: ['#1f6fd1'] });
      return true;
    });
    expect(hits).toBe(true);
    expect(await dataPixels(page, 'probe')).toBe(0);
    await page.close();
  });

  it('a report without time series and one without operations load cleanly', async () => {
    for (const [name, report, expected] of [
      ['no-series', passingReport({ timeseries: false }), 5],
      ['empty', emptyReport(), 0],
    ] as const) {
      const { page, problems } = await open(report, name);
      expect(problems, name).toEqual([]);
      const charts = await page.evaluate(() => (globalThis as unknown as PageGlobals).__charts);
      expect(charts, name).toHaveLength(expected);
      for (const c of charts) expect(await dataPixels(page, c.id), `${name} ${c.id}`).toBeGreaterThan(150);
      await page.close();
    }
  });

  it('hostile text from the server runs nothing: no dialog, no extra element, text shown as text', async () => {
    const { page, problems, dialogs } = await open(buildReport({ hostile: true, troubled: true }), 'hostile');
    expect(problems).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(3);
    expect(await page.locator('h1').textContent()).toBe('ota-swarm · rollout</script><script>alert(2)</script>');
    expect(await page.locator('details.violation summary code').first().textContent()).toBe('<img src=x onerror="alert(1)">&dev');
    await page.close();
  });
});
