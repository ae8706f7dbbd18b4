/**
 * junit.xml: the run as a JUnit test suite, for CI systems that show test results (GitHub, GitLab,
 * Jenkins). One test case per expectation (classname `expectations`, named as written in the
 * scenario), one per transition rule (classname `transitions`), one for server agreement when the
 * report has it, one per transition verdict rule (classname `verdicts`), and `run completed`
 * (fails when the run was interrupted or hit errors). Failures
 * carry the measured value as their message and the details (sample traces) as their body.
 *
 * Test case times are 0 except `run completed`, which carries the run's real duration: an
 * expectation has no duration of its own, and summing to the suite's time keeps CI totals honest.
 */
import { scrub } from './console.js';
import { escapeXml, escapeXmlAttr } from './html/escape.js';
import { transitionRules, verdictOf } from './html/verdict.js';
import { verdictStatus, type Report, type TransitionViolation, type VerdictReport } from './types.js';

interface TestCase {
  classname: string;
  name: string;
  seconds: number;
  failure?: { message: string; body: string };
  /** Not judged, and why: a skipped case, neither a pass nor a failure. */
  skipped?: string;
  output?: string;
}

export function renderJunit(report: Report): string {
  const cases = testCases(report);
  const failures = cases.filter((c) => c.failure !== undefined).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const seconds = secs(report.durationMs);
  const suiteName = `ota-swarm: ${scrub(report.scenario)}`;
  const properties: [string, string][] = [
    ['target', scrub(report.target)],
    ['dialect', report.dialect],
    ['seed', String(report.seed)],
    ['timeScale', String(report.timeScale)],
    ['devices', String(report.devices.total)],
    ['endedBy', report.endedBy],
    ['verdict', verdictOf(report).label],
  ];
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ota-swarm" tests="${cases.length}" failures="${failures}" errors="0" time="${seconds}">`,
    `  <testsuite name="${attr(suiteName)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds}" timestamp="${attr(report.startedAt)}">`,
    '    <properties>',
    ...properties.map(([k, v]) => `      <property name="${attr(k)}" value="${attr(v)}"/>`),
    '    </properties>',
    ...cases.map(testCaseXml),
    '  </testsuite>',
    '</testsuites>',
  ];
  return lines.join('\n') + '\n';
}

function testCases(r: Report): TestCase[] {
  const cases: TestCase[] = r.expectations.map((e) => ({
    classname: 'expectations',
    name: e.name,
    seconds: 0,
    ...(e.passed ? { output: e.detail } : { failure: { message: e.detail, body: `${e.name}: ${e.detail}` } }),
  }));
  for (const { rule, violations } of transitionRules(r.transitions.byRule)) {
    const name = `${rule}: no violations`;
    if (violations === 0) {
      cases.push({ classname: 'transitions', name, seconds: 0, output: `${r.transitions.checked} devices checked` });
      continue;
    }
    const samples = r.transitions.samples.filter((s) => s.rule === rule);
    cases.push({
      classname: 'transitions',
      name,
      seconds: 0,
      failure: {
        message: `${violations} violation${violations === 1 ? '' : 's'} of ${rule} in ${r.transitions.checked} devices`,
        body: samples.map(traceText).join('\n\n'),
      },
    });
  }
  const agreement = r.transitions.serverAgreement;
  if (agreement?.status === 'not-judged') {
    cases.push({ classname: 'transitions', name: 'server agreement', seconds: 0, skipped: `not judged: ${agreement.reason ?? 'no reason given'}` });
  } else if (agreement !== undefined) {
    const summary = `${agreement.disagreements} of ${agreement.checked} devices disagree with the server`;
    cases.push({
      classname: 'transitions',
      name: 'server agreement',
      seconds: 0,
      ...(agreement.disagreements === 0
        ? { output: summary }
        : {
            failure: {
              message: summary,
              body: agreement.samples.map((s) => `${s.device}: device ${s.device_state}, server ${s.server_state}`).join('\n'),
            },
          }),
    });
  }
  for (const v of r.verdicts ?? []) cases.push(verdictCase(v, r.violationsFile));
  cases.push(runCompleted(r));
  return cases;
}

function verdictCase(v: VerdictReport, file: string | undefined): TestCase {
  const status = verdictStatus(v);
  if (status === 'not-judged') return { classname: 'verdicts', name: v.rule, seconds: 0, skipped: `not judged: ${v.reason ?? v.note ?? 'no reason given'}` };
  const counts = Object.entries(v.counts ?? {}).map(([k, n]) => `${k} ${n}`).join(', ');
  const summary = `${v.violations} of ${v.checked} devices break it${counts !== '' ? `; ${counts}` : ''}${status === 'partly-judged' ? ` (partly judged: ${v.reason ?? v.note ?? 'no reason given'})` : ''}`;
  const base = { classname: 'verdicts', name: v.rule, seconds: 0 };
  if (v.violations === 0) return { ...base, output: `${v.description}\n${summary}` };
  const body = v.samples.map((s) => [`${s.device}: ${s.detail}`, ...s.trace.map((l) => `  ${l.t} ms  ${l.request}  =>  ${l.answer}  [${l.state}]`)].join('\n'));
  const all = file !== undefined && v.violations > v.samples.length ? [`(${v.samples.length} of ${v.violations} shown; every one is in ${file})`] : [];
  return { ...base, failure: { message: summary, body: [v.description, ...body, ...all].join('\n\n') } };
}

function runCompleted(r: Report): TestCase {
  const problems: string[] = [];
  if (r.interrupted || r.endedBy === 'interrupted') problems.push('the run was interrupted');
  if (r.endedBy === 'error') problems.push('the run ended in error');
  const base = { classname: 'run', name: 'run completed', seconds: Math.max(0, r.durationMs) / 1000 };
  if (problems.length === 0 && r.errors.length === 0) {
    return { ...base, output: `ended by ${r.endedBy} after ${secs(r.durationMs)} s; ${r.devices.started} of ${r.devices.total} devices started` };
  }
  const message = problems.length > 0 ? problems.join('; ') : `${r.errors.length} run error${r.errors.length === 1 ? '' : 's'}`;
  return { ...base, failure: { message, body: r.errors.join('\n') } };
}

function traceText(v: TransitionViolation): string {
  const steps = v.trace.map((s) => `  ${s.t} ms  ${s.state}  (${s.cause})`);
  return [`${v.device}: ${v.detail}`, ...steps].join('\n');
}

function testCaseXml(c: TestCase): string {
  const open = `    <testcase classname="${attr(c.classname)}" name="${attr(c.name)}" time="${c.seconds.toFixed(3)}"`;
  if (c.failure !== undefined) {
    return `${open}>\n      <failure message="${attr(c.failure.message)}" type="failure">${text(c.failure.body)}</failure>\n    </testcase>`;
  }
  if (c.skipped !== undefined) return `${open}>\n      <skipped message="${attr(c.skipped)}"/>\n    </testcase>`;
  if (c.output !== undefined) return `${open}>\n      <system-out>${text(c.output)}</system-out>\n    </testcase>`;
  return `${open}/>`;
}

function attr(s: string): string {
  return escapeXmlAttr(scrub(s));
}

function text(s: string): string {
  return escapeXml(scrub(s));
}

function secs(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}
