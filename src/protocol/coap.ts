/**
 * CoAP (RFC 7252) and block-wise transfer (RFC 7959): the numbers both sides use. The wire codec
 * is `coap-packet`; this module names what its numbers mean and derives the timers.
 */

export type CoapMessageType = 'CON' | 'NON' | 'ACK' | 'RST';

/** Codes as `class.detail` strings, as coap-packet writes them ("2.05"). */
export const COAP_CODE = {
  EMPTY: '0.00',
  GET: '0.01',
  POST: '0.02',
  PUT: '0.03',
  DELETE: '0.04',
  CREATED: '2.01',
  DELETED: '2.02',
  VALID: '2.03',
  CHANGED: '2.04',
  CONTENT: '2.05',
  CONTINUE: '2.31',
  BAD_REQUEST: '4.00',
  UNAUTHORIZED: '4.01',
  BAD_OPTION: '4.02',
  FORBIDDEN: '4.03',
  NOT_FOUND: '4.04',
  METHOD_NOT_ALLOWED: '4.05',
  NOT_ACCEPTABLE: '4.06',
  REQUEST_ENTITY_INCOMPLETE: '4.08',
  PRECONDITION_FAILED: '4.12',
  REQUEST_ENTITY_TOO_LARGE: '4.13',
  UNSUPPORTED_CONTENT_FORMAT: '4.15',
  INTERNAL_SERVER_ERROR: '5.00',
  SERVICE_UNAVAILABLE: '5.03',
} as const;
export type CoapCode = (typeof COAP_CODE)[keyof typeof COAP_CODE];

/** Option numbers (RFC 7252 §5.10, RFC 7641, RFC 7959). */
export const COAP_OPTION = {
  IF_MATCH: 1,
  URI_HOST: 3,
  ETAG: 4,
  OBSERVE: 6,
  URI_PORT: 7,
  LOCATION_PATH: 8,
  URI_PATH: 11,
  CONTENT_FORMAT: 12,
  MAX_AGE: 14,
  URI_QUERY: 15,
  ACCEPT: 17,
  LOCATION_QUERY: 20,
  BLOCK2: 23,
  BLOCK1: 27,
  SIZE2: 28,
  SIZE1: 60,
} as const;

/** Content-Format ids the LwM2M work meets. */
export const CONTENT_FORMAT = {
  TEXT: 0,
  LINK_FORMAT: 40,
  OCTET_STREAM: 42,
  JSON: 50,
  LWM2M_TLV: 11542,
  LWM2M_JSON: 11543,
} as const;

/** RFC 7252 §4.8 transmission parameters, milliseconds where they are times. */
export interface CoapTransmission {
  readonly ackTimeoutMs: number;
  readonly ackRandomFactor: number;
  readonly maxRetransmit: number;
  readonly nstart: number;
  readonly defaultLeisureMs: number;
  readonly probingRateBytesPerSec: number;
  /** MAX_LATENCY (100 s) and PROCESSING_DELAY (= ACK_TIMEOUT): assumed, not derived. */
  readonly maxLatencyMs: number;
}

export const RFC7252: CoapTransmission = {
  ackTimeoutMs: 2_000,
  ackRandomFactor: 1.5,
  maxRetransmit: 4,
  nstart: 1,
  defaultLeisureMs: 5_000,
  probingRateBytesPerSec: 1,
  maxLatencyMs: 100_000,
};

/** The derived times of §4.8.2 for a set of parameters (RFC 7252's give 45 s, 93 s, 202 s, 247 s, 145 s). */
export function derivedTimes(p: CoapTransmission = RFC7252): {
  maxTransmitSpanMs: number;
  maxTransmitWaitMs: number;
  maxRttMs: number;
  exchangeLifetimeMs: number;
  nonLifetimeMs: number;
} {
  const k = 2 ** p.maxRetransmit;
  const maxTransmitSpanMs = p.ackTimeoutMs * (k - 1) * p.ackRandomFactor;
  const maxTransmitWaitMs = p.ackTimeoutMs * (2 * k - 1) * p.ackRandomFactor;
  const processingDelayMs = p.ackTimeoutMs;
  const maxRttMs = 2 * p.maxLatencyMs + processingDelayMs;
  return {
    maxTransmitSpanMs,
    maxTransmitWaitMs,
    maxRttMs,
    exchangeLifetimeMs: maxTransmitSpanMs + 2 * p.maxLatencyMs + processingDelayMs,
    nonLifetimeMs: maxTransmitSpanMs + p.maxLatencyMs,
  };
}

