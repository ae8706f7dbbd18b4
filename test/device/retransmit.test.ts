/**
 * The transmission layer (device/retransmit.ts) around the machines as the engine runs them: lost
 * answers drawn from the device's seed, retransmission with RFC 7252 backoff, the machine's own
 * logic once the budget is spent; and the Luat device that ignores a loop ban.
 */
import { describe, expect, it } from 'vitest';
import { initialTimeoutMs, losesAnswer, withRetransmit, innerState } from '../../src/device/retransmit.js';
import { luatPlugin, onenetPlugin } from '../../src/dialect/registry.js';
import { luatMachine, type LuatAnswer, type LuatRequest } from '../../src/device/luat/machine.js';
import type { OnenetAnswer, OnenetRequest } from '../../src/device/onenet/types.js';
import { NO_FAULTS, type Behaviour, type DeviceMachine, type DeviceSettings } from '../../src/device/types.js';
import { Driver, SETTINGS, makeProfile } from './drive.js';

const MD5 = '0123456789abcdef0123456789abcdef';
const LOST: OnenetAnswer = { type: 'net', code: 'ANSWER_LOST' };
const onenet = onenetPlugin.machine as unknown as DeviceMachine<{ kind: string }, OnenetRequest, OnenetAnswer>;

function device(behaviour: Partial<Behaviour> = {}, settings: Partial<DeviceSettings> = {}, seed = 7) {
  return new Driver(onenet, makeProfile({ seed, behaviour: { ...NO_FAULTS, ...behaviour } }), { ...SETTINGS, ...settings }).start();
}

describe('retransmission (RFC 7252 §4.2)', () => {
  it('sends an unanswered request again after a timeout in [2 s, 3 s], doubling, four times, then lets the machine decide', () => {
    const d = device();
    expect(d.request.op).toBe('reportVersion');
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      d.answer(LOST);
      expect(d.state.kind).toBe('reporting-version');
      waits.push(d.sleepMs);
      d.wake();
      expect(d.request.op).toBe('reportVersion');
    }
    expect(waits[0]).toBeGreaterThanOrEqual(2000);
    expect(waits[0]).toBeLessThanOrEqual(3000);
    expect(waits.slice(1)).toEqual([2, 4, 8].map((k) => (waits[0] as number) * k));
    // The fifth loss goes to the machine: its own retry, retryDelayMs later (1 s in these settings).
    d.answer(LOST);
    expect(d.sleepMs).toBe(SETTINGS.retryDelayMs);
    expect(innerState(d.state).kind).toBe('waiting');
  });

  it('retransmits on a timeout and a reset too, but not on a refused connection (nothing was sent)', () => {
    for (const code of ['TIMEOUT', 'ECONNRESET']) {
      const d = device().answer({ type: 'net', code });
      expect(d.state.kind).toBe('reporting-version');
      expect(d.sleepMs).toBeGreaterThanOrEqual(2000);
    }
    const refused = device().answer({ type: 'net', code: 'ECONNREFUSED' });
    expect(refused.state.kind).toBe('waiting');
  });

  it('counts the timeout from the send: a slow answer is retransmitted at once', () => {
    const d = device();
    d.now += 10_000;
    d.answer(LOST);
    expect(d.sleepMs).toBe(0);
  });

  it('is off with maxRetransmit 0', () => {
    const d = device({}, { retransmit: { ackTimeoutMs: 2000, randomFactor: 1.5, maxRetransmit: 0 } }).answer(LOST);
    expect(d.state.kind).toBe('waiting');
  });

  it('draws the first timeout from the device seed: the same for a seed, different across seeds', () => {
    const p = (seed: number) => makeProfile({ seed });
    expect(initialTimeoutMs(p(1), SETTINGS, 0)).toBe(initialTimeoutMs(p(1), SETTINGS, 0));
    const draws = new Set([1, 2, 3, 4, 5].map((s) => initialTimeoutMs(p(s), SETTINGS, 0)));
    expect(draws.size).toBe(5);
    for (const t of draws) expect(t >= 2000 && t <= 3000).toBe(true);
  });
});

