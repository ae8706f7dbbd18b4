/**
 * LwM2M's `target.lwm2m` block: how the devices register and sleep (lifetime, binding, the queue
 * mode awake window, PSM wakes) and the block size of their package downloads. All optional; the
 * server is the target URL (`coap://127.0.0.1:5683`). No secrets: NoSec, as on loopback.
 */
import { Type, type Static } from '@sinclair/typebox';
import { durationMs, durationSchema } from '../../config/fields.js';
import { szxOf } from '../../protocol/coap.js';
import { DEFAULT_LWM2M_SETTINGS, type Lwm2mDeviceSettings, type SleepingSocket } from '../../device/lwm2m/types.js';
import type { DialectTargetSpec } from '../types.js';

export const Lwm2mTargetSchema = Type.Object(
  {
    lifetime: Type.Optional(durationSchema('Registration lifetime (`lt`).', { default: '24h' })),
    binding: Type.Optional(Type.Unsafe<'U' | 'UQ'>({ type: 'string', enum: ['U', 'UQ'], default: 'UQ', description: 'Binding: UQ is queue mode (reachable only after the device speaks).' })),
    awake: Type.Optional(durationSchema('Queue mode: how long a device stays reachable after it last spoke (virtual).', { default: '93s' })),
    wakeEvery: Type.Optional(durationSchema('PSM: time between wakes; each wake is a registration Update (virtual).', { default: '1h' })),
    wakes: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, default: 24, description: 'Wakes before the device de-registers and ends.' })),
    blockSize: Type.Optional(Type.Integer({ enum: [16, 32, 64, 128, 256, 512, 1024], default: 1024, description: 'Block2 size of package downloads, bytes.' })),
    windowsAfterSuccess: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 1, description: 'Awake windows a device stays for after its update succeeded (a second download would show then).' })),
    sleepingSocket: Type.Optional(
      Type.Unsafe<SleepingSocket>({
        type: 'string',
        enum: ['keep', 'close'],
        default: 'keep',
        description:
          'A sleeping device\'s UDP socket. keep: open, so what the server sends a sleeping device is witnessed (lwm2m-queue-mode judges it); a descriptor and ~3 KiB each. close: closed, as a PSM device\'s NAT binding lapses; each wake speaks from a new source port, only awake devices hold sockets (fleets beyond the open-files limit), and lwm2m-queue-mode says it cannot judge.',
      }),
    ),
  },
  { additionalProperties: false, description: 'LwM2M: registration, queue mode and PSM of the devices (all optional).' },
);

export const lwm2mTarget: DialectTargetSpec<Lwm2mDeviceSettings> = {
  schema: Lwm2mTargetSchema,
  resolve(raw, { fail }): Lwm2mDeviceSettings {
    const b = (raw ?? {}) as Static<typeof Lwm2mTargetSchema>;
    const d = DEFAULT_LWM2M_SETTINGS;
    return {
      lifetimeSec: b.lifetime === undefined ? d.lifetimeSec : Math.max(1, Math.round(durationMs(b.lifetime, 'lifetime', fail) / 1000)),
      binding: b.binding ?? d.binding,
      awakeMs: b.awake === undefined ? d.awakeMs : durationMs(b.awake, 'awake', fail),
      wakeEveryMs: b.wakeEvery === undefined ? d.wakeEveryMs : durationMs(b.wakeEvery, 'wakeEvery', fail),
      maxWakes: b.wakes ?? d.maxWakes,
      blockSzx: b.blockSize === undefined ? d.blockSzx : szxOf(b.blockSize),
      windowsAfterSuccess: b.windowsAfterSuccess ?? d.windowsAfterSuccess,
      sleepingSocket: b.sleepingSocket ?? d.sleepingSocket,
    };
  },
  fromScenario: (block) => (block as Lwm2mDeviceSettings | undefined) ?? DEFAULT_LWM2M_SETTINGS,
  fromCatalog: (block) => (block as Lwm2mDeviceSettings | undefined) ?? DEFAULT_LWM2M_SETTINGS,
  deviceSettings: (s) => ({ lwm2m: s }),
  // Closed for their sleeps, sockets are held only by devices awake at once, which no up-front count knows: a shortfall shows as net:EMFILE.
  socketsHeld: (block, devices) => ((block as Lwm2mDeviceSettings | undefined)?.sleepingSocket === 'close' ? 0 : devices),
};
