import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCommand, runCompare } from '../../src/cli/report-commands.js';
import { LatencyHistogram } from '../../src/metrics/histogram.js';
import { Rng } from '../../src/random/rng.js';
import { compareReports, formatComparison, parseRegressionBound, percentileInterval, proportionZ, relativeChange, type ComparisonRow } from '../../src/report/compare.js';
import type { Report } from '../../src/report/types.js';
import { passingReport, regressedReport } from './fixtures/reports.js';

const base = passingReport();
const repeat = passingReport({ noiseSeed: 2 });
const regressed = regressedReport();

function find(rows: ComparisonRow[], subject: string, metric: string): ComparisonRow {
  const r = rows.find((x) => x.subject === subject && x.metric === metric);
  if (r === undefined) throw new Error(`no row ${subject} ${metric}`);
  return r;
}

function clone(r: Report): Report {
  return structuredClone(r);
}

/** `r` with operation `op`'s latency made of `count` samples drawn from `sample` (histogram and summary). */
function withLatency(r: Report, op: string, sample: () => number, count: number): Report {
  const out = clone(r);
  const h = new LatencyHistogram();
  for (let i = 0; i < count; i++) h.record(sample());
  const o = out.operations[op]!;
  o.histogram = h.encode();
  o.latencyMs = h.summary();
  return out;
}

