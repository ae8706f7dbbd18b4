/**
 * hawkBit's `target.hawkbit` block: the tenant and how devices authenticate. The controller ids
 * are the cohorts' ids. What the wire needs is `HawkbitSettings` (./wire.ts).
 *
 * Authentication, first that applies:
 * - `gatewayToken` (or `auth: gateway` with OTA_SWARM_HAWKBIT_GATEWAY_TOKEN): every device sends
 *   `GatewayToken …`, the tenant's;
 * - `targetTokens: { file }`: lines `controllerId token` (hawkBit's random per-target tokens, as
 *   exported from its management API): `TargetToken …` per device;
 * - `targetTokenKey` (or OTA_SWARM_HAWKBIT_TOKEN_KEY): each device's token derived from the key
 *   (protocol/hawkbit.ts deriveTargetToken), as the reference server does;
 * - `auth: none`: no Authorization (a hawkBit with anonymous DDI access).
 * Against the embedded or a reference server the key or gateway token is read from its catalog.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '../../config/load.js';
import { secretSchema } from '../../config/fields.js';
import { resolveSecret, secretSourceOf, type SecretRef } from '../../config/secret.js';
import type { HawkbitCatalog } from '../../catalog/hawkbit.js';
import { DEFAULT_HAWKBIT_TENANT } from '../../catalog/hawkbit.js';
import { isDdiSegment } from '../../protocol/hawkbit.js';
import type { DialectTargetSpec, TargetContext } from '../types.js';
import type { HawkbitSettings } from './wire.js';

export const ENV_HAWKBIT_TOKEN_KEY = 'OTA_SWARM_HAWKBIT_TOKEN_KEY';
export const ENV_HAWKBIT_GATEWAY_TOKEN = 'OTA_SWARM_HAWKBIT_GATEWAY_TOKEN';

export const HawkbitTargetSchema = Type.Object(
  {
    tenant: Type.String({ pattern: '^[A-Za-z0-9_.~-]{1,64}$', default: DEFAULT_HAWKBIT_TENANT, description: 'The hawkBit tenant (the first path segment of DDI).' }),
    auth: Type.Optional(Type.Union([Type.Literal('target'), Type.Literal('gateway'), Type.Literal('none')], { description: 'TargetToken per device (default), the tenant\'s GatewayToken, or none.' })),
    targetTokenKey: Type.Optional(secretSchema('Key the reference server derives target tokens from.')),
    targetTokens: Type.Optional(Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false, description: 'A file of `controllerId token` lines.' })),
    gatewayToken: Type.Optional(secretSchema('The tenant\'s gateway token.')),
  },
  { additionalProperties: false, description: 'hawkBit DDI: the tenant and how the devices authenticate.' },
);

type Block = Static<typeof HawkbitTargetSchema>;

const where = (ctx: TargetContext, field: string): string => `${ctx.file}: target.hawkbit.${field}`;
const blockOf = (raw: unknown): Block => (raw ?? { tenant: DEFAULT_HAWKBIT_TENANT }) as Block;

/** `controllerId token` lines; blank lines and `#` comments skipped. */
export function readTokenFile(file: string, field: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const tokens: Record<string, string> = Object.create(null) as Record<string, string>;
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const m = /^(\S+)\s+(\S+)$/.exec(t);
    if (!m || !isDdiSegment(m[1] as string)) throw new ConfigError(`${file}:${i + 1}: expected "controllerId token" (${field})`);
    tokens[m[1] as string] = m[2] as string;
  });
  return tokens;
}

export const hawkbitTarget: DialectTargetSpec<HawkbitSettings> = {
  schema: HawkbitTargetSchema,
  fromScenario(raw, ctx) {
    const b = blockOf(raw);
    const tenant = b.tenant ?? DEFAULT_HAWKBIT_TENANT;
    if (b.auth === 'none') return { tenant, auth: { kind: 'none' } };
    const gatewayRef: SecretRef | undefined = b.gatewayToken ?? (b.auth === 'gateway' && ctx.env[ENV_HAWKBIT_GATEWAY_TOKEN] ? { env: ENV_HAWKBIT_GATEWAY_TOKEN } : undefined);
    if (b.auth === 'gateway' || (b.auth === undefined && b.gatewayToken !== undefined)) {
      if (!gatewayRef) throw new ConfigError(`${where(ctx, 'gatewayToken')}: needed for auth: gateway (e.g. gatewayToken: { env: ${ENV_HAWKBIT_GATEWAY_TOKEN} })`);
      return { tenant, auth: { kind: 'gateway', token: resolveSecret(gatewayRef, where(ctx, 'gatewayToken'), ctx.env) } };
    }
    if (b.targetTokens !== undefined) return { tenant, auth: { kind: 'target-list', tokens: readTokenFile(b.targetTokens.file, where(ctx, 'targetTokens')) } };
    const keyRef = b.targetTokenKey ?? (ctx.env[ENV_HAWKBIT_TOKEN_KEY] ? { env: ENV_HAWKBIT_TOKEN_KEY } : undefined);
    if (!keyRef) {
      throw new ConfigError(`${where(ctx, 'targetTokens')}: needed with --target: a file of "controllerId token" lines, or targetTokenKey (${ENV_HAWKBIT_TOKEN_KEY}), or gatewayToken, or auth: none`);
    }
    return { tenant, auth: { kind: 'target-key', tokenKey: resolveSecret(keyRef, where(ctx, 'targetTokenKey'), ctx.env) } };
  },
  fromCatalog(raw, catalog, ctx) {
    const b = blockOf(raw);
    const tenant = b.tenant ?? DEFAULT_HAWKBIT_TENANT;
    const t = (catalog as { hawkbit?: HawkbitCatalog }).hawkbit?.tenants.find((x) => x.name === tenant);
    if (t === undefined) throw new ConfigError(`${where(ctx, 'tenant')}: the server's catalog has no hawkBit tenant ${tenant}`);
    if (b.auth === 'none') return { tenant, auth: { kind: 'none' } };
    const text = (ref: unknown): string | undefined => (typeof ref === 'string' ? ref : undefined);
    if (b.auth === 'gateway') {
      const token = text(t.gatewayToken);
      if (token === undefined) throw new ConfigError(`${where(ctx, 'auth')}: tenant ${tenant} of the server's catalog has no gateway token`);
      return { tenant, auth: { kind: 'gateway', token } };
    }
    const key = text(t.targetTokenKey);
    if (key !== undefined) return { tenant, auth: { kind: 'target-key', tokenKey: key } };
    const token = text(t.gatewayToken);
    return token !== undefined ? { tenant, auth: { kind: 'gateway', token } } : { tenant, auth: { kind: 'none' } };
  },
  secretSource(raw, ctx) {
    const b = blockOf(raw);
    if (b.gatewayToken !== undefined || b.auth === 'gateway') return secretSourceOf(b.gatewayToken, 'target.hawkbit.gatewayToken', ENV_HAWKBIT_GATEWAY_TOKEN, false);
    if (b.targetTokens !== undefined) return `the file ${b.targetTokens.file} (target.hawkbit.targetTokens)`;
    return secretSourceOf(b.targetTokenKey, 'target.hawkbit.targetTokenKey', ENV_HAWKBIT_TOKEN_KEY, b.targetTokenKey === undefined && !ctx.env[ENV_HAWKBIT_TOKEN_KEY]);
  },
};
