/**
 * lwm2m-node-lib (Telefónica's LwM2M server on npm; AGPL, a dev dependency started here as an
 * external target, never imported by src/): a few hundred queue-mode devices register, Update on
 * their wake and de-register; the server's own registry and handlers agree. Then one device is
 * updated by the server (Package URI write, Update execute) from a package on libcoap's server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { freeUdpPort } from '../coap/free-port.js';
import { runDevices } from './run-devices.js';
import { makeProfile, SETTINGS } from '../device/drive.js';
import { DEFAULT_LWM2M_SETTINGS } from '../../src/device/lwm2m/types.js';
import type { DeviceSettings } from '../../src/device/types.js';
import { CoapClient } from '../../src/engine/coap-client.js';
import { pathOptions } from '../../src/coap/message.js';
import { exchangeLifetimeMs } from '../../src/protocol/coap.js';

interface Lwm2mServerLib {
  start(config: object, cb: (e: unknown, info: unknown) => void): void;
  stop(info: unknown, cb: (e?: unknown) => void): void;
  setHandler(info: unknown, type: string, handler: (...args: unknown[]) => void): void;
  listDevices(cb: (e: unknown, devices: { name: string; id: number; port: number }[]) => void): void;
  write(deviceId: number, obj: number, inst: number, res: number, value: string, cb: (e: unknown) => void): void;
  execute(deviceId: number, obj: number, inst: number, res: number, value: string | null, cb: (e: unknown) => void): void;
  read(deviceId: number, obj: number, inst: number, res: number, cb: (e: unknown, value: string) => void): void;
}

const require = createRequire(import.meta.url);
const server = (require('lwm2m-node-lib') as { server: Lwm2mServerLib }).server;
const DEVICES = 300;

let port = 0;
let info: unknown;
const registrations: string[] = [];
const updates: string[] = [];
const deregistrations: string[] = [];

beforeAll(async () => {
  port = await freeUdpPort();
  info = await new Promise((resolve, reject) =>
    server.start({ port, lifetimeCheckInterval: 60_000, udpWindow: 100, defaultType: 'Device', logLevel: 'FATAL', serverProtocol: 'udp4', deviceRegistry: { type: 'memory' }, types: [] }, (e, i) => (e ? reject(e as Error) : resolve(i))),
  );
  server.setHandler(info, 'registration', (ep, _lt, _v, binding, _payload, cb) => {
    registrations.push(`${String(ep)}:${String(binding)}`);
    (cb as () => void)();
  });
  server.setHandler(info, 'updateRegistration', (obj, _payload, cb) => {
    updates.push((obj as { name: string }).name);
    (cb as () => void)();
  });
  server.setHandler(info, 'unregistration', (device, cb) => {
    deregistrations.push((device as { name: string }).name);
    (cb as () => void)();
  });
});

afterAll(async () => {
  await new Promise<void>((r) => server.stop(info, () => r()));
});

const settings = (over: Partial<typeof DEFAULT_LWM2M_SETTINGS>): DeviceSettings => ({
  ...SETTINGS,
  maxAttempts: 3,
  retryDelayMs: 200,
  rebootMs: 100,
  lwm2m: { ...DEFAULT_LWM2M_SETTINGS, awakeMs: 300, wakeEveryMs: 300, maxWakes: 1, ...over },
});

describe('against lwm2m-node-lib', () => {
  it(`${DEVICES} queue-mode devices register (binding UQ), Update on their wake, de-register`, async () => {
    const profiles = Array.from({ length: DEVICES }, (_, i) => makeProfile({ index: i, id: `urn:imei:86${String(i).padStart(13, '0')}`, seed: 1000 + i }));
    const { runs } = await runDevices(profiles, settings({}), { host: '127.0.0.1', port }, 30_000);
    expect(runs.map((r) => r.final?.kind)).toEqual(profiles.map(() => 'up-to-date'));
    expect(new Set(registrations)).toEqual(new Set(profiles.map((p) => `${p.id}:UQ`)));
    expect(updates.sort()).toEqual(profiles.map((p) => p.id).sort());
    expect(deregistrations.sort()).toEqual(profiles.map((p) => p.id).sort());
    const left = await new Promise<unknown[]>((r) => server.listDevices((_e, d) => r(d)));
    expect(left).toEqual([]);
  });

  it('sleepingSocket close: each device sleeps with no socket and Updates from a new source port; the server takes every Update and De-register', async () => {
    const profiles = Array.from({ length: 100 }, (_, i) => makeProfile({ index: i, id: `urn:imei:87${String(i).padStart(13, '0')}`, seed: 2000 + i }));
    const before = { updates: updates.length, deregistrations: deregistrations.length };
    const { runs } = await runDevices(profiles, settings({ sleepingSocket: 'close' }), { host: '127.0.0.1', port }, 30_000);
    expect(runs.map((r) => r.final?.kind)).toEqual(profiles.map(() => 'up-to-date'));
    expect(updates.slice(before.updates).sort()).toEqual(profiles.map((p) => p.id).sort());
    expect(deregistrations.slice(before.deregistrations).sort()).toEqual(profiles.map((p) => p.id).sort());
    const left = await new Promise<unknown[]>((r) => server.listDevices((_e, d) => r(d)));
    expect(left).toEqual([]);
  });

  it.skipIf(!existsSync('/usr/bin/coap-server-notls'))('updates a device: the server writes a Package URI and executes Update; the device pulls it from libcoap and reports Result 1', async () => {
    const filePort = await freeUdpPort();
    const child: ChildProcess = spawn('/usr/bin/coap-server-notls', ['-A', '127.0.0.1', '-p', String(filePort), '-d', '4', '-v', '0'], { stdio: 'ignore' });
    try {
      const image = randomBytes(20_000);
      const uploader = new CoapClient({ host: '127.0.0.1', port: filePort }, { timing: SETTINGS.retransmit, seed: 3, exchangeLifetimeMs: exchangeLifetimeMs(SETTINGS.retransmit) });
      let up: { ok: boolean } = { ok: false };
      for (let i = 0; i < 20 && !up.ok; i++) {
        up = await uploader.upload(pathOptions('/fw-2.0.0.bin'), image, 6);
        if (!up.ok) await new Promise((r) => setTimeout(r, 100));
      }
      uploader.close();
      expect(up.ok).toBe(true);
      const id = 'urn:imei:860000000009999';
      const done = runDevices([makeProfile({ id, seed: 9 })], settings({ awakeMs: 1_000, maxWakes: 0 }), { host: '127.0.0.1', port }, 20_000);
      let device: { id: number } | undefined;
      for (let i = 0; i < 100 && device === undefined; i++) {
        await new Promise((r) => setTimeout(r, 20));
        device = (await new Promise<{ name: string; id: number }[]>((r) => server.listDevices((_e, d) => r(d)))).find((d) => d.name === id);
      }
      expect(device).toBeDefined();
      await new Promise<void>((resolve, reject) => server.write(device!.id, 5, 0, 1, `coap://127.0.0.1:${filePort}/fw-2.0.0.bin`, (e) => (e ? reject(e as Error) : resolve())));
      let state = '';
      for (let i = 0; i < 100 && state !== '2'; i++) {
        await new Promise((r) => setTimeout(r, 30));
        state = await new Promise<string>((r) => server.read(device!.id, 5, 0, 3, (_e, v) => r(String(v))));
      }
      expect(state).toBe('2');
      await new Promise<void>((resolve, reject) => server.execute(device!.id, 5, 0, 2, null, (e) => (e ? reject(e as Error) : resolve())));
      const { runs } = await done;
      const run = runs[0]!;
      expect(run.final?.kind).toBe('succeeded');
      expect(run.final?.version).toBe('fw-2.0.0');
      const md5 = run.answers.flatMap((a) => (a.type === 'block' && a.md5 !== undefined ? [a.md5] : []));
      expect(md5).toEqual([createHash('md5').update(image).digest('hex')]);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
