/**
 * The LwM2M device's requests as CoAP transport messages, and the transport's results as the
 * device's answers: the registration interface (RFC 6690 link format, `rd?ep=&lt=&lwm2m=&b=`),
 * the server's Read / Write / Execute / Observe read into calls on object paths, block answers
 * reduced to what the block arithmetic needs. Pure.
 */
import { COAP_CODE, COAP_OPTION, CONTENT_FORMAT, decodeBlock, type BlockValue } from '../../protocol/coap.js';
import { REGISTRATION } from '../../protocol/lwm2m.js';
import type { CoapOptionValue, CoapTransportMessage, CoapTransportResult } from '../coap.js';
import type { Lwm2mAnswer, Lwm2mRequest, ServerCall } from '../../device/lwm2m/types.js';

export const LWM2M_VERSION = '1.1';

const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const values = (options: readonly CoapOptionValue[], n: number): Uint8Array[] => options.filter((o) => o.number === n).map((o) => o.value);
const uint = (v: Uint8Array | undefined): number | undefined => {
  if (v === undefined || v.length > 4) return undefined;
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
};

export function encodeLwm2m(r: Lwm2mRequest): CoapTransportMessage {
  switch (r.op) {
    case 'register':
      return {
        kind: 'request',
        code: COAP_CODE.POST,
        path: `/${REGISTRATION.PATH}`,
        query: [`${REGISTRATION.ENDPOINT}=${r.endpoint}`, `${REGISTRATION.LIFETIME}=${r.lifetimeSec}`, `${REGISTRATION.VERSION}=${LWM2M_VERSION}`, `${REGISTRATION.BINDING}=${r.binding}`],
        payload: text(r.objects),
        contentFormat: CONTENT_FORMAT.LINK_FORMAT,
        ...(r.rebind ? { rebind: true } : {}),
      };
    case 'update':
      return { kind: 'request', code: COAP_CODE.POST, path: r.location, ...(r.rebind ? { rebind: true } : {}) };
    case 'deregister':
      return { kind: 'request', code: COAP_CODE.DELETE, path: r.location };
    case 'listen':
      return { kind: 'listen', until: r.until };
    case 'reply':
      return {
        kind: 'reply',
        to: r.to,
        code: r.code,
        ...(r.body === undefined ? {} : { payload: text(r.body) }),
        ...(r.contentFormat === undefined ? {} : { contentFormat: r.contentFormat }),
        ...(r.observe === undefined ? {} : { observe: r.observe }),
        ...(r.drop ? { drop: true } : {}),
      };
    case 'notify':
      return { kind: 'notify', token: r.token, code: COAP_CODE.CONTENT, observe: r.observe, payload: text(r.body), contentFormat: r.contentFormat, confirmable: r.confirmable === true };
    case 'block':
      return { kind: 'request', code: COAP_CODE.GET, path: r.source.path, block2: r.block, peer: { host: r.source.host, port: r.source.port } };
    case 'sleep':
      return r.release === true ? { kind: 'sleep', release: true } : { kind: 'sleep' };
    case 'chunk':
      return { kind: 'http-range', url: r.url, start: r.start, end: r.end };
  }
}

/** The first resource value of an LwM2M TLV (11542) payload, as text: enough for a Package URI write. */
export function tlvFirstValue(b: Uint8Array): string | undefined {
  if (b.length < 2) return undefined;
  const type = b[0]!;
  let i = 1 + ((type & 0x20) !== 0 ? 2 : 1);
  const lengthType = (type >> 3) & 3;
  let length: number;
  if (lengthType === 0) length = type & 7;
  else {
    length = 0;
    for (let k = 0; k < lengthType; k++) length = length * 256 + (b[i++] ?? 0);
  }
  if (i + length > b.length) return undefined;
  return Buffer.from(b.subarray(i, i + length)).toString('utf8');
}

const numericPath = (path: string): number[] | undefined => {
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0 || parts.length > 3 || !parts.every((p) => /^\d{1,5}$/.test(p))) return undefined;
  return parts.map(Number);
};