describe('compareReports', () => {
  it('the same report twice: every change 0, nothing regressed', () => {
    const c = compareReports(base, clone(base), 0.1);
    expect(c.regressed).toBe(false);
    expect(c.rows.every((r) => r.change === 0 && !r.regressed)).toBe(true);
    // p50, p99, error rate per operation; total and each final state for devices.
    expect(c.rows).toHaveLength(Object.keys(base.operations).length * 3 + 1 + Object.keys(base.devices.byFinalState).length);
  });

  it('a repeat of the same run (same fleet, fresh latency samples) passes the default 10% gate', () => {
    const c = compareReports(base, repeat, 0.1);
    expect(c.rows.some((r) => r.change !== 0)).toBe(true);
    expect(c.rows.filter((r) => r.regressed)).toEqual([]);
  });

  it('a slower, flakier run regresses: latencies, error rates and final states', () => {
    const c = compareReports(base, regressed, 0.1);
    expect(c.regressed).toBe(true);
    for (const op of Object.keys(base.operations)) {
      const p99 = find(c.rows, op, 'p99');
      expect(p99.next).toBeGreaterThan(p99.base);
      expect(p99.regressed).toBe(true);
      expect(find(c.rows, op, 'error rate').regressed).toBe(true);
    }
    expect(find(c.rows, 'devices', 'failed').regressed).toBe(true);
    expect(find(c.rows, 'devices', 'succeeded').regressed).toBe(false);
    // ...until the bound is loose enough for the slowdown (×1.6) and the rest.
    const loose = compareReports(base, regressed, 20);
    expect(loose.regressed).toBe(false);
  });

  it('improvements never regress, even with a zero bound', () => {
    const c = compareReports(regressed, base, 0);
    expect(c.rows.filter((r) => r.regressed && r.subject !== 'devices').map((r) => `${r.subject} ${r.metric}`)).toEqual([]);
    expect(find(c.rows, 'devices', 'failed').regressed).toBe(false);
    expect(find(c.rows, 'devices', 'succeeded').regressed).toBe(false);
  });

  it('latency: past the bound relative and by more than 0.5 ms', () => {
    const at = (ms: number): Report => withLatency(base, 'check', () => ms, 4000);
    const c = (next: Report, b = at(10)): ComparisonRow => find(compareReports(b, next, 0.1).rows, 'check', 'p99');
    expect(c(at(11.2))).toMatchObject({ regressed: true });
    expect(c(at(11.2)).change).toBeCloseTo(0.12, 2);
    expect(find(compareReports(at(10), at(11.2), 0.1).rows, 'check', 'p50').regressed).toBe(true);
    expect(c(at(10.9))).toMatchObject({ regressed: false });
    expect(c(at(10.9)).change).toBeGreaterThan(0.08);
    // Sub-millisecond: 0.4 → 0.8 ms is +100 % but 0.4 ms, which is noise on loopback.
    expect(c(at(0.8), at(0.4))).toMatchObject({ regressed: false });
    expect(c(at(0.8), at(0.4)).change).toBeGreaterThan(0.9);
    expect(c(at(0.95), at(0.4))).toMatchObject({ regressed: true });
  });

  it('latency: a rise within sampling noise is not a regression; the same rise on many samples is', () => {
    const draw = (seed: number, factor: number) => {
      const rng = new Rng(seed, 9);
      return () => factor * 20 * Math.exp(0.5 * Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()));
    };
    const few = find(compareReports(withLatency(base, 'check', draw(1, 1), 300), withLatency(base, 'check', draw(2, 1.15), 300), 0.1).rows, 'check', 'p99');
    expect(few.change).toBeGreaterThan(0.1);
    expect(few.regressed).toBe(false);
    const many = find(compareReports(withLatency(base, 'check', draw(1, 1), 50_000), withLatency(base, 'check', draw(2, 1.15), 50_000), 0.1).rows, 'check', 'p99');
    expect(many.change).toBeGreaterThan(0.1);
    expect(many.regressed).toBe(true);
  });

  it('latency: percentile intervals from the histogram bracket the percentile and narrow with samples', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.record(i / 100);
    const { low, high } = percentileInterval(h, 99);
    expect(low).toBeLessThan(99);
    expect(high).toBeGreaterThan(99);
    // ±1.96·√(10000·0.99·0.01) ≈ ±19.5 ranks of 0.01 ms each.
    // (the histogram keeps 3 significant digits, so values come back up to 0.1 % high).
    expect(low).toBeGreaterThan(98.75);
    expect(low).toBeLessThan(98.9);
    expect(high).toBeGreaterThan(99.15);
    expect(high).toBeLessThan(99.3);
  });

  it('error rate: past the bound relative and by more than 0.1 percentage points', () => {
    const b = clone(base);
    const n = clone(base);
    b.operations['check']!.errors = 0;
    n.operations['check']!.errors = 0;
    const count = b.operations['check']!.count;
    n.operations['check']!.errors = Math.floor(count * 0.0009); // 0 → 0.09 %: noise
    expect(find(compareReports(b, n, 0.1).rows, 'check', 'error rate').regressed).toBe(false);
    expect(find(compareReports(b, n, 0.1).rows, 'check', 'error rate').change).toBe(Infinity);
    n.operations['check']!.errors = Math.ceil(count * 0.02); // 0 → 2 %
    expect(find(compareReports(b, n, 0.1).rows, 'check', 'error rate').regressed).toBe(true);
    b.operations['check']!.errors = Math.ceil(count * 0.019); // 1.9 % → 2 %: +5 %, within 10 %
    expect(find(compareReports(b, n, 0.1).rows, 'check', 'error rate').regressed).toBe(false);
    // 0.5 % → 0.65 %: +30 % and 0.15 points, but on ~4,000 requests that is chance (z < 1).
    b.operations['check']!.errors = Math.round(count * 0.005);
    n.operations['check']!.errors = Math.round(count * 0.0065);
    const noisy = find(compareReports(b, n, 0.1).rows, 'check', 'error rate');
    expect(noisy.change).toBeGreaterThan(0.25);
    expect(noisy.regressed).toBe(false);
    expect(proportionZ(20, 4000, 26, 4000)).toBeLessThan(1);
    expect(proportionZ(0, 4000, 80, 4000)).toBeGreaterThan(8);
    expect(proportionZ(0, 10, 0, 10)).toBe(0);
  });

  it('final states: succeeded down, failure states up by at least one device, judged on fleet shares', () => {
    const b = clone(base);
    b.devices.byFinalState = { succeeded: 1000, failed: 0 };
    b.devices.total = 1000;
    const n = clone(b);
    n.devices.byFinalState = { succeeded: 999, failed: 1 };
    let c = compareReports(b, n, 0.1);
    expect(find(c.rows, 'devices', 'failed').regressed).toBe(true);
    expect(find(c.rows, 'devices', 'succeeded').regressed).toBe(false);
    n.devices.byFinalState = { succeeded: 890, 'gave-up': 110 };
    c = compareReports(b, n, 0.1);
    expect(find(c.rows, 'devices', 'succeeded').regressed).toBe(true);
    expect(find(c.rows, 'devices', 'gave-up').regressed).toBe(true);
    expect(find(c.rows, 'devices', 'failed')).toMatchObject({ base: 0, next: 0, regressed: false });
    // A fleet twice the size with the same shares is not a regression.
    const big = clone(b);
    big.devices = { total: 2000, started: 2000, byFinalState: { succeeded: 1990, failed: 10 } };
    const small = clone(b);
    small.devices = { total: 1000, started: 1000, byFinalState: { succeeded: 995, failed: 5 } };
    c = compareReports(small, big, 0.1);
    expect(c.regressed).toBe(false);
    expect(find(c.rows, 'devices', 'total')).toMatchObject({ base: 1000, next: 2000, regressed: false });
    // States that are neither success nor failure are listed and never regress.
    n.devices.byFinalState = { succeeded: 1000, 'up-to-date': 500 };
    expect(find(compareReports(b, n, 0.1).rows, 'devices', 'up-to-date').regressed).toBe(false);
  });

  it('operations in only one report are listed by count, not judged', () => {
    const n = clone(base);
    delete n.operations['progress'];
    n.operations['extra'] = structuredClone(base.operations['check']!);
    const c = compareReports(base, n, 0.1);
    expect(find(c.rows, 'progress', 'count')).toMatchObject({ next: 0, change: -1, regressed: false });
    expect(find(c.rows, 'extra', 'count')).toMatchObject({ base: 0, change: Infinity, regressed: false });
    expect(c.regressed).toBe(false);
  });

  it('refuses a negative or non-finite bound', () => {
    expect(() => compareReports(base, base, -0.1)).toThrow(RangeError);
    expect(() => compareReports(base, base, Number.NaN)).toThrow(RangeError);
  });
});

