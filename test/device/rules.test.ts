/**
 * The transition rules against the machines: random (seeded, bounded) answer sequences from a
 * server that may say anything, and checks that every kind change the devices make is in the
 * rules, that every rule edge happens, and that every device ends in a final kind.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/random/rng.js';
import { onenetMachine, type OnenetAnswer, type OnenetRequest } from '../../src/device/onenet/machine.js';
import { luatMachine, type LuatAnswer, type LuatRequest } from '../../src/device/luat/machine.js';
import { luatRules, onenetRules } from '../../src/device/rules.js';
import type { AnswerLoss, CutPoint, DeviceMachine, DeviceProfile, DeviceSettings, TransitionRules } from '../../src/device/types.js';
import { luatPlugin, onenetPlugin } from '../../src/dialect/registry.js';
import { Driver, SETTINGS, allEdges, edgesOf, illegalTransitions, makeProfile } from './drive.js';

const MD5 = '0123456789abcdef0123456789abcdef';
const MAX_STEPS = 20_000;

function pick<T>(rng: Rng, weighted: readonly (readonly [number, () => T])[]): T {
  const total = weighted.reduce((s, [w]) => s + w, 0);
  let x = rng.next() * total;
  for (const [w, f] of weighted) {
    x -= w;
    if (x < 0) return f();
  }
  return (weighted[weighted.length - 1] as readonly [number, () => T])[1]();
}

function randomProfile(rng: Rng, i: number): DeviceProfile {
  return makeProfile({
    index: i,
    seed: rng.int(0, 2 ** 31),
    signal: pick(rng, [
      [8, () => rng.int(5, 31)],
      [1, () => 99],
      [1, () => 0],
    ]),
    battery: rng.int(0, 100),
    taskType: rng.chance(0.5) ? 1 : 2,
    behaviour: {
      corruptDownload: rng.chance(0.15),
      rebootIntoOld: rng.chance(0.15),
      // Field faults (docs/faults.md), each on a few devices so the plain paths stay common.
      ...(rng.chance(0.2) ? { answerLoss: answerLoss(rng) } : {}),
      ...(rng.chance(0.1) ? { disconnect: { at: cutPoint(rng), times: rng.int(1, 3), reconnectMs: 30_000 } } : {}),
      ...(rng.chance(0.05) ? { batteryDies: { atShare: rng.next() } } : {}),
      ...(rng.chance(0.05) ? { storageFull: true } : {}),
      ...(rng.chance(0.05) ? { flashFails: { code: rng.chance(0.5) ? (202 as const) : (203 as const) } } : {}),
      ...(rng.chance(0.05) ? { longSleep: { sleepMs: 3 * 86_400_000, staleAuth: rng.chance(0.5) } } : {}),
      ...(rng.chance(0.1) ? { askAfterBan: { asks: rng.int(1, 3) } } : {}),
    },
  });
}

function answerLoss(rng: Rng): AnswerLoss {
  const ops = rng.chance(0.5) ? ['progress'] : ['check', 'progress', 'result', 'luat'];
  return { rate: rng.chance(0.3) ? 1 : 0.3, ops, requeue: rng.chance(0.8) };
}

function cutPoint(rng: Rng): CutPoint {
  return pick(rng, [
    [1, (): CutPoint => ({ kind: 'share', share: rng.next() })],
    [1, (): CutPoint => ({ kind: 'bytes', bytes: rng.int(1, 500) })],
    [1, (): CutPoint => ({ kind: 'random' })],
  ]);
}

function randomSettings(rng: Rng): DeviceSettings {
  const settings: DeviceSettings = {
    ...SETTINGS,
    chunkSize: pick(rng, [
      [3, () => 100],
      [1, () => 1000],
      [1, () => 37],
    ]),
    progressEvery: pick(rng, [
      [1, () => 0],
      [2, () => 10],
      [2, () => 25],
    ]),
    maxAttempts: pick(rng, [
      [5, () => rng.int(0, 3)],
      [1, () => 200],
    ]),
    ...(rng.chance(0.5) ? { recheck: { times: rng.chance(0.1) ? 60 : rng.int(1, 3), everyMs: 600_000 } } : {}),
  };
  // The stall limit comes from a side stream, so the main stream's draws (and the paths they cover) stay as they were.
  const side = new Rng(rng.state, 0x57a1);
  // Likewise the Luat confirmation mode (the target profile's versionConfirm), from a stream of its own.
  const confirm = new Rng(rng.state, 0xc0f1);
  const versionConfirm = confirm.chance(0.2) ? { versionConfirm: confirm.chance(0.7) ? ('header' as const) : ('none' as const) } : {};
  return { ...settings, maxStalledAttempts: side.chance(0.25) ? side.int(1, 3) : 5, ...versionConfirm };
}

/** A OneNET server (and engine) that mostly behaves, sometimes fails and sometimes lies. */
function onenetServer(rng: Rng): (req: OnenetRequest) => OnenetAnswer {
  const json = (errno: number) => (): OnenetAnswer => ({ type: 'json', errno });
  // Some servers let tokens expire mid-download and are otherwise kind: renewals run out.
  if (rng.chance(0.1)) return tokenTroubleServer(rng);
  // Draws of this dialect's later additions come from a side stream, so the main stream's stay as they were.
  const side = new Rng(rng.state, 0xb40c);
  const transport: (readonly [number, () => OnenetAnswer])[] = [
    [1, () => ({ type: 'net', code: rng.chance(0.5) ? 'TIMEOUT' : 'ECONNRESET' })],
    [1, () => ({ type: 'http', status: rng.chance(0.5) ? 503 : 404 })],
    [1, () => ({ type: 'garbage' })],
  ];
  const offer = (): OnenetAnswer => ({
    type: 'json',
    errno: 0,
    offer: {
      // Now and then a stale offer: a task for the version the device runs.
      target: rng.chance(0.05) ? '1.0.0' : '2.0.0',
      token: `tok-${rng.int(1, 3)}`,
      size: pick(rng, [
        [6, () => rng.int(1, 600)],
        [1, () => 0],
        [1, () => 300 * 1024 * 1024],
      ]),
      md5: rng.chance(0.9) ? MD5 : 'ffffffffffffffffffffffffffffffff',
      signal: rng.int(0, 12),
      power: rng.int(0, 15),
      retry: rng.int(0, 3),
      interval: rng.int(0, 60),
      type: 1,
    },
  });
  return (req) => {
    switch (req.op) {
      case 'reportVersion':
        return pick(rng, [[12, json(0)], [1, json(1)], [1, json(7)], ...transport]);
      case 'check':
        return pick(rng, [
          [20, offer],
          [2, json(11)],
          [1, json(8)],
          [1, json(9)],
          [1, json(1)],
          [1, json(2)],
          [1, json(27)],
          [1, json(7)],
          [1, json(0)],
          [1, json(63)],
          ...transport,
        ]);
      case 'tokenCheck':
        return pick(rng, [
          [30, json(0)],
          [2, json(17)],
          [3, json(12)],
          [1, json(20)],
          [1, json(22)],
          [1, json(4)],
          [1, json(21)],
          [1, json(1)],
          [1, json(2)],
          [1, json(7)],
          [1, json(55)],
          ...transport,
        ]);
      case 'download': {
        const next = req.end + 1;
        const cut = req.fault?.cutAfterBytes;
        if (cut !== undefined && rng.chance(0.9)) return { type: 'file', held: req.start + cut, cut: true };
        const a = pick(rng, [
          [40, (): OnenetAnswer => (next >= req.total ? { type: 'file', held: next, ...(rng.chance(0.9) ? { md5: MD5 } : {}) } : { type: 'file', held: next })],
          [2, (): OnenetAnswer => ({ type: 'file', held: req.start })],
          [1, (): OnenetAnswer => ({ type: 'file', held: Math.max(0, req.start - rng.int(1, 200)) })],
          [1, (): OnenetAnswer => ({ type: 'download-error', code: 1 })],
          [1, (): OnenetAnswer => ({ type: 'download-error', code: 2 })],
          [2, (): OnenetAnswer => ({ type: 'download-error', code: 3 })],
          [1, json(12)],
          [1, json(20)],
          [1, json(22)],
          [1, json(0)],
          ...transport,
        ]);
        // Now and then the bytes come but the connection resets mid-body: some, all or none of them held.
        if (a.type !== 'file' || !side.chance(0.08)) return a;
        const held = Math.min(a.held, req.start + side.int(0, req.end - req.start + 1));
        return held >= req.total && a.md5 !== undefined ? { type: 'net', code: 'ECONNRESET', held, md5: a.md5 } : { type: 'net', code: 'ECONNRESET', held };
      }
      case 'progress':
        return pick(rng, [[20, json(0)], [2, json(17)], [3, json(12)], [1, json(20)], [1, json(22)], [1, json(4)], [4, (): OnenetAnswer => ({ type: 'net', code: 'ANSWER_LOST' })], ...transport]);
      case 'result':
        return pick(rng, [[20, json(0)], [3, json(20)], [1, json(22)], [1, json(17)], [1, json(12)], [1, json(7)], ...transport]);
    }
  };
}

