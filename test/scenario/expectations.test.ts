import { describe, expect, it } from 'vitest';
import type { OperationReport, Report } from '../../src/report/types.js';
import { evaluateExpectations, operationOf, parseExpectation } from '../../src/scenario/expectations.js';

describe('parseExpectation', () => {
  it('reads latencies, converting seconds to ms; a bare number is ms', () => {
    expect(parseExpectation('check.p99 < 200ms')).toEqual({ text: 'check.p99 < 200ms', metric: 'check.p99', op: '<', value: 200, unit: 'ms' });
    expect(parseExpectation('download.p999<=1.5s')).toMatchObject({ metric: 'download.p999', op: '<=', value: 1500, unit: 'ms' });
    expect(parseExpectation('  luat.mean > 3  ')).toMatchObject({ text: 'luat.mean > 3', metric: 'luat.mean', op: '>', value: 3, unit: 'ms' });
    for (const stat of ['p50', 'p90', 'p99', 'p999', 'max', 'mean']) expect(parseExpectation(`progress.${stat} != 0ms`).metric).toBe(`progress.${stat}`);
    expect(parseExpectation('check.service.p99 < 20ms')).toMatchObject({ metric: 'check.service.p99', unit: 'ms' });
    expect(parseExpectation('harness.scheduleLag.p99 < 50ms')).toMatchObject({ metric: 'harness.scheduleLag.p99', value: 50, unit: 'ms' });
    expect(parseExpectation('harness.eventLoopLag.max < 1s')).toMatchObject({ value: 1000, unit: 'ms' });
  });

  it('reads counts and shares', () => {
    expect(parseExpectation('transitions.violations == 0')).toMatchObject({ op: '==', value: 0, unit: '' });
    expect(parseExpectation('check.count >= 3000')).toMatchObject({ metric: 'check.count', value: 3000, unit: '' });
    expect(parseExpectation('check.errors < 1%')).toMatchObject({ metric: 'check.errors', value: 1, unit: '%' });
    expect(parseExpectation('check.errors == 0')).toMatchObject({ unit: '' });
    expect(parseExpectation('devices.succeeded >= 99.5%')).toMatchObject({ metric: 'devices.succeeded', op: '>=', value: 99.5, unit: '%' });
    expect(parseExpectation('devices.gave-up <= 3')).toMatchObject({ metric: 'devices.gave-up', value: 3, unit: '' });
    expect(parseExpectation('devices.total == 3000')).toMatchObject({ unit: '' });
    expect(parseExpectation('requests.total > 0')).toMatchObject({ unit: '' });
    expect(parseExpectation('requests.errors < 0.1%')).toMatchObject({ value: 0.1, unit: '%' });
  });

  it('names the operation of operation metrics only', () => {
    expect(operationOf(parseExpectation('tokenCheck.p99 < 1s'))).toBe('tokenCheck');
    expect(operationOf(parseExpectation('download.errors < 1%'))).toBe('download');
    expect(operationOf(parseExpectation('check.service.max < 1s'))).toBe('check');
    expect(operationOf(parseExpectation('devices.succeeded >= 1'))).toBeUndefined();
    expect(operationOf(parseExpectation('harness.scheduleLag.p99 < 1s'))).toBeUndefined();
  });

  it.each([
    ['check.p99', '"check.p99": expected METRIC OP VALUE[UNIT], OP one of < <= > >= == !=, e.g. check.p99 < 200ms'],
    ['check.p99 => 3ms', '"check.p99 => 3ms": expected METRIC OP VALUE[UNIT], OP one of < <= > >= == !=, e.g. check.p99 < 200ms'],
    ['check.p99 < fast', '"check.p99 < fast": bad value "fast": expected a number, with ms, s or % after it where it fits'],
    ['check.p99 < -3ms', '"check.p99 < -3ms": bad value "-3ms": expected a number, with ms, s or % after it where it fits'],
    ['check.p99 < 3 min', '"check.p99 < 3 min": bad value "3 min": expected a number, with ms, s or % after it where it fits'],
    [
      'check.p95 < 3ms',
      '"check.p95 < 3ms": unknown metric "check.p95": expected OP.p50|p90|p99|p999|max|mean, OP.service.p99 (etc.), OP.queued.p99 (etc.), OP.count, OP.errors, devices.total, devices.started, devices.STATE, transitions.violations, transitions.checked, transitions.unfinished, requests.total, requests.errors, harness.scheduleLag.p50|p99|max, verdicts.violations, verdicts.checked or verdicts.RULE.violations|checked|COUNT',
    ],
    ['check.p99 < 5%', '"check.p99 < 5%": check.p99 is a latency: give ms or s, not %'],
    ['transitions.violations < 1%', '"transitions.violations < 1%": transitions.violations is a count: give a bare number, not %'],
    ['check.count > 2s', '"check.count > 2s": check.count is a count: give a bare number, not s'],
    ['devices.succeeded >= 99ms', '"devices.succeeded >= 99ms": devices.succeeded is a count or a share: give a bare number or %, not ms'],
    ['devices.succeeded >= 101%', '"devices.succeeded >= 101%": a share cannot exceed 100%'],
  ])('refuses %j', (text, message) => {
    expect(() => parseExpectation(text)).toThrow(new Error(message));
  });

  it('refuses metrics of no known family', () => {
    for (const text of ['devices < 3', 'transitions.broken == 0', 'requests.p99 < 1ms', 'harness.scheduleLag.p90 < 1ms', 'check < 3', 'devices.a.b == 1', 'check.service.count < 1', '9lives.p99 < 1ms']) {
      expect(() => parseExpectation(text), text).toThrow(/unknown metric/);
    }
  });
});

