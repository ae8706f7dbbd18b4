import { describe, expect, it } from 'vitest';
import { formatMs } from '../../src/config/units.js';
import { formatSummary, scrub } from '../../src/report/console.js';
import { sampleReport } from './fixture.js';

function clean(text: string): void {
  expect(text).not.toMatch(/undefined|NaN|Infinity|\[object Object\]/);
}

describe('formatSummary', () => {
  it('shows the run, every operation with its figures, devices and the verdict', () => {
    const r = sampleReport();
    const out = formatSummary(r);
    clean(out);
    for (const text of ['rollout-onenet', 'onenet', 'seed 42', '×60', '1,000 (1,000 started)', formatMs(12_345), formatMs(740_700), 'ended by completed']) {
      expect(out).toContain(text);
    }
    const check = out.split('\n').find((l) => l.trimStart().startsWith('check'))!;
    expect(check).toBeDefined();
    const c = r.operations['check']!;
    for (const v of [c.latencyMs.p50, c.latencyMs.p90, c.latencyMs.p99, c.latencyMs.max, c.serviceMs.p99]) expect(check).toContain(formatMs(v));
    expect(check).toContain('1,000');
    expect(check).toContain('3 (0.3%)');
    // Each outcome carries the spec's meaning of its errno for that call.
    expect(check).toContain('errno:0 task offered 997');
    expect(check).toContain('http:503 3');
    const chunk = out.split('\n').find((l) => l.trimStart().startsWith('download-chunk'))!;
    expect(chunk).toContain('4,000');
    expect(out).toMatch(/succeeded\s+980\s+98\.0%/);
    expect(out).toMatch(/failed\s+20\s+2\.0%/);
    expect(out).toContain('✓ check.p99 < 200ms');
    expect(out).toContain('measured 99.9ms');
    expect(out).toContain('2 workers');
    expect(out).not.toContain('BOTTLENECK');
    expect(out.trimEnd().split('\n').at(-1)).toBe('PASSED');
    expect(out).not.toContain('\u001b[');
  });

  it('prints the target profile in one line, each value not documented with its source', () => {
    const r = { ...sampleReport(), profile: [{ key: 'luat.banLimitPerDay', value: '20', source: 'flag' as const }, { key: 'luat.diffBuild', value: '1m..3m', source: 'documented' as const }] };
    const line = formatSummary(r).split('\n').find((l) => l.trimStart().startsWith('profile'));
    expect(line).toBe('  profile   banLimitPerDay 20 (flag) · diffBuild 1m..3m');
    expect(formatSummary(sampleReport())).not.toMatch(/^\s*profile/m);
  });

  it('prints what the transport counted on the wire in one line, and nothing for a transport that counts none', () => {
    const r = { ...sampleReport(), wire: { 'datagrams sent': 1200, 'retransmissions by the devices': 3 } };
    const line = formatSummary(r).split('\n').find((l) => l.startsWith('wire'));
    expect(line).toBe('wire  datagrams sent 1,200 · retransmissions by the devices 3');
    expect(formatSummary(sampleReport())).not.toMatch(/^wire/m);
  });

  it('says when a run had no wall clock (--time-scale max): no schedule lag to show', () => {
    const out = formatSummary(sampleReport({ timeScale: 'max' }));
    clean(out);
    expect(out).toContain('time scale ×max');
    expect(out).toContain('schedule lag not measured (×max)');
    expect(formatSummary(sampleReport())).toMatch(/schedule lag p99 \S+ \(max \S+\)/);
  });

  it('aligns the operations table', () => {
    const out = formatSummary(sampleReport());
    const lines = out.split('\n');
    const head = lines.find((l) => l.includes('operation') && l.includes('svc p99'))!;
    const row = lines.find((l) => l.trimStart().startsWith('download-chunk'))!;
    // Right-aligned columns end at the same place: "p99" header and its values.
    const end = head.indexOf('svc p99') + 'svc p99'.length;
    const svc = formatMs(sampleReport().operations['download-chunk']!.serviceMs.p99);
    expect(row.slice(end - svc.length, end)).toBe(svc);
  });

  it('fails with the failed expectation marked and counted', () => {
    const r = sampleReport({
      passed: false,
      expectations: [
        { name: 'check.p99 < 50ms', passed: false, detail: 'measured 99.9ms, bound 50ms' },
        { name: 'transitions.violations == 0', passed: true, detail: 'measured 0' },
      ],
    });
    const out = formatSummary(r);
    clean(out);
    expect(out).toContain('✗ check.p99 < 50ms');
    expect(out).toContain('✓ transitions.violations == 0');
    expect(out.trimEnd().split('\n').at(-1)).toBe('FAILED (1 of 2 expectations failed)');
  });

  it('says INTERRUPTED (partial) for an interrupted run', () => {
    const out = formatSummary(sampleReport({ interrupted: true, endedBy: 'interrupted', passed: false }));
    expect(out.trimEnd().split('\n').at(-1)).toBe('INTERRUPTED (partial)');
  });

  it('lists run errors and fails a run that ended in error', () => {
    const out = formatSummary(sampleReport({ endedBy: 'error', passed: false, errors: ['target http://127.0.0.1:1: ECONNREFUSED'] }));
    expect(out).toContain('- target http://127.0.0.1:1: ECONNREFUSED');
    expect(out.trimEnd().split('\n').at(-1)).toBe('FAILED (the run ended in error)');
  });

  it('prints a BOTTLENECK line and the notes when the harness was the bottleneck', () => {
    const r = sampleReport();
    r.harness = { ...r.harness, bottleneck: true, notes: ['schedule lag p99 80.0ms > 50.0ms (max 120ms): device timers ran late'] };
    const out = formatSummary(r);
    expect(out).toMatch(/BOTTLENECK/);
    expect(out).toContain('schedule lag p99 80.0ms > 50.0ms');
    // And what it means and what to do, after the evidence.
    expect(out).toMatch(/schedule lag p99 80\.0ms > 50\.0ms[^\n]*\n\s+what it means, what to do:\n\s+- devices acted late: this machine could not run the fleet on time; run fewer devices/);
  });

  it('gives one bottleneck verdict: back-pressure is not put on the target while the harness ran late', () => {
    const r = sampleReport();
    const heldBack = 'devices were held back 1205 time(s) while the send queue was full: the target was slower than the fleet';
    const slots = '57438 request(s) waited for a free in-flight slot (engine.maxInFlightPerWorker)';
    r.harness = { ...r.harness, bottleneck: true, notes: ['schedule lag p99 1.48s > 50.0ms (max 1.62s): device timers ran late, so devices acted late', slots, heldBack] };
    const late = formatSummary(r);
    clean(late);
    expect(late).toContain('⚠ BOTTLENECK: harness — it ran late');
    // Not both: the target is never named the limit in the same breath.
    expect(late).not.toContain('the target was slower than the fleet');
    expect(late).toContain('also seen (not put on the target: a late harness fills its own send queue):');
    expect(late).toContain('    - devices were held back 1205 time(s) while the send queue was full\n');
    expect(late.indexOf('schedule lag p99 1.48s >')).toBeLessThan(late.indexOf('also seen'));

    r.harness = { ...r.harness, bottleneck: false, notes: [slots, heldBack] };
    const target = formatSummary(r);
    expect(target).not.toContain('BOTTLENECK');
    expect(target).toContain('bottleneck: target — the harness kept up, and the fleet was held back waiting for the target\'s answers');
    expect(target).toContain(`    - ${slots}`);
    expect(target).not.toContain('also seen');

    r.harness = { ...r.harness, bottleneck: false, notes: [] };
    expect(formatSummary(r)).toContain('bottleneck: neither — the harness kept up and the target kept pace with the fleet');
  });

  it('counts every section against the same fleet: samples say "N of TOTAL devices"', () => {
    const r = sampleReport();
    r.devices = { ...r.devices, total: 3000, started: 3000, byFinalState: { succeeded: 3000 } };
    r.transitions = { ...r.transitions, checked: 3000, serverAgreement: { checked: 1500, disagreements: 0, samples: [] } };
    r.verdicts = [{ rule: 'own-token', description: 'd', status: 'partly-judged', reason: 'evidence of 2000 of 3000 devices', checked: 2000, violations: 0, note: 'evidence of 2000 of 3000 devices', samples: [] }];
    const out = formatSummary(r);
    clean(out);
    expect(out).toContain('✓ all 3,000 devices checked, each its whole state sequence');
    expect(out).toContain('server agreement ✓ 1,500 of 3,000 devices compared with the server\'s record (a sample: not every device is looked up) · 0 disagree');
    expect(out).toMatch(/✓ own-token {2}2,000 of 3,000 devices checked · 0 violating/);
  });

  it('shows transition violations by rule and the first sample trace', () => {
    const r = sampleReport({
      transitions: {
        checked: 1000,
        violations: 2,
        byRule: { 'illegal-transition': 1, 'final-state': 1 },
        unfinished: 0,
        samples: [
          {
            device: 'dev-0042',
            rule: 'illegal-transition',
            detail: 'checking → flashing at 2000ms',
            trace: [
              { t: 0, state: 'idle', cause: 'start' },
              { t: 1000, state: 'checking', cause: 'timer' },
              { t: 2000, state: 'flashing', cause: 'errno:0' },
            ],
          },
        ],
      },
    });
    const out = formatSummary(r);
    clean(out);
    expect(out).toContain('✗ all 1,000 devices checked, each its whole state sequence · 2 violations');
    expect(out).toContain('illegal-transition 1 · final-state 1');
    expect(out).toContain('dev-0042 illegal-transition: checking → flashing at 2000ms');
    expect(out).toContain('0 idle(start) → 1.00s checking(timer) → 2.00s flashing(errno:0)');
  });

  it('elides the middle of a long trace', () => {
    const trace = Array.from({ length: 30 }, (_, i) => ({ t: i * 1000, state: i % 2 ? 'checking' : 'idle', cause: 'timer' }));
    const r = sampleReport({ transitions: { checked: 1, violations: 1, byRule: { 'final-state': 1 }, unfinished: 0, samples: [{ device: 'd', rule: 'final-state', detail: 'ends in idle', trace }] } });
    const out = formatSummary(r);
    expect(out).toContain('… 22 more …');
    expect(out).toContain('29.00s checking(timer)');
  });

  it('copes with an empty run', () => {
    const r = sampleReport({ operations: {}, devices: { total: 0, byFinalState: {}, started: 0 }, expectations: [] });
    const out = formatSummary(r);
    clean(out);
    expect(out).toContain('operations  none recorded');
    expect(out).toContain('expectations  none');
  });

  it('counts devices without a final state', () => {
    const out = formatSummary(sampleReport({ devices: { total: 1000, byFinalState: { succeeded: 900 }, started: 900 } }));
    expect(out).toMatch(/\(no state\)\s+100\s+10\.0%/);
  });

  it('colours only when asked', () => {
    expect(formatSummary(sampleReport())).not.toContain('\u001b[');
    const coloured = formatSummary(sampleReport(), { color: true });
    expect(coloured).toContain('\u001b[32mPASSED');
  });

  it('hides credentials in URLs', () => {
    expect(scrub('http://user:pw@10.0.0.1/x?token=abc&dev_id=1')).toBe('http://***@10.0.0.1/x?token=***&dev_id=1');
    const out = formatSummary(sampleReport({ target: 'http://admin:hunter2@127.0.0.1:80/?access_key=s3cr3t' }));
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('s3cr3t');
  });
});

describe('queued and unfinished requests in the console summary', () => {
  it('shows queued p99 per operation and says which requests the end caught unanswered', () => {
    const r = sampleReport();
    const op = Object.keys(r.operations)[0]!;
    r.operations[op] = { ...r.operations[op]!, queuedMs: { p50: 1, p90: 2, p99: 38, p999: 40, max: 41, mean: 3 }, unfinished: { inFlight: 3, queued: 9 } };
    const out = formatSummary(r);
    expect(out).toContain('queued p99');
    expect(out).toContain('38.0ms');
    expect(out).toContain(`${op}: 3 in flight and 9 queued when the run ended (unanswered, not counted above)`);
  });
});

describe('event-loop utilisation in the console summary', () => {
  it('says how busy the busiest event loop was, when measured', () => {
    const r = sampleReport();
    r.harness = { ...r.harness, eventLoopUtilization: 0.42 };
    expect(formatSummary(r)).toContain('event loop busy 42%');
    const old = sampleReport();
    delete old.harness.eventLoopUtilization;
    expect(formatSummary(old)).not.toContain('event loop busy');
  });
});