function tokenTroubleServer(rng: Rng): (req: OnenetRequest) => OnenetAnswer {
  const offer: OnenetAnswer = { type: 'json', errno: 0, offer: { target: '2.0.0', token: 't', size: 1000, md5: MD5, signal: 0, power: 0, retry: 2, interval: 5 } };
  return (req) => {
    switch (req.op) {
      case 'check':
        return offer;
      case 'download':
        if (rng.chance(0.3)) return { type: 'download-error', code: 3 };
        return req.end + 1 >= req.total ? { type: 'file', held: req.end + 1, md5: MD5 } : { type: 'file', held: req.end + 1 };
      case 'progress':
        return { type: 'json', errno: rng.chance(0.5) ? 12 : 0 };
      default:
        return { type: 'json', errno: 0 };
    }
  };
}

/** A Luat server that mostly behaves, sometimes fails and sometimes lies; a few are stubborn. */
function luatServer(rng: Rng): (req: LuatRequest) => LuatAnswer {
  const code = (n: number) => (): LuatAnswer => ({ type: 'code', code: n });
  const mood = pick(rng, [
    [20, () => 'any'],
    [1, () => 'always-wait'],
    [1, () => 'always-file'],
    [1, () => 'wait-or-fail'],
  ]);
  if (mood === 'always-wait') return code(43);
  if (mood === 'always-file') return () => ({ type: 'file', held: 1000, md5: MD5, version: '2.0.0' });
  if (mood === 'wait-or-fail') return () => (rng.chance(0.5) ? { type: 'code', code: 43 } : { type: 'net', code: 'TIMEOUT' });
  return () =>
    pick(rng, [
      [6, (): LuatAnswer => ({ type: 'file', held: 1000, md5: MD5, version: '2.0.0' })],
      [1, (): LuatAnswer => ({ type: 'file', held: 1000 })],
      [1, (): LuatAnswer => ({ type: 'file', held: 1000, md5: MD5, version: '1.0.0' })],
      [6, code(27)],
      [8, code(43)],
      [1, code(40)],
      ...[3, 17, 21, 25, 26, 44].map((n) => [0.3, code(n)] as const),
      [0.5, code(0)],
      [0.5, code(99)],
      [1, (): LuatAnswer => ({ type: 'net', code: 'ECONNRESET' })],
      [1, (): LuatAnswer => ({ type: 'http', status: 500 })],
      [1, (): LuatAnswer => ({ type: 'garbage' })],
    ]);
}

