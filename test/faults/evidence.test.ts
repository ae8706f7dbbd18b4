/**
 * From the wire to the verdicts: faults travel from a device's request to the engine, a cut answer
 * reaches the machine as such, each exchange reads as facts (never showing a token in words), and
 * the worker's collector keeps what the verdicts need within its bounds.
 */
import { describe, expect, it } from 'vitest';
import { onenetWire } from '../../src/dialect/onenet/wire.js';
import { luatWire } from '../../src/dialect/luat/wire.js';
import { onenetEvidence } from '../../src/dialect/onenet/evidence.js';
import { luatEvidence } from '../../src/dialect/luat/evidence.js';
import { onenetPlugin } from '../../src/dialect/registry.js';
import { parseAuthorization } from '../../src/protocol/token.js';
import { DEFAULT_ONENET_ACCESS_KEY } from '../../src/catalog/default.js';
import type { HttpResult } from '../../src/dialect/types.js';
import type { OnenetSettings } from '../../src/dialect/onenet/target.js';
import type { LuatSettings } from '../../src/dialect/luat/target.js';
import type { OnenetRequest } from '../../src/device/onenet/types.js';
import { EvidenceCollector, finalOf, type EvidenceSink } from '../../src/verdicts/collect.js';
import { NO_FAULTS } from '../../src/device/types.js';
import { SETTINGS, makeProfile } from '../device/drive.js';

/** Each dialect's settings, as its target spec makes them. */
const TARGET: { onenet: OnenetSettings; luat: LuatSettings } = {
  onenet: { productId: '198290', accessKey: DEFAULT_ONENET_ACCESS_KEY, signMethod: 'sha1', tokenTtlSec: 3600 },
  luat: { projectKey: 'k', firmwareName: 'fw' },
};
const NOW = 1_700_000_000_000;
const download: OnenetRequest = { op: 'download', devId: 'd', token: 'secret-token', start: 100, end: 199, total: 1000 };
const response = (over: Partial<Extract<HttpResult, { kind: 'response' }>> = {}): HttpResult => ({ kind: 'response', status: 206, headers: { 'content-range': 'bytes 100-199/1000', 'content-length': '100' }, body: new Uint8Array(100), held: 200, ...over });

describe('the wire carries the device faults', () => {
  it('passes a request fault to the engine unchanged, for both dialects', () => {
    expect(onenetWire.encode({ ...download, fault: { cutAfterBytes: 40 } }, TARGET.onenet, NOW).fault).toEqual({ cutAfterBytes: 40 });
    expect(onenetWire.encode({ op: 'tokenCheck', devId: 'd', token: 't', fault: { loseAnswer: true } }, TARGET.onenet, NOW).fault).toEqual({ loseAnswer: true });
    expect(onenetWire.encode(download, TARGET.onenet, NOW).fault).toBeUndefined();
    expect(luatWire.encode({ op: 'ask', imei: '1', version: '1.0.0', core: '', fault: { loseAnswer: true } }, TARGET.luat, NOW).fault).toEqual({ loseAnswer: true });
  });

  it('signs with the instant the device signed at (a stale Authorization), not the send', () => {
    const signedAt = NOW - 3 * 86_400_000;
    const http = onenetWire.encode({ op: 'tokenCheck', devId: 'd', token: 't', authAt: signedAt }, TARGET.onenet, NOW);
    expect(parseAuthorization(http.headers['Authorization'])?.et).toBe(Math.floor(signedAt / 1000) + 3600);
  });

  it('reads a cut answer as bytes held with `cut`', () => {
    expect(onenetWire.decode(download, response({ cut: true, body: new Uint8Array(40), held: 140 }))).toEqual({ type: 'file', held: 140, total: 1000, cut: true });
  });
});

