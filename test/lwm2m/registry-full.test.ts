import { describe, expect, it } from 'vitest';
import { lwm2mMachine } from '../../src/device/lwm2m/machine.js';
import type { Lwm2mAnswer, Lwm2mRequest, Lwm2mState } from '../../src/device/lwm2m/types.js';
import { DEFAULT_LWM2M_SETTINGS } from '../../src/device/lwm2m/types.js';
import { decodeLwm2m, lwm2mIsError, lwm2mOutcomeOf } from '../../src/dialect/lwm2m/wire.js';
import { COAP_OPTION } from '../../src/protocol/coap.js';
import type { DeviceSettings } from '../../src/device/types.js';
import { Driver, makeProfile, SETTINGS } from '../device/drive.js';

const settings: DeviceSettings = { ...SETTINGS, maxAttempts: 3, lwm2m: { ...DEFAULT_LWM2M_SETTINGS, awakeMs: 10_000 } };

/** What serve answers a new endpoint when its registry is full (src/server/lwm2m/server.ts registryFull). */
const full = (r: Lwm2mRequest, maxAgeSec = 60): Lwm2mAnswer =>
  decodeLwm2m(r, { kind: 'response', code: '5.03', options: [{ number: COAP_OPTION.MAX_AGE, value: Uint8Array.from([maxAgeSec]) }], payload: Buffer.from('registry full'), transmissions: 1 });

describe('LwM2M device: a Register refused 5.03 (the server\'s registry is full)', () => {
  it('reads as a refusal, counted as an error of register', () => {
    const a = full({ op: 'register', endpoint: 'e', lifetimeSec: 60, binding: 'UQ', objects: '' });
    expect(a).toMatchObject({ type: 'refused', code: '5.03', retryAfterMs: 60_000 });
    expect(lwm2mOutcomeOf(a)).toBe('coap:5.03');
    expect(lwm2mIsError(a)).toBe(true);
  });

  it('retries no sooner than the Max-Age the server gave, nor its own retryDelay, maxAttempts in all, then gives up (no spin, no crash)', () => {
    const d = new Driver<Lwm2mState, Lwm2mRequest, Lwm2mAnswer>(lwm2mMachine, makeProfile({}), settings).start();
    const asks: number[] = [];
    for (let k = 0; k < 10 && !d.stopped; k++) {
      expect(d.request.op).toBe('register');
      asks.push(d.now);
      d.answer(full(d.request));
      if (d.stopped) break;
      expect(d.sleepMs).toBe(Math.max(SETTINGS.retryDelayMs, 60_000));
      d.wake();
    }
    expect(asks).toHaveLength(3);
    expect(d.state.kind).toBe('gave-up');
  });

  it('a Max-Age shorter than its own retry delay does not hurry it', () => {
    const d = new Driver<Lwm2mState, Lwm2mRequest, Lwm2mAnswer>(lwm2mMachine, makeProfile({}), { ...settings, retryDelayMs: 120_000 }).start();
    d.answer(full(d.request, 5));
    expect(d.sleepMs).toBe(120_000);
  });
});
