/**
 * The transport a dialect declares, made for one worker. A new transport is one more entry here
 * (and its own module beside ./http-transport.ts); the shard only knows ./transport.ts.
 */
import type { TransportKind } from '../dialect/types.js';
import { ConfigError } from '../config/load.js';
import { HttpTransport } from './http-transport.js';
import { Network } from './network.js';
import type { Transport } from './transport.js';
import type { Clock } from '../time/clock.js';
import { COAP_RETRANSMIT, type RetransmitSettings } from '../device/types.js';
import { CoapTransport } from './coap-transport.js';
import { loopbackSourceOf } from './udp.js';
import { isLoopbackUrl } from './target.js';
import { HUAWEI_DOWNLINK } from '../protocol/lwm2m.js';

/** The CoAP transport to a `coap://host:port` target; loopback hosts only for package URIs. */
function makeCoapTransport(o: TransportOptions): Transport {
  let url: URL;
  try {
    url = new URL(o.baseUrl);
  } catch {
    throw new ConfigError(`target url ${o.baseUrl}: not a URL`);
  }
  if (url.protocol !== 'coap:') throw new ConfigError(`target url ${o.baseUrl}: the coap transport needs a coap:// URL (e.g. coap://127.0.0.1:5683)`);
  const clock = o.clock;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new CoapTransport({
    server: { host, port: url.port === '' ? 5683 : Number(url.port) },
    timing: o.retransmit ?? COAP_RETRANSMIT,
    ...(o.retransmitOf === undefined ? {} : { timingOf: o.retransmitOf }),
    now: clock ? () => clock.now() : () => performance.now(),
    realMsUntil: clock ? (v) => Math.max(0, clock.realAt(v) - performance.now()) : (v) => Math.max(0, v - performance.now()),
    // This long after its first transmission, an unanswered server message's record is complete (any schedule's give-up is past).
    seenCompleteAfterMs: 2 * HUAWEI_DOWNLINK.giveUpMs[1],
    seed: o.seed ?? 1,
    isAllowedHost: (h) => isLoopbackUrl(`coap://${h.includes(':') ? `[${h}]` : h}/`),
    sourceOf: (slot) => loopbackSourceOf(o.seed ?? 1, slot),
  }) as Transport;
}

export interface TransportOptions {
  /** The target's base URL (scheme, host, port). */
  readonly baseUrl: string;
  /** Connections (or sockets) per worker to the target. */
  readonly connections: number;
  /** Largest answer body taken when a message does not say. */
  readonly maxBodyBytes: number;
  /** CoAP: the virtual clock (listen windows, the instants of server retransmissions); absent: real time. */
  readonly clock?: Clock;
  /** CoAP: the devices' transmission parameters (their cohort's RetransmitSettings); absent: RFC 7252's. */
  readonly retransmit?: RetransmitSettings;
  /** CoAP: a device's own (its cohort's), when cohorts differ; `retransmit` for the others. */
  retransmitOf?(slot: number): RetransmitSettings;
  /** CoAP: seed of message ids, tokens and timeout draws. */
  readonly seed?: number;
}

type TransportFactory = (o: TransportOptions) => Transport;

const factories: Partial<Record<TransportKind, TransportFactory>> = {
  http: (o) => new HttpTransport(new Network({ origin: o.baseUrl, connections: o.connections, maxBodyBytes: o.maxBodyBytes })),
  coap: (o) => makeCoapTransport(o),
};

/** Lets a transport module add itself (a worker imports it before the shard starts). */
export function registerTransport(kind: TransportKind, make: TransportFactory): void {
  factories[kind] = make;
}

/** The transport of a dialect (`http` when it declares none); one the harness cannot make is a one-line error. */
export function makeTransport(kind: TransportKind | undefined, o: TransportOptions): Transport {
  const make = factories[kind ?? 'http'];
  if (make === undefined) throw new ConfigError(`transport "${kind}": not available in this build (known: ${Object.keys(factories).join(', ')})`);
  return make(o);
}
