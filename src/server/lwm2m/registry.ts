/**
 * The registration interface's bookkeeping (LwM2M §6.2): Register makes or renews an endpoint's
 * registration under a new id, Update refreshes it, De-register ends it, and a registration not
 * refreshed (Register / Update) within its lifetime is gone. Reachability in queue mode: a UQ device is awake for
 * QUEUE_MODE_AWAKE_MS after it last spoke. Pure; time comes in as arguments.
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

export class Registry {
  readonly byEp = new Map<string, Lwm2mDevice>();
  private readonly byRegId = new Map<string, Lwm2mDevice>();
  private nextId = 1;
  registrations = 0;
  deregistrations = 0;

  constructor(private readonly newDevice: (ep: string, peer: Peer, now: number) => Lwm2mDevice) {}

  /** A new registration id for the endpoint (an older one of the same endpoint stops working). */
  register(p: RegisterParams, peer: Peer, now: number): { device: Lwm2mDevice; renewed: boolean } {
    let device = this.byEp.get(p.ep);
    const renewed = device !== undefined;
    if (!device) {
      device = this.newDevice(p.ep, peer, now);
      this.byEp.set(p.ep, device);
    }
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
    return { device, renewed };
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
  }

  deregister(device: Lwm2mDevice): void {
    if (device.regId !== undefined) this.byRegId.delete(device.regId);
    device.regId = undefined;
    this.deregistrations++;
  }

  private expire(device: Lwm2mDevice): void {
    if (device.regId !== undefined) this.byRegId.delete(device.regId);
    device.regId = undefined;
    device.expiries++;
  }

  /** Live registrations now (expiring the lapsed ones). */
  count(now: number): number {
    for (const d of this.byRegId.values()) if (!isRegistered(d, now)) this.expire(d);
    return this.byRegId.size;
  }
}

/** A registration is live until its lifetime runs out after the device last registered or updated. */
export const isRegistered = (d: Lwm2mDevice, now: number): boolean => d.regId !== undefined && now <= d.refreshedAt + d.lifetimeSec * 1000;

/** Whether a CON may go to the device now: binding U while registered, UQ only while awake. */
export const isReachable = (d: Lwm2mDevice, now: number, awakeMs = QUEUE_MODE_AWAKE_MS): boolean => isRegistered(d, now) && (d.binding === 'U' || now - d.lastHeard <= awakeMs);
