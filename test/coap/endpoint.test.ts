import { describe, expect, it } from 'vitest';
import { CoapEndpoint, transmissionSchedule, type Effect } from '../../src/coap/endpoint.js';
import { decodeMessage, emptyAck, encodeMessage, pathOptions, type CoapMessage } from '../../src/coap/message.js';
import { exchangeLifetimeMs, firstTimeoutMs, RFC7252 } from '../../src/protocol/coap.js';
import { COAP_RETRANSMIT } from '../../src/device/types.js';

const timing = COAP_RETRANSMIT;
const lifetime = exchangeLifetimeMs(timing);
const endpoint = (seed = 7): CoapEndpoint => new CoapEndpoint({ timing, seed, exchangeLifetimeMs: lifetime });

const sends = (effects: Effect[]): Buffer[] => effects.flatMap((e) => (e.kind === 'send' ? [e.bytes] : []));
const decoded = (bytes: Buffer): CoapMessage => {
  const d = decodeMessage(bytes);
  if (!d.ok) throw new Error(d.error);
  return d.message;
};
const serverCon = (messageId: number, code = '0.01', path = '/5/0/3'): Buffer =>
  encodeMessage({ type: 'CON', code, messageId, token: Buffer.from([1, 2]), options: pathOptions(path), payload: Buffer.alloc(0) });

describe('the sender retransmits a CON on RFC 7252 timing (fake clock)', () => {
  it('first timeout in [ACK_TIMEOUT, ×factor], doubling, MAX_RETRANSMIT resends, then gives up', () => {
    const ep = endpoint();
    const { token, effects } = ep.request({ code: '0.01', options: pathOptions('/fw') }, 0);
    const first = sends(effects)[0]!;
    const due1 = ep.nextDue()!;
    expect(due1).toBeGreaterThanOrEqual(2_000);
    expect(due1).toBeLessThanOrEqual(3_000);
    expect(ep.timer(due1 - 1)).toEqual([]);
    const instants: number[] = [];
    let now = due1;
    for (let k = 0; k < 4; k++) {
      const fx = ep.timer(now);
      expect(sends(fx)).toEqual([first]); // same message id, same bytes
      instants.push(now);
      now = ep.nextDue()!;
    }
    expect(instants.map((t, k) => (k === 0 ? t : t - instants[k - 1]!))).toEqual([due1, 2 * due1, 4 * due1, 8 * due1]);
    const end = ep.timer(now);
    expect(end).toEqual([{ kind: 'give-up', token, transmissions: 5 }]);
    expect(now).toBe(31 * due1);
    expect(ep.inFlight).toBe(0);
  });

  it('the schedule matches the layer the HTTP dialects use (same first-timeout formula)', () => {
    const s = transmissionSchedule(timing, 0.5);
    const t = firstTimeoutMs(timing, 0.5);
    expect(t).toBe(2_500);
    expect(s.resendAfterMs).toEqual([t, 3 * t, 7 * t, 15 * t]);
    expect(s.giveUpAfterMs).toBe(31 * t);
    // At the extremes the span is MAX_TRANSMIT_SPAN and the wait MAX_TRANSMIT_WAIT (§4.8.2: 45 s, 93 s).
    expect(transmissionSchedule(timing, 1).resendAfterMs.at(-1)).toBe(45_000);
    expect(transmissionSchedule(timing, 1).giveUpAfterMs).toBe(93_000);
    expect(RFC7252.maxRetransmit).toBe(timing.maxRetransmit);
  });

  it('a piggybacked response ends the exchange: no retransmission after it', () => {
    const ep = endpoint();
    const { token, effects } = ep.request({ code: '0.01', options: pathOptions('/fw') }, 0);
    const req = decoded(sends(effects)[0]!);
    const ack = encodeMessage({ type: 'ACK', code: '2.05', messageId: req.messageId, token: req.token, options: [], payload: Buffer.from('x') });
    const fx = ep.receive(ack, 100);
    expect(fx).toHaveLength(1);
    expect(fx[0]).toMatchObject({ kind: 'response', token, transmissions: 1 });
    expect(ep.nextDue()).toBeUndefined();
    expect(ep.timer(1e9)).toEqual([]);
    // The same ACK again (a duplicated datagram) is no second response.
    expect(ep.receive(ack, 200)[0]!.kind).toBe('ignored');
  });

  it('an empty ACK stops retransmitting; the separate CON response is ACKed once and delivered once', () => {
    const ep = endpoint();
    const { token, effects } = ep.request({ code: '0.01', options: pathOptions('/fw') }, 0);
    const req = decoded(sends(effects)[0]!);
    expect(ep.receive(encodeMessage(emptyAck(req.messageId)), 50)).toEqual([]);
    expect(ep.timer(10_000)).toEqual([]); // no resend within what would have been the schedule
    const separate = encodeMessage({ type: 'CON', code: '2.05', messageId: 999, token: req.token, options: [], payload: Buffer.from('late') });
    const fx = ep.receive(separate, 11_000);
    expect(sends(fx).map((b) => decoded(b))).toMatchObject([{ type: 'ACK', code: '0.00', messageId: 999 }]);
    expect(fx.filter((e) => e.kind === 'response')).toMatchObject([{ token }]);
    const again = ep.receive(separate, 12_000);
    expect(again.map((e) => e.kind)).toEqual(['duplicate', 'send']);
  });

  it('a peer RST ends the exchange', () => {
    const ep = endpoint();
    const { token, effects } = ep.request({ code: '0.02', options: pathOptions('/rd') }, 0);
    const req = decoded(sends(effects)[0]!);
    const rst = encodeMessage({ type: 'RST', code: '0.00', messageId: req.messageId, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) });
    expect(ep.receive(rst, 10)).toEqual([{ kind: 'reset', messageId: req.messageId, token }]);
    expect(ep.inFlight).toBe(0);
  });

  it('message ids and tokens differ from one request to the next', () => {
    const ep = endpoint();
    const a = decoded(sends(ep.request({ code: '0.01', options: [] }, 0).effects)[0]!);
    const b = decoded(sends(ep.request({ code: '0.01', options: [] }, 0).effects)[0]!);
    expect(b.messageId).toBe((a.messageId + 1) & 0xffff);
    expect(a.token.equals(b.token)).toBe(false);
  });
});