describe('answer loss', () => {
  const loss = (rate: number, ops: string[]) => ({ answerLoss: { rate, ops, requeue: false } });

  it('marks the requests of the named operations whose draw falls under the rate', () => {
    const p = makeProfile({ behaviour: { ...NO_FAULTS, ...loss(0.3, ['progress']) } });
    const lost = Array.from({ length: 2000 }, (_, n) => losesAnswer(p, 'progress', n)).filter(Boolean).length;
    expect(lost).toBeGreaterThan(500);
    expect(lost).toBeLessThan(700);
    expect(Array.from({ length: 100 }, (_, n) => losesAnswer(p, 'check', n)).some(Boolean)).toBe(false);
    expect(losesAnswer(makeProfile(), 'progress', 0)).toBe(false);
  });

  it('puts loseAnswer on the request the engine sends, and off again on the retransmission that is not lost', () => {
    const d = device(loss(1, ['reportVersion']));
    expect(d.request.fault).toEqual({ loseAnswer: true });
    const faults: boolean[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      device(loss(0.5, ['reportVersion', 'check']), {}, seed).run((req) => {
        faults.push(req.fault?.loseAnswer === true);
        if (req.fault?.loseAnswer) return LOST;
        return req.op === 'check' ? { type: 'json', errno: 11 } : { type: 'json', errno: 0 };
      }, 200);
    }
    const lost = faults.filter(Boolean).length;
    expect(lost).toBeGreaterThan(faults.length / 4);
    expect(lost).toBeLessThan((faults.length * 3) / 4);
  });

  it('keeps other faults (a cut) when it sets or clears the loss', () => {
    const withCut: OnenetRequest = { op: 'download', devId: 'd', token: 't', start: 0, end: 9, total: 10, fault: { cutAfterBytes: 5 } };
    const machine = withRetransmit(
      { start: () => ({ state: { kind: 'a' }, action: { type: 'send', request: withCut } }), onTimer: (s) => ({ state: s, action: { type: 'stop' } }), onAnswer: (s) => ({ state: s, action: { type: 'stop' } }) } as DeviceMachine<{ kind: string }, OnenetRequest, OnenetAnswer>,
      { opOf: (r) => r.op, withLoss: (r, lose) => (lose ? { ...r, fault: { ...r.fault, loseAnswer: true } } : r), isUnanswered: () => false },
    );
    const step = machine.start(makeProfile({ behaviour: { ...NO_FAULTS, ...loss(1, ['download']) } }), SETTINGS, 0);
    expect(step.action).toEqual({ type: 'send', request: { ...withCut, fault: { cutAfterBytes: 5, loseAnswer: true } } });
  });

  it('a whole upgrade through 30% loss still succeeds, and repeats exactly for a seed', () => {
    const run = (seed: number) => {
      const d = device(loss(0.3, ['reportVersion', 'check', 'tokenCheck', 'download', 'progress', 'result']), { progressEvery: 25 }, seed);
      const trace: string[] = [];
      d.run((req) => {
        trace.push(`${d.now} ${req.op}${req.fault?.loseAnswer ? ' lost' : ''}`);
        if (req.fault?.loseAnswer) return LOST;
        switch (req.op) {
          case 'check':
            return { type: 'json', errno: 0, offer: { target: '2.0.0', token: 't', size: 300, md5: MD5, signal: 0, power: 0, retry: 5, interval: 10 } };
          case 'download':
            return req.end + 1 === req.total ? { type: 'file', held: req.end + 1, md5: MD5 } : { type: 'file', held: req.end + 1 };
          default:
            return { type: 'json', errno: 0 };
        }
      });
      return { kind: d.state.kind, trace };
    };
    const a = run(5);
    expect(a.kind).toBe('succeeded');
    expect(a.trace.some((t) => t.endsWith('lost'))).toBe(true);
    expect(run(5)).toEqual(a);
    expect(run(6).trace).not.toEqual(a.trace);
  });
});

describe('luat: a device that ignores the loop ban (askAfterBan)', () => {
  const code = (c: number): LuatAnswer => ({ type: 'code', code: c });
  const luat = (behaviour: Partial<Behaviour>) => new Driver(luatMachine, makeProfile({ behaviour: { ...NO_FAULTS, ...behaviour } }), SETTINGS).start();

  it('asks `asks` more times, retryDelay apart, then ends banned', () => {
    const d = luat({ askAfterBan: { asks: 2 } });
    d.answer(code(40));
    expect(d.state.kind).toBe('retrying');
    expect(d.sleepMs).toBe(SETTINGS.retryDelayMs);
    d.wake().answer(code(40)).wake().answer(code(40));
    expect(d.state).toEqual({ kind: 'banned', code: 40, version: '1.0.0' });
    expect(d.sent).toHaveLength(3);
  });

  it('without it stops at the first 40', () => {
    expect(luat({}).answer(code(40)).state.kind).toBe('banned');
  });

  it('runs inside the transmission layer too: a lost ask is asked again', () => {
    const d = new Driver(luatPlugin.machine as unknown as DeviceMachine<{ kind: string }, LuatRequest, LuatAnswer>, makeProfile(), SETTINGS).start();
    d.answer({ type: 'net', code: 'ANSWER_LOST' });
    expect(d.state.kind).toBe('requesting');
    d.wake();
    expect(d.sent).toHaveLength(2);
  });
});
