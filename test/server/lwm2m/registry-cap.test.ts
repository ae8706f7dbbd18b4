import type { ParsedPacket } from 'coap-packet';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_REGISTRATIONS, MAX_RETRY_AFTER_SEC } from '../../../src/server/lwm2m/registry.js';
import { FakeWorld } from './fake.js';

const maxAgeOf = (m: ParsedPacket): number | undefined => {
  const o = m.options.find((x) => x.name === 'Max-Age');
  if (o === undefined) return undefined;
  let n = 0;
  for (const b of o.value) n = n * 256 + b;
  return n;
};

const registerAck = (w: FakeWorld, ep: string, lt = 86_400): ParsedPacket => w.request('0.02', ['rd'], [`ep=${ep}`, `lt=${lt}`, 'lwm2m=1.1', 'b=UQ']);
const locationOf = (m: ParsedPacket): string => m.options.filter((o) => o.name === 'Location-Path').map((o) => o.value.toString())[1] as string;

describe('the registry cap (lwm2m.maxRegistrations)', () => {
  it('defaults to a generous bound', () => {
    expect(new FakeWorld({ section: { campaigns: [] } }).server.registry.maxEndpoints).toBe(DEFAULT_MAX_REGISTRATIONS);
    expect(DEFAULT_MAX_REGISTRATIONS).toBeGreaterThanOrEqual(1_000_000);
  });

  it('answers a new endpoint 5.03 with Max-Age when every place is live; Update, renewal and De-register of existing ones still work', () => {
    const w = new FakeWorld({ section: { campaigns: [], maxRegistrations: 2 } });
    const a = locationOf(registerAck(w, 'ep-a'));
    const b = locationOf(registerAck(w, 'ep-b'));
    const refused = registerAck(w, 'ep-c');
    expect(refused.code).toBe('5.03');
    // The earliest lifetime ends in a day: the device is told the longest retry delay (a De-register may free a place sooner).
    expect(maxAgeOf(refused)).toBe(MAX_RETRY_AFTER_SEC);
    expect(refused.payload.toString()).toMatch(/registry full: 2 endpoints/);
    expect(w.server.registry.refused).toBe(1);
    expect(w.server.registry.byEp.has('ep-c')).toBe(false);
    expect(w.request('0.02', ['rd', a]).code).toBe('2.04');
    // A known endpoint registering again takes no new place.
    expect(registerAck(w, 'ep-a').code).toBe('2.01');
    expect(w.request('0.04', ['rd', b]).code).toBe('2.02');
    // The de-registered endpoint's place goes to the new one; its history is forgotten then, not before.
    expect(w.server.registry.byEp.has('ep-b')).toBe(true);
    expect(registerAck(w, 'ep-c').code).toBe('2.01');
    expect(w.server.registry.byEp.has('ep-b')).toBe(false);
    expect(w.server.registry.forgotten).toBe(1);
    expect(registerAck(w, 'ep-d').code).toBe('5.03');
    expect(w.server.registry.refused).toBe(2);
    expect(w.server.registry.byEp.size).toBe(2);
  });

  it('a registration that lapsed frees its place; Max-Age says when the earliest one lapses', () => {
    const w = new FakeWorld({ section: { campaigns: [], maxRegistrations: 1 } });
    registerAck(w, 'ep-a', 40);
    w.advance(10_000);
    const refused = registerAck(w, 'ep-b');
    expect(refused.code).toBe('5.03');
    // ep-a lapses just after 40 s from its Register: 30.001 s from now, rounded up.
    expect(maxAgeOf(refused)).toBe(31);
    w.advance(31_000);
    expect(registerAck(w, 'ep-b').code).toBe('2.01');
    expect(w.server.registry.byEp.has('ep-a')).toBe(false);
    expect(w.server.registry.forgotten).toBe(1);
  });

  it('an Update that shortens the lifetime moves the earliest lapse forward', () => {
    const w = new FakeWorld({ section: { campaigns: [], maxRegistrations: 1 } });
    const a = locationOf(registerAck(w, 'ep-a', 3600));
    expect(w.request('0.02', ['rd', a], ['lt=5']).code).toBe('2.04');
    expect(maxAgeOf(registerAck(w, 'ep-b'))).toBe(6);
    w.advance(5_001);
    expect(registerAck(w, 'ep-b').code).toBe('2.01');
  });

  it('a flood of new names against a full registry stays bounded and is refused each time', () => {
    const w = new FakeWorld({ section: { campaigns: [], maxRegistrations: 3 } });
    for (let i = 0; i < 3; i++) expect(registerAck(w, `ep-${i}`).code).toBe('2.01');
    for (let i = 3; i < 500; i++) expect(registerAck(w, `hostile-${i}`).code).toBe('5.03');
    expect(w.server.registry.byEp.size).toBe(3);
    expect(w.server.registry.refused).toBe(497);
    expect(w.server.registry.count(w.now)).toBe(3);
  });

  it('refuses a cap below 1', () => {
    expect(() => new FakeWorld({ section: { maxRegistrations: 0 } })).toThrow(/maxRegistrations/);
  });
});
