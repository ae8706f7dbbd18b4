/** The reference server's public shapes: what startServer takes and gives back. */
import type { Catalog } from '../catalog/schema.js';
import type { Clock, ClockOrigin, TimeScale } from '../time/clock.js';
import type { BugName } from './bugs.js';
import type { FaultConfig } from './faults/config.js';
import type { AiotServerOptions } from './aiot/side.js';

export interface ServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port (the CLI defaults to 8080). */
  port?: number;
  /** Default DEFAULT_CATALOG. Secret references in it are resolved at start. */
  catalog?: Catalog;
  /** Bearer token of /admin/; a random one when absent. */
  adminToken?: string;
  /** Seed of tokens, fault draws and diff build times; default the catalog's seed. */
  seed?: number;
  /** Origin of the virtual clock; default originNow(timeScale). */
  clock?: ClockOrigin;
  /**
   * Virtual ms per real ms when no clock origin is given; default 1. `max`: no wall clock, each
   * request is judged at the virtual instant its VIRTUAL_TIME_HEADER gives.
   */
  timeScale?: TimeScale;
  faults?: FaultConfig;
  bugs?: BugName[];
  /** No log lines at all (the server only logs internal errors). */
  quiet?: boolean;
  /** Answer /admin/ to clients that are not on loopback (off: admin is loopback-only). */
  allowRemoteAdmin?: boolean;
  /** The AIOT open API (north-bound calls, pushes to a URL); off when absent. docs/application-side.md. */
  aiot?: AiotServerOptions;
  /** UDP port of the CoAP endpoint (LwM2M server, firmware repository); absent: none. 0: any free port. */
  coapPort?: number;
}

export interface RunningServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `coap://127.0.0.1:PORT` when a CoAP port was asked for. */
  coapUrl?: string;
  adminToken: string;
  clock: Clock;
  close(): Promise<void>;
}
