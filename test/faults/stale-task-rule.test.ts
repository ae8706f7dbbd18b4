/** The `stale-task` rule on hand-built evidence: what it flags, in which words, and what it says it could not judge. */
import { describe, expect, it } from 'vitest';
import { staleTask } from '../../src/verdicts/rules/stale-task.js';
import { RuleTally } from '../../src/verdicts/tally.js';
import { context, device, type Step } from './evidence-kit.js';

const check = (version: string, errno: number, offer?: { token: string; target: string }): Step => ({
  op: 'check',
  facts: { version, errno, ...(offer ? { offerToken: offer.token, offerTarget: offer.target, offerSize: 10, offerMd5: 'a' } : {}) },
});
const result = (token: string, step: number, errno: number): Step => ({ op: 'result', facts: { token, step, errno } });
const upgrade = (token = 'tA'): Step[] => [check('V1.0', 0, { token, target: 'V2.0' }), { op: 'tokenCheck', facts: { token, errno: 0 } }, result(token, 101, 0), result(token, 201, 0)];

describe('stale-task (OneNET)', () => {
  it('passes a device told 11 after its success, and counts its checks after success', () => {
    const out = staleTask.evaluate([device('ok', [...upgrade(), check('V2.0', 11), check('V2.0', 11)])], context());
    expect(out).toMatchObject({ checked: 1, violations: [], counts: { 'checks-after-success': 2 } });
    expect(out.note).toBeUndefined();
  });

  it('flags the same task offered again after the accepted 201, naming the task by token#k and target and the answer', () => {
    const out = staleTask.evaluate([device('d1', [...upgrade(), check('V2.0', 0, { token: 'tA', target: 'V2.0' })])], context());
    expect(out.violations).toHaveLength(1);
    expect(out.violations[0]?.device.id).toBe('d1');
    expect(out.violations[0]?.detail).toMatch(/check with version=V2\.0 was offered token#1 \(target V2\.0\), the version it already runs: errno:0/);
    expect(out.counts?.['stale-offers']).toBe(1);
  });

  it('flags the finished task offered again even when the device asks with another version (b)', () => {
    const out = staleTask.evaluate([device('d2', [...upgrade(), check('V1.0', 0, { token: 'tA', target: 'V2.0' })])], context());
    expect(out.violations[0]?.detail).toMatch(/was offered token#1 \(target V2\.0\) again after its 201 for token#1 \(target V2\.0\) was accepted at /);
  });

  it('flags a fresh device offered the version it starts on (a), not one offered a newer version', () => {
    const out = staleTask.evaluate(
      [device('fresh', [check('V2.0', 0, { token: 'tB', target: 'V2.0' })], { profile: { version: 'V2.0' } }), device('fine', [check('V1.0', 0, { token: 'tC', target: 'V2.0' })])],
      context(),
    );
    expect(out.checked).toBe(2);
    expect(out.violations.map((v) => v.device.id)).toEqual(['fresh']);
  });

  it('(c) a task offered and then refused as finished at its first use: the server offered a finished task', () => {
    const steps = [{ op: 'reportVersion', facts: { version: 'V1.0', errno: 0 } }, check('V1.0', 0, { token: 'tA', target: 'V2.0' }), { op: 'tokenCheck', facts: { token: 'tA', errno: 20 } }];
    const out = staleTask.evaluate([device('second-run', steps)], context());
    expect(out.violations[0]?.detail).toMatch(/tokenCheck with token#1 \(target V2\.0, offered at .*\) was answered errno:20 \(task finished\) before the device reported anything for it/);
  });

  it('(c) not flagged once the device reported a result or the target version (a lost 201 retransmitted and answered 20)', () => {
    const lost201 = [...upgrade().slice(0, 3), { op: 'result', facts: { token: 'tA', step: 201, net: 'ANSWER_LOST' } }, result('tA', 201, 20)];
    const versionFirst = [check('V1.0', 0, { token: 'tA', target: 'V2.0' }), { op: 'reportVersion', facts: { version: 'V2.0', errno: 0 } }, { op: 'progress', facts: { token: 'tA', step: 50, errno: 20 } }];
    expect(staleTask.evaluate([device('a', lost201), device('b', versionFirst)], context()).violations).toEqual([]);
  });

  it('a 201 the server refused is no success: a later offer of the task is no stale offer', () => {
    const steps = [...upgrade().slice(0, 3), result('tA', 201, 7), check('V1.0', 0, { token: 'tA', target: 'V2.0' })];
    expect(staleTask.evaluate([device('d', steps)], context()).violations).toEqual([]);
  });

  it('says that the same task after success was not judged when no device of the fleet checked again, over every batch', () => {
    const judgedIn = (...batches: Step[][][]) => {
      const tally = new RuleTally(staleTask, 5);
      for (const batch of batches) tally.add(staleTask.evaluate(batch.map((steps, i) => device(`d${i}`, steps)), context()), () => []);
      return tally.report([], batches.flat().length);
    };
    // Nobody checked again: partly judged, and the note says how to make it judged.
    expect(judgedIn([upgrade()]).note).toMatch(/none did \(set a cohort's `recheck/);
    // One batch without a device that checked again, another with one: the fleet did, no hint.
    const fleet = judgedIn([upgrade()], [[...upgrade(), check('V2.0', 11)]]);
    expect(fleet.counts?.['checks-after-success']).toBe(1);
    expect(fleet.note).toBeUndefined();
    expect(fleet.status).toBe('judged');
  });
});

describe('stale-task (Luat)', () => {
  const ask = (version: string, answer: { code?: number; fileVersion?: string }): Step => ({
    op: 'luat',
    facts: { version, ...(answer.code !== undefined ? { code: answer.code } : { fileVersion: answer.fileVersion, bytes: 4096, held: 4096 }) },
    ...(answer.code === undefined ? { outcome: 'bytes' } : {}),
  });
  const ctx = context({ dialect: 'luat' });

  it('flags a file of the version the device asks with, passes 27, counts files that name no version', () => {
    const out = staleTask.evaluate(
      [
        device('good', [ask('1.3.1', { fileVersion: '1.3.2' }), ask('1.3.2', { code: 27 }), ask('1.3.2', { code: 27 })], { profile: { version: '1.3.1' } }),
        device('bad', [ask('1.3.1', { fileVersion: '1.3.2' }), ask('1.3.2', { code: 27 }), ask('1.3.2', { fileVersion: '1.3.2' })], { profile: { version: '1.3.1' } }),
        device('blind', [{ op: 'luat', facts: { version: '1.3.1', bytes: 10 }, outcome: 'bytes' }], { profile: { version: '1.3.1' } }),
      ],
      ctx,
    );
    expect(out.checked).toBe(3);
    expect(out.violations.map((v) => v.device.id)).toEqual(['bad']);
    expect(out.violations[0]?.detail).toMatch(/ask with version=1\.3\.2 was sent a file of version 1\.3\.2, the version it already runs: bytes 4096 B/);
    expect(out.counts).toMatchObject({ 'checks-after-success': 2, 'files-naming-no-version': 1, 'stale-offers': 1 });
  });
});
