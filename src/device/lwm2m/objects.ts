/**
 * Objects 0, 1, 3 and 5 as the device answers them: Read, Write, Execute and Observe of a path,
 * and what a write or an execute does to Object 5. Pure: (device, call) → answer and new firmware.
 *
 * Object 5 (LwM2M 1.1 §E.6): writing a Package URI in Idle starts a pull download (State 1);
 * an empty URI cancels and resets to Idle; Update (5/0/2) executes only in Downloaded (State 2),
 * anything else is 4.05; the Update Result stays until the next download starts.
 */
import { COAP_CODE, CONTENT_FORMAT } from '../../protocol/coap.js';
import { DEVICE_RESOURCE, FIRMWARE_RESOURCE, FIRMWARE_STATE, OBJECT, PROTOCOL_SUPPORT, DELIVERY_METHOD, UPDATE_RESULT, type UpdateResult } from '../../protocol/lwm2m.js';
import type { DeviceProfile } from '../types.js';
import type { Firmware, Lwm2mCore, Lwm2mDeviceSettings, PackageSource, ServerCall } from './types.js';

export interface Reply {
  readonly code: string;
  readonly body?: string;
  readonly contentFormat?: number;
}

/** Resource values of an instance, as text. */
function resources(object: number, c: Lwm2mCore, p: DeviceProfile, s: Lwm2mDeviceSettings): Map<number, string> | undefined {
  switch (object) {
    case OBJECT.SERVER:
      return new Map([
        [0, '1'],
        [1, String(s.lifetimeSec)],
        [7, s.binding],
      ]);
    case OBJECT.DEVICE:
      return new Map([
        [DEVICE_RESOURCE.MANUFACTURER, p.manuf],
        [DEVICE_RESOURCE.MODEL, p.model],
        [DEVICE_RESOURCE.SERIAL, p.id],
        [DEVICE_RESOURCE.FIRMWARE_VERSION, c.version],
        [DEVICE_RESOURCE.BATTERY_LEVEL, String(p.battery)],
      ]);
    case OBJECT.FIRMWARE:
      return new Map([
        [FIRMWARE_RESOURCE.PACKAGE_URI, c.fw.uri],
        [FIRMWARE_RESOURCE.STATE, String(c.fw.state)],
        [FIRMWARE_RESOURCE.UPDATE_RESULT, String(c.fw.result)],
        [FIRMWARE_RESOURCE.PKG_NAME, ''],
        [FIRMWARE_RESOURCE.PKG_VERSION, c.fw.pending ?? ''],
        [FIRMWARE_RESOURCE.PROTOCOL_SUPPORT, String(PROTOCOL_SUPPORT.COAP)],
        [FIRMWARE_RESOURCE.DELIVERY_METHOD, String(DELIVERY_METHOD.PULL)],
      ]);
    default:
      return undefined;
  }
}

/** The OMA LwM2M JSON (11543) of an instance's resources. */
function instanceJson(path: readonly number[], values: Map<number, string>): string {
  const e = [...values].map(([id, v]) => (/^-?\d+$/.test(v) ? { n: String(id), v: Number(v) } : { n: String(id), sv: v }));
  return JSON.stringify({ bn: `/${path.join('/')}/`, e });
}

export function read(path: readonly number[], c: Lwm2mCore, p: DeviceProfile, s: Lwm2mDeviceSettings): Reply {
  const [object, instance, resource] = path;
  // The Security object is for the bootstrap server alone (§E.1).
  if (object === OBJECT.SECURITY) return { code: COAP_CODE.UNAUTHORIZED };
  const values = object === undefined ? undefined : resources(object, c, p, s);
  if (values === undefined || (instance !== undefined && instance !== 0)) return { code: COAP_CODE.NOT_FOUND };
  if (resource === undefined) return { code: COAP_CODE.CONTENT, body: instanceJson([object!, 0], values), contentFormat: CONTENT_FORMAT.LWM2M_JSON };
  const v = values.get(resource);
  return v === undefined ? { code: COAP_CODE.NOT_FOUND } : { code: COAP_CODE.CONTENT, body: v, contentFormat: CONTENT_FORMAT.TEXT };
}

