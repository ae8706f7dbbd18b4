/**
 * OneNET's `target.onenet` block: the product id the tokens are signed for, its access key, and
 * how tokens are signed. What the dialect's wire needs is `OnenetSettings`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '../../config/load.js';
import { durationMs, durationSchema, secretSchema } from '../../config/fields.js';
import { resolveSecret, secretSourceOf, type SecretRef } from '../../config/secret.js';
import { DEFAULT_ONENET_PRODUCT } from '../../catalog/default.js';
import type { Catalog } from '../../catalog/schema.js';
import type { DialectTargetSpec, TargetContext } from '../types.js';
import { SIGN_METHODS, type SignMethod } from '../../protocol/token.js';

export const ENV_ONENET_KEY = 'OTA_SWARM_ONENET_ACCESS_KEY';
const DEFAULT_SIGN_METHOD: SignMethod = 'sha1';
const DEFAULT_TOKEN_TTL = '1h';

export const OnenetTargetSchema = Type.Object(
  {
    productId: Type.String({ minLength: 1, description: 'OneNET product id (pid).' }),
    accessKey: Type.Optional(secretSchema('Product access key (base64). Omit with the embedded server: it is discovered.')),
    signMethod: Type.Optional(Type.Unsafe<SignMethod>({ type: 'string', enum: [...SIGN_METHODS], default: DEFAULT_SIGN_METHOD, description: 'HMAC of the Authorization token.' })),
    tokenTtl: Type.Optional(durationSchema('Lifetime of each Authorization token (its `et`).', { default: DEFAULT_TOKEN_TTL })),
  },
  { additionalProperties: false, description: 'OneNET: the product the devices belong to (required by the onenet dialect).' },
);

/** The block as a scenario keeps it: units resolved, `--product-id` applied. */
export interface OnenetTargetBlock {
  readonly productId: string;
  /** Set when `--product-id` replaced the file's value (messages say where the id came from). */
  readonly productIdFrom?: '--product-id';
  readonly accessKey?: SecretRef;
  readonly signMethod: SignMethod;
  readonly tokenTtlSec: number;
}

/** What the OneNET wire signs with. Never logged. */
export interface OnenetSettings {
  readonly productId: string;
  readonly accessKey: string;
  readonly signMethod: SignMethod;
  readonly tokenTtlSec: number;
}

/** The block of a resolved scenario (absent only in a hand-made Scenario: the defaults then). */
export const onenetBlockOf = (block: unknown): OnenetTargetBlock =>
  (block as OnenetTargetBlock | undefined) ?? { productId: DEFAULT_ONENET_PRODUCT, signMethod: DEFAULT_SIGN_METHOD, tokenTtlSec: 3600 };

const where = (ctx: TargetContext, field: string): string => `${ctx.file}: target.onenet.${field}`;

export const onenetTarget: DialectTargetSpec<OnenetSettings> = {
  schema: OnenetTargetSchema,
  resolve(raw, { fail, overrides }) {
    if (raw === undefined) return fail('productId', 'required by dialect "onenet"');
    const o = raw as Static<typeof OnenetTargetSchema>;
    const ttlMs = durationMs(o.tokenTtl ?? DEFAULT_TOKEN_TTL, 'tokenTtl', fail);
    if (ttlMs < 1000) fail('tokenTtl', 'must be at least 1s');
    const block: OnenetTargetBlock = {
      productId: overrides.productId ?? o.productId,
      ...(overrides.productId !== undefined ? { productIdFrom: '--product-id' as const } : {}),
      ...(o.accessKey !== undefined ? { accessKey: o.accessKey } : {}),
      signMethod: o.signMethod ?? DEFAULT_SIGN_METHOD,
      tokenTtlSec: Math.round(ttlMs / 1000),
    };
    return block;
  },
  fromScenario(raw, ctx) {
    const o = onenetBlockOf(raw);
    const ref = o.accessKey ?? (ctx.env[ENV_ONENET_KEY] ? { env: ENV_ONENET_KEY } : undefined);
    if (!ref) throw new ConfigError(`${where(ctx, 'accessKey')}: needed with --target (e.g. accessKey: { env: ${ENV_ONENET_KEY} })`);
    const accessKey = resolveSecret(ref, where(ctx, 'accessKey'), ctx.env);
    return { productId: o.productId, accessKey, signMethod: o.signMethod, tokenTtlSec: o.tokenTtlSec };
  },
  fromCatalog(raw, catalog, ctx) {
    const o = onenetBlockOf(raw);
    const product = (catalog as Catalog).onenet?.products?.find((p) => p.id === o.productId);
    if (!product) throw new ConfigError(`${where(ctx, 'productId')}: product ${o.productId} is not in the server's catalog`);
    if (typeof product.accessKey !== 'string') throw new ConfigError(`server catalog: product ${o.productId} has no resolved access key`);
    return { productId: o.productId, accessKey: product.accessKey, signMethod: o.signMethod, tokenTtlSec: o.tokenTtlSec };
  },
  authTtlSec: (s) => s.tokenTtlSec,
  secretSource(raw, ctx) {
    const ref = onenetBlockOf(raw).accessKey;
    return secretSourceOf(ref, 'target.onenet.accessKey', ENV_ONENET_KEY, ref === undefined && !ctx.env[ENV_ONENET_KEY]);
  },
};

