/**
 * The registration interface's bookkeeping (LwM2M §6.2): Register makes or renews an endpoint's
 * registration under a new id, Update refreshes it, De-register ends it, and a registration not
 * refreshed (Register / Update) within its lifetime is gone. Reachability in queue mode: a UQ device is awake for
 * QUEUE_MODE_AWAKE_MS after it last spoke. Pure; time comes in as arguments.
 *
 * Bounded: at most `maxEndpoints` endpoints are kept (a hostile or runaway client registering
 * ever new names cannot fill memory). An endpoint whose registration ended (De-register, or its
 * lifetime ran out) keeps its place, and its history for the admin view, until a new endpoint needs
 * the place: then the one that ended first is forgotten. With every place held by a live
 * registration, a new endpoint's Register is refused, with the seconds until the earliest lifetime
 * can end (at most MAX_RETRY_AFTER_SEC: a De-register may free a place sooner).
 */
import { QUEUE_MODE_AWAKE_MS, type Binding } from '../../protocol/lwm2m.js';
import type { Peer } from '../coap/packet.js';
import type { Lwm2mDevice } from './model.js';

export interface RegisterParams {
  ep: string;
  lifetimeSec: number;
  binding: Binding;
  version: string;
}

/** Registration parameters from Uri-Query values; a string says what is wrong. */
export function parseRegisterQuery(q: ReadonlyMap<string, string>, requireEp: boolean): Partial<RegisterParams> | string {
  const out: Partial<RegisterParams> = {};
  const ep = q.get('ep');
  if (requireEp) {
    if (ep === undefined || ep.length === 0 || ep.length > 128) return 'ep: expected an endpoint name of 1–128 characters';
    out.ep = ep;
  }
  const lt = q.get('lt');
  if (lt !== undefined) {
    const n = Number(lt);
    if (!/^\d{1,10}$/.test(lt) || n < 1) return `lt: expected a lifetime in seconds ≥ 1, got ${lt}`;
    out.lifetimeSec = n;
  }
  const b = q.get('b');
  if (b !== undefined) {
    if (b !== 'U' && b !== 'UQ') return `b: expected U or UQ, got ${b}`;
    out.binding = b;
  }
  // LwM2M 1.1 queue mode is the `Q` parameter with binding U.
  if (q.has('Q')) out.binding = 'UQ';
  const v = q.get('lwm2m');
  if (v !== undefined) out.version = v;
  return out;
}

/** LwM2M's default lifetime (86400 s) when Register gives none. */
export const DEFAULT_LIFETIME_SEC = 86_400;

/** Endpoints kept at most unless the catalog or `--lwm2m-max-registrations` says otherwise: a bound on memory, above any fleet the harness runs. */
export const DEFAULT_MAX_REGISTRATIONS = 2_000_000;
/** Longest retry delay a refused Register is told (its Max-Age), s. */
export const MAX_RETRY_AFTER_SEC = 60;

/** What a Register gets: the registration, or no place (retry after `retryAfterSec`). */
export type RegisterOutcome = { kind: 'registered'; device: Lwm2mDevice; renewed: boolean } | { kind: 'full'; retryAfterSec: number };

/** The instant a registration lapses (isRegistered is false from then on). */
const lapsesAt = (d: Lwm2mDevice): number => d.refreshedAt + d.lifetimeSec * 1000 + 1;

export class Registry {
  readonly byEp = new Map<string, Lwm2mDevice>();
  private readonly byRegId = new Map<string, Lwm2mDevice>();
  /** Kept endpoints whose registration ended, in the order it ended: the first to forget. */
  private readonly ended = new Map<string, Lwm2mDevice>();
  /** No live registration lapses before this instant (a lower bound: a sweep before it finds nothing). */
  private nextLapseAt = Infinity;
  private nextId = 1;
  registrations = 0;
  deregistrations = 0;
  /** Registers refused for want of a place. */
  refused = 0;
  /** Ended endpoints forgotten to make room for new ones. */
  forgotten = 0;

  constructor(
    private readonly newDevice: (ep: string, peer: Peer, now: number) => Lwm2mDevice,
    readonly maxEndpoints = DEFAULT_MAX_REGISTRATIONS,
  ) {
    if (!Number.isInteger(maxEndpoints) || maxEndpoints < 1) throw new RangeError(`maxRegistrations: expected an integer ≥ 1, got ${maxEndpoints}`);
  }

