/**
 * OneNET Authorization tokens (spec §1.1). Pure functions shared by the server (verify) and the
 * devices (sign); the access key is passed in and never logged.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ONENET_TOKEN_VERSION } from './onenet.js';

export type SignMethod = 'md5' | 'sha1' | 'sha256';
export const SIGN_METHODS: readonly SignMethod[] = ['md5', 'sha1', 'sha256'];

export interface TokenFields {
  /** Unencoded resource: `products/{pid}` or `products/{pid}/devices/{name}`. */
  res: string;
  /** Expiry, unix seconds. */
  et: number;
  method: SignMethod;
  version?: string;
}

export function signature(accessKeyBase64: string, f: TokenFields): string {
  const version = f.version ?? ONENET_TOKEN_VERSION;
  const msg = `${f.et}\n${f.method}\n${f.res}\n${version}`;
  return createHmac(f.method, Buffer.from(accessKeyBase64, 'base64')).update(msg).digest('base64');
}

/** The header value: `res` and `sign` URL-encoded, the rest as is. */
export function buildAuthorization(accessKeyBase64: string, f: TokenFields): string {
  const version = f.version ?? ONENET_TOKEN_VERSION;
  const sign = signature(accessKeyBase64, { ...f, version });
  return `version=${version}&res=${encodeURIComponent(f.res)}&et=${f.et}&method=${f.method}&sign=${encodeURIComponent(sign)}`;
}

export interface ParsedAuthorization {
  version: string;
  res: string;
  et: number;
  method: SignMethod;
  sign: string;
}

/** Parses a header value; undefined when a field is missing or malformed. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  if (!header || header.length > 1024) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch {
      return undefined;
    }
    fields.set(part.slice(0, eq).trim(), value);
  }
  const version = fields.get('version');
  const res = fields.get('res');
  const etText = fields.get('et');
  const method = fields.get('method');
  const sign = fields.get('sign');
  if (!version || !res || !etText || !method || !sign) return undefined;
  if (!/^\d{1,12}$/.test(etText)) return undefined;
  if (!(SIGN_METHODS as readonly string[]).includes(method)) return undefined;
  return { version, res, et: Number(etText), method: method as SignMethod, sign };
}

export type TokenCheck = { ok: true; token: ParsedAuthorization } | { ok: false; reason: 'malformed' | 'expired' | 'bad-signature' };

/** Verifies a header against a key at `nowMs` (the server's clock, virtual time). */
export function verifyAuthorization(header: string | undefined, accessKeyBase64: string, nowMs: number): TokenCheck {
  const token = parseAuthorization(header);
  if (!token) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(signature(accessKeyBase64, token));
  const given = Buffer.from(token.sign);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad-signature' };
  if (token.et * 1000 < nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, token };
}

/** The resource a product-level token names. */
export const productResource = (productId: string): string => `products/${productId}`;
export const deviceResource = (productId: string, deviceName: string): string =>
  `products/${productId}/devices/${deviceName}`;