interface Walks {
  covered: Set<string>;
  visited: Set<string>;
  finals: Map<string, number>;
  illegal: string[];
  unfinished: number;
  maxSteps: number;
}

function walk<S extends { readonly kind: string }, R, A>(
  machine: DeviceMachine<S, R, A>,
  rules: TransitionRules,
  server: (rng: Rng) => (req: R) => A,
  devices: number,
  seed: number,
): Walks {
  const out: Walks = { covered: new Set(), visited: new Set(), finals: new Map(), illegal: [], unfinished: 0, maxSteps: 0 };
  for (let i = 0; i < devices; i++) {
    const rng = new Rng(seed, i);
    const d = new Driver(machine, randomProfile(rng, i), randomSettings(rng)).start();
    const answer = server(rng);
    d.run((req) => answer(req), MAX_STEPS);
    out.illegal.push(...illegalTransitions(d.kinds, rules));
    for (const e of edgesOf(d.kinds)) out.covered.add(e);
    for (const k of d.kinds) out.visited.add(k);
    const last = d.state.kind;
    if (!d.stopped || !rules.final.includes(last)) out.unfinished++;
    out.finals.set(last, (out.finals.get(last) ?? 0) + 1);
    out.maxSteps = Math.max(out.maxSteps, d.steps);
  }
  return out;
}

