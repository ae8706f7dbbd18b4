import { describe, expect, it } from 'vitest';
import type { TransitionRules } from '../../src/device/types.js';
import { BYTES_PER_ENTRY, INITIAL_CAPACITY, OVERFLOW_NAME, TransitionLog, mergeTransitionChecks, transitionsReport } from '../../src/metrics/transitions.js';

const RULES: TransitionRules = {
  kinds: ['idle', 'checking', 'downloading', 'flashing', 'succeeded', 'failed', 'up-to-date'],
  next: {
    idle: ['checking'],
    checking: ['downloading', 'up-to-date', 'failed', 'idle'],
    downloading: ['flashing', 'failed', 'checking'],
    flashing: ['succeeded', 'failed'],
    succeeded: [],
    failed: [],
    'up-to-date': [],
  },
  initial: ['idle'],
  final: ['succeeded', 'failed', 'up-to-date'],
};

const idOf = (slot: number): string => `dev-${String(slot).padStart(4, '0')}`;
const STRICT = { maxSamples: 10, allowUnfinished: false };

/** Appends `states` for a device, one virtual second apart, starting at `t0`. */
function walk(log: TransitionLog, slot: number, states: string[], t0 = 0): void {
  states.forEach((state, i) => log.append(slot, t0 + i * 1000, state, i === 0 ? 'start' : 'errno:0'));
}

const HAPPY = ['idle', 'checking', 'downloading', 'flashing', 'succeeded'];

