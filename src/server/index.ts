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
  let closed: Promise<void> | undefined;
  return {
    url: `http://${hostText}:${address.port}`,
    adminToken,
    clock,
    close: () => (closed ??= Promise.all([state.aiot?.close(), core.close()]).then(() => undefined)),
  };
}
