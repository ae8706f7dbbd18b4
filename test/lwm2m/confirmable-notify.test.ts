/** Cohort setting `settings.lwm2m.confirmableNotify`: the device's Observe notifications go as CON. */
import { describe, expect, it } from 'vitest';
import { lwm2mMachine } from '../../src/device/lwm2m/machine.js';
import type { Lwm2mAnswer, Lwm2mRequest, Lwm2mState, ServerCall } from '../../src/device/lwm2m/types.js';
import { DEFAULT_LWM2M_SETTINGS } from '../../src/device/lwm2m/types.js';
import { encodeLwm2m } from '../../src/dialect/lwm2m/wire.js';
import type { DeviceSettings } from '../../src/device/types.js';
import { parseScenario } from '../../src/scenario/load.js';
import { errorOf } from '../scenario/config-error.js';
import { Driver, makeProfile, SETTINGS } from '../device/drive.js';

const LW = { ...DEFAULT_LWM2M_SETTINGS, awakeMs: 10_000 };
let mid = 1;
const call = (c: ServerCall): Lwm2mAnswer => ({ type: 'server', ref: { messageId: mid++, token: 'aa' }, call: c });

/** A registered device observed on /5/0/3, then written a Package URI: its State changes, so it notifies. */
function firstNotification(settings: DeviceSettings): Lwm2mRequest {
  const d = new Driver<Lwm2mState, Lwm2mRequest, Lwm2mAnswer>(lwm2mMachine, makeProfile({}), settings).start();
  d.answer({ type: 'created', location: '/rd/1' });
  d.answer(call({ op: 'read', path: [5, 0, 3], observe: 'register', token: 'aa' }));
  d.answer({ type: 'done' });
  d.answer(call({ op: 'write', path: [5, 0, 1], value: 'coap://127.0.0.1:5683/fw/p' }));
  d.answer({ type: 'done' });
  return d.request;
}

describe('confirmable notifications (settings.lwm2m.confirmableNotify)', () => {
  it('NON by default; CON when the cohort says so, on the wire too', () => {
    const non = firstNotification({ ...SETTINGS, lwm2m: LW });
    expect(non).toMatchObject({ op: 'notify', path: '/5/0/3', body: '1' });
    expect(non.op === 'notify' && non.confirmable).toBeFalsy();
    expect(encodeLwm2m(non)).toMatchObject({ kind: 'notify', confirmable: false });
    const con = firstNotification({ ...SETTINGS, lwm2m: LW, confirmableNotify: true });
    expect(con).toMatchObject({ op: 'notify', path: '/5/0/3', body: '1', confirmable: true });
    expect(encodeLwm2m(con)).toMatchObject({ kind: 'notify', token: 'aa', confirmable: true });
  });

  it('is read from the cohort\'s settings, for the lwm2m dialect only, errors naming the field', () => {
    const text = (dialect: string, settings: string): string =>
      [`dialect: ${dialect}`, ...(dialect === 'onenet' ? ['target: { onenet: { productId: "198290" } }'] : []), 'fleet:', '  cohorts:', `    - { name: a, count: 2, ids: "1000..1001", version: V1.0, settings: ${settings} }`].join('\n');
    const error = (t: string): string => errorOf(() => parseScenario(t, 'x.yaml'));
    expect(parseScenario(text('lwm2m', '{ lwm2m: { confirmableNotify: true } }'), 'x.yaml').fleet.cohorts[0]?.settings.confirmableNotify).toBe(true);
    expect(parseScenario(text('lwm2m', '{ lwm2m: { confirmableNotify: false } }'), 'x.yaml').fleet.cohorts[0]?.settings.confirmableNotify).toBeUndefined();
    expect(parseScenario(text('lwm2m', '{}'), 'x.yaml').fleet.cohorts[0]?.settings.confirmableNotify).toBeUndefined();
    expect(error(text('lwm2m', '{ lwm2m: { confirmableNotify: maybe } }'))).toMatch(/settings\.lwm2m\.confirmableNotify|settings\/lwm2m\/confirmableNotify/);
    expect(error(text('lwm2m', '{ lwm2m: { confirmable: true } }'))).toMatch(/settings\.lwm2m/);
    expect(error(text('onenet', '{ lwm2m: { confirmableNotify: true } }'))).toMatch(/fleet\.cohorts\.0\.settings\.lwm2m: LwM2M device settings; dialect "onenet" has no use for them$/);
  });
});
