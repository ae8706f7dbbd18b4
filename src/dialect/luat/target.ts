/**
 * Luat's `target.luat` block: the project key and the firmware name the devices ask with. What
 * the dialect's wire needs is `LuatSettings`, with what the target profile says of diffs and of
 * how a device confirms the version it flashed.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '../../config/load.js';
import { secretSchema } from '../../config/fields.js';
import { resolveSecret, secretSourceOf, type SecretRef } from '../../config/secret.js';
import type { Catalog } from '../../catalog/schema.js';
import type { VersionConfirm } from '../../protocol/profile.js';
import type { DialectTargetSpec, TargetContext } from '../types.js';

export const ENV_LUAT_PROJECT_KEY = 'OTA_SWARM_LUAT_PROJECT_KEY';

export const LuatTargetSchema = Type.Object(
  {
    projectKey: Type.Optional(secretSchema('Luat project key. Omit with the embedded server: it is discovered.')),
    firmwareName: Type.String({ minLength: 1, description: '`firmware_name` the devices ask with (required by the luat dialect).' }),
  },
  { additionalProperties: false, description: 'Luat: the project and firmware the devices ask for (required by the luat dialect).' },
);

export interface LuatTargetBlock {
  readonly projectKey?: SecretRef;
  readonly firmwareName: string;
}

/** What the Luat wire asks with. Never logged. */
export interface LuatSettings {
  readonly projectKey: string;
  readonly firmwareName: string;
  /** Ask for diff packages (`dfota=1`); absent: true. From the target profile. */
  readonly dfota?: boolean;
  /** How a device confirms the served version, and the version a file installs when it names none (target profile). */
  readonly versionConfirm?: VersionConfirm;
  readonly firmwareVersion?: string;
}

const where = (ctx: TargetContext, field: string): string => `${ctx.file}: target.luat.${field}`;

function blockOf(raw: unknown, ctx: TargetContext): LuatTargetBlock {
  if (raw === undefined) throw new ConfigError(`${ctx.file}: target.luat: needed for the luat dialect`);
  return raw as LuatTargetBlock;
}

export const luatTarget: DialectTargetSpec<LuatSettings> = {
  schema: LuatTargetSchema,
  resolve(raw, { fail }) {
    if (raw === undefined) return fail('firmwareName', 'required by dialect "luat"');
    const l = raw as Static<typeof LuatTargetSchema>;
    const block: LuatTargetBlock = { firmwareName: l.firmwareName, ...(l.projectKey !== undefined ? { projectKey: l.projectKey } : {}) };
    return block;
  },
  fromScenario(raw, ctx) {
    const l = blockOf(raw, ctx);
    const ref = l.projectKey ?? (ctx.env[ENV_LUAT_PROJECT_KEY] ? { env: ENV_LUAT_PROJECT_KEY } : undefined);
    if (!ref) throw new ConfigError(`${where(ctx, 'projectKey')}: needed with --target (e.g. projectKey: { env: ${ENV_LUAT_PROJECT_KEY} })`);
    return { projectKey: resolveSecret(ref, where(ctx, 'projectKey'), ctx.env), firmwareName: l.firmwareName };
  },
  fromCatalog(raw, catalog, ctx) {
    const l = blockOf(raw, ctx);
    const given = typeof l.projectKey === 'string' ? l.projectKey : undefined;
    const projects = (catalog as Catalog).luat?.projects ?? [];
    const project = projects.find((p) => (given ? p.key === given : p.firmware.some((f) => f.name === l.firmwareName)));
    if (!project) throw new ConfigError(`${where(ctx, 'firmwareName')}: no project of the server's catalog has firmware ${l.firmwareName}`);
    return { projectKey: project.key, firmwareName: l.firmwareName };
  },
  withProfile(settings, { luat }) {
    return {
      ...settings,
      dfota: luat.dfota,
      versionConfirm: luat.versionConfirm,
      ...(luat.firmwareVersion !== undefined ? { firmwareVersion: luat.firmwareVersion } : {}),
    };
  },
  deviceSettings(s) {
    if (s.versionConfirm === undefined && s.firmwareVersion === undefined) return undefined;
    return {
      ...(s.versionConfirm !== undefined ? { versionConfirm: s.versionConfirm } : {}),
      ...(s.firmwareVersion !== undefined ? { firmwareVersion: s.firmwareVersion } : {}),
    };
  },
  firmwareName: (raw) => (raw as LuatTargetBlock | undefined)?.firmwareName,
  secretSource(raw, ctx) {
    const ref = (raw as LuatTargetBlock | undefined)?.projectKey;
    return secretSourceOf(ref, 'target.luat.projectKey', ENV_LUAT_PROJECT_KEY, ref === undefined && !ctx.env[ENV_LUAT_PROJECT_KEY]);
  },
};