describe('TransitionLog.check', () => {
  it('passes legal sequences, interleaved across devices', () => {
    const log = new TransitionLog(3);
    // Interleave: device events arrive mixed, each device's own order kept.
    for (let i = 0; i < HAPPY.length; i++) {
      log.append(0, i * 1000, HAPPY[i]!, 'timer');
      if (i < 3) log.append(1, i * 1000 + 1, ['idle', 'checking', 'up-to-date'][i]!, 'timer');
      log.append(2, i * 1000 + 2, ['idle', 'checking', 'idle', 'checking', 'failed'][i]!, 'timer');
    }
    const c = log.check(RULES, idOf, STRICT);
    expect(c).toEqual({ checked: 3, violations: 0, byRule: {}, samples: [], finalStates: { succeeded: 1, 'up-to-date': 1, failed: 1 }, unfinished: 0 });
  });

  it('a device whose code threw is a plugin or harness error, with a formatted time, not an illegal transition', () => {
    const log = new TransitionLog(2);
    walk(log, 0, ['idle', 'checking']);
    log.append(0, 1534.25, 'plugin-error', 'decode: unexpected token');
    walk(log, 1, ['idle']);
    log.append(1, 62_000, 'harness-error', 'boom');
    const c = log.check(RULES, idOf, STRICT);
    expect(c.byRule).toEqual({ 'plugin-error': 1, 'harness-error': 1 });
    expect(c.violations).toBe(2);
    expect(c.samples.map((v) => v.detail)).toEqual([
      'the dialect plugin threw in checking at 1.53s: decode: unexpected token',
      "ota-swarm's own code threw in idle at 1m 2s: boom",
    ]);
    expect(c.finalStates).toEqual({ 'plugin-error': 1, 'harness-error': 1 });
  });

  it('catches a device that does not start in an initial state', () => {
    const log = new TransitionLog(1);
    walk(log, 0, ['checking', 'up-to-date']);
    const c = log.check(RULES, idOf, STRICT);
    expect(c.violations).toBe(1);
    expect(c.byRule).toEqual({ 'initial-state': 1 });
    expect(c.samples[0]).toMatchObject({ device: 'dev-0000', rule: 'initial-state' });
    expect(c.samples[0]!.detail).toContain('checking');
  });

  it('catches an illegal transition, naming both states', () => {
    const log = new TransitionLog(2);
    walk(log, 0, HAPPY);
    walk(log, 1, ['idle', 'checking', 'flashing', 'succeeded']);
    const c = log.check(RULES, idOf, STRICT);
    expect(c.byRule).toEqual({ 'illegal-transition': 1 });
    expect(c.samples).toHaveLength(1);
    expect(c.samples[0]!.device).toBe('dev-0001');
    expect(c.samples[0]!.detail).toContain('checking → flashing');
  });

  it('catches a state entered twice in a row', () => {
    const log = new TransitionLog(1);
    walk(log, 0, ['idle', 'checking', 'checking', 'up-to-date']);
    const c = log.check(RULES, idOf, STRICT);
    expect(c.byRule).toEqual({ repeat: 1 });
    expect(c.samples[0]!.rule).toBe('repeat');
  });

  it('catches an unfinished device unless the run was cut short', () => {
    const log = new TransitionLog(2);
    walk(log, 0, ['idle', 'checking', 'downloading']);
    walk(log, 1, HAPPY);
    const strict = log.check(RULES, idOf, STRICT);
    expect(strict.byRule).toEqual({ 'final-state': 1 });
    expect(strict.unfinished).toBe(1);
    expect(strict.samples[0]).toMatchObject({ device: 'dev-0000', rule: 'final-state' });
    const lenient = log.check(RULES, idOf, { maxSamples: 10, allowUnfinished: true });
    expect(lenient).toMatchObject({ checked: 2, violations: 0, unfinished: 1, samples: [], finalStates: { downloading: 1, succeeded: 1 } });
  });

  it('catches a state the rules do not know', () => {
    const log = new TransitionLog(1);
    walk(log, 0, ['idle', 'rebooting', 'succeeded']);
    const c = log.check(RULES, idOf, STRICT);
    expect(c.byRule).toEqual({ 'illegal-transition': 2 });
  });

  it('copes with state names that are object-prototype keys', () => {
    const log = new TransitionLog(1);
    walk(log, 0, ['idle', 'checking', 'constructor', '__proto__']);
    const c = log.check(RULES, idOf, STRICT);
    expect(c.byRule).toEqual({ 'illegal-transition': 2, 'final-state': 1 });
    expect(Object.entries(c.finalStates)).toEqual([['__proto__', 1]]);
    const merged = mergeTransitionChecks([c, c], 5);
    expect(Object.entries(merged.finalStates)).toEqual([['__proto__', 2]]);
  });

  it('counts every violation, samples each device once with its full trace', () => {
    const log = new TransitionLog(4, 500);
    log.append(0, 500, 'checking', 'start'); // initial-state
    log.append(0, 1500, 'checking', 'timer'); // repeat
    log.append(0, 2500, 'flashing', 'errno:0'); // illegal
    // ends in flashing: final-state
    walk(log, 1, HAPPY, 500);
    walk(log, 2, ['idle', 'failed'], 500); // illegal
    walk(log, 3, ['idle', 'succeeded'], 500); // illegal
    const c = log.check(RULES, idOf, { maxSamples: 2, allowUnfinished: false });
    expect(c.violations).toBe(6);
    expect(c.byRule).toEqual({ 'initial-state': 1, repeat: 1, 'illegal-transition': 3, 'final-state': 1 });
    expect(c.samples.map((s) => s.device)).toEqual(['dev-0000', 'dev-0002']);
    expect(c.samples[0]!.rule).toBe('initial-state');
    expect(c.samples[0]!.detail).toContain('(+3 more)');
    // Times relative to the run's virtual origin (500).
    expect(c.samples[0]!.trace).toEqual([
      { t: 0, state: 'checking', cause: 'start' },
      { t: 1000, state: 'checking', cause: 'timer' },
      { t: 2000, state: 'flashing', cause: 'errno:0' },
    ]);
    expect(structuredClone(c)).toEqual(c);
  });

  it('does not check devices that never appended anything', () => {
    const log = new TransitionLog(5);
    walk(log, 3, HAPPY);
    expect(log.check(RULES, idOf, STRICT)).toMatchObject({ checked: 1, violations: 0 });
  });

  it('rejects a slot outside the log and a time that is not finite', () => {
    const log = new TransitionLog(2);
    expect(() => log.append(2, 0, 'idle', 'start')).toThrow(RangeError);
    expect(() => log.append(-1, 0, 'idle', 'start')).toThrow(RangeError);
    expect(() => log.append(0.5, 0, 'idle', 'start')).toThrow(RangeError);
    expect(() => log.append(0, Number.NaN, 'idle', 'start')).toThrow(RangeError);
    expect(log.length).toBe(0);
  });
});

