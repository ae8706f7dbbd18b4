/**
 * The shard runner with a fake network and a hand-made plugin: it drives devices through their
 * machines, measures what it sends, keeps going when a machine breaks, and stops when told.
 */
import { describe, expect, it } from 'vitest';
import { ShardRunner, type ShardDeps } from '../../src/engine/shard.js';
import { PROGRESS_FIELDS, ProgressField } from '../../src/engine/progress.js';
import { OperationRecorder, LagRecorder, operationsReport } from '../../src/metrics/recorder.js';
import { TransitionLog } from '../../src/metrics/transitions.js';
import { SeriesRecorder } from '../../src/metrics/series.js';
import { ScaledClock, originNow } from '../../src/time/clock.js';
import { DEFAULT_DEVICE_SETTINGS, NO_FAULTS, type DeviceProfile } from '../../src/device/types.js';
import type { DialectPlugin } from '../../src/dialect/types.js';
import type { RawResult } from '../../src/engine/network.js';
import type { FleetPlan } from '../../src/scenario/fleet.js';

type S = { kind: 'asking' | 'napping' | 'done'; round: number };
type A = { ok: boolean; explode?: boolean };

/** Asks, naps 50 virtual ms, asks again, done; throws on an answer marked `explode`. */
const plugin: DialectPlugin<S, { n: number }, A> = {
  name: 'toy',
  operations: ['ask'],
  machine: {
    start: () => ({ state: { kind: 'asking', round: 1 }, action: { type: 'send', request: { n: 1 } } }),
    onTimer: () => ({ state: { kind: 'asking', round: 2 }, action: { type: 'send', request: { n: 2 } } }),
    onAnswer(s, a, _p, _set, now) {
      if (a.explode) throw new Error('machine bug');
      return s.round === 1
        ? { state: { kind: 'napping', round: 1 }, action: { type: 'sleep', until: now + 50 } }
        : { state: { kind: 'done', round: 2 }, action: { type: 'stop' } };
    },
  },
  wire: {
    encode: (r) => ({ method: 'GET', path: `/ask/${r.n}`, headers: {} }),
    decode: (_r, res) => ({ ok: res.kind === 'response', explode: res.kind === 'response' && res.status === 500 }),
    operationOf: () => 'ask',
    outcomeOf: (a) => (a.ok ? 'ok' : 'net'),
    isError: (a) => !a.ok,
  },
  rules: { kinds: ['asking', 'napping', 'done'], next: { asking: ['napping', 'done'], napping: ['asking'], done: [] }, initial: ['asking'], final: ['done'] },
};

function profile(i: number): DeviceProfile {
  return { index: i, id: `dev-${i}`, cohort: 'c', version: '1', manuf: '1', model: '1', core: '1', taskType: 2, battery: 100, signal: 25, seed: i, behaviour: NO_FAULTS } as DeviceProfile;
}

function deps(count: number, send: ShardDeps['send']): ShardDeps & { progress: Int32Array; stopFlag: Int32Array } {
  const origin = originNow(1);
  const clock = new ScaledClock(origin);
  const plan = { total: count, cohorts: [], cohortOf: () => 0, profileOf: profile, settingsOf: () => DEFAULT_DEVICE_SETTINGS } as unknown as FleetPlan;
  const start = clock.now();
  return {
    plugin: plugin as unknown as ShardDeps['plugin'],
    plan,
    target: {},
    clock,
    runStartVirtual: start,
    maxVirtualMs: undefined,
    count,
    globalIndex: (slot) => slot,
    arrivalOffset: (i) => i,
    send,
    abortSends: () => {},
    maxInFlight: 4,
    recorder: new OperationRecorder(),
    lag: new LagRecorder(),
    log: new TransitionLog(count),
    series: new SeriesRecorder(start, 1),
    stopFlag: new Int32Array(1),
    progress: new Int32Array(PROGRESS_FIELDS),
  };
}

const answer = (status: number): RawResult => ({ kind: 'response', status, headers: {}, body: Buffer.alloc(0), headersAt: performance.now() });

describe('ShardRunner', () => {
  it('drives every device to its end, measuring each request', async () => {
    const sent: string[] = [];
    const d = deps(20, async (req) => {
      sent.push(req.path);
      await new Promise((r) => setTimeout(r, 2));
      return answer(200);
    });
    const out = await new ShardRunner(d).run();
    expect(out).toMatchObject({ end: 'completed', started: 20, stopped: 20, requests: 40 });
    expect(sent.filter((p) => p === '/ask/1')).toHaveLength(20);
    expect(sent.filter((p) => p === '/ask/2')).toHaveLength(20);
    const ops = operationsReport(d.recorder.snapshot());
    expect(ops['ask']?.count).toBe(40);
    expect(ops['ask']?.serviceMs.p50).toBeGreaterThanOrEqual(2);
    const check = d.log.check(plugin.rules, (s) => `dev-${s}`, { maxSamples: 3, allowUnfinished: false });
    expect(check.violations).toBe(0);
    expect(check.finalStates).toEqual({ done: 20 });
    expect(Atomics.load(d.progress, ProgressField.inFlight)).toBe(0);
  });

  it('a machine that throws ends only its device, as harness-error, and the shard completes', async () => {
    // Every first answer is a 500, which makes the toy machine throw.
    const d = deps(6, async (req) => answer(req.path === '/ask/1' ? 500 : 200));
    const out = await new ShardRunner(d).run();
    expect(out).toMatchObject({ end: 'completed', started: 6, stopped: 6 });
    const check = d.log.check(plugin.rules, (s) => `dev-${s}`, { maxSamples: 3, allowUnfinished: false });
    expect(check.finalStates).toEqual({ 'harness-error': 6 });
    expect(Atomics.load(d.progress, ProgressField.inFlight)).toBe(0);
  });

  it('a codec that throws while encoding ends its device too, and no request is left counted in flight', async () => {
    const broken = { ...plugin, wire: { ...plugin.wire, encode: () => { throw new Error('codec bug'); } } };
    const d = deps(5, async () => answer(200));
    d.plugin = broken as unknown as ShardDeps['plugin'];
    const out = await new ShardRunner(d).run();
    expect(out).toMatchObject({ end: 'completed', stopped: 5, requests: 0 });
    expect(Atomics.load(d.progress, ProgressField.inFlight)).toBe(0);
  });

  it('stops when the main thread raises the stop flag, leaving in-flight devices where they were', async () => {
    let aborted = false;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const d = deps(10, async () => {
      await gate;
      return aborted ? { kind: 'error', code: 'ABORTED' } : answer(200);
    });
    d.abortSends = () => {
      aborted = true;
      release();
    };
    const running = new ShardRunner(d).run();
    setTimeout(() => Atomics.store(d.stopFlag, 0, 1), 30);
    const out = await running;
    expect(out.end).toBe('stopped');
    expect(out.stopped).toBe(0);
    // Aborted requests are not measurements.
    expect(operationsReport(d.recorder.snapshot())['ask']).toBeUndefined();
    expect(Atomics.load(d.progress, ProgressField.inFlight)).toBe(0);
  });
});
