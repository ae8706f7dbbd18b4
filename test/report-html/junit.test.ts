import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/report/junit.js';
import type { Report } from '../../src/report/types.js';
import { HOSTILE_DEVICE, buildReport, emptyReport, passingReport, troubledReport } from './fixtures/reports.js';

interface Failure {
  '@_message': string;
  '@_type': string;
  '#text'?: string;
}
interface Case {
  '@_classname': string;
  '@_name': string;
  '@_time': string;
  failure?: Failure;
  'system-out'?: string;
}
interface Suite {
  '@_name': string;
  '@_tests': string;
  '@_failures': string;
  '@_errors': string;
  '@_time': string;
  '@_timestamp': string;
  properties: { property: { '@_name': string; '@_value': string }[] };
  testcase: Case[];
}

/** Parses junit.xml the way a CI system would: well-formed XML first, then the JUnit structure. */
function parseJunit(xml: string): { suites: { '@_tests': string; '@_failures': string }; suite: Suite } {
  expect(XMLValidator.validate(xml)).toBe(true);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    // Numeric character references (&#10;) are plain XML; this parser decodes them only with this flag.
    htmlEntities: true,
    isArray: (name) => name === 'testcase' || name === 'property' || name === 'testsuite',
  });
  const doc = parser.parse(xml) as { testsuites: { testsuite: Suite[]; '@_tests': string; '@_failures': string } };
  expect(doc.testsuites.testsuite).toHaveLength(1);
  return { suites: doc.testsuites, suite: doc.testsuites.testsuite[0]! };
}

function casesOf(r: Report): Case[] {
  return parseJunit(renderJunit(r)).suite.testcase;
}

describe('renderJunit', () => {
  it('lists every expectation as a test case, failing exactly the failed ones with the measurement', () => {
    const r = troubledReport();
    const cases = casesOf(r).filter((c) => c['@_classname'] === 'expectations');
    expect(cases.map((c) => c['@_name'])).toEqual(r.expectations.map((e) => e.name));
    for (const [i, e] of r.expectations.entries()) {
      const c = cases[i]!;
      if (e.passed) {
        expect(c.failure).toBeUndefined();
        expect(c['system-out']).toBe(e.detail);
      } else {
        expect(c.failure?.['@_message']).toBe(e.detail);
      }
    }
  });

  it('adds one case per transition rule, server agreement, and run completed; counts agree', () => {
    const r = troubledReport();
    const { suites, suite } = parseJunit(renderJunit(r));
    const cases = suite.testcase;
    const transitions = cases.filter((c) => c['@_classname'] === 'transitions').map((c) => c['@_name']);
    expect(transitions).toEqual([
      'initial-state: no violations',
      'illegal-transition: no violations',
      'final-state: no violations',
      'repeat: no violations',
      'server agreement',
    ]);
    const failed = cases.filter((c) => c.failure !== undefined).map((c) => `${c['@_classname']}/${c['@_name']}`);
    expect(failed).toEqual([
      'expectations/transitions.violations == 0',
      'expectations/download.p99 < 10ms',
      'transitions/illegal-transition: no violations',
      'transitions/server agreement',
    ]);
    expect(Number(suite['@_tests'])).toBe(cases.length);
    expect(Number(suite['@_failures'])).toBe(failed.length);
    expect(suites['@_tests']).toBe(suite['@_tests']);
    expect(suites['@_failures']).toBe(suite['@_failures']);
    expect(suite['@_name']).toBe('ota-swarm: rollout-onenet');
    expect(suite['@_time']).toBe('60.000');
    expect(suite['@_timestamp']).toBe(r.startedAt);
    const violation = cases.find((c) => c['@_name'] === 'illegal-transition: no violations')!;
    expect(violation.failure!['@_message']).toBe('1 violation of illegal-transition in 2000 devices');
    expect(violation.failure!['#text']).toContain('dev-100417: downloading → succeeded without upgrading');
    expect(violation.failure!['#text']).toContain('68020 ms  succeeded  (errno:0)');
    const agreement = cases.find((c) => c['@_name'] === 'server agreement')!;
    expect(agreement.failure!['#text']).toBe('dev-100911: device succeeded, server downloading');
    const run = cases.find((c) => c['@_name'] === 'run completed')!;
    expect(run['@_classname']).toBe('run');
    expect(run.failure).toBeUndefined();
    expect(run['@_time']).toBe('60.000');
    const props = Object.fromEntries(suite.properties.property.map((p) => [p['@_name'], p['@_value']]));
    expect(props).toMatchObject({ dialect: 'onenet', seed: '7', verdict: 'FAILED', endedBy: 'completed' });
  });

  it('a clean run: no failures; no server-agreement case when the report has none', () => {
    const r = passingReport();
    delete r.transitions.serverAgreement;
    const { suite } = parseJunit(renderJunit(r));
    expect(suite['@_failures']).toBe('0');
    expect(suite.testcase.some((c) => c['@_name'] === 'server agreement')).toBe(false);
    expect(suite.testcase).toHaveLength(r.expectations.length + 4 + 1);
  });

  it('run completed fails when the run was interrupted or hit errors', () => {
    const interrupted = casesOf(emptyReport()).find((c) => c['@_name'] === 'run completed')!;
    expect(interrupted.failure!['@_message']).toBe('the run was interrupted');
    const r = passingReport();
    r.endedBy = 'error';
    r.errors = ['worker 2 died: out of memory', 'target refused connections'];
    const errored = casesOf(r).find((c) => c['@_name'] === 'run completed')!;
    expect(errored.failure!['@_message']).toBe('the run ended in error');
    expect(errored.failure!['#text']).toBe('worker 2 died: out of memory\ntarget refused connections');
    const r2 = passingReport();
    r2.errors = ['one shard failed to start'];
    expect(casesOf(r2).find((c) => c['@_name'] === 'run completed')!.failure!['@_message']).toBe('1 run error');
  });

  it('escapes names, messages and bodies: hostile text round-trips exactly through a parser', () => {
    const r = buildReport({ hostile: true });
    r.expectations.push({ name: `quote " apos ' amp & lt < gt >`, passed: false, detail: 'line one\nline two\ttab' });
    r.errors = ['ctrl \u0001 char and ]]> end'];
    const xml = renderJunit(r);
    const { suite } = parseJunit(xml);
    expect(suite['@_name']).toBe('ota-swarm: rollout</script><script>alert(2)</script>');
    const names = suite.testcase.map((c) => c['@_name']);
    expect(names).toContain('check.p50 < 1ms & <script>');
    expect(names).toContain(`quote " apos ' amp & lt < gt >`);
    const odd = suite.testcase.find((c) => c['@_name'].startsWith('quote'))!;
    expect(odd.failure!['@_message']).toBe('line one\nline two\ttab');
    const violation = suite.testcase.find((c) => c['@_name'] === 'illegal-transition: no violations')!;
    expect(violation.failure!['#text']).toContain(HOSTILE_DEVICE);
    const run = suite.testcase.find((c) => c['@_name'] === 'run completed')!;
    expect(run.failure!['#text']).toBe('ctrl \uFFFD char and ]]> end');
  });

  it('keeps credentials out', () => {
    const r = passingReport();
    r.target = 'http://admin:pa55@127.0.0.1:1/?token=zzz';
    r.errors = ['GET /x?access_key=k3y failed'];
    const xml = renderJunit(r);
    for (const secret of ['pa55', 'zzz', 'k3y']) expect(xml).not.toContain(secret);
  });
});
