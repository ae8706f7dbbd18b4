/**
 * Reading and writing CoAP messages with `coap-packet` (the wire codec): the few option look-ups
 * and answer shapes the server needs. Pure.
 */
import { generate, parse, type NamedOption, type Option, type ParsedPacket } from 'coap-packet';
import { COAP_CODE, decodeBlock, type BlockValue } from '../../protocol/coap.js';

export type { ParsedPacket } from 'coap-packet';

/** A datagram's sender or receiver. */
export interface Peer {
  readonly address: string;
  readonly port: number;
}

export const peerKey = (p: Peer): string => `${p.address}:${p.port}`;

/** The parsed message, or undefined for bytes that are no CoAP message. */
export function tryParse(bytes: Buffer): ParsedPacket | undefined {
  try {
    return parse(bytes);
  } catch {
    return undefined;
  }
}

export const isRequestCode = (code: string): boolean => code.startsWith('0.') && code !== COAP_CODE.EMPTY;
export const isEmpty = (p: ParsedPacket): boolean => p.code === COAP_CODE.EMPTY;

const optionValues = (p: ParsedPacket, name: string): Buffer[] => p.options.filter((o) => o.name === name).map((o) => o.value);

export const uriPath = (p: ParsedPacket): string[] => optionValues(p, 'Uri-Path').map((v) => v.toString('utf8'));

/** Uri-Query options as name → value (the last wins). */
export function uriQuery(p: ParsedPacket): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of optionValues(p, 'Uri-Query')) {
    const text = v.toString('utf8');
    const eq = text.indexOf('=');
    out.set(eq < 0 ? text : text.slice(0, eq), eq < 0 ? '' : text.slice(eq + 1));
  }
  return out;
}

export function block2Of(p: ParsedPacket): BlockValue | undefined {
  const v = optionValues(p, 'Block2')[0];
  return v === undefined ? undefined : decodeBlock(v);
}

export function uintOption(p: ParsedPacket, name: string): number | undefined {
  const v = optionValues(p, name)[0];
  if (v === undefined) return undefined;
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

export const hasOption = (p: ParsedPacket, name: string): boolean => p.options.some((o) => o.name === name);

/** Shortest big-endian bytes of an unsigned integer (0 → no bytes), as CoAP uint options are. */
export function uintBytes(n: number): Buffer {
  if (n === 0) return Buffer.alloc(0);
  const bytes = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
  const out = Buffer.alloc(bytes);
  out.writeUIntBE(n, 0, bytes);
  return out;
}

export interface ResponseParts {
  code: string;
  options?: (Option | NamedOption)[];
  payload?: Buffer;
}

/** The ACK that carries a piggybacked response to a CON request (or a NON response to a NON). */
export function piggybacked(request: ParsedPacket, r: ResponseParts, messageId: () => number): Buffer {
  return generate({
    code: r.code,
    messageId: request.confirmable ? request.messageId : messageId(),
    token: request.token,
    ack: request.confirmable,
    confirmable: false,
    options: r.options ?? [],
    payload: r.payload ?? Buffer.alloc(0),
  });
}

export const emptyAck = (messageId: number): Buffer => generate({ code: COAP_CODE.EMPTY, messageId, ack: true, token: Buffer.alloc(0) });
export const reset = (messageId: number): Buffer => generate({ code: COAP_CODE.EMPTY, messageId, reset: true, token: Buffer.alloc(0) });

export { generate };
