/**
 * `ota-swarm serve` as a library: the reference OTA server (OneNET south-bound API, Luat upgrade
 * API, admin API, fault knobs, named bugs) on node:http. See docs/server.md.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DEFAULT_CATALOG } from '../catalog/default.js';
import { prepareCatalog } from '../catalog/load.js';
import { ConfigError } from '../config/load.js';
import { RequestClock, ScaledClock, originNow, type Clock } from '../time/clock.js';
import { parseVirtualTime, VIRTUAL_TIME_HEADER } from '../protocol/virtual-time.js';
import { parseBugs } from './bugs.js';
import { parseFaultConfig } from './faults/config.js';
import { createHttpCore } from './http/core.js';
import { startCoapEndpoint, type CoapEndpoint } from './coap/endpoint.js';
import { ServerState } from './server-state.js';
import { PusherThread } from './aiot/pusher-thread.js';
import { HUAWEI_PUSH_POLICY } from '../protocol/aiot.js';
import type { RunningServer, ServerOptions } from './types.js';

export type { ServerOptions, RunningServer } from './types.js';
export { BUG_NAMES, BUG_DESCRIPTIONS, isBugName, parseBugs, type BugName } from './bugs.js';
export {
  ENDPOINT_NAMES,
  parseFaultConfig,
  parseFaultFlag,
  mergeFaults,
  parseDistributionText,
  type EndpointFaults,
  type EndpointName,
  type FaultConfig,
  type FaultTarget,
} from './faults/config.js';

/** The UDP endpoint of the LwM2M server and the firmware repository, attached to the state's transport. */
async function startCoap(state: ServerState, host: string, port: number, quiet: boolean): Promise<CoapEndpoint> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`coap port: expected 0–65535, got ${port}`);
  let endpoint: CoapEndpoint;
  try {
    endpoint = await startCoapEndpoint({
      host,
      port,
      clock: state.clock,
      faults: () => state.resolved.coap,
      dice: () => state.dice,
      handler: () => ({
        onRequest: (req, peer) => state.lwm2m.onRequest(req, peer),
        onAckOrReset: (msg) => state.lwm2m.onAckOrReset(msg),
        onResponse: (msg) => state.lwm2m.onResponse(msg),
        nextMessageId: () => state.lwm2m.nextMessageId(),
      }),
      quiet,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? 'address in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new ConfigError(`cannot listen on udp ${host}:${port} (coap): ${why}${e.code ? ` (${e.code})` : ''}`);
  }
  state.coapTransport = { send: endpoint.send, after: endpoint.after, url: endpoint.url };
  state.coapCounters = endpoint.counters;
  return endpoint;
}

/** Starts the server; resolves once it listens. Bad options reject with a one-line ConfigError. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`port: expected 0–65535, got ${port}`);
  const catalog = prepareCatalog(options.catalog ?? DEFAULT_CATALOG);
  const origin = options.clock ?? originNow(options.timeScale ?? 1);
  let clock: Clock;
  try {
    clock = origin.scale === 'max' ? new RequestClock(origin.virtualMs) : new ScaledClock(origin);
  } catch (err) {
    throw new ConfigError(`time scale: ${(err as Error).message}`);
  }
  const requestClock = clock instanceof RequestClock ? clock : undefined;
  const seed = options.seed ?? catalog.seed;
  if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`seed: expected a non-negative integer, got ${seed}`);
  const faults = parseFaultConfig(options.faults ?? {}, 'faults');
  const bugs = parseBugs(options.bugs ?? [], 'bugs');
  const adminToken = options.adminToken ?? randomBytes(18).toString('base64url');
  if (!/^[\x21-\x7e]{8,256}$/.test(adminToken)) throw new ConfigError('admin token: expected 8–256 printable characters without spaces');

  if (options.aiot && requestClock) throw new ConfigError('aiot: pushes need a clock that runs (a number time scale, not max)');
  const aiot = options.aiot;
  const pushSink =
    aiot?.pushUrl === undefined || origin.scale === 'max'
      ? undefined
      : new PusherThread({ url: aiot.pushUrl, appId: aiot.appId, appKey: aiot.appKey, policy: aiot.policy ?? HUAWEI_PUSH_POLICY, origin, bugs: [...bugs] });
  const state = new ServerState(catalog, clock, seed, faults, bugs, aiot, pushSink);
  const core = createHttpCore(() => state, {
    adminToken,
    allowRemoteAdmin: options.allowRemoteAdmin ?? false,
    quiet: options.quiet ?? false,
    ...(requestClock ? { onRequest: (headers) => requestClock.enter(parseVirtualTime(headers[VIRTUAL_TIME_HEADER])) } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why = err.code === 'EADDRINUSE' ? 'address in use' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EADDRNOTAVAIL' ? 'address not available' : err.message;
      reject(new ConfigError(`cannot listen on ${host}:${port}: ${why}${err.code ? ` (${err.code})` : ''}`));
    };
    core.server.once('error', onError);
    core.server.listen(port, host, () => {
      core.server.off('error', onError);
      resolve();
    });
  });
  const address = core.server.address() as AddressInfo;
  const hostText = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  state.setIpPort(`${hostText}:${address.port}`);
  let coap: CoapEndpoint | undefined;
  if (options.coapPort !== undefined) {
    try {
      coap = await startCoap(state, host, options.coapPort, options.quiet ?? false);
    } catch (err) {
      await core.close();
      throw err;
    }
  }
  let closed: Promise<void> | undefined;
  return {
    url: `http://${hostText}:${address.port}`,
    ...(coap ? { coapUrl: coap.url } : {}),
    adminToken,
    clock,
    close: () =>
      (closed ??= (async () => {
        state.lwm2m.close();
        await Promise.all([state.aiot?.close(), core.close(), coap?.close()]);
      })()),
  };
}