  /** A new registration id for the endpoint (an older one of the same endpoint stops working), or no place for a new endpoint. */
  register(p: RegisterParams, peer: Peer, now: number): RegisterOutcome {
    let device = this.byEp.get(p.ep);
    const renewed = device !== undefined;
    if (!device) {
      const full = this.makeRoom(now);
      if (full !== undefined) {
        this.refused++;
        return { kind: 'full', retryAfterSec: full };
      }
      device = this.newDevice(p.ep, peer, now);
      this.byEp.set(p.ep, device);
    }
    this.ended.delete(p.ep);
    if (device.regId !== undefined) this.byRegId.delete(device.regId);
    device.regId = (this.nextId++).toString(36);
    this.byRegId.set(device.regId, device);
    device.binding = p.binding;
    device.lifetimeSec = p.lifetimeSec;
    device.version = p.version;
    device.peer = peer;
    device.registeredAt = now;
    device.refreshedAt = now;
    device.lastHeard = now;
    device.silent = false;
    device.registrations++;
    this.registrations++;
    this.nextLapseAt = Math.min(this.nextLapseAt, lapsesAt(device));
    return { kind: 'registered', device, renewed };
  }

  /**
   * Frees a place for a new endpoint when all are taken: forgets the endpoint whose registration
   * ended first (sweeping lapsed ones first when one may have lapsed). Undefined: there is room;
   * a number: none, retry after that many seconds.
   */
  private makeRoom(now: number): number | undefined {
    if (this.byEp.size < this.maxEndpoints) return undefined;
    if (this.ended.size === 0 && now >= this.nextLapseAt) this.count(now);
    const [ep] = this.ended.keys();
    if (ep !== undefined) {
      this.ended.delete(ep);
      this.byEp.delete(ep);
      this.forgotten++;
      return undefined;
    }
    const wait = Math.ceil((this.nextLapseAt - now) / 1000);
    return Math.min(MAX_RETRY_AFTER_SEC, Math.max(1, Number.isFinite(wait) ? wait : MAX_RETRY_AFTER_SEC));
  }

  /** The device of a live registration id; an expired one is dropped on the way. */
  live(regId: string, now: number): Lwm2mDevice | undefined {
    const device = this.byRegId.get(regId);
    if (!device) return undefined;
    if (!isRegistered(device, now)) {
      this.expire(device);
      return undefined;
    }
    return device;
  }

  update(device: Lwm2mDevice, p: Partial<RegisterParams>, peer: Peer, now: number): void {
    if (p.lifetimeSec !== undefined) device.lifetimeSec = p.lifetimeSec;
    if (p.binding !== undefined) device.binding = p.binding;
    // NAT rebinding: the device's address after a long sleep is where it speaks from now.
    device.peer = peer;
    device.refreshedAt = now;
    device.lastHeard = now;
    device.silent = false;
    device.updates++;
    this.nextLapseAt = Math.min(this.nextLapseAt, lapsesAt(device));
  }

  deregister(device: Lwm2mDevice): void {
    this.end(device);
    this.deregistrations++;
  }

  private expire(device: Lwm2mDevice): void {
    this.end(device);
    device.expiries++;
  }

  private end(device: Lwm2mDevice): void {
    if (device.regId !== undefined) this.byRegId.delete(device.regId);
    device.regId = undefined;
    this.ended.delete(device.ep);
    this.ended.set(device.ep, device);
  }

  /** Live registrations now (expiring the lapsed ones). */
  count(now: number): number {
    let next = Infinity;
    for (const d of this.byRegId.values()) {
      if (!isRegistered(d, now)) this.expire(d);
      else next = Math.min(next, lapsesAt(d));
    }
    this.nextLapseAt = next;
    return this.byRegId.size;
  }
}

/** A registration is live until its lifetime runs out after the device last registered or updated. */
export const isRegistered = (d: Lwm2mDevice, now: number): boolean => d.regId !== undefined && now <= d.refreshedAt + d.lifetimeSec * 1000;

/** Whether a CON may go to the device now: binding U while registered, UQ only while awake. */
export const isReachable = (d: Lwm2mDevice, now: number, awakeMs = QUEUE_MODE_AWAKE_MS): boolean => isRegistered(d, now) && (d.binding === 'U' || now - d.lastHeard <= awakeMs);