/** The same server behind a radio link that loses the answers the device's faults say it loses. */
function lossy<R extends { readonly fault?: { readonly loseAnswer?: boolean } }, A>(server: (rng: Rng) => (req: R) => A): (rng: Rng) => (req: R) => A {
  return (rng) => {
    const answer = server(rng);
    return (req) => {
      const a = answer(req);
      return req.fault?.loseAnswer ? ({ type: 'net', code: 'ANSWER_LOST' } as A) : a;
    };
  };
}

type AnyMachine = DeviceMachine<{ kind: string }, unknown, unknown>;
type AnyServer = (rng: Rng) => (req: unknown) => unknown;

describe.each([
  ['onenet', onenetMachine as AnyMachine, onenetRules, onenetServer as AnyServer],
  ['luat', luatMachine as AnyMachine, luatRules, luatServer as AnyServer],
  // The machines as the engine runs them: inside the transmission layer (lost answers, retransmits).
  ['onenet (with retransmission)', onenetPlugin.machine as unknown as AnyMachine, onenetRules, lossy(onenetServer) as AnyServer],
  ['luat (with retransmission)', luatPlugin.machine as unknown as AnyMachine, luatRules, lossy(luatServer) as AnyServer],
])('%s transition rules', (_name, machine, rules, server) => {
  const result = walk(machine, rules, server, 4000, 20240601);

  it('are well formed: every kind has an entry, successors and finals are kinds, finals lead nowhere', () => {
    expect([...rules.kinds].sort()).toEqual(Object.keys(rules.next).sort());
    for (const tos of Object.values(rules.next)) for (const to of tos) expect(rules.kinds).toContain(to);
    for (const f of rules.final) expect(rules.next[f]).toEqual([]);
    for (const k of rules.kinds) if (!rules.final.includes(k)) expect(rules.next[k]?.length).toBeGreaterThan(0);
    for (const k of rules.initial) expect(rules.kinds).toContain(k);
  });

  it('allow every transition the machine makes on random answers', () => {
    expect([...new Set(result.illegal)]).toEqual([]);
  });

  it('are each exercised: every edge and every kind happens on some path', () => {
    expect(allEdges(rules).filter((e) => !result.covered.has(e))).toEqual([]);
    expect(rules.kinds.filter((k) => !result.visited.has(k))).toEqual([]);
  });

  it('every device ends in a final kind within a bounded number of steps', () => {
    expect(result.unfinished).toBe(0);
    expect(result.maxSteps).toBeLessThan(MAX_STEPS);
    for (const f of rules.final) expect(result.finals.get(f) ?? 0).toBeGreaterThan(0);
  });

  it('a device repeats exactly for a seed', () => {
    const trace = (seed: number): unknown[] => {
      const rng = new Rng(seed, 1);
      const d = new Driver(machine, randomProfile(rng, 1), randomSettings(rng)).start();
      const answer = server(rng);
      const steps: unknown[] = [];
      d.run((req) => {
        steps.push([d.now, req]);
        return answer(req);
      }, MAX_STEPS);
      steps.push(d.state);
      return steps;
    };
    for (const seed of [1, 2, 3, 99]) expect(trace(seed)).toEqual(trace(seed));
  });
});
