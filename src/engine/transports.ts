/**
 * The transport a dialect declares, made for one worker. A new transport is one more entry here
 * (and its own module beside ./http-transport.ts); the shard only knows ./transport.ts.
 */
import type { TransportKind } from '../dialect/types.js';
import { ConfigError } from '../config/load.js';
import { HttpTransport } from './http-transport.js';
import { Network } from './network.js';
import type { Transport } from './transport.js';

export interface TransportOptions {
  /** The target's base URL (scheme, host, port). */
  readonly baseUrl: string;
  /** Connections (or sockets) per worker to the target. */
  readonly connections: number;
  /** Largest answer body taken when a message does not say. */
  readonly maxBodyBytes: number;
}

type TransportFactory = (o: TransportOptions) => Transport;

const factories: Partial<Record<TransportKind, TransportFactory>> = {
  http: (o) => new HttpTransport(new Network({ origin: o.baseUrl, connections: o.connections, maxBodyBytes: o.maxBodyBytes })),
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
