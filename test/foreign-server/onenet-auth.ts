/**
 * The OneNET product token (spec §1.1):
 * `version=2018-10-31&res=products%2F{pid}&et={unix-expiry}&method={md5|sha1|sha256}&sign={sig}`,
 * sig = base64(HMAC_method(base64decode(accessKey), et + "\n" + method + "\n" + res + "\n" + version)),
 * `res` unencoded in the signed text, URL-encoded in the header. A token whose `et` is past is refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignMethod = 'md5' | 'sha1' | 'sha256';
const METHODS: ReadonlySet<string> = new Set(['md5', 'sha1', 'sha256']);

export function sign(accessKey: string, method: SignMethod, et: number, res: string, version: string): string {
  return createHmac(method, Buffer.from(accessKey, 'base64')).update(`${et}\n${method}\n${res}\n${version}`).digest('base64');
}

/** A header a device would send; for the server's own unit tests. */
export function authorization(accessKey: string, pid: string, et: number, method: SignMethod = 'sha1', version = '2018-10-31'): string {
  const res = `products/${pid}`;
  const s = sign(accessKey, method, et, res, version);
  return `version=${version}&res=${encodeURIComponent(res)}&et=${et}&method=${method}&sign=${encodeURIComponent(s)}`;
}

export type AuthResult = { ok: true } | { ok: false; why: string };

/** Checks an Authorization header against the product's key at wall-clock `nowMs`. */
export function verify(header: string | undefined, pid: string, accessKey: string, nowMs: number): AuthResult {
  if (header === undefined || header.length === 0) return { ok: false, why: 'no Authorization' };
  if (header.length > 1024) return { ok: false, why: 'Authorization too long' };
  const fields = new Map<string, string>();
  for (const part of header.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, why: `malformed part ${JSON.stringify(part)}` };
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch {
      return { ok: false, why: 'bad URL encoding' };
    }
    fields.set(part.slice(0, eq).trim(), value);
  }
  const version = fields.get('version');
  const res = fields.get('res');
  const etText = fields.get('et');
  const method = fields.get('method');
  const sig = fields.get('sign');
  if (version === undefined || res === undefined || etText === undefined || method === undefined || sig === undefined) {
    return { ok: false, why: 'a field of version, res, et, method, sign is missing' };
  }
  if (!METHODS.has(method)) return { ok: false, why: `method ${method}` };
  if (res !== `products/${pid}`) return { ok: false, why: `res ${res} is not products/${pid}` };
  if (!/^\d{1,12}$/.test(etText)) return { ok: false, why: `et ${etText}` };
  const et = Number(etText);
  if (et * 1000 < nowMs) return { ok: false, why: 'expired (et is past)' };
  const want = Buffer.from(sign(accessKey, method as SignMethod, et, res, version), 'base64');
  const got = Buffer.from(sig, 'base64');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, why: 'signature mismatch' };
  return { ok: true };
}
