import { describe, expect, it } from 'vitest';
import { combineStatus, mergeShardReports, MergeInputError, MISSING_SHARD_STATE, type ShardInput } from '../../src/engine/merge-shards.js';
import { LagRecorder, OperationRecorder, harnessReport, operationsReport } from '../../src/metrics/recorder.js';
import { LatencyHistogram } from '../../src/metrics/histogram.js';
import type { Report, VerdictReport } from '../../src/report/types.js';
import { sampleReport } from '../report/fixture.js';
import { formatSummary } from '../../src/report/console.js';
import { renderHtml } from '../../src/report/html.js';

/** Shard i of n: its own latencies (i ms more each), succeeded/failed counts and verdicts. */
function shard(i: number, n: number, over: Partial<Report> = {}): Report {
  const rec = new OperationRecorder();
  for (let k = 0; k < 100; k++) rec.record('check', k < 2 ? 'http:503' : 'errno:0', k < 2, 0, 0, 10 + k + i * 50);
  const operations = operationsReport(rec.snapshot());
  const lag = new LagRecorder();
  lag.recordEventLoopLag(1 + i);
  lag.recordScheduleLag(2 + i);
  const harness = harnessReport(lag.snapshot(), 2, operations);
  const snap = lag.snapshot();
  harness.lagHistograms = { eventLoop: snap.eventLoop, schedule: snap.schedule };
  const verdict = (v: Partial<VerdictReport>): VerdictReport => ({ rule: 'own-token', description: 'each device uses its own token', status: 'judged', checked: 25, violations: 0, samples: [], ...v });
  return sampleReport({
    fleetSlice: { index: i, count: n, devices: 25, fleetDevices: 25 * n },
    devices: { total: 25, byFinalState: { succeeded: 24, failed: 1 }, started: 25 },
    operations,
    harness,
    transitions: { checked: 25, violations: 0, byRule: {}, unfinished: 0, samples: [] },
    expectations: [
      { name: 'devices.succeeded >= 95%', passed: true, detail: '' },
      { name: 'devices.total == 25', passed: true, detail: '' },
      { name: 'check.count == 100', passed: true, detail: '' },
    ],
    verdicts: [verdict({}), verdict({ rule: 'coap-retransmit', status: 'not-judged', reason: 'no CoAP device', checked: 0 })],
    timeseries: {
      real: { bucketSeconds: 1, t: [0, 1], requests: [10, 5], errors: [0, 1], arrivals: [20, 5] },
      virtual: { bucketSeconds: 60, t: [0, 60], requests: [10, 5], errors: [0, 1], arrivals: [20, 5] },
      states: { t: [0, 1], byCategory: { asleep: [5, 0], succeeded: [20, 25] } },
    },
    ...over,
  });
}
const inputs = (reports: Report[]): ShardInput[] => reports.map((report, i) => ({ source: `shard-${i}`, report }));

