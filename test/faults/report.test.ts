/**
 * The "transition verdicts" section in every rendering of a report: the console summary, junit.xml
 * (one test case per rule, failing with the violating devices and their traces), the Markdown
 * summary and report.html; text from the server under test escaped everywhere.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../src/report/console.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderHtml } from '../../src/report/html.js';
import { verdictOf } from '../../src/report/html/verdict.js';
import type { Report, VerdictReport } from '../../src/report/types.js';
import { sampleReport } from '../report/fixture.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const broken: VerdictReport = {
  rule: 'resume-from-held',
  description: 'downloads get the bytes they ask for',
  status: 'judged',
  checked: 60,
  violations: 2,
  counts: { cuts: 80 },
  samples: [
    {
      device: '522702000',
      detail: 'asked for bytes=0-16383 of 196608; answered 200 with 196608 bytes from byte 0 (the Range was ignored)',
      trace: [
        { t: 755, request: 'check version=V1.0', answer: 'errno:0 token#1', state: 'token-checking' },
        { t: 1380, request: 'download token#1 bytes=0-16383', answer: 'bytes http:200 from 0 196608 B', state: 'reporting-downloaded' },
      ],
    },
    { device: HOSTILE, detail: `answer ${HOSTILE}`, trace: [] },
  ],
};
const held: VerdictReport = { rule: 'one-success-per-task', description: 'a task succeeds once', status: 'partly-judged', reason: 'a note', checked: 60, violations: 0, counts: { 'duplicates-answered-20': 14 }, note: 'a note', samples: [] };
const failing: Report = sampleReport({ verdicts: [held, broken], passed: false });
const passing: Report = sampleReport({ verdicts: [held] });

describe('console summary', () => {
  it('lists each rule with its counts, and the first violating device with its trace', () => {
    const text = formatSummary(failing);
    expect(text).toContain('transition verdicts  ✗ 2 rules · 2 violations');
    expect(text).toMatch(/✓ one-success-per-task\s+60 of 1,000 devices checked · 0 violating {2}duplicates-answered-20 14/);
    expect(text).toMatch(/✗ resume-from-held\s+60 of 1,000 devices checked · 2 violating {2}cuts 80/);
    expect(text).toContain('522702000: asked for bytes=0-16383 of 196608');
    expect(text).toContain('download token#1 bytes=0-16383 → bytes http:200 from 0 196608 B ⇒ reporting-downloaded');
    expect(text).toContain(`also: ${HOSTILE}`);
    expect(text).toContain('FAILED (verdicts broken: resume-from-held)');
    expect(formatSummary(passing)).toContain('transition verdicts  ✓ 1 rule · 0 violations');
    expect(formatSummary(sampleReport())).not.toContain('transition verdicts');
  });

  it('the verdict explains a failure by the broken rule', () => {
    expect(verdictOf(failing).reasons).toContain('verdict resume-from-held: 2 violating devices of 60 (asked for bytes=0-16383 of 196608; answered 200 with 196608 bytes from byte 0 (the Range was ignored))');
    expect(verdictOf(passing).reasons).toEqual([]);
  });
});

describe('junit.xml', () => {
  const parse = (xml: string) => {
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', htmlEntities: true, isArray: (n) => n === 'testcase' }).parse(xml) as {
      testsuites: { testsuite: { testcase: { '@_classname': string; '@_name': string; failure?: { '@_message': string; '#text'?: string }; 'system-out'?: string }[] } };
    };
    return doc.testsuites.testsuite.testcase.filter((c) => c['@_classname'] === 'verdicts');
  };

  it('has one test case per rule, failing the broken one with its devices and traces', () => {
    const cases = parse(renderJunit(failing));
    expect(cases.map((c) => c['@_name'])).toEqual(['one-success-per-task', 'resume-from-held']);
    expect(cases[0]?.failure).toBeUndefined();
    expect(cases[0]?.['system-out']).toContain('0 of 60 devices break it; duplicates-answered-20 14 (partly judged: a note)');
    expect(cases[1]?.failure?.['@_message']).toBe('2 of 60 devices break it; cuts 80');
    expect(cases[1]?.failure?.['#text']).toContain('522702000: asked for bytes=0-16383');
    expect(cases[1]?.failure?.['#text']).toContain('1380 ms  download token#1 bytes=0-16383  =>  bytes http:200 from 0 196608 B  [reporting-downloaded]');
    expect(cases[1]?.failure?.['#text']).toContain(HOSTILE);
  });
});

describe('markdown summary', () => {
  it('tables the rules and shows the first violating device, escaped', () => {
    const md = renderMarkdown(failing);
    expect(md).toContain('### Transition verdicts');
    expect(md).toContain('| ✅ | `one-success-per-task` (partly judged: a note) | 60 | 0 | duplicates-answered-20 14 |');
    expect(md).toContain('| ❌ | `resume-from-held` | 60 | 2 | cuts 80 |');
    expect(md).toContain('First device breaking `resume-from-held`: `522702000`');
    expect(md).toContain('download token#1 bytes=0-16383  =>  bytes http:200 from 0 196608 B  [reporting-downloaded]');
    expect(md).not.toContain('<img');
  });
});

describe('report.html', () => {
  it('has a verdicts section with every rule and the violating devices, escaped', () => {
    const html = renderHtml(failing);
    const start = html.indexOf('id="verdicts"');
    expect(start).toBeGreaterThan(-1);
    const section = html.slice(start, html.indexOf('</section>', start));
    expect(section).toContain('Transition verdicts');
    expect(section).toContain('one-success-per-task');
    expect(section).toContain('resume-from-held');
    expect(section).toContain('download token#1 bytes=0-16383');
    expect(section).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain(HOSTILE);
    expect(renderHtml(sampleReport())).not.toContain('id="verdicts"');
  });
});

describe('judged status in every output', () => {
  const unjudged: VerdictReport = { rule: 'final-state-agreement', description: 'final states agree', status: 'not-judged', reason: 'no admin API on the target', checked: 0, violations: 0, samples: [] };
  const report: Report = sampleReport({
    verdicts: [held, broken, unjudged],
    violationsFile: 'violations.jsonl',
    passed: false,
    transitions: { ...sampleReport().transitions, serverAgreement: { status: 'not-judged', reason: 'the target has no admin API we can use', checked: 0, disagreements: 0, samples: [] } },
  });

  it('console: "not judged (why)" instead of "✓ 0 checked", partly judged with its why, and where every violation is', () => {
    const text = formatSummary(report);
    expect(text).toMatch(/– final-state-agreement\s+not judged \(no admin API on the target\)/);
    expect(text).not.toMatch(/✓ final-state-agreement/);
    expect(text).toContain('partly judged (a note)');
    expect(text).toContain('transition verdicts  ✗ 3 rules · 2 violations · 1 not judged');
    expect(text).toContain('every violation: violations.jsonl (beside report.json)');
    expect(text).toContain('server agreement – not judged (the target has no admin API we can use)');
  });

  it('junit.xml: a not-judged rule and the server agreement are skipped cases with the reason', () => {
    const xml = renderJunit(report);
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain('<testcase classname="verdicts" name="final-state-agreement" time="0.000">\n      <skipped message="not judged: no admin API on the target"/>');
    expect(xml).toContain('<testcase classname="transitions" name="server agreement" time="0.000">\n      <skipped message="not judged: the target has no admin API we can use"/>');
    expect(xml).toMatch(/<testsuite [^>]*skipped="2"/);
  });

  it('report.html: not judged with the reason, and a relative link to violations.jsonl', () => {
    const html = renderHtml(report);
    expect(html).toContain('not judged (no admin API on the target)');
    expect(html).toContain('partly judged (a note)');
    expect(html).toContain('<a href="violations.jsonl">violations.jsonl</a>');
    expect(html).toContain('– not judged (the target has no admin API we can use)');
  });

  it('markdown: not judged with the reason', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| ➖ | `final-state-agreement` | not judged (no admin API on the target) | | |');
    expect(md).toContain('server agreement: not judged (the target has no admin API we can use)');
  });
});