/** A server's request as a call on an object path. */
export function serverCall(code: string, path: string, options: readonly CoapOptionValue[], payload: Uint8Array, token: string): ServerCall {
  const p = numericPath(path);
  if (p === undefined) return { op: 'unsupported', code: COAP_CODE.NOT_FOUND, path };
  if (code === COAP_CODE.GET) {
    const o = uint(values(options, COAP_OPTION.OBSERVE)[0]);
    const observe = o === 0 ? 'register' : o === 1 ? 'deregister' : undefined;
    return { op: 'read', path: p, token, ...(observe === undefined ? {} : { observe }) };
  }
  if (code === COAP_CODE.PUT || (code === COAP_CODE.POST && p.length < 3)) {
    if (p.length < 3) return { op: 'unsupported', code: COAP_CODE.METHOD_NOT_ALLOWED, path };
    const format = uint(values(options, COAP_OPTION.CONTENT_FORMAT)[0]);
    const value = format === CONTENT_FORMAT.LWM2M_TLV ? tlvFirstValue(payload) : Buffer.from(payload).toString('utf8');
    if (value === undefined) return { op: 'unsupported', code: COAP_CODE.BAD_REQUEST, path };
    return { op: 'write', path: p, value };
  }
  if (code === COAP_CODE.POST) return { op: 'execute', path: p };
  return { op: 'unsupported', code: COAP_CODE.METHOD_NOT_ALLOWED, path };
}

function blockOf(options: readonly CoapOptionValue[]): BlockValue | undefined | 'invalid' {
  const raw = values(options, COAP_OPTION.BLOCK2)[0];
  if (raw === undefined) return undefined;
  try {
    return decodeBlock(raw);
  } catch {
    return 'invalid';
  }
}

export function decodeLwm2m(r: Lwm2mRequest, result: CoapTransportResult): Lwm2mAnswer {
  const seen = result.seen !== undefined && result.seen.length > 0 ? { seen: result.seen } : {};
  switch (result.kind) {
    case 'error':
      return { type: 'net', code: result.code, ...seen };
    case 'quiet':
      return { type: 'quiet', ...seen };
    case 'done':
      return { type: 'done', ...seen };
    case 'http':
      return { type: 'chunk', status: result.status, total: result.total, held: result.held, ...(result.md5 === undefined ? {} : { md5: result.md5 }), ...seen };
    case 'server-request':
      return { type: 'server', ref: result.ref, call: serverCall(result.code, result.path, result.options, result.payload, result.ref.token), ...seen };
    case 'response': {
      if (r.op === 'block') {
        const block = blockOf(result.options);
        if (block === 'invalid') return { type: 'net', code: 'BAD_RESPONSE', ...seen };
        const etag = values(result.options, COAP_OPTION.ETAG)[0];
        const size = uint(values(result.options, COAP_OPTION.SIZE2)[0]);
        return {
          type: 'block',
          code: result.code,
          ...(block === undefined ? {} : { block }),
          ...(etag === undefined ? {} : { etag: Buffer.from(etag).toString('hex') }),
          ...(size === undefined ? {} : { size }),
          payloadBytes: result.payload.length,
          held: result.held ?? 0,
          ...(result.md5 === undefined ? {} : { md5: result.md5 }),
          ...seen,
        };
      }
      if (result.code === COAP_CODE.CREATED && r.op === 'register') {
        const location = values(result.options, COAP_OPTION.LOCATION_PATH).map((v) => Buffer.from(v).toString('utf8')).join('/');
        if (location === '') return { type: 'refused', code: 'no-location', ...seen };
        return { type: 'created', location: '/' + location.replace(/^\/+/, ''), ...seen };
      }
      if (result.code.startsWith('2.')) return { type: 'ok', code: result.code, ...seen };
      const maxAge = result.code === COAP_CODE.SERVICE_UNAVAILABLE ? uint(values(result.options, COAP_OPTION.MAX_AGE)[0]) : undefined;
      return { type: 'refused', code: result.code, ...(maxAge === undefined ? {} : { retryAfterMs: maxAge * 1000 }), ...seen };
    }
  }
}

export const lwm2mOperationOf = (r: Lwm2mRequest): string => r.op;

export function lwm2mOutcomeOf(a: Lwm2mAnswer): string {
  switch (a.type) {
    case 'created':
      return 'coap:2.01';
    case 'ok':
    case 'refused':
      return `coap:${a.code}`;
    case 'block':
      return `coap:${a.code}`;
    case 'chunk':
      return `http:${a.status}`;
    case 'server':
      return `server:${a.call.op}`;
    case 'net':
      return `net:${a.code}`;
    default:
      return a.type;
  }
}

/** Transport failures, refused registration requests and server errors count as errors of their operation. */
export const lwm2mIsError = (a: Lwm2mAnswer): boolean =>
  a.type === 'net' || (a.type === 'refused' && !a.code.startsWith('4.04')) || (a.type === 'block' && !a.code.startsWith('2.')) || (a.type === 'chunk' && (a.status < 200 || a.status > 299));
