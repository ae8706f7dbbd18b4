/**
 * Everything a running server holds, in one place the admin API can change: the store (replaced on
 * reset), the calls bound to it, the fault knobs and the bugs.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Clock } from '../time/clock.js';
import type { BugName } from './bugs.js';
import { resolveFaults, type EndpointFaults, type EndpointName, type FaultConfig } from './faults/config.js';
import { FaultDice } from './faults/dice.js';
import { LuatCalls } from './luat/calls.js';
import { OnenetCalls } from './onenet/calls.js';
import { Store } from './state/store.js';
import { HawkbitCalls } from './hawkbit/calls.js';
import { buildTenants, HawkbitState, type TenantRuntime } from './hawkbit/state.js';
import { AiotSide, type AiotServerOptions } from './aiot/side.js';
import type { PushSink } from './aiot/pusher-thread.js';
import { buildLwm2m, DETACHED, type Lwm2mTransport } from './lwm2m/index.js';
import type { Lwm2mServer } from './lwm2m/server.js';
import type { CoapCounters } from './coap/endpoint.js';
import { Lwm2mHttpCalls } from './lwm2m/http.js';

export class ServerState {
  store: Store;
  onenet: OnenetCalls;
  luat: LuatCalls;
  hawkbit: HawkbitCalls;
  /** hawkBit tenants with their secrets resolved, once; a reset gives them fresh rollouts. */
  private readonly hawkbitTenants: () => Map<string, TenantRuntime>;
  dice: FaultDice;
  faults: FaultConfig = {};
  resolved: Readonly<Record<EndpointName, EndpointFaults | undefined>> = resolveFaults({});
  /** Shared with every store, so a change applies at once. */
  readonly bugs: Set<BugName>;
  /** The AIOT north-bound API and pushes, when configured (ServerOptions.aiot). */
  aiot: AiotSide | undefined;
  /** The LwM2M server (registrations, downlink queue, campaigns); its transport is the CoAP socket once it listens. */
  lwm2m: Lwm2mServer;
  coapTransport: Lwm2mTransport = DETACHED;
  readonly lwm2mHttp = new Lwm2mHttpCalls(() => this.lwm2m);
  /** The CoAP socket's datagram counts, once it listens. */
  coapCounters: CoapCounters | undefined;
  private ipPort = '127.0.0.1:0';

  constructor(
    readonly catalog: Catalog,
    readonly clock: Clock,
    readonly seed: number,
    faults: FaultConfig,
    bugs: readonly BugName[],
    aiot?: AiotServerOptions,
    pushSink?: PushSink,
  ) {
    this.bugs = new Set(bugs);
    this.store = new Store(catalog, clock, seed, this.bugs);
    this.aiot = aiot === undefined ? undefined : AiotSide.create(this.store, aiot, pushSink);
    this.onenet = new OnenetCalls(this.store);
    this.luat = new LuatCalls(this.store);
    this.hawkbitTenants = () => buildTenants(catalog.hawkbit, seed);
    this.hawkbit = this.newHawkbit();
    this.dice = new FaultDice(seed);
    this.lwm2m = buildLwm2m(catalog, clock, seed, this.bugs, () => this.coapTransport, () => `http://${this.ipPort}`);
    this.setFaults(faults);
  }

  setIpPort(ipPort: string): void {
    this.ipPort = ipPort;
    this.onenet.ipPort = ipPort;
  }

  setFaults(faults: FaultConfig): void {
    this.faults = faults;
    this.resolved = resolveFaults(faults);
  }

  setBugs(bugs: readonly BugName[]): void {
    this.bugs.clear();
    for (const b of bugs) this.bugs.add(b);
  }

  /** Back to the catalog's initial state: devices, tasks, tokens, bans, builds, counters, draws. */
  reset(): void {
    const banLimit = this.store.banLimit;
    this.store = new Store(this.catalog, this.clock, this.seed, this.bugs);
    this.store.banLimit = banLimit;
    this.aiot = this.aiot?.rebind(this.store);
    this.onenet = new OnenetCalls(this.store);
    this.onenet.ipPort = this.ipPort;
    this.luat = new LuatCalls(this.store);
    this.hawkbit = this.newHawkbit();
    this.dice = new FaultDice(this.seed);
    this.lwm2m.close();
    this.lwm2m = buildLwm2m(this.catalog, this.clock, this.seed, this.bugs, () => this.coapTransport, () => `http://${this.ipPort}`);
  }

  private newHawkbit(): HawkbitCalls {
    const h = this.catalog.hawkbit;
    const limits = { maxReadPerSecond: h?.maxReadPerSecond ?? 200, maxWritePerSecond: h?.maxWritePerSecond ?? 50, maxStatusEntriesPerAction: h?.maxStatusEntriesPerAction ?? 1000 };
    return new HawkbitCalls(this.store, new HawkbitState(this.hawkbitTenants()), limits);
  }
}