const latency = (p99: number) => ({ p50: p99 / 4, p90: p99 / 2, p99, p999: p99 * 1.5, max: p99 * 2, mean: p99 / 3 });

function op(count: number, errors: number, p99: number): OperationReport {
  return { count, errors, byOutcome: {}, latencyMs: latency(p99), serviceMs: latency(p99 / 10), histogram: '', serviceHistogram: '' };
}

const report: Omit<Report, 'expectations' | 'passed'> = {
  format: 1,
  scenario: 'hand-made',
  target: 'embedded',
  dialect: 'onenet',
  seed: 1,
  timeScale: 1,
  startedAt: '2024-01-01T00:00:00.000Z',
  virtualStartMs: 1_704_067_200_000,
  durationMs: 60_000,
  virtualDurationMs: 60_000,
  devices: { total: 3000, byFinalState: { succeeded: 2985, failed: 15 }, started: 3000 },
  operations: { check: op(3100, 31, 12.3), download: op(36_000, 0, 40), tokenCheck: op(0, 0, 0) },
  transitions: { checked: 3000, violations: 0, byRule: {}, unfinished: 2, samples: [] },
  harness: { workers: 2, eventLoopLagMs: { p50: 1, p99: 8, max: 20 }, scheduleLagMs: { p50: 2, p99: 15, max: 40 }, bottleneck: false, notes: [] },
  interrupted: false,
  endedBy: 'completed',
  errors: [],
};

const evaluate = (text: string) => {
  const [result] = evaluateExpectations([parseExpectation(text)], report);
  return result;
};

