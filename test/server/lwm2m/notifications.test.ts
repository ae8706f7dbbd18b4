/** serve's side of Observe notifications: a CON one is ACKed, a NON one is not; both are counted. */
import { describe, expect, it } from 'vitest';
import { FakeWorld, pathOf } from './fake.js';

describe('notifications the LwM2M server takes', () => {
  it('ACKs a CON notification (empty ACK, its message id), answers nothing to a NON, counts both', () => {
    const w = new FakeWorld({ u: 0 });
    w.register('lwm2m-000007');
    const obs = w.lastSent();
    expect(pathOf(obs)).toBe('/5/0/3');
    w.ack(obs, '2.05', '0', 1);
    expect(w.server.counters).toMatchObject({ notifications: 0, confirmableNotifications: 0 });
    expect(w.notify(obs.token, '1', 2, false)).toBeUndefined();
    const ack = w.notify(obs.token, '1', 3, true);
    expect(ack).toMatchObject({ ack: true, code: '0.00' });
    expect(w.server.counters).toMatchObject({ notifications: 2, confirmableNotifications: 1 });
    expect(w.device('lwm2m-000007').firmware.state).toBe(1);
  });
});