/** A coap:// Package URI as a source, or the Update Result that refuses it (7 invalid, 9 unsupported protocol). */
export function packageSource(uri: string): PackageSource | UpdateResult {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return UPDATE_RESULT.INVALID_URI;
  }
  // No DTLS or TLS in the simulated module: coaps and https are protocols it does not support.
  if (u.protocol !== 'coap:' && u.protocol !== 'http:') return UPDATE_RESULT.UNSUPPORTED_PROTOCOL;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === '' || u.pathname === '' || u.pathname === '/') return UPDATE_RESULT.INVALID_URI;
  if (u.protocol === 'http:') return { host, port: u.port === '' ? 80 : Number(u.port), path: decodeURI(u.pathname), http: u.href };
  return { host, port: u.port === '' ? 5683 : Number(u.port), path: decodeURI(u.pathname) };
}

/** The version a package installs: the profile's, else the URI's last path segment without extension. */
export function packageVersion(uri: string, s: Lwm2mDeviceSettings): string {
  if (s.firmwareVersion !== undefined) return s.firmwareVersion;
  const last = uri.split('?')[0]!.split('/').pop() ?? '';
  return last.replace(/\.(bin|img|fw|pkg)$/i, '') || uri;
}

export type WriteOutcome = { readonly reply: Reply; readonly fw: Firmware; readonly source?: PackageSource };

export function write(path: readonly number[], value: string, c: Lwm2mCore, s: Lwm2mDeviceSettings): WriteOutcome {
  const [object, instance, resource] = path;
  const same = { fw: c.fw };
  if (object === OBJECT.FIRMWARE && instance === 0 && resource === FIRMWARE_RESOURCE.PACKAGE_URI) {
    if (value === '') return { reply: { code: COAP_CODE.CHANGED }, fw: { state: FIRMWARE_STATE.IDLE, result: UPDATE_RESULT.INITIAL, uri: '', pending: undefined } };
    if (c.fw.state !== FIRMWARE_STATE.IDLE) return { reply: { code: COAP_CODE.BAD_REQUEST }, ...same };
    const source = packageSource(value);
    if (typeof source === 'number') return { reply: { code: COAP_CODE.CHANGED }, fw: { state: FIRMWARE_STATE.IDLE, result: source, uri: value, pending: undefined } };
    return { reply: { code: COAP_CODE.CHANGED }, fw: { state: FIRMWARE_STATE.DOWNLOADING, result: UPDATE_RESULT.INITIAL, uri: value, pending: packageVersion(value, s) }, source };
  }
  if (object === OBJECT.SERVER && instance === 0 && resource === 1 && /^\d+$/.test(value)) return { reply: { code: COAP_CODE.CHANGED }, ...same };
  if (object === OBJECT.SECURITY) return { reply: { code: COAP_CODE.UNAUTHORIZED }, ...same };
  return { reply: { code: COAP_CODE.METHOD_NOT_ALLOWED }, ...same };
}

export type ExecuteOutcome = { readonly reply: Reply; readonly fw: Firmware; readonly reboot: boolean };

export function execute(path: readonly number[], c: Lwm2mCore): ExecuteOutcome {
  const [object, instance, resource] = path;
  if (object === OBJECT.FIRMWARE && instance === 0 && resource === FIRMWARE_RESOURCE.UPDATE) {
    // Update only from Downloaded (State 2): an early Update is refused and leaves the state as it is.
    if (c.fw.state !== FIRMWARE_STATE.DOWNLOADED) return { reply: { code: COAP_CODE.METHOD_NOT_ALLOWED }, fw: c.fw, reboot: false };
    return { reply: { code: COAP_CODE.CHANGED }, fw: { ...c.fw, state: FIRMWARE_STATE.UPDATING }, reboot: true };
  }
  if (object === OBJECT.DEVICE && instance === 0 && resource === 4) return { reply: { code: COAP_CODE.CHANGED }, fw: c.fw, reboot: false };
  return { reply: { code: COAP_CODE.METHOD_NOT_ALLOWED }, fw: c.fw, reboot: false };
}

/** Paths an observer of `path` hears about when `changed` (a resource) changes. */
export const observes = (observed: string, changed: string): boolean => changed === observed || changed.startsWith(observed + '/');

export type { ServerCall };
