/** CON notifications (RFC 7641 §4.5): the device's endpoint retransmits one the server does not acknowledge, and counts it. */
import { describe, expect, it } from 'vitest';
import { CoapEndpoint, type Effect } from '../../src/coap/endpoint.js';
import { decodeMessage, emptyAck, encodeMessage, type CoapMessage } from '../../src/coap/message.js';
import { exchangeLifetimeMs } from '../../src/protocol/coap.js';
import { COAP_RETRANSMIT } from '../../src/device/types.js';

const timing = COAP_RETRANSMIT;
const endpoint = (): CoapEndpoint => new CoapEndpoint({ timing, seed: 11, exchangeLifetimeMs: exchangeLifetimeMs(timing) });
const sends = (effects: Effect[]): Buffer[] => effects.flatMap((e) => (e.kind === 'send' ? [e.bytes] : []));
const decoded = (bytes: Buffer): CoapMessage => {
  const d = decodeMessage(bytes);
  if (!d.ok) throw new Error(d.error);
  return d.message;
};
const notification = (type: 'CON' | 'NON') => ({ type, code: '2.05', token: Buffer.from('beef', 'hex'), options: [], payload: Buffer.from('2') });

describe('CON notifications on the device side', () => {
  it('one the server never ACKs is retransmitted on the RFC 7252 schedule, then given up, and counted', () => {
    const ep = endpoint();
    const first = sends(ep.notify(notification('CON'), 0));
    expect(first).toHaveLength(1);
    expect(decoded(first[0]!).type).toBe('CON');
    const t = ep.nextDue()!;
    expect(t).toBeGreaterThanOrEqual(timing.ackTimeoutMs);
    expect(t).toBeLessThanOrEqual(timing.ackTimeoutMs * timing.randomFactor);
    const at: number[] = [];
    let now = t;
    for (let k = 0; k < timing.maxRetransmit; k++) {
      expect(sends(ep.timer(now))).toEqual(first); // the same message, same id
      at.push(now);
      now = ep.nextDue()!;
    }
    expect(at).toEqual([t, 3 * t, 7 * t, 15 * t]);
    expect(ep.counts.retransmissions).toBe(timing.maxRetransmit);
    expect(ep.counts.notificationsUnacknowledged).toBe(0);
    const end = ep.timer(now);
    expect(end.map((e) => e.kind)).toEqual(['give-up']);
    expect(now).toBe(31 * t);
    expect(ep.counts.notificationsUnacknowledged).toBe(1);
    expect(ep.inFlight).toBe(0);
  });

  it('the server\'s empty ACK ends it: no retransmission, nothing counted', () => {
    const ep = endpoint();
    const sent = decoded(sends(ep.notify(notification('CON'), 0))[0]!);
    expect(ep.receive(encodeMessage(emptyAck(sent.messageId)), 100)).toEqual([]);
    expect(ep.inFlight).toBe(0);
    expect(ep.nextDue()).toBeUndefined();
    expect(ep.timer(1_000_000)).toEqual([]);
    expect(ep.counts).toEqual({ retransmissions: 0, notificationsUnacknowledged: 0 });
  });

  it('a lost ACK: the retransmission is acknowledged and ends it', () => {
    const ep = endpoint();
    const sent = decoded(sends(ep.notify(notification('CON'), 0))[0]!);
    const due = ep.nextDue()!;
    expect(sends(ep.timer(due))).toHaveLength(1);
    ep.receive(encodeMessage(emptyAck(sent.messageId)), due + 10);
    expect(ep.inFlight).toBe(0);
    expect(ep.counts).toEqual({ retransmissions: 1, notificationsUnacknowledged: 0 });
  });

  it('a NON notification is sent once and awaits nothing', () => {
    const ep = endpoint();
    const sent = sends(ep.notify(notification('NON'), 0));
    expect(decoded(sent[0]!).type).toBe('NON');
    expect(ep.inFlight).toBe(0);
    expect(ep.timer(1_000_000)).toEqual([]);
  });
});