describe('TransitionLog access', () => {
  it('gives final states and traces', () => {
    const log = new TransitionLog(3);
    walk(log, 0, HAPPY);
    walk(log, 1, ['idle', 'checking']);
    expect(log.finalStateOf(0)).toBe('succeeded');
    expect(log.finalStateOf(1)).toBe('checking');
    expect(log.finalStateOf(2)).toBeUndefined();
    expect(log.traceOf(1)).toEqual([
      { t: 0, state: 'idle', cause: 'start' },
      { t: 1000, state: 'checking', cause: 'errno:0' },
    ]);
    expect(log.traceOf(2)).toEqual([]);
    const traces = log.tracesOf([0, 1]);
    expect(traces.get(0)!.map((s) => s.state)).toEqual(HAPPY);
    const seen: number[] = [];
    log.forEach((slot) => seen.push(slot));
    expect(seen).toEqual([0, 0, 0, 0, 0, 1, 1]);
  });

  it('maps causes beyond the table to a catch-all instead of failing', () => {
    const log = new TransitionLog(1, 0, 4);
    log.append(0, 0, 'idle', 'start');
    for (let i = 0; i < 10; i++) log.append(0, i + 1, i % 2 === 0 ? 'checking' : 'idle', `code:${i}`);
    const causes = log.traceOf(0).map((s) => s.cause);
    expect(causes.slice(0, 3)).toEqual(['start', 'code:0', 'code:1']);
    expect(causes.slice(3).every((c) => c === OVERFLOW_NAME)).toBe(true);
    expect(log.length).toBe(11);
  });

  it('stays compact: 16 bytes an entry, capacity doubling from 1024', () => {
    const n = 1_000_000;
    const log = new TransitionLog(1000);
    const states = ['idle', 'checking'];
    for (let i = 0; i < n; i++) log.append(i % 1000, i, states[Math.floor(i / 1000) % 2]!, 'timer');
    expect(log.length).toBe(n);
    expect(BYTES_PER_ENTRY).toBe(16);
    // Smallest power-of-two multiple of the initial capacity holding a million entries.
    const expected = INITIAL_CAPACITY * 2 ** Math.ceil(Math.log2(n / INITIAL_CAPACITY));
    expect(log.capacity).toBe(expected);
    expect(log.capacity).toBeLessThan(2 * n);
    expect(log.byteLength).toBe(log.capacity * BYTES_PER_ENTRY);
    expect(log.byteLength).toBeLessThan(2 * n * 16 + 1);
    // Earlier entries survived every growth.
    expect(log.traceOf(7)[0]).toEqual({ t: 7, state: 'idle', cause: 'timer' });
  });
});

describe('mergeTransitionChecks', () => {
  it('sums workers and keeps the first samples in order', () => {
    const a = new TransitionLog(2);
    walk(a, 0, ['idle', 'succeeded']);
    walk(a, 1, HAPPY);
    const b = new TransitionLog(2);
    walk(b, 0, ['checking', 'up-to-date']);
    walk(b, 1, ['idle', 'checking']);
    const ca = a.check(RULES, (s) => `a${s}`, STRICT);
    const cb = b.check(RULES, (s) => `b${s}`, STRICT);
    const m = mergeTransitionChecks([ca, cb], 2);
    expect(m.checked).toBe(4);
    expect(m.violations).toBe(3);
    expect(m.byRule).toEqual({ 'illegal-transition': 1, 'initial-state': 1, 'final-state': 1 });
    expect(m.finalStates).toEqual({ succeeded: 2, 'up-to-date': 1, checking: 1 });
    expect(m.unfinished).toBe(1);
    expect(m.samples.map((s) => s.device)).toEqual(['a0', 'b0']);
    expect(mergeTransitionChecks([], 5)).toEqual({ checked: 0, violations: 0, byRule: {}, samples: [], finalStates: {}, unfinished: 0 });
    expect(transitionsReport(m)).toEqual({ checked: 4, violations: 3, byRule: m.byRule, unfinished: m.unfinished, samples: m.samples });
  });
});