describe('deduplication of the peer’s messages over EXCHANGE_LIFETIME', () => {
  it('a retransmitted request gets the same answer again and is not processed twice', () => {
    const ep = endpoint();
    const fx = ep.receive(serverCon(42), 0);
    expect(fx.map((e) => e.kind)).toEqual(['request']);
    const req = (fx[0] as { message: CoapMessage }).message;
    const answer = sends(ep.respond(req, { code: '2.05', payload: Buffer.from('1') }))[0]!;
    expect(decoded(answer)).toMatchObject({ type: 'ACK', code: '2.05', messageId: 42 });
    const dup = ep.receive(serverCon(42), 3_000);
    expect(dup.map((e) => e.kind)).toEqual(['duplicate', 'send']);
    expect(sends(dup)[0]!.equals(answer)).toBe(true);
    expect(ep.seenOf(42)).toEqual([0, 3_000]);
  });

  it('forgets a message id once EXCHANGE_LIFETIME has passed (it is a new message then)', () => {
    const ep = endpoint();
    ep.receive(serverCon(42), 0);
    expect(ep.receive(serverCon(42), lifetime - 1).map((e) => e.kind)).toEqual(['duplicate']);
    expect(ep.receive(serverCon(42), lifetime).map((e) => e.kind)).toEqual(['request']);
    expect(lifetime).toBe(247_000);
  });

  it('asleep, a CON is only seen (no ACK); its first retransmission heard awake is answered', () => {
    const ep = endpoint();
    expect(ep.receive(serverCon(7), 0, false).map((e) => e.kind)).toEqual(['unheard']);
    expect(ep.receive(serverCon(7), 12_000, false).map((e) => e.kind)).toEqual(['duplicate']);
    const awake = ep.receive(serverCon(7), 35_000, true);
    expect(awake.map((e) => e.kind)).toEqual(['duplicate', 'request']);
    expect(ep.seenOf(7)).toEqual([0, 12_000, 35_000]);
  });

  it('a request left unanswered on purpose (dropped ACK) is handled again on its retransmission', () => {
    const ep = endpoint();
    expect(ep.receive(serverCon(9), 0).map((e) => e.kind)).toEqual(['request']);
    ep.undeliver(9);
    const again = ep.receive(serverCon(9), 2_500);
    expect(again.map((e) => e.kind)).toEqual(['duplicate', 'request']);
    const req = (again[1] as { message: CoapMessage }).message;
    ep.respond(req, { code: '2.05' });
    expect(ep.receive(serverCon(9), 5_000).map((e) => e.kind)).toEqual(['duplicate', 'send']);
  });

  it('a CON ping is reset; a datagram that is no CoAP is ignored, never thrown', () => {
    const ep = endpoint();
    const ping = encodeMessage({ type: 'CON', code: '0.00', messageId: 5, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) });
    expect(sends(ep.receive(ping, 0)).map((b) => decoded(b).type)).toEqual(['RST']);
    for (const junk of [Buffer.alloc(0), Buffer.from([0x40]), Buffer.from([0x4f, 1, 0, 0]), Buffer.from([0x80, 1, 0, 0]), Buffer.from([0x41, 0x01, 0, 1, 9, 0xf0])]) {
      const fx = ep.receive(junk, 1);
      expect(fx.every((e) => e.kind === 'ignored')).toBe(true);
    }
  });
});