describe('parseRegressionBound, relativeChange, formatComparison', () => {
  it('reads percentages and fractions; refuses the ambiguous', () => {
    expect(parseRegressionBound('10%')).toBe(0.1);
    expect(parseRegressionBound(' 2.5 % ')).toBe(0.025);
    expect(parseRegressionBound('0.1')).toBe(0.1);
    expect(parseRegressionBound('0')).toBe(0);
    expect(parseRegressionBound('150%')).toBe(1.5);
    for (const bad of ['10', '-5%', 'ten', '', '1e-1', '%']) expect(parseRegressionBound(bad), bad).toBeUndefined();
  });

  it('relative change', () => {
    expect(relativeChange(0, 0)).toBe(0);
    expect(relativeChange(0, 3)).toBe(Infinity);
    expect(relativeChange(4, 5)).toBe(0.25);
    expect(relativeChange(4, 3)).toBe(-0.25);
  });

  it('prints an aligned table with units and the verdict', () => {
    const c = compareReports(base, regressed, 0.1);
    const out = formatComparison(c);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^subject\s+metric\s+base\s+new\s+change$/);
    const p99 = lines.find((l) => /^check\s+p99\s/.test(l))!;
    expect(p99).toMatch(/ms\s+\S+ms\s+\+\d+%\s+REGRESSED$/);
    expect(lines.find((l) => /^check\s+error rate\s/.test(l))).toMatch(/\d\.\d\d%\s+\d\.\d\d%/);
    expect(lines.at(-1)).toMatch(/^REGRESSED: \d+ figures \(reportVersion p50, reportVersion p99, reportVersion error rate, /);
    expect(formatComparison(compareReports(base, base, 0.1)).trimEnd().split('\n').at(-1)).toBe('no regression');
    const n = clone(base);
    n.devices.byFinalState['\u001b[31mred'] = 1;
    expect(formatComparison(compareReports(base, n, 0.1))).not.toContain('\u001b');
  });
});

