/**
 * A CoAP message as the layer works with it, and its wire form through `coap-packet` (a kept,
 * typed codec: the `coap` package's block-wise client stalls under loss, its codec does not).
 * Options are kept by number; a datagram that does not parse is an error value, never a throw,
 * so a hostile peer cannot crash a run.
 */
import { generate, parse } from 'coap-packet';
import { COAP_OPTION, type CoapMessageType } from '../protocol/coap.js';

export interface CoapOption {
  readonly number: number;
  readonly value: Buffer;
}

export interface CoapMessage {
  readonly type: CoapMessageType;
  /** `class.detail`, e.g. "0.01" (GET) or "2.05" (Content); "0.00" for an empty message. */
  readonly code: string;
  readonly messageId: number;
  readonly token: Buffer;
  readonly options: readonly CoapOption[];
  readonly payload: Buffer;
}

/** coap-packet names the options it knows when it parses; the rest come back as their number. */
const NUMBER_OF_NAME: Readonly<Record<string, number>> = {
  'If-Match': 1,
  'Uri-Host': 3,
  ETag: 4,
  'If-None-Match': 5,
  Observe: 6,
  'Uri-Port': 7,
  'Location-Path': 8,
  OSCORE: 9,
  'Uri-Path': 11,
  'Content-Format': 12,
  'Max-Age': 14,
  'Uri-Query': 15,
  'Hop-Limit': 16,
  Accept: 17,
  'Q-Block1': 19,
  'Location-Query': 20,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  'Q-Block2': 31,
  'Proxy-Uri': 35,
  'Proxy-Scheme': 39,
  Size1: 60,
  'No-Response': 258,
  'OCF-Accept-Content-Format-Version': 2049,
  'OCF-Content-Format-Version': 2053,
};

const EMPTY = Buffer.alloc(0);

export function encodeMessage(m: CoapMessage): Buffer {
  return generate(
    {
      code: m.code,
      messageId: m.messageId,
      token: m.token,
      payload: m.payload,
      confirmable: m.type === 'CON',
      ack: m.type === 'ACK',
      reset: m.type === 'RST',
      // coap-packet sorts the array it is given: hand it a copy.
      options: m.options.map((o) => ({ name: String(o.number), value: o.value })),
    },
    // A 1024-byte block and its options fit; RFC 7252 §4.6's 1152 is the usual bound.
    1400,
  );
}

export type Decoded = { readonly ok: true; readonly message: CoapMessage } | { readonly ok: false; readonly error: string };

export function decodeMessage(bytes: Buffer): Decoded {
  if (bytes.length < 4) return { ok: false, error: `datagram of ${bytes.length} bytes: a CoAP header is 4` };
  if (bytes[0]! >> 6 !== 1) return { ok: false, error: `CoAP version ${bytes[0]! >> 6}: only 1 is defined` };
  if ((bytes[0]! & 0x0f) > 8) return { ok: false, error: `token length ${bytes[0]! & 0x0f}: at most 8` };
  try {
    const p = parse(bytes);
    const type: CoapMessageType = p.confirmable ? 'CON' : p.ack ? 'ACK' : p.reset ? 'RST' : 'NON';
    const options = p.options.map((o) => ({ number: typeof o.name === 'number' ? o.name : (NUMBER_OF_NAME[o.name] ?? Number.parseInt(o.name, 10)), value: o.value }));
    return { ok: true, message: { type, code: p.code, messageId: p.messageId, token: p.token ?? EMPTY, options, payload: p.payload ?? EMPTY } };
  } catch (e) {
    return { ok: false, error: `malformed CoAP message: ${(e as Error).message}` };
  }
}

export const optionValues = (m: CoapMessage, number: number): Buffer[] => m.options.filter((o) => o.number === number).map((o) => o.value);
export const firstOption = (m: CoapMessage, number: number): Buffer | undefined => m.options.find((o) => o.number === number)?.value;

/** An unsigned option value (RFC 7252 §3.2 uint: shortest big-endian, zero is no bytes). */
export function uintOption(value: number): Buffer {
  if (value === 0) return EMPTY;
  const bytes = value < 0x100 ? 1 : value < 0x10000 ? 2 : value < 0x1000000 ? 3 : 4;
  const out = Buffer.alloc(bytes);
  out.writeUIntBE(value, 0, bytes);
  return out;
}

export function readUint(value: Buffer | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value.length > 4) return undefined;
  let n = 0;
  for (const b of value) n = n * 256 + b;
  return n;
}

/** Uri-Path options of a "/a/b" path (empty segments dropped). */
export const pathOptions = (path: string): CoapOption[] =>
  path
    .split('?')[0]!
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => ({ number: COAP_OPTION.URI_PATH, value: Buffer.from(decodeURIComponent(s)) }));

/** Uri-Query options of "a=1&b=2". */
export const queryOptions = (query: string): CoapOption[] =>
  query
    .split('&')
    .filter((s) => s.length > 0)
    .map((s) => ({ number: COAP_OPTION.URI_QUERY, value: Buffer.from(s) }));

/** The request path of a message, "/a/b". */
export const pathOf = (m: CoapMessage): string => '/' + optionValues(m, COAP_OPTION.URI_PATH).map((v) => v.toString()).join('/');

export const isRequestCode = (code: string): boolean => code.startsWith('0.') && code !== '0.00';
export const isEmpty = (m: CoapMessage): boolean => m.code === '0.00';

export const emptyAck = (messageId: number): CoapMessage => ({ type: 'ACK', code: '0.00', messageId, token: EMPTY, options: [], payload: EMPTY });
export const reset = (messageId: number): CoapMessage => ({ type: 'RST', code: '0.00', messageId, token: EMPTY, options: [], payload: EMPTY });
