/**
 * The admin API's credentials. RFC 7235 §2.1: the auth scheme is case-insensitive ("bearer",
 * "BEARER" are "Bearer") and is separated from its token68 by one or more spaces; RFC 6750 §2.1
 * names the scheme Bearer. The token itself is compared exactly, in constant time.
 */
import { timingSafeEqual } from 'node:crypto';

/** The token of an `Authorization: Bearer <token>` header in any case of the scheme; else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(\S+)\s*$/.exec(header ?? '');
  if (!m || m[1]!.toLowerCase() !== 'bearer') return undefined;
  return m[2];
}

/** Whether the header carries exactly `expected` as its bearer token. */
export function isAdminAuthorized(header: string | undefined, expected: string): boolean {
  const token = bearerToken(header);
  if (token === undefined) return false;
  const given = Buffer.from(token);
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want);
}
