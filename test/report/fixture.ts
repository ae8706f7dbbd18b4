/** A realistic Report built from real recorders, for the console and writer tests. */
import { LagRecorder, OperationRecorder, harnessReport, operationsReport } from '../../src/metrics/recorder.js';
import { Rng } from '../../src/random/rng.js';
import type { Report } from '../../src/report/types.js';

export function sampleReport(overrides: Partial<Report> = {}): Report {
  const rec = new OperationRecorder();
  const rng = new Rng(7);
  for (let i = 0; i < 1000; i++) {
    const intended = i * 10;
    const done = intended + 10 + rng.next() * 90;
    rec.record('check', i < 3 ? 'http:503' : 'errno:0', i < 3, intended, intended, done);
  }
  for (let i = 0; i < 4000; i++) rec.record('download-chunk', 'http:206', false, i, i, i + 25);
  const operations = operationsReport(rec.snapshot());
  const lag = new LagRecorder();
  lag.recordScheduleLag(2);
  lag.recordEventLoopLag(1);
  return {
    format: 1,
    scenario: 'rollout-onenet',
    target: 'embedded (http://127.0.0.1:41234)',
    dialect: 'onenet',
    seed: 42,
    timeScale: 60,
    startedAt: '2026-11-25T19:04:10.000Z',
    virtualStartMs: 1_795_633_450_300,
    durationMs: 12_345,
    virtualDurationMs: 740_700,
    devices: { total: 1000, byFinalState: { succeeded: 980, failed: 20 }, started: 1000 },
    operations,
    transitions: { checked: 1000, violations: 0, byRule: {}, unfinished: 0, samples: [] },
    expectations: [
      { name: 'check.p99 < 200ms', passed: true, detail: 'measured 99.9ms, bound 200ms' },
      { name: 'devices.succeeded >= 95%', passed: true, detail: 'measured 98.0%, bound 95%' },
    ],
    harness: harnessReport(lag.snapshot(), 2, operations, {}),
    interrupted: false,
    endedBy: 'completed',
    errors: [],
    passed: true,
    ...overrides,
  };
}