describe('merging shard reports', () => {
  it('sums counts and adds histograms, so the merged percentiles are those of every sample', () => {
    const shards = [0, 1, 2, 3].map((i) => shard(i, 4));
    const m = mergeShardReports(inputs(shards));
    expect(m.devices).toEqual({ total: 100, byFinalState: { succeeded: 96, failed: 4 }, started: 100 });
    const check = m.operations['check']!;
    expect(check.count).toBe(400);
    expect(check.errors).toBe(8);
    expect(check.byOutcome).toEqual({ 'errno:0': 392, 'http:503': 8 });
    const all = new LatencyHistogram();
    for (let i = 0; i < 4; i++) for (let k = 0; k < 100; k++) all.record(10 + k + i * 50);
    expect(check.latencyMs).toEqual(all.summary());
    // Not the mean of the shards' p99s (which would be about 184 ms): the fleet's is 259 ms.
    expect(check.latencyMs.p99).toBeGreaterThan(250);
    expect(m.harness.workers).toBe(8);
    expect(m.harness.eventLoopLagMs.max).toBeCloseTo(4, 1);
    expect(m.harness.lagHistograms).toBeDefined();
    expect(m.merged?.slices.map((s) => s.status)).toEqual(['merged', 'merged', 'merged', 'merged']);
    expect(m.errors).toEqual([]);
    expect(m.endedBy).toBe('completed');
  });

  it('judges the expectations again on the merged figures', () => {
    const m = mergeShardReports(inputs([0, 1].map((i) => shard(i, 2))));
    expect(m.expectations.map((e) => [e.name, e.passed])).toEqual([
      ['devices.succeeded >= 95%', true],
      ['devices.total == 25', false],
      ['check.count == 100', false],
    ]);
    expect(m.expectations[1]?.detail).toBe('devices.total = 50 (bound == 25)');
    expect(m.passed).toBe(false);
  });

  it('aligns time series by bucket, shifting a shard that started later', () => {
    const late = shard(1, 2, { startedAt: '2026-11-25T19:04:12.000Z', virtualStartMs: 1_795_633_450_300 + 120_000 });
    const m = mergeShardReports(inputs([shard(0, 2), late]));
    expect(m.timeseries?.real.requests).toEqual([10, 5, 10, 5]);
    expect(m.timeseries?.virtual.arrivals).toEqual([20, 5, 20, 5]);
    expect(m.timeseries?.virtual.t).toEqual([0, 60, 120, 180]);
    // Before its first sample the late shard counts as its first picture, after its last as its last.
    expect(m.timeseries?.states.byCategory['succeeded']).toEqual([40, 45, 45, 50]);
  });

  it('keeps a rule not judged on one shard visible: partly judged, naming the shard', () => {
    const odd = shard(1, 3, { verdicts: [{ rule: 'own-token', description: 'x', status: 'not-judged', reason: 'no token was issued', checked: 0, violations: 0, samples: [] }] });
    const m = mergeShardReports(inputs([shard(0, 3), odd, shard(2, 3)]));
    const own = m.verdicts?.find((v) => v.rule === 'own-token');
    expect(own).toMatchObject({ status: 'partly-judged', reason: 'shard 1 not judged (no token was issued)', checked: 50 });
    const coap = m.verdicts?.find((v) => v.rule === 'coap-retransmit');
    expect(coap).toMatchObject({ status: 'not-judged', reason: 'shards 0, 2 not judged (no CoAP device); shard 1 not judged (the rule is absent from this shard\'s report)' });
  });

  it('combines statuses', () => {
    expect(combineStatus([{ index: 0, status: 'judged' }, { index: 1, status: 'judged' }])).toEqual({ status: 'judged' });
    expect(combineStatus([{ index: 0, status: 'partly-judged', reason: 'r' }, { index: 1, status: 'partly-judged', reason: 'r' }])).toEqual({ status: 'partly-judged', reason: 'r' });
    expect(combineStatus([{ index: 0, status: 'not-judged', reason: 'r' }, { index: 1, status: 'not-judged', reason: 'r' }])).toEqual({ status: 'not-judged', reason: 'on every shard: r' });
    expect(combineStatus([{ index: 0, status: 'judged' }], ['shard 1 missing'])).toEqual({ status: 'partly-judged', reason: 'shard 1 missing' });
    expect(combineStatus([{ index: 0, status: 'not-judged', reason: 'r' }], ['shard 1 missing'])).toEqual({ status: 'partly-judged', reason: 'on every shard: not judged (r); shard 1 missing' });
  });

  it('fails a merge with a shard missing, a shard failed and a folder unreadable, and says which', () => {
    const failed = shard(1, 4, { errors: ['worker 0 died: injected fault'], endedBy: 'error' });
    const m = mergeShardReports([...inputs([shard(0, 4), failed]), { source: 'shard-x', problem: 'no report.json in it' }], {});
    expect(m.passed).toBe(false);
    expect(m.endedBy).toBe('error');
    expect(m.merged?.slices.map((s) => [s.index, s.status])).toEqual([[0, 'merged'], [1, 'failed'], [2, 'missing'], [3, 'missing']]);
    expect(m.errors).toEqual([
      'shard 1 of 4 (shard-1) failed: worker 0 died: injected fault',
      `shard 2 of 4: no report (missing, or its folder had none): its 25 devices are counted ${MISSING_SHARD_STATE}`,
      `shard 3 of 4: no report (missing, or its folder had none): its 25 devices are counted ${MISSING_SHARD_STATE}`,
      'shard-x: no report.json in it',
      'shard 1: worker 0 died: injected fault',
    ]);
    // The failed shard's figures are still merged (no late data dropped); the missing ones' devices are counted as such.
    expect(m.devices.byFinalState).toEqual({ succeeded: 48, failed: 2, [MISSING_SHARD_STATE]: 50 });
    expect(m.devices.total).toBe(100);
    expect(m.verdicts?.find((v) => v.rule === 'own-token')).toMatchObject({ status: 'partly-judged', reason: 'shard 2 missing: its devices were not judged; shard 3 missing: its devices were not judged' });
    const text = formatSummary(m);
    expect(text).toContain('shards    1 of 4 merged (1 failed, 2 missing, 3 missing)');
    expect(text).toContain('FAILED');
    expect(formatSummary(shard(1, 4))).toContain('shard     1/4: 25 of 100 devices (the fleet\'s verdict: ota-swarm merge)');
    expect(renderHtml(m)).toContain('shards: <b>1 of 4 merged (1 failed, 2 missing, 3 missing)</b>');
  });

  it('refuses inputs that are not shards of one run', () => {
    expect(() => mergeShardReports([])).toThrow(MergeInputError);
    expect(() => mergeShardReports(inputs([sampleReport()]))).toThrow(/shard-0: not a shard report/);
    expect(() => mergeShardReports(inputs([shard(0, 2), shard(1, 2, { seed: 7 })]))).toThrow(/shard-0 and shard-1 are not shards of one run: seed 42 vs 7/);
    expect(() => mergeShardReports(inputs([shard(0, 2), shard(1, 3)]))).toThrow(/2 shards vs 3/);
    expect(() => mergeShardReports(inputs([shard(0, 2), shard(0, 2)]))).toThrow(/shard 0 is given twice: shard-0 and shard-1/);
    expect(() => mergeShardReports(inputs([shard(0, 2)]), { shards: 3 })).toThrow(/--shards 3: the reports are shards of 2/);
  });
});
