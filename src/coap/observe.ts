/**
 * Observe (RFC 7641). On an LwM2M device the device is the observed side: the server registers
 * with GET + Observe 0, the device notifies with a rising sequence number on the same token, and
 * a RST to a notification (or GET + Observe 1) ends it. The freshness rule (§3.4) is what the
 * observing side uses to drop a notification that arrived out of order.
 */
import { COAP_OPTION } from '../protocol/coap.js';
import { firstOption, readUint, uintOption, type CoapMessage, type CoapOption } from './message.js';

export const OBSERVE_REGISTER = 0;
export const OBSERVE_DEREGISTER = 1;

/** What a request asks of the observation: register, deregister, or nothing (no Observe option). */
export function observeRequest(m: CoapMessage): 'register' | 'deregister' | undefined {
  const raw = firstOption(m, COAP_OPTION.OBSERVE);
  if (raw === undefined || m.code !== '0.01') return undefined;
  const v = readUint(raw);
  return v === OBSERVE_REGISTER ? 'register' : v === OBSERVE_DEREGISTER ? 'deregister' : undefined;
}

/** One observation the device keeps: the token to notify on and the next sequence number. */
export interface Observation {
  readonly path: string;
  readonly token: Buffer;
  readonly seq: number;
}

/** The Observe option of a notification and the observation after it (24-bit sequence, §3.4). */
export function nextNotification(o: Observation): { option: CoapOption; observation: Observation } {
  return { option: { number: COAP_OPTION.OBSERVE, value: uintOption(o.seq) }, observation: { ...o, seq: (o.seq + 1) & 0xffffff } };
}

const HALF = 2 ** 23;
/** §3.4: 128 s after which a notification counts as fresh whatever its number. */
export const OBSERVE_FRESHNESS_MS = 128_000;

/** Whether notification (v2 at t2) is newer than (v1 at t1), §3.4. */
export function isFresher(v1: number, t1: number, v2: number, t2: number): boolean {
  return (v1 < v2 && v2 - v1 < HALF) || (v1 > v2 && v1 - v2 > HALF) || t2 > t1 + OBSERVE_FRESHNESS_MS;
}
