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
import type { DialectPlugin, HttpRequest, HttpResult } from '../../src/dialect/types.js';
import type { RawResult } from '../../src/engine/network.js';
import { HttpTransport, type HttpSender } from '../../src/engine/http-transport.js';
import type { FleetPlan } from '../../src/scenario/fleet.js';
import { Frontier, type FrontierShare } from '../../src/time/frontier.js';
import { VIRTUAL_TIME_HEADER } from '../../src/protocol/virtual-time.js';
import { scheduleServerEvents } from '../../src/verdicts/server-events.js';
import { EvidenceCollector } from '../../src/verdicts/collect.js';

type S = { kind: 'asking' | 'napping' | 'done'; round: number };
type A = { ok: boolean; explode?: boolean };

/** Asks, naps 50 virtual ms, asks again, done; throws on an answer marked `explode`. */
const plugin: DialectPlugin<S, { n: number }, A, unknown, HttpRequest, HttpResult> = {
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

type Send = HttpSender['send'];
/** The shard's deps over HTTP with a fake sender: `send` and `abortSends` may be replaced after. */
type TestDeps = ShardDeps & { progress: Int32Array; stopFlag: Int32Array; send: Send; abortSends: () => void };

function deps(count: number, send: Send): TestDeps {
  const origin = originNow(1);
  const clock = new ScaledClock(origin);
  const plan = { total: count, cohorts: [], cohortOf: () => 0, profileOf: profile, settingsOf: () => DEFAULT_DEVICE_SETTINGS } as unknown as FleetPlan;
  const start = clock.now();
  const d: TestDeps = {
    transport: new HttpTransport({ send: (...a) => d.send(...a), abortAll: () => d.abortSends(), close: async () => {} }),
    plugin: plugin as unknown as ShardDeps['plugin'],
    plan,
    target: {},
    timing: { kind: 'clock', clock },
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
  return d;
}

const answer = (status: number): RawResult => ({ kind: 'response', status, headers: {}, body: Buffer.alloc(0), headersAt: performance.now() });

describe('ShardRunner', () => {
  it('drives every device to its end, measuring each request', async () => {
    const sent: string[] = [];
    const d = deps(20, async (req) => {
      sent.push(req.path);
      await new Promise((r) => setTimeout(r, 3));
      return answer(200);
    });
    const out = await new ShardRunner(d).run();
    expect(out).toMatchObject({ end: 'completed', started: 20, stopped: 20, requests: 40 });
    expect(sent.filter((p) => p === '/ask/1')).toHaveLength(20);
    expect(sent.filter((p) => p === '/ask/2')).toHaveLength(20);
    const ops = operationsReport(d.recorder.snapshot());
    expect(ops['ask']?.count).toBe(40);
    // The 3 ms the fake server takes, less a timer's 1 ms granularity (a timer may fire up to 1 ms
    // early against performance.now(): the loop's clock is whole milliseconds).
    expect(ops['ask']?.serviceMs.p50).toBeGreaterThanOrEqual(2);
    const check = d.log.check(plugin.rules, (s) => `dev-${s}`, { maxSamples: 3, allowUnfinished: false });
    expect(check.violations).toBe(0);
    expect(check.finalStates).toEqual({ done: 20 });
    expect(Atomics.load(d.progress, ProgressField.inFlight)).toBe(0);
  });

  it('a machine that throws ends only its device, as plugin-error (the toy is no built-in dialect), and the shard completes', async () => {
    // Every first answer is a 500, which makes the toy machine throw.
    const d = deps(6, async (req) => answer(req.path === '/ask/1' ? 500 : 200));
    const out = await new ShardRunner(d).run();
    expect(out).toMatchObject({ end: 'completed', started: 6, stopped: 6 });
    const check = d.log.check(plugin.rules, (s) => `dev-${s}`, { maxSamples: 3, allowUnfinished: false });
    expect(check.finalStates).toEqual({ 'plugin-error': 6 });
    expect(check.byRule).toEqual({ 'plugin-error': 6 });
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
    const d = deps(10, async (_req, _t, _p, onWritten) => {
      onWritten?.(performance.now());
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
    // Aborted requests are not measurements, but the report says the end caught them: 4 written
    // (the in-flight cap), 6 still waiting for a slot.
    const ask = operationsReport(d.recorder.snapshot())['ask'];
    expect(ask?.count).toBe(0);
    expect(ask?.unfinished).toEqual({ inFlight: 4, queued: 6 });
    expect(Atomics.load(d.progress, ProgressField.inFlight)).toBe(0);
    expect(Atomics.load(d.progress, ProgressField.queued)).toBe(0);
  });

  it('an exchange the stop broke off that carries what the device saw goes to the evidence (no measurement): no late data dropped', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    type Seen = { seen?: string };
    const carrying = {
      kind: 'http' as const,
      linkTimeMs: () => 0,
      withVirtualTime: (m: unknown) => m,
      failure: (code: string) => ({ kind: 'error', code }),
      async exchange(slot: number) {
        await gate;
        // Devices 0 and 1 saw something before the end; the others nothing worth keeping.
        return { result: { kind: 'error', code: 'ABORTED', ...(slot < 2 ? { seen: `seen-by-${slot}` } : {}) }, aborted: true, ...(slot < 2 ? { evidence: true } : {}) };
      },
      release: () => {},
      bytesReceived: 0,
      abortAll: () => release(),
      close: async () => {},
    };
    const d = deps(4, async () => answer(200));
    d.transport = carrying as unknown as ShardDeps['transport'];
    const withEvidence = {
      ...plugin,
      wire: { ...plugin.wire, decode: (_r: unknown, res: { kind: string } & Seen) => ({ ok: false, seen: res.seen }) },
      evidence: { factsOf: (_q: unknown, _r: unknown, a: Seen) => ({ ...(a.seen ? { call: a.seen } : {}) }), describe: () => ({ request: '', answer: '' }) },
    };
    d.plugin = withEvidence as unknown as ShardDeps['plugin'];
    d.evidence = EvidenceCollector.for(withEvidence as unknown as ShardDeps['plugin'], { originVirtual: d.runStartVirtual, authTtlSec: undefined, profileOf: profile });
    const running = new ShardRunner(d).run();
    setTimeout(() => Atomics.store(d.stopFlag, 0, 1), 30);
    expect((await running).end).toBe('stopped');
    expect(operationsReport(d.recorder.snapshot())['ask']?.count).toBe(0);
    const batch = d.evidence!.finish(() => undefined, () => false);
    const kept = (batch.devices ?? []).flatMap((x) => x.exchanges.map((e) => [x.id, e.outcome, e.facts.call]));
    expect(kept.sort()).toEqual([
      ['dev-0', 'aborted', 'seen-by-0'],
      ['dev-1', 'aborted', 'seen-by-1'],
    ]);
  });

  it('counts in flight only once written (never above the cap), the rest as queued, and measures the wait apart', async () => {
    const seen: { inFlight: number; queued: number }[] = [];
    let d: ReturnType<typeof deps> | undefined;
    d = deps(12, async (_req, _t, _p, onWritten) => {
      // A connection frees up after 3 ms (a 4 ms timer: one may fire up to 1 ms early against
      // performance.now()): the write comes late, as behind a busy pool.
      await new Promise((r) => setTimeout(r, 4));
      onWritten?.(performance.now());
      const p = d!.progress;
      seen.push({ inFlight: Atomics.load(p, ProgressField.inFlight), queued: Atomics.load(p, ProgressField.queued) });
      await new Promise((r) => setTimeout(r, 6));
      return answer(200);
    });
    d.maxInFlight = 4;
    const out = await new ShardRunner(d).run();
    expect(out.end).toBe('completed');
    expect(Math.max(...seen.map((x) => x.inFlight))).toBeLessThanOrEqual(4);
    // 12 devices asked at once on 4 slots: the others waited, and were counted as queued.
    expect(Math.max(...seen.map((x) => x.queued))).toBeGreaterThan(0);
    const ask = operationsReport(d.recorder.snapshot())['ask']!;
    expect(ask.count).toBe(24);
    // Every request waited at least the 3 ms before its write; service starts at the write.
    expect(ask.queuedMs!.p50).toBeGreaterThanOrEqual(3);
    expect(ask.serviceMs.p50).toBeGreaterThanOrEqual(5);
    expect(ask.latencyMs.p50).toBeGreaterThanOrEqual(8);
    expect(Atomics.load(d.progress, ProgressField.inFlight)).toBe(0);
    expect(Atomics.load(d.progress, ProgressField.queued)).toBe(0);
  });
});

describe('ShardRunner: requests that only wait (Wire.waits)', () => {
  /** Round 1 is a wait (a listen window: 20 ms, nothing written), round 2 a real ask; the most at once of each. */
  async function peaks(waits: boolean): Promise<{ waiting: number; asking: number }> {
    let waiting = 0;
    let asking = 0;
    const peak = { waiting: 0, asking: 0 };
    const d = deps(8, async (req) => {
      const wait = req.path === '/ask/1';
      if (wait) peak.waiting = Math.max(peak.waiting, ++waiting);
      else peak.asking = Math.max(peak.asking, ++asking);
      await new Promise((r) => setTimeout(r, wait ? 20 : 2));
      if (wait) waiting--;
      else asking--;
      return answer(200);
    });
    d.plugin = { ...plugin, wire: { ...plugin.wire, ...(waits ? { waits: (r: { n: number }) => r.n === 1 } : {}) } } as unknown as ShardDeps['plugin'];
    d.maxInFlight = 2;
    const out = await new ShardRunner(d).run();
    expect(out.end).toBe('completed');
    expect(Atomics.load(d.progress, ProgressField.queued)).toBe(0);
    return peak;
  }

  it('a wait takes no in-flight slot: eight devices listen at once on two slots, while real requests keep to the cap', async () => {
    const free = await peaks(true);
    expect(free.waiting).toBe(8);
    expect(free.asking).toBeLessThanOrEqual(2);
    // Without the mark a listen holds a slot for its whole window, as any request does.
    const held = await peaks(false);
    expect(held.waiting).toBeLessThanOrEqual(2);
  });
});

describe('ShardRunner under a frontier (--time-scale max)', () => {
  const DAY = 86_400_000;
  /** Asks, sleeps a virtual day, asks again, done. */
  const sleepy = {
    ...plugin,
    machine: {
      ...plugin.machine,
      onAnswer: (s: S, _a: A, _p: unknown, _set: unknown, now: number) =>
        s.round === 1 ? { state: { kind: 'napping', round: 1 }, action: { type: 'sleep', until: now + DAY } } : { state: { kind: 'done', round: 2 }, action: { type: 'stop' } },
    },
  };

  function frontierDeps(count: number, share: FrontierShare, index: number, arrival: (i: number) => number, send: Send): ReturnType<typeof deps> {
    const d = deps(count, send);
    d.plugin = sleepy as unknown as ShardDeps['plugin'];
    d.timing = { kind: 'frontier', frontier: new Frontier(share), index };
    d.runStartVirtual = START;
    d.series = new SeriesRecorder(START, 'max');
    d.arrivalOffset = arrival;
    return d;
  }
  const START = 1_800_000_000_000;
  const sentAt = (req: { headers: Record<string, string> }): number => Number(req.headers[VIRTUAL_TIME_HEADER]);

  it('runs a virtual day without waiting for it, every request stamped with its virtual instant', async () => {
    const stamps = new Map<string, number>();
    const share = Frontier.share(1, START, 10_000);
    const d = frontierDeps(5, share, 0, (i) => i * 1000, async (req) => {
      stamps.set(`${req.path}#${stamps.size}`, sentAt(req as never));
      return answer(200);
    });
    const out = await new ShardRunner(d).run();
    expect(out).toMatchObject({ end: 'completed', started: 5, stopped: 5, requests: 10 });
    const firsts = [...stamps].filter(([k]) => k.startsWith('/ask/1')).map(([, t]) => t).sort((a, b) => a - b);
    const seconds = [...stamps].filter(([k]) => k.startsWith('/ask/2')).map(([, t]) => t).sort((a, b) => a - b);
    expect(firsts).toEqual([0, 1, 2, 3, 4].map((i) => START + i * 1000));
    // Time stands still through an exchange: the day is counted from the first ask's own instant.
    expect(seconds).toEqual(firsts.map((t) => t + DAY));
    expect(out.virtualEnd).toBe(START + 4000 + DAY);
    // Finished: it holds nobody back any more.
    expect(new Frontier(share).lowestFloor()).toBe(Infinity);
  });

  it('keeps two workers within the lookahead of each other: no request reaches the server earlier than one already sent by more than that', async () => {
    const lookahead = 1000;
    const share = Frontier.share(2, START, lookahead);
    const order: number[] = [];
    const send: Send = async (req) => {
      order.push(sentAt(req as never));
      // Answers come back in a scrambled real order.
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      return answer(200);
    };
    // Worker 0's devices arrive densely over an hour, worker 1's sparsely: left alone, 1 would race ahead.
    const a = frontierDeps(200, share, 0, (i) => i * 18_000, send);
    const b = frontierDeps(20, share, 1, (i) => i * 180_000, send);
    const [ra, rb] = await Promise.all([new ShardRunner(a).run(), new ShardRunner(b).run()]);
    expect(ra.requests + rb.requests).toBe(440);
    let latest = -Infinity;
    for (const t of order) {
      // Floors are whole ms: one ms of rounding on top of the lookahead.
      expect(t).toBeGreaterThan(latest - lookahead - 1);
      latest = Math.max(latest, t);
    }
  });

  it('does no request at or past the barrier until the main thread does its event', async () => {
    const share = Frontier.share(1, START, 60_000);
    const events: { sentBefore: number[] }[] = [];
    const order: number[] = [];
    const barrierAt = START + 30_000.5;
    const run = scheduleServerEvents(
      [{ atMs: barrierAt - START, action: 'lift-bans' }],
      {
        get: async () => ({}) as never,
        post: async () => {
          events.push({ sentBefore: [...order] });
          return {} as never;
        },
      },
      { kind: 'frontier', frontier: new Frontier(share) },
      START,
      () => {},
    );
    const d = frontierDeps(60, share, 0, (i) => i * 1000, async (req) => {
      order.push(sentAt(req as never));
      return answer(200);
    });
    await new ShardRunner(d).run();
    const applied = await run.settle();
    expect(applied).toHaveLength(1);
    expect(applied[0]!.startedAt).toBe(30_000);
    const before = events[0]!.sentBefore;
    expect(before.length).toBeGreaterThan(0);
    expect(Math.max(...before)).toBeLessThan(START + 30_000);
    expect(Math.min(...order.slice(before.length))).toBeGreaterThanOrEqual(START + 30_000);
  });

  it('adds a link\'s transfer time to virtual time instead of waiting it out, and an RRC set-up before the send', async () => {
    const stamps: number[] = [];
    const share = Frontier.share(1, START, 60_000);
    const d = frontierDeps(1, share, 0, () => 0, async (req, _timeout, paceMs) => {
      stamps.push(sentAt(req as never));
      // Nothing is paced in real time under a frontier.
      expect(paceMs).toBe(0);
      return answer(200);
    });
    const downloading = { ...sleepy, wire: { ...sleepy.wire, encode: (r: { n: number }) => ({ method: 'GET', path: `/ask/${r.n}`, headers: { range: 'bytes=0-999' }, download: { total: 1000 } }) } };
    d.plugin = downloading as unknown as ShardDeps['plugin'];
    // 1000 bytes at 8000 bit/s is 1000 ms, plus 100 ms of round trip; 1500 ms to connect from idle.
    d.radioOf = () => ({ config: { mode: 'always-on', rrcSetupMs: 1500 }, link: { bitrateBps: 8000, rttMs: 100 } });
    const out = await new ShardRunner(d).run();
    expect(out.end).toBe('completed');
    expect(stamps[0]).toBe(START + 1500);
    // Answered 1100 ms after it was sent; asleep a day from then; connected (1.5 s) again from idle.
    expect(stamps[1]).toBe(START + 1500 + 1100 + DAY + 1500);
  });
});