describe('exchanges as evidence', () => {
  it('has the facts of a download: range asked, status, first byte, bytes, held, the fault', () => {
    const req = { ...download, fault: { cutAfterBytes: 40 } };
    const result = response({ cut: true, body: new Uint8Array(40), held: 140 });
    const facts = onenetEvidence.factsOf(req, result, onenetWire.decode(req, result), { sentVirtual: NOW, authTtlSec: 3600 });
    expect(facts).toEqual({ cutAfter: 40, token: 'secret-token', start: 100, end: 199, status: 206, rangeStart: 100, bytes: 40, held: 140, cut: true });
  });

  it('has the facts of a check offer, and whether the Authorization had expired', () => {
    const req: OnenetRequest = { op: 'check', devId: 'd', taskType: 2, manuf: '101', model: '10101', version: 'V1.0', signal: 20, battery: 80, authAt: NOW - 7_200_000 };
    const body = new TextEncoder().encode(JSON.stringify({ errno: 0, error: 'succ', data: { target: 'V2.0', token: 'tok', size: 10, md5: 'ABC', signal: 5, power: 20, retry: 3, interval: 60, type: 1 } }));
    const result: HttpResult = { kind: 'response', status: 200, headers: { 'content-type': 'application/json' }, body };
    const facts = onenetEvidence.factsOf(req, result, onenetWire.decode(req, result), { sentVirtual: NOW, authTtlSec: 3600 });
    expect(facts).toMatchObject({ authExpired: true, manuf: '101', version: 'V1.0', errno: 0, offerToken: 'tok', offerMd5: 'abc', offerSize: 10, offerSignal: 5, offerPower: 20 });
    const fresh = onenetEvidence.factsOf({ ...req, authAt: NOW }, result, onenetWire.decode(req, result), { sentVirtual: NOW, authTtlSec: 3600 });
    expect(fresh.authExpired).toBeUndefined();
  });

  it('describes an exchange in words that name tokens only by their order', () => {
    const f = onenetEvidence.factsOf(download, response(), onenetWire.decode(download, response()), { sentVirtual: NOW, authTtlSec: 3600 });
    const words = onenetEvidence.describe('download', 'bytes', f, () => 'token#1');
    expect(words).toEqual({ request: 'download token#1 bytes=100-199', answer: 'bytes http:206 from 100 100 B held=200' });
    expect(JSON.stringify(words)).not.toContain('secret-token');
  });

  it('has the facts of a Luat answer', () => {
    const req = { op: 'ask' as const, imei: '1', version: '1.3.1', core: '3032', fault: { loseAnswer: true } };
    expect(luatEvidence.factsOf(req, { kind: 'error', code: 'ANSWER_LOST' }, { type: 'net', code: 'ANSWER_LOST' }, { sentVirtual: 0, authTtlSec: undefined })).toEqual({
      version: '1.3.1',
      core: '3032',
      lost: true,
      net: 'ANSWER_LOST',
    });
  });
});

describe('the collector', () => {
  const result = response();
  const answer = onenetWire.decode(download, result);
  const times = { decided: 1000, sent: 1001, answered: 1005 };
  const collector = (sink?: EvidenceSink) =>
    new EvidenceCollector({
      codec: onenetEvidence as never,
      operationOf: (r) => (r as OnenetRequest).op,
      originVirtual: 1000,
      authTtlSec: 3600,
      profileOf: (slot) => makeProfile({ id: `dev-${slot}`, index: slot }),
      ...(sink ? { sink } : {}),
    });

  it('keeps each device with its exchanges (times from the origin) and its final state', () => {
    const c = collector();
    c.exchange(0, download, result, answer, 'bytes', { kind: 'downloading' }, times);
    c.stop(0, { kind: 'succeeded', code: 201, version: 'V2.0', duplicateResult: false } as never);
    const batch = c.finish(() => undefined, () => true);
    expect(batch.seen).toBe(1);
    expect(batch.devices).toHaveLength(1);
    const d = batch.devices![0]!;
    expect(d).toMatchObject({ id: 'dev-0', final: { kind: 'succeeded', code: 201, version: 'V2.0' } });
    expect(d.exchanges[0]).toMatchObject({ decided: 0, sent: 1, answered: 5, op: 'download', outcome: 'bytes', state: 'downloading' });
  });

  it('hands every stopped device to the sink the moment it stops, keeping none (no cap, no choice)', () => {
    const out: string[] = [];
    let closed = false;
    const c = collector({ file: 'f', append: (d) => out.push(`${d.id}:${d.final?.kind ?? '-'}`), close: () => (closed = true) });
    for (let slot = 0; slot < 6; slot++) {
      c.exchange(slot, download, slot === 4 ? { kind: 'error', code: 'ANSWER_LOST' } : result, slot === 4 ? { type: 'net', code: 'ANSWER_LOST' } : answer, 'x', { kind: 'downloading' }, times);
      if (slot < 5) c.stop(slot, { kind: slot === 2 ? 'failed' : 'succeeded' });
      if (slot < 5) expect(out).toHaveLength(slot + 1);
    }
    const batch = c.finish(() => ({ kind: 'downloading' }), () => false);
    expect(out).toEqual(['dev-0:succeeded', 'dev-1:succeeded', 'dev-2:failed', 'dev-3:succeeded', 'dev-4:succeeded', 'dev-5:-']);
    expect(closed).toBe(true);
    expect(batch).toEqual({ file: 'f', seen: 6, stored: 6, originVirtual: 1000 });
  });

  it('keeps devices still running at the end, without a final state', () => {
    const c = collector();
    c.exchange(5, download, result, answer, 'bytes', { kind: 'downloading' }, times);
    const batch = c.finish(() => ({ kind: 'waiting' }), (s) => s.kind === 'succeeded');
    expect(batch.devices?.[0]?.final).toBeUndefined();
  });

  it('reads the final state from inside the transmission layer', () => {
    const m = onenetPlugin.machine;
    const p = makeProfile();
    let step = m.start(p, SETTINGS, 0);
    step = m.onAnswer(step.state, { type: 'json', errno: 0 }, p, SETTINGS, 10);
    step = m.onAnswer(step.state, { type: 'json', errno: 11 }, p, SETTINGS, 20);
    expect(step.action).toEqual({ type: 'stop' });
    expect(finalOf(step.state)).toEqual({ kind: 'up-to-date', code: 11, version: '1.0.0' });
  });
});