describe('evaluateExpectations', () => {
  it('passes and fails latencies, naming the value and the bound', () => {
    expect(evaluate('check.p99 < 200ms')).toEqual({ name: 'check.p99 < 200ms', passed: true, detail: 'check.p99 = 12.3ms (bound < 200ms)' });
    expect(evaluate('check.p99 < 10ms')).toEqual({ name: 'check.p99 < 10ms', passed: false, detail: 'check.p99 = 12.3ms (bound < 10ms)' });
    expect(evaluate('check.p99 <= 0.0123s')).toMatchObject({ passed: true, detail: 'check.p99 = 12.3ms (bound <= 12.3ms)' });
    expect(evaluate('download.max > 79ms')).toMatchObject({ passed: true, detail: 'download.max = 80ms (bound > 79ms)' });
    expect(evaluate('download.service.p99 < 4ms')).toMatchObject({ passed: false, detail: 'download.service.p99 = 4ms (bound < 4ms)' });
    // The harness's own wait: read from queuedMs; a report without one is not judged, never read as 0.
    expect(evaluate('check.queued.p99 < 5ms')).toMatchObject({ passed: false, detail: 'check.queued.p99: no queued histogram in this report (bound < 5ms)' });
    const [queued] = evaluateExpectations([parseExpectation('check.queued.p99 < 5ms')], { ...report, operations: { check: { ...op(3100, 31, 12.3), queuedMs: latency(6) } } });
    expect(queued).toMatchObject({ passed: false, detail: 'check.queued.p99 = 6ms (bound < 5ms)' });
    expect(evaluate('harness.scheduleLag.p99 < 10ms')).toMatchObject({ passed: false, detail: 'harness.scheduleLag.p99 = 15ms (bound < 10ms)' });
    expect(evaluate('harness.eventLoopLag.p50 == 1')).toMatchObject({ passed: true });
  });

  it('fails a latency threshold on an operation that never ran: no samples is no pass', () => {
    expect(evaluate('tokenCheck.p99 < 200ms')).toEqual({ name: 'tokenCheck.p99 < 200ms', passed: false, detail: 'tokenCheck.p99: no tokenCheck request was made: no latency to judge (bound < 200ms)' });
    expect(evaluate('result.p50 < 1s')).toMatchObject({ passed: false, detail: 'result.p50: no result request was made: no latency to judge (bound < 1000ms)' });
  });

  it('fails a latency threshold when every request of the operation failed (the histogram holds only failures)', () => {
    const failed = { ...op(40, 40, 3), byOutcome: { 'net:ECONNREFUSED': 38, 'http:503': 2 } };
    const [r] = evaluateExpectations([parseExpectation('check.p99 < 200ms'), parseExpectation('check.service.p50 < 1s')], { ...report, operations: { ...report.operations, check: failed } });
    expect(r).toEqual({ name: 'check.p99 < 200ms', passed: false, detail: 'check.p99: every one of the 40 check requests failed (net:ECONNREFUSED 38, http:503 2): no latency to judge (bound < 200ms)' });
    // One answer among the failures is a latency to judge.
    expect(evaluateExpectations([parseExpectation('check.p99 < 200ms')], { ...report, operations: { ...report.operations, check: op(40, 39, 3) } })[0]?.passed).toBe(true);
  });

  it('reads counts, which are 0 for an operation that never ran', () => {
    expect(evaluate('transitions.violations == 0')).toEqual({ name: 'transitions.violations == 0', passed: true, detail: 'transitions.violations = 0 (bound == 0)' });
    expect(evaluate('transitions.checked >= 3000')).toMatchObject({ passed: true });
    expect(evaluate('transitions.unfinished == 0')).toMatchObject({ passed: false, detail: 'transitions.unfinished = 2 (bound == 0)' });
    expect(evaluate('result.count == 0')).toMatchObject({ passed: true, detail: 'result.count = 0 (bound == 0)' });
    expect(evaluate('result.errors == 0')).toMatchObject({ passed: true });
    expect(evaluate('check.count >= 3100')).toMatchObject({ passed: true });
    expect(evaluate('check.errors < 31')).toMatchObject({ passed: false, detail: 'check.errors = 31 (bound < 31)' });
    expect(evaluate('requests.total == 39100')).toMatchObject({ passed: true, detail: 'requests.total = 39100 (bound == 39100)' });
    expect(evaluate('requests.errors <= 31')).toMatchObject({ passed: true });
    expect(evaluate('devices.total == 3000')).toMatchObject({ passed: true });
    expect(evaluate('devices.started != 3000')).toMatchObject({ passed: false });
    expect(evaluate('devices.failed <= 10')).toMatchObject({ passed: false, detail: 'devices.failed = 15 (bound <= 10)' });
    expect(evaluate('devices.banned == 0')).toMatchObject({ passed: true, detail: 'devices.banned = 0 (bound == 0)' });
  });

  it('reads shares of devices and of requests', () => {
    expect(evaluate('devices.succeeded >= 99%')).toEqual({
      name: 'devices.succeeded >= 99%',
      passed: true,
      detail: 'devices.succeeded = 2985 of 3000 = 99.5% (bound >= 99%)',
    });
    expect(evaluate('devices.succeeded >= 99.6%')).toMatchObject({ passed: false });
    // 2985 / 3000 is 99.5% exactly, whatever the floating point says.
    expect(evaluate('devices.succeeded == 99.5%')).toMatchObject({ passed: true });
    expect(evaluate('check.errors < 1%')).toMatchObject({ passed: false, detail: 'check.errors = 31 of 3100 = 1% (bound < 1%)' });
    expect(evaluate('check.errors <= 1%')).toMatchObject({ passed: true });
    expect(evaluate('requests.errors < 0.1%')).toMatchObject({ passed: true, detail: 'requests.errors = 31 of 39100 = 0.079% (bound < 0.1%)' });
  });

  it('fails a share of nothing', () => {
    expect(evaluate('tokenCheck.errors < 1%')).toMatchObject({ passed: false, detail: 'tokenCheck.errors: no tokenCheck requests (bound < 1%)' });
    const empty = { ...report, devices: { total: 0, byFinalState: {}, started: 0 }, operations: {} };
    const [devices, requests] = evaluateExpectations([parseExpectation('devices.succeeded >= 99%'), parseExpectation('requests.errors < 1%')], empty);
    expect(devices).toMatchObject({ passed: false, detail: 'devices.succeeded: no devices (bound >= 99%)' });
    expect(requests).toMatchObject({ passed: false, detail: 'requests.errors: no requests (bound < 1%)' });
  });

  it('compares with every operator', () => {
    const cases: [string, boolean][] = [
      ['check.count < 3100', false],
      ['check.count <= 3100', true],
      ['check.count > 3100', false],
      ['check.count >= 3100', true],
      ['check.count == 3100', true],
      ['check.count != 3100', false],
      ['check.count != 3099', true],
    ];
    for (const [text, passed] of cases) expect(evaluate(text)?.passed, text).toBe(passed);
  });

  it('keeps the order and the text as written', () => {
    const texts = ['transitions.violations == 0', 'check.p99 < 1ms', 'devices.succeeded >= 99%'];
    const results = evaluateExpectations(texts.map(parseExpectation), report);
    expect(results.map((r) => [r.name, r.passed])).toEqual([
      ['transitions.violations == 0', true],
      ['check.p99 < 1ms', false],
      ['devices.succeeded >= 99%', true],
    ]);
  });
});
