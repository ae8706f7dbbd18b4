/**
 * The LwM2M side of the server, built from the catalog: the packages of the CoAP repository, the
 * campaigns, and the server bound to a transport that is attached once the UDP socket listens
 * (and detached on close). Without a `lwm2m` section the built-in one below applies.
 */
import type { Catalog, Lwm2mSection } from '../../catalog/schema.js';
import { Rng } from '../../random/rng.js';
import type { Clock } from '../../time/clock.js';
import type { BugName } from '../bugs.js';
import type { Peer } from '../coap/packet.js';
import { PackageRuntime } from '../state/catalog-runtime.js';
import { Lwm2mServer } from './server.js';

/** The built-in section: one 64 KiB package for endpoints `lwm2m-000000` … `lwm2m-999999`. */
export const DEFAULT_LWM2M: Lwm2mSection = {
  schedule: 'huawei',
  commandTtlSec: 172_800,
  packages: [{ id: 'lwm2m-fw-2', version: '2.0.0', size: 64 * 1024, seed: 31, kind: 'full', fileName: 'nb_fw_2.0.0.bin' }],
  campaigns: [{ endpoints: 'lwm2m-{000000..999999}', package: 'lwm2m-fw-2', delivery: 'coap', observe: true }],
};

/** Where the LwM2M server's datagrams and timers go; a no-op until the socket listens. */
export interface Lwm2mTransport {
  send(bytes: Buffer, peer: Peer): void;
  after(virtualMs: number, fn: () => void): () => void;
  url: string;
}

export const DETACHED: Lwm2mTransport = { send: () => {}, after: () => () => {}, url: 'coap://127.0.0.1:0' };

/** Stream id of the server's retransmission draws. */
const LWM2M_STREAM = 0x1a2a;

export function buildLwm2m(catalog: Catalog, clock: Clock, seed: number, bugs: ReadonlySet<BugName>, transport: () => Lwm2mTransport, httpBase: () => string): Lwm2mServer {
  const section = catalog.lwm2m ?? DEFAULT_LWM2M;
  const packages = new Map<string, PackageRuntime>();
  for (const spec of section.packages) packages.set(spec.id, new PackageRuntime(spec, 'lwm2m', catalog.seed));
  const rng = new Rng(seed, LWM2M_STREAM);
  return new Lwm2mServer(section, packages, {
    now: () => Math.floor(clock.now()),
    send: (bytes, peer) => transport().send(bytes, peer),
    after: (ms, fn) => transport().after(ms, fn),
    random: () => rng.next(),
    bugs,
    coapBase: () => transport().url,
    httpBase,
  });
}
