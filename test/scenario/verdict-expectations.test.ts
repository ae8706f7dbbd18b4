/**
 * Expectations on the transition verdicts: `verdicts.violations`, `verdicts.checked`,
 * `verdicts.RULE.violations|checked` and a rule's own counts (`verdicts.RULE.COUNT`).
 */
import { describe, expect, it } from 'vitest';
import { evaluateExpectations, parseExpectation } from '../../src/scenario/expectations.js';
import type { VerdictReport } from '../../src/report/types.js';
import { sampleReport } from '../report/fixture.js';

const verdicts: VerdictReport[] = [
  { rule: 'one-success-per-task', description: '', status: 'judged', checked: 60, violations: 0, counts: { 'duplicates-answered-20': 14 }, samples: [] },
  { rule: 'loop-ban', description: '', status: 'judged', checked: 30, violations: 2, samples: [] },
  { rule: 'gating', description: '', status: 'not-judged', reason: 'none of the 90 devices judged is one it applies to', checked: 0, violations: 0, samples: [] },
  { rule: 'final-state-agreement', description: '', status: 'not-judged', reason: 'no admin API on the target', checked: 0, violations: 0, samples: [] },
];
const judge = (text: string, v: VerdictReport[] | 'none' = verdicts) => {
  const report = sampleReport(v === 'none' ? {} : { verdicts: v });
  return evaluateExpectations([parseExpectation(text)], report)[0]!;
};

describe('verdict expectations', () => {
  it('parse as counts', () => {
    expect(parseExpectation('verdicts.violations == 0')).toMatchObject({ metric: 'verdicts.violations', unit: '' });
    expect(parseExpectation('verdicts.loop-ban.checked > 0')).toMatchObject({ metric: 'verdicts.loop-ban.checked', unit: '' });
    expect(parseExpectation('verdicts.one-success-per-task.duplicates-answered-20 >= 1')).toMatchObject({ value: 1 });
    expect(() => parseExpectation('verdicts.violations < 1%')).toThrow(/is a count: give a bare number, not %/);
    expect(() => parseExpectation('verdicts.loop-ban == 0')).toThrow(/unknown metric "verdicts.loop-ban"/);
  });

  it('read the sums, a rule, and a rule count from the report', () => {
    expect(judge('verdicts.violations == 0', verdicts.slice(0, 2))).toMatchObject({ passed: false, detail: 'verdicts.violations = 2 (bound == 0)' });
    expect(judge('verdicts.checked == 90').passed).toBe(true);
    expect(judge('verdicts.loop-ban.violations == 2').passed).toBe(true);
    expect(judge('verdicts.one-success-per-task.checked == 60').passed).toBe(true);
    expect(judge('verdicts.one-success-per-task.duplicates-answered-20 > 10')).toMatchObject({ passed: true, detail: 'verdicts.one-success-per-task.duplicates-answered-20 = 14 (bound > 10)' });
  });

  it('fail on a rule that was not judged, with its reason: 0 checked and 0 found is no pass', () => {
    expect(judge('verdicts.gating.checked > 0')).toMatchObject({ passed: false, detail: 'verdicts.gating.checked: not judged (none of the 90 devices judged is one it applies to) (bound > 0)' });
    expect(judge('verdicts.final-state-agreement.violations == 0')).toMatchObject({ passed: false, detail: 'verdicts.final-state-agreement.violations: not judged (no admin API on the target) (bound == 0)' });
    expect(judge('verdicts.no-such-rule.violations == 0')).toMatchObject({ passed: false, detail: "verdicts.no-such-rule.violations: no rule no-such-rule in this report's verdicts (bound == 0)" });
  });

  it('sum over the judged rules and name the ones that were not', () => {
    expect(judge('verdicts.violations == 2')).toMatchObject({ passed: true, detail: 'verdicts.violations = 2 (over the judged rules; not judged: gating, final-state-agreement) (bound == 2)' });
  });

  it('are missing, and fail, in a report without verdicts', () => {
    expect(judge('verdicts.violations == 0', 'none')).toMatchObject({ passed: false, detail: 'verdicts.violations: no verdicts in this report (bound == 0)' });
  });
});
