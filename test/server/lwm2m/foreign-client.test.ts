/**
 * An independent LwM2M client, lwm2m-node-lib's (AGPL, a dev dependency used only as a test
 * target, never imported by src/), against serve's LwM2M server: it registers, the campaign
 * observes its Object 5, writes the Package URI into it, and executes Update once the client's
 * State becomes 2; its Update Result 1 then completes the campaign in the server's view.
 */
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../../src/server/index.js';

const require = createRequire(import.meta.url);
const client = (require('lwm2m-node-lib') as { client: any }).client;

let server: RunningServer | undefined;
afterAll(async () => {
  await server?.close();
});

const CONFIG = {
  client: {
    lifetime: '600',
    version: '1.0',
    logLevel: 'FATAL',
    observe: { period: 3000 },
    ipProtocol: 'udp4',
    serverProtocol: 'udp4',
    formats: [{ name: 'application-vnd-oma-lwm2m/text', value: 0 }],
    writeFormat: 'application-vnd-oma-lwm2m/text',
  },
};

describe("lwm2m-node-lib's client against serve's LwM2M server", () => {
  it('registers, is observed, takes the Package URI, is executed at State 2 and succeeds with Update Result 1', async () => {
    server = await startServer({ coapPort: 0, timeScale: 100, quiet: true });
    const s = server;
    const port = Number(new URL((s.coapUrl as string).replace('coap:', 'http:')).port);
    const admin = async (): Promise<any> => (await fetch(`${s.url}/admin/lwm2m/devices/lwm2m-000777`, { headers: { authorization: `Bearer ${s.adminToken}` } })).json();
    client.init(CONFIG);
    const setResource = promisify(client.registry.setResource);
    await promisify(client.registry.create)('/5/0');
    await setResource('/5/0', '3', '0');
    await setResource('/5/0', '5', '0');
    const info = await promisify(client.register)('127.0.0.1', port, '', 'lwm2m-000777');
    try {
      expect(info.location).toMatch(/^rd\/[0-9a-z]+$/);
      // The first Observe may come before the client's listener is up: then its retransmission is answered.
      await expect.poll(async () => (await admin()).firmware.phase, { timeout: 10_000 }).toBe('uri-written');
      const uri = (await promisify(client.registry.get)('/5/0')).attributes['1'];
      expect(uri).toBe(`${s.coapUrl}/fw/lwm2m-fw-2`);
      await setResource('/5/0', '3', '2');
      await expect.poll(async () => (await admin()).firmware.phase, { timeout: 10_000 }).toBe('executed');
      await setResource('/5/0', '5', '1');
      await expect.poll(async () => (await admin()).firmware.phase, { timeout: 10_000 }).toBe('succeeded');
      const view = await admin();
      expect(view.firmware.updateResult).toBe(1);
      expect(view.commands.map((c: { kind: string; path: string; state: string }) => `${c.kind} ${c.path} ${c.state}`)).toEqual([
        'observe /5/0/3 SUCCESSFUL',
        'observe /5/0/5 SUCCESSFUL',
        'write /5/0/1 SUCCESSFUL',
        'execute /5/0/2 SUCCESSFUL',
      ]);
    } finally {
      await promisify(client.unregister)(info).catch(() => {});
    }
  });
});
