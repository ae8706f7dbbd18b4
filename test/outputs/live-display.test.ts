import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLiveDisplay, plainLine, statesLine } from '../../src/outputs/live-display.js';
import { OperationRecorder, operationsReport } from '../../src/metrics/recorder.js';
import type { LiveProgress } from '../../src/engine/run.js';

function progress(over: Partial<LiveProgress> = {}): LiveProgress {
  const rec = new OperationRecorder();
  for (let i = 1; i <= 100; i++) rec.record('check', 'errno:0', false, 0, 0, i);
  return {
    started: 60,
    stopped: 50,
    inFlight: 4,
    queued: 12,
    requests: 1200,
    errors: 7,
    elapsedMs: 10_000,
    total: 100,
    capLeftMs: 50_000,
    live: { operations: operationsReport(rec.snapshot()), states: { asleep: 40, checking: 3, downloading: 7, succeeded: 48, failed: 2 } },
    ...over,
  };
}

function stream(isTTY: boolean): PassThrough & { isTTY: boolean; columns: number; text(): string } {
  const s = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; text(): string; cursorTo?: unknown };
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  s.isTTY = isTTY;
  s.columns = 160;
  s.text = () => out;
  return s;
}

describe('live display', () => {
  it('groups states into the chart categories', () => {
    expect(statesLine('onenet', progress().live.states)).toBe('asleep 40 · checking 3 · downloading 7 · succeeded 48 · failed 2');
  });

  it('a plain line carries done, rate, errors, p99 so far, states and time left', () => {
    const text = plainLine(progress(), 'onenet', 120);
    expect(text).toContain('done 50/100');
    expect(text).toContain('120/s');
    expect(text).toContain('errors 7');
    // Written-and-unanswered and waiting-in-the-harness apart (issue 11.16): the first never exceeds the cap.
    expect(text).toContain('in flight 4 · queued 12');
    expect(text).toMatch(/p99 check 99\.\d+ms/);
    expect(text).toContain('downloading 7');
    expect(text).toContain('~10.00s left (cap 50.00s)');
  });

  it('writes one plain line per update when the stream is not a terminal', () => {
    const out = stream(false);
    const d = createLiveDisplay('onenet', out as unknown as NodeJS.WriteStream);
    d.update(progress());
    d.update(progress({ stopped: 60, requests: 2400, elapsedMs: 11_000 }));
    d.stop();
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('done 60/100');
    expect(lines[1]).toContain('1200/s');
  });

  it('draws bars in place on a terminal', () => {
    const out = stream(true);
    const d = createLiveDisplay('onenet', out as unknown as NodeJS.WriteStream);
    d.update(progress());
    d.stop();
    const text = out.text();
    expect(text).toContain('50/100');
    expect(text).toContain('states  asleep 40');
    expect(text).toContain('in flight 4 · queued 12');
    expect(text).toMatch(/p99 {5}check 99\.\d+ms/);
  });

  it('never draws a raw {placeholder}, not even in the first frame before any update', () => {
    const out = stream(true);
    const d = createLiveDisplay('onenet', out as unknown as NodeJS.WriteStream);
    d.stop();
    expect(out.text()).not.toMatch(/\{[a-z]+\}/);
    const again = stream(true);
    const d2 = createLiveDisplay('onenet', again as unknown as NodeJS.WriteStream);
    d2.update(progress());
    d2.stop();
    expect(again.text()).not.toMatch(/\{[a-z]+\}/);
  });

  it('the time left counts down while no device finishes, then gives way to "—" with how long none did', () => {
    const out = stream(false);
    const d = createLiveDisplay('onenet', out as unknown as NodeJS.WriteStream);
    d.update(progress({ stopped: 50, elapsedMs: 10_000 }));
    d.update(progress({ stopped: 50, elapsedMs: 14_000 }));
    d.update(progress({ stopped: 50, elapsedMs: 40_000 }));
    d.update(progress({ stopped: 60, elapsedMs: 41_000 }));
    d.stop();
    const lines = out.text().trim().split('\n');
    expect(lines[0]).toContain('~10.00s left');
    // Not "~18.00s left" (the run's average rate over a longer time): 4 s of the 10 s are gone.
    expect(lines[1]).toContain('~6.00s left');
    expect(lines[2]).toContain('ETA — (no device done in 30.00s; cap 50.00s)');
    expect(lines[3]).toMatch(/~\d+\.\d+s left/);
  });
});
