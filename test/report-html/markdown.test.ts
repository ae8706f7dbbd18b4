import { describe, expect, it } from 'vitest';
import { formatMs } from '../../src/config/units.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { buildReport, emptyReport, passingReport, troubledReport } from './fixtures/reports.js';

describe('renderMarkdown', () => {
  it('a failed run: verdict heading, every reason, the bottleneck warning, the first violating device with its trace', () => {
    const r = troubledReport();
    const md = renderMarkdown(r);
    const lines = md.split('\n');
    expect(lines[0]).toBe('## ❌ ota-swarm · rollout-onenet: **FAILED**');
    expect(md).toContain('- expectation failed: download.p99 &lt; 10ms (p99 ');
    expect(md).toContain('- expectation failed: transitions.violations == 0 (1 == 0)');
    expect(md).toContain('- 1 transition violation (illegal-transition 1)');
    expect(md).toContain('> [!WARNING]');
    for (const note of r.harness.notes) expect(md).toContain(`> - ${note.replace(/>/g, '&gt;')}`);
    expect(md).toContain('First violating device `dev-100417` (illegal-transition)');
    expect(md).toMatch(/```text\n\s+0 ms {2}asleep {2}\(start\)\n/);
    expect(md).toContain('     68020 ms  succeeded  (errno:0)');
    expect(md).toContain('❌ server agreement: 1 of 2000 devices disagree');
    expect(md).toContain('- `dev-100911`: device succeeded, server downloading');
  });

  it('tables: expectations with marks, operations with figures, final states with shares', () => {
    const r = troubledReport();
    const md = renderMarkdown(r);
    for (const e of r.expectations) expect(md).toContain(`| ${e.passed ? '✅' : '❌'} | \`${e.name}\` |`);
    for (const [name, o] of Object.entries(r.operations)) {
      const row = md.split('\n').find((l) => l.startsWith(`| ${name} |`))!;
      expect(row).toBeDefined();
      expect(row).toContain(`| ${o.count} |`);
      for (const v of [o.latencyMs.p50, o.latencyMs.p90, o.latencyMs.p99, o.latencyMs.max, o.serviceMs.p99]) expect(row).toContain(formatMs(v));
    }
    for (const [state, n] of Object.entries(r.devices.byFinalState)) {
      expect(md).toContain(`| ${state} | ${n} | ${((n / r.devices.total) * 100).toFixed(1)}% |`);
    }
    // Every row of every table has as many cells as its header.
    const blocks = md.split(/\n(?!\|)/).map((b) => b.split('\n').filter((l) => l.startsWith('|'))).filter((b) => b.length > 0);
    expect(blocks.length).toBe(3);
    for (const block of blocks) {
      const width = (l: string): number => l.replace(/\\\|/g, '').split('|').length;
      for (const l of block) expect(width(l), l).toBe(width(block[0]!));
    }
  });

  it('a clean run: PASSED, no reasons, no warning block', () => {
    const md = renderMarkdown(passingReport());
    expect(md.split('\n')[0]).toBe('## ✅ ota-swarm · rollout-onenet: **PASSED**');
    expect(md).not.toContain('[!WARNING]');
    expect(md).not.toContain('expectation failed');
    expect(md).toContain('✅ 2000 devices checked · 0 violations');
  });

  it('an interrupted run without operations', () => {
    const md = renderMarkdown(emptyReport());
    expect(md.split('\n')[0]).toBe('## ⚠️ ota-swarm · rollout-onenet: **INTERRUPTED**');
    expect(md).not.toContain('### Operations');
    expect(md).toContain('| not-started | 10 | 100.0% |');
  });

  it('report text cannot inject HTML, break a table or close a code fence', () => {
    const r = buildReport({ hostile: true });
    r.expectations.push({ name: 'a | b `c`', passed: false, detail: 'x | y' });
    r.transitions.samples[0]!.trace.push({ t: 1, state: '```', cause: 'fence' });
    r.errors = ['line\nbreak <b>bold</b>'];
    const md = renderMarkdown(r);
    // Outside code (where Markdown shows text as it is) no tag survives.
    const prose = md.replace(/```text[\s\S]*?\n```/g, '').replace(/(`+)[\s\S]*?\1/g, '');
    expect(prose).not.toMatch(/<[a-z/]/i);
    expect(md).toContain('rollout&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(md).toContain('| ❌ | `` a \\| b `c` `` | x \\| y |');
    const fenceStart = md.indexOf('```text') + 7;
    const fenceBody = md.slice(fenceStart, md.indexOf('\n```\n', fenceStart));
    expect(fenceBody).not.toContain('```');
    expect(fenceBody).toContain('fence');
    expect(md).toContain('- `line break <b>bold</b>`');
    expect(md).not.toContain('line\nbreak');
  });
});

describe('renderMarkdown: queued and unfinished', () => {
  it('has a queued p99 column and a line per operation the end caught unanswered', () => {
    const r = passingReport();
    const op = Object.keys(r.operations)[0]!;
    r.operations[op] = { ...r.operations[op]!, queuedMs: { p50: 1, p90: 2, p99: 38, p999: 40, max: 41, mean: 3 }, unfinished: { inFlight: 3, queued: 9 } };
    const md = renderMarkdown(r);
    expect(md).toContain('| service p99 | queued p99 |');
    expect(md).toContain('38.0ms |');
    expect(md).toContain(`${op}: 3 in flight and 9 queued when the run ended`);
    expect(renderMarkdown(passingReport())).not.toContain('when the run ended');
  });
});
