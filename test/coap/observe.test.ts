import { describe, expect, it } from 'vitest';
import { isFresher, nextNotification, observeRequest, OBSERVE_FRESHNESS_MS, type Observation } from '../../src/coap/observe.js';
import { readUint, uintOption, type CoapMessage } from '../../src/coap/message.js';
import { COAP_OPTION } from '../../src/protocol/coap.js';

const get = (observe?: number): CoapMessage => ({
  type: 'CON',
  code: '0.01',
  messageId: 1,
  token: Buffer.from([9]),
  options: observe === undefined ? [] : [{ number: COAP_OPTION.OBSERVE, value: uintOption(observe) }],
  payload: Buffer.alloc(0),
});

describe('Observe (RFC 7641)', () => {
  it('reads register / deregister from a GET', () => {
    expect(observeRequest(get(0))).toBe('register');
    expect(observeRequest(get(1))).toBe('deregister');
    expect(observeRequest(get())).toBeUndefined();
  });

  it('numbers notifications upward in 24 bits', () => {
    let o: Observation = { path: '/5/0/3', token: Buffer.from([9]), seq: 0xfffffe };
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const n = nextNotification(o);
      seen.push(readUint(n.option.value)!);
      o = n.observation;
    }
    expect(seen).toEqual([0xfffffe, 0xffffff, 0]);
  });

  it('the freshness rule of §3.4, across the wrap and after 128 s', () => {
    expect(isFresher(5, 0, 6, 0)).toBe(true);
    expect(isFresher(6, 0, 5, 0)).toBe(false);
    expect(isFresher(0xffffff, 0, 1, 0)).toBe(true);
    expect(isFresher(1, 0, 0xffffff, 0)).toBe(false);
    expect(isFresher(6, 0, 5, OBSERVE_FRESHNESS_MS + 1)).toBe(true);
  });
});
