/**
 * A run's own exchange log replayed: against the same reference server it answers as logged; with
 * a named bug switched on, the first differing exchange of each device is the one the bug touches.
 * Needs a fresh `npm run build` (the server thread and the workers run dist/).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { prepareReplay, replay } from '../../src/replay/session.js';
import { rulesOf } from '../../src/verdicts/registry.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const scenario = (name: string): string => join(ROOT, 'scenarios', name);

describe('replaying a run\'s exchange log', () => {
  it('OneNET: no difference against the same server; with ignore-range, each device\'s first download is the first difference', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-e2e-'));
    const log = join(dir, 'exchanges.jsonl');
    const report = await run(scenario('rollout-onenet.yaml'), { workers: 1, overrides: { devices: 3, timeScale: 50 }, exchangeLog: log });
    expect(report.passed).toBe(true);
    const requests = Object.values(report.operations).reduce((n, o) => n + o.count, 0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    // One record per exchange, none dropped, in time order, with no key in it.
    expect(lines).toHaveLength(requests);
    const times = lines.map((l) => Date.parse((JSON.parse(l) as { t: string }).t));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // No key, and no task token (a download's credential): a pseudonym ties a task's calls together.
    expect(readFileSync(log, 'utf8')).not.toMatch(/Authorization|accessKey|sign=|ota_[A-Za-z0-9]{20}/);
    expect(readFileSync(log, 'utf8')).toMatch(/"task":"task-[0-9a-f]{16}"/);

    const prepared = prepareReplay({ log });
    expect(prepared.scripts).toHaveLength(3);
    const same = await replay({ prepared, logLabel: log, timeScale: 50, seed: 42 });
    expect(same.replayed).toBe(requests);
    expect(same.perDevice.map((d) => d.first)).toEqual([undefined, undefined, undefined]);
    expect(same.passed).toBe(true);
    // Every rule of the dialect through the run's verdict pipeline, with the embedded server's own view.
    expect(same.verdicts.rules.map((v) => v.rule).sort()).toEqual(rulesOf('onenet').map((r) => r.name).sort());
    expect(same.verdicts.rules.filter((v) => v.violations > 0)).toEqual([]);
    const checked = Object.fromEntries(same.verdicts.rules.map((v) => [v.rule, v.checked]));
    expect(checked).toMatchObject({ 'one-success-per-task': 3, 'own-token': 3, 'resume-from-held': 3, 'stale-task': 3, 'final-state-agreement': 0 });

    const buggy = await replay({ prepared, logLabel: log, timeScale: 50, seed: 42, bugs: ['ignore-range'] });
    expect(buggy.passed).toBe(false);
    for (const d of buggy.perDevice) {
      const script = prepared.scripts.find((s) => s.device === d.device)!;
      const firstDownload = script.steps.findIndex((s) => s.op === 'download');
      expect(d.first).toMatchObject({ index: firstDownload, op: 'download', fields: ['status', 'bytes'], logged: { status: 206 }, now: { status: 200 } });
    }
    // The verdicts name the bug too: each device's Range was ignored.
    const resume = buggy.verdicts.rules.find((v) => v.rule === 'resume-from-held');
    expect(resume?.violations).toBe(3);
    expect(resume?.samples[0]?.detail).toMatch(/the Range was ignored/);
  });

  it('Luat (CSV): no difference against the same server; with no-diff-wait, each device\'s first ask, logged 43, now gets the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-e2e-'));
    const log = join(dir, 'exchanges.csv');
    // Luat's answer depends on time: 43 until the diff build (60–180 s virtual from the first ask,
    // the built-in catalog) is done, the file after. An ask that lands near the build's end could
    // be answered either way on a replay (its instant moves by the replay's scheduling lag), so
    // this run keeps every ask far from any possible end: the devices arrive within 1 s, so every
    // first ask is a second or two (the run's own lag: a few real ms read ×200) after the build
    // started, checked below to be within 20 s (40 s before its earliest end), and they back off
    // 300 s × [0.8, 1.2) after a 43, so every second ask is at least 240 s after it (60 s past its
    // latest end). 40 s virtual is 200 ms real at ×200: far above the replay's lag.
    const text = readFileSync(scenario('rollout-luat.yaml'), 'utf8').replace('waitBackoff: 60s', 'waitBackoff: 300s').replace('over: 30s', 'over: 1s')
      // Latency is not what this run is for: at ×200 a few real ms of the machine's lag read as a virtual second.
      .replace('  - luat.p99 < 1s\n', '');
    expect(text).toContain('waitBackoff: 300s');
    expect(text).toContain('over: 1s }');
    expect(text).not.toContain('luat.p99');
    writeFileSync(join(dir, 'luat.yaml'), text);
    const report = await run(join(dir, 'luat.yaml'), { workers: 1, overrides: { devices: 2, timeScale: 200 }, exchangeLog: log });
    expect(report.passed).toBe(true);
    expect(readFileSync(log, 'utf8').split('\n')[0]).toBe('t,device,dialect,op,method,path,range,body,status,net,errno,code,task,version,bytes,cut');
    expect(readFileSync(log, 'utf8')).not.toContain('project_key');
    const prepared = prepareReplay({ log });
    // The log is as planned: each device asked twice, 43 then the file, the asks clear of the build's end.
    const asks = prepared.scripts.flatMap((s) => s.steps.filter((x) => x.op === 'luat').map((x) => ({ at: x.atMs, code: x.logged.code, status: x.logged.status })));
    expect(asks.filter((a) => a.code === 43).every((a) => a.at <= 20_000), JSON.stringify(asks)).toBe(true);
    expect(asks.filter((a) => a.status === 200).every((a) => a.at >= 240_000), JSON.stringify(asks)).toBe(true);
    expect(asks.filter((a) => a.code === 43), JSON.stringify(asks)).toHaveLength(2);

    const same = await replay({ prepared, logLabel: log, timeScale: 200, seed: 7 });
    expect(same.perDevice.map((d) => d.first)).toEqual([undefined, undefined]);
    expect(same.verdicts.rules.filter((v) => v.violations > 0)).toEqual([]);
    expect(same.passed).toBe(true);

    // With the bug no ask waits, so nothing depends on the build's end: a faster replay.
    const buggy = await replay({ prepared, logLabel: log, timeScale: 1000, seed: 7, bugs: ['no-diff-wait'] });
    expect(buggy.perDevice).toHaveLength(2);
    for (const d of buggy.perDevice) expect(d.first).toMatchObject({ index: 0, op: 'luat', fields: ['status', 'code'], logged: { status: 400, code: 43 }, now: { status: 200 } });
    expect(buggy.verdicts.rules.map((v) => v.rule).sort()).toEqual(rulesOf('luat').map((r) => r.name).sort());
    // The verdicts name the bug too: the diff came at once, where the build should have answered 43.
    const diffWait = buggy.verdicts.rules.find((v) => v.rule === 'diff-wait');
    expect(diffWait?.violations).toBe(2);
    expect(diffWait?.samples[0]?.detail).toMatch(/so it should have been 43/);
  });
});
