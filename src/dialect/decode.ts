/**
 * Small readers both wire codecs share: header lookup, defensive JSON, outcome labels. A hostile
 * server may send anything; nothing here throws.
 */

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Largest JSON body a codec will parse; a bigger one is unreadable. */
export const MAX_JSON_BYTES = 64 * 1024;

/** A header by name, whatever case the peer used. */
export function headerOf(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const exact = headers[name];
  if (exact !== undefined) return exact;
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name) return headers[k];
  return undefined;
}

/** The body as a JSON object, or undefined when it is not one. */
export function jsonObject(body: Uint8Array): Record<string, unknown> | undefined {
  if (body.length === 0 || body.length > MAX_JSON_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** An integer field, given as a number or as decimal digits; undefined otherwise. */
export function intField(o: Record<string, unknown>, key: string): number | undefined {
  const v = Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

/** A finite number field (numbers or numeric text); undefined otherwise. */
export function numberField(o: Record<string, unknown>, key: string): number | undefined {
  const v = Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '' && v.length <= 32) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function stringField(o: Record<string, unknown>, key: string): string | undefined {
  const v = Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export const isJsonType = (contentType: string | undefined): boolean => contentType !== undefined && /\bjson\b/i.test(contentType);

/** A numeric code as an outcome label part; codes a peer invents past 0…999 share one label. */
export const codeLabel = (n: number): string => (Number.isInteger(n) && n >= 0 && n <= 999 ? String(n) : 'other');

/** Transport failure codes are bounded by the network layer; anything odd shares one label. */
export const netLabel = (code: string): string => (/^[A-Z0-9_]{1,32}$/.test(code) ? code : 'OTHER');

/**
 * An answer in the protocol's syntax (JSON, the right status) whose content is not the spec's shape
 * (a check answered errno 0 without a readable `data`, a call without an integer `errno`, a Luat
 * error body without `{code}`): a protocol error of its operation, never a clean answer. `label`
 * names it in the outcome counts (`protocol:bad-check-answer`); `reason` says what was wrong.
 */
export type ProtocolError = { readonly type: 'protocol'; readonly label: string; readonly reason: string };

/** The protocol error of operation `op`'s answer: outcome `protocol:bad-OP-answer`. */
export const badAnswer = (op: string, reason: string): ProtocolError => ({ type: 'protocol', label: `bad-${op}-answer`, reason });

/** Answers that are not the protocol's own: every dialect has these four. */
export type TransportAnswer =
  | { readonly type: 'http'; readonly status: number }
  | { readonly type: 'net'; readonly code: string }
  | { readonly type: 'garbage' }
  | ProtocolError;

/** Outcome label of a transport answer: `http:503`, `net:ECONNRESET`, `garbage`, `protocol:bad-check-answer`. */
export function transportOutcome(a: TransportAnswer): string {
  switch (a.type) {
    case 'http':
      return `http:${codeLabel(a.status)}`;
    case 'net':
      return `net:${netLabel(a.code)}`;
    case 'garbage':
      return 'garbage';
    case 'protocol':
      return `protocol:${/^[a-zA-Z0-9_-]{1,48}$/.test(a.label) ? a.label : 'other'}`;
  }
}

/** Transport failures, 5xx, unreadable answers and protocol errors count as errors of their operation. */
export const isTransportError = (a: { readonly type: string; readonly status?: number }): boolean =>
  a.type === 'net' || a.type === 'garbage' || a.type === 'protocol' || (a.type === 'http' && (a.status ?? 0) >= 500);
