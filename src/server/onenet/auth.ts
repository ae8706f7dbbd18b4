/**
 * Authorization of the OneNET calls (spec §1.1), cached: a device sends the same header on every
 * call until it re-signs, so the HMAC is computed once per header and only the expiry is checked
 * each time (against the virtual clock).
 *
 * Choices: the token's `version` must be 2018-10-31; `res` names a product of the catalog, either
 * product-level (`products/{pid}`) or device-level (`products/{pid}/devices/{name}`, signed with
 * the product's key, since the catalog holds no per-device keys); the device asked about must be a
 * device of that product, else the call fails with errno 1 like any other authentication failure.
 */
import { ONENET_TOKEN_VERSION } from '../../protocol/onenet.js';
import { parseAuthorization, verifyAuthorization } from '../../protocol/token.js';
import type { ProductRuntime } from '../state/catalog-runtime.js';

const RESOURCE = /^products\/([^/]+)(?:\/devices\/[^/]+)?$/;
/** Headers remembered at most; the cache starts over when full (a hostile client cannot grow it). */
const CACHE_LIMIT = 20_000;

interface Verified {
  readonly product: ProductRuntime;
  readonly expiresAtMs: number;
}

export class AuthCache {
  private readonly verified = new Map<string, Verified>();

  constructor(private readonly products: ReadonlyMap<string, ProductRuntime>) {}

  /** The product a header authorizes at `nowMs`, or undefined (errno 1). */
  authorize(header: string | undefined, nowMs: number, acceptExpired: boolean): ProductRuntime | undefined {
    if (header === undefined) return undefined;
    let v = this.verified.get(header);
    if (v === undefined) {
      v = this.verify(header);
      if (v === undefined) return undefined;
      if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
      this.verified.set(header, v);
    }
    if (!acceptExpired && v.expiresAtMs < nowMs) return undefined;
    return v.product;
  }

  private verify(header: string): Verified | undefined {
    const parsed = parseAuthorization(header);
    if (!parsed || parsed.version !== ONENET_TOKEN_VERSION) return undefined;
    const pid = RESOURCE.exec(parsed.res)?.[1];
    const product = pid === undefined ? undefined : this.products.get(pid);
    if (!product) return undefined;
    // Signature only (now = 0): expiry is checked on every use, against the clock.
    if (!verifyAuthorization(header, product.accessKey, 0).ok) return undefined;
    return { product, expiresAtMs: parsed.et * 1000 };
  }
}