describe('the compare command', () => {
  let dir: string;
  let baseDir: string;
  let repeatDir: string;
  let regressedFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ota-compare-'));
    baseDir = join(dir, 'base');
    repeatDir = join(dir, 'repeat');
    await mkdir(baseDir);
    await mkdir(repeatDir);
    await writeFile(join(baseDir, 'report.json'), JSON.stringify(base, null, 2));
    await writeFile(join(repeatDir, 'report.json'), JSON.stringify(repeat, null, 2));
    regressedFile = join(dir, 'regressed.json');
    await writeFile(regressedFile, JSON.stringify(regressed));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function capture(): { io: { out: (t: string) => void; err: (t: string) => void }; out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (t) => void out.push(t), err: (t) => void err.push(t) }, out, err };
  }

  it('exit 1 on a run with a synthetic regression (folder vs report.json path)', async () => {
    const c = capture();
    expect(await runCompare({ base: baseDir, new: regressedFile, 'max-regression': '10%' }, c.io)).toBe(1);
    expect(c.out.join('')).toContain('REGRESSED');
    expect(c.err).toEqual([]);
  });

  it('exit 0 on a repeat of the same run, and on the same run twice', async () => {
    for (const other of [repeatDir, baseDir]) {
      const c = capture();
      expect(await runCompare({ base: baseDir, new: other, 'max-regression': '10%' }, c.io)).toBe(0);
      expect(c.out.join('')).toContain('no regression');
    }
  });

  it('exit 2 with one line for a missing run, a folder without report.json, bad JSON, a non-report, a bad bound', async () => {
    const garbage = join(dir, 'garbage.json');
    await writeFile(garbage, '{"format": 1, "scen');
    const alien = join(dir, 'alien.json');
    const broken = JSON.parse(JSON.stringify(base)) as { operations: { check: { count: unknown } } };
    broken.operations.check.count = 'many';
    await writeFile(alien, JSON.stringify(broken));
    const future = join(dir, 'future.json');
    await writeFile(future, JSON.stringify({ ...base, format: 2 }));
    const cases: [string, string, string, RegExp][] = [
      [join(dir, 'nope'), baseDir, '10%', /nope: no such file or folder/],
      [dir, baseDir, '10%', /no report\.json in this folder/],
      [baseDir, garbage, '10%', /garbage\.json: not JSON/],
      [baseDir, alien, '10%', /alien\.json: not an ota-swarm report: operations\.check\.count: expected number\n$/],
      [baseDir, future, '10%', /future\.json: report format 2 is not supported/],
      [baseDir, baseDir, '10', /--max-regression: "10" is not a share/],
    ];
    for (const [b, n, bound, message] of cases) {
      const c = capture();
      expect(await runCompare({ base: b, new: n, 'max-regression': bound }, c.io)).toBe(2);
      expect(c.err).toHaveLength(1);
      expect(c.err[0]).toMatch(message);
      expect(c.err[0]!.trimEnd().split('\n')).toHaveLength(1);
      expect(c.err[0]).toMatch(/^ota-swarm compare: /);
    }
  });

  it('refuses runs of another scenario or dialect with exit 2 and one line, unless --force', async () => {
    const other = join(dir, 'other.json');
    await writeFile(other, JSON.stringify({ ...base, scenario: 'rollout-luat', dialect: 'luat' }));
    const c = capture();
    expect(await runCompare({ base: baseDir, new: other, 'max-regression': '10%' }, c.io)).toBe(2);
    expect(c.out).toEqual([]);
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toBe(
      `ota-swarm compare: the runs are of different tests (scenario "${base.scenario}" vs "rollout-luat", dialect ${base.dialect} vs luat): refusing to judge one against the other (--force compares them anyway)\n`,
    );
    const sameNameOtherDialect = join(dir, 'other-dialect.json');
    await writeFile(sameNameOtherDialect, JSON.stringify({ ...base, dialect: 'luat' }));
    expect(await runCompare({ base: baseDir, new: sameNameOtherDialect, 'max-regression': '10%' }, capture().io)).toBe(2);
    const forced = capture();
    expect(await runCompare({ base: baseDir, new: other, 'max-regression': '10%', force: true }, forced.io)).toBe(0);
    expect(forced.err.join('')).toMatch(/warning: the runs are of different tests .*compared because of --force/);
    expect(forced.out.join('')).toContain('no regression');
  });

  it('as a yargs command: positional folders, --max-regression, process.exitCode', async () => {
    const saved = process.exitCode;
    const write = process.stdout.write.bind(process.stdout);
    const printed: string[] = [];
    process.stdout.write = ((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const cli = (argv: string[]) => yargs(argv).command(compareCommand).strict().fail((msg, err) => { throw err ?? new Error(msg); }).parseAsync();
      await cli(['compare', baseDir, regressedFile]);
      expect(process.exitCode).toBe(1);
      await cli(['compare', baseDir, repeatDir, '--max-regression', '10%']);
      expect(process.exitCode).toBe(0);
      await cli(['compare', baseDir, regressedFile, '--max-regression', '2000%']);
      expect(process.exitCode).toBe(0);
      expect(printed.join('')).toContain('bound 2000%');
    } finally {
      process.stdout.write = write;
      process.exitCode = saved;
    }
  });
});