/** A Block1 / Block2 option value (RFC 7959 §2.2): block number, more flag, size exponent. */
export interface BlockValue {
  readonly num: number;
  readonly more: boolean;
  /** SZX 0–6: size 2^(SZX+4), 16 to 1024 bytes (7 is reserved, BERT on TCP). */
  readonly szx: number;
}

export const blockSize = (szx: number): number => 2 ** (szx + 4);

/** The SZX of a block size (16, 32, ... 1024); throws on any other. */
export function szxOf(size: number): number {
  const szx = Math.log2(size) - 4;
  if (!Number.isInteger(szx) || szx < 0 || szx > 6) throw new RangeError(`block size ${size}: must be a power of two from 16 to 1024`);
  return szx;
}

/** Option bytes of a block value: the shortest unsigned integer of NUM << 4 | M << 3 | SZX. */
export function encodeBlock({ num, more, szx }: BlockValue): Buffer {
  if (!Number.isInteger(num) || num < 0 || num > 0xfffff) throw new RangeError(`block number ${num}: out of range 0..${0xfffff}`);
  const value = num * 16 + (more ? 8 : 0) + szx;
  if (value === 0) return Buffer.alloc(0);
  const bytes = value < 0x100 ? 1 : value < 0x10000 ? 2 : 3;
  const out = Buffer.alloc(bytes);
  out.writeUIntBE(value, 0, bytes);
  return out;
}

export function decodeBlock(bytes: Uint8Array): BlockValue {
  if (bytes.length > 3) throw new RangeError(`block option of ${bytes.length} bytes: at most 3`);
  let value = 0;
  for (const b of bytes) value = value * 256 + b;
  return { num: Math.floor(value / 16), more: (value & 8) !== 0, szx: value & 7 };
}

/** The byte range a block covers in a body. */
export function blockRange(num: number, szx: number): { start: number; end: number } {
  const size = blockSize(szx);
  return { start: num * size, end: (num + 1) * size };
}

/** What a sender's retransmission needs: ACK_TIMEOUT (ms), ACK_RANDOM_FACTOR, MAX_RETRANSMIT (device/types' RetransmitSettings). */
export interface RetransmitTiming {
  readonly ackTimeoutMs: number;
  readonly randomFactor: number;
  readonly maxRetransmit: number;
}

/**
 * The first timeout for a uniform draw `u` in [0, 1): ACK_TIMEOUT × (1 + (factor − 1) × u), each
 * retransmission doubling it (§4.2). Shared by the device's transmission layer and the CoAP layer.
 */
export function firstTimeoutMs({ ackTimeoutMs, randomFactor }: Pick<RetransmitTiming, 'ackTimeoutMs' | 'randomFactor'>, u: number): number {
  const base = Number.isFinite(ackTimeoutMs) && ackTimeoutMs > 0 ? ackTimeoutMs : 0;
  const factor = Number.isFinite(randomFactor) && randomFactor >= 1 ? randomFactor : 1;
  return base * (1 + (factor - 1) * u);
}

/** MAX_RETRANSMIT as a whole number ≥ 0 (a broken setting turns retransmitting off). */
export const retransmitBudget = (s: Pick<RetransmitTiming, 'maxRetransmit'>): number => Math.max(0, Math.floor(s.maxRetransmit) || 0);

/** EXCHANGE_LIFETIME for a device's own settings (RFC 7252's MAX_LATENCY kept): how long a message id is remembered. */
export const exchangeLifetimeMs = (s: RetransmitTiming): number =>
  derivedTimes({ ...RFC7252, ackTimeoutMs: s.ackTimeoutMs, ackRandomFactor: s.randomFactor, maxRetransmit: retransmitBudget(s) }).exchangeLifetimeMs;
