/**
 * The hawkBit part of the reference server's catalog: tenants with their targets (in id ranges),
 * distribution sets (software modules with artifacts whose bytes come from a seed) and rollouts
 * (groups started one after another on a success threshold, stopped on an error threshold).
 */
import { Type, type Static } from '@sinclair/typebox';
import { secretSchema } from '../config/fields.js';
import { parseIdRange } from './id-range.js';

const Name = Type.String({ pattern: '^[A-Za-z0-9_.~-]{1,64}$' });
const Sleep = Type.String({ pattern: '^\\d{2}:[0-5]\\d:[0-5]\\d$', description: 'HH:MM:SS' });
const Percent = Type.Number({ minimum: 0, maximum: 100 });

export const HawkbitArtifactSchema = Type.Object(
  {
    filename: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^/\\\\]+$' }),
    size: Type.Integer({ minimum: 1, maximum: 256 * 1024 * 1024 }),
    seed: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const HawkbitModuleSchema = Type.Object(
  {
    /** Software module id (the `{moduleId}` of artifact paths). */
    id: Type.Integer({ minimum: 1 }),
    /** `os`, `application`, `runtime` …: the chunk's `part`. */
    type: Type.String({ minLength: 1, maxLength: 32, default: 'os' }),
    name: Type.String({ minLength: 1, maxLength: 64 }),
    version: Type.String({ minLength: 1, maxLength: 64 }),
    artifacts: Type.Array(HawkbitArtifactSchema, { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);

export const HawkbitDistributionSetSchema = Type.Object(
  {
    id: Name,
    version: Type.String({ minLength: 1, maxLength: 64 }),
    modules: Type.Array(HawkbitModuleSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export const HawkbitRolloutSchema = Type.Object(
  {
    name: Name,
    distributionSet: Name,
    /** Targets the rollout covers: a range inside one of the tenant's target ranges. */
    targets: Type.String({ minLength: 1 }),
    /** Groups, each a percentage of the targets, in order; their sum must be 100. */
    groups: Type.Array(Percent, { minItems: 1, maxItems: 500 }),
    /** `forced`, `soft` (attempt), `downloadonly` (update skipped). */
    actionType: Type.Union([Type.Literal('forced'), Type.Literal('soft'), Type.Literal('downloadonly')], { default: 'forced' }),
    /** Share of a group finished with success that triggers `successAction`. */
    successThreshold: Type.Number({ minimum: 0, maximum: 100, default: 100 }),
    successAction: Type.Union([Type.Literal('nextgroup'), Type.Literal('pause')], { default: 'nextgroup' }),
    /** A group with this share (percent) of its targets in error, or this many, stops the rollout. */
    errorThreshold: Type.Object(
      { percent: Type.Optional(Percent), count: Type.Optional(Type.Integer({ minimum: 1 })) },
      { additionalProperties: false, default: {} },
    ),
    /** The rollout starts with the server (else through the admin API). */
    start: Type.Boolean({ default: true }),
    /** Installation allowed only in a window of `duration` every `every` (virtual time from the epoch). */
    maintenanceWindow: Type.Optional(
      Type.Object({ every: Type.Integer({ minimum: 1 }), duration: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

export const HawkbitTenantSchema = Type.Object(
  {
    name: Name,
    /** protocol/hawkbit.ts deriveTargetToken. */
    targetTokenKey: Type.Optional(secretSchema('Key the targets\' security tokens are derived from.')),
    gatewayToken: Type.Optional(secretSchema('The tenant\'s gateway token.')),
    /** Polling sleep the poll answer gives. */
    pollingSleep: Type.Optional(Sleep),
    targets: Type.Array(Type.Object({ ids: Type.String({ minLength: 1 }) }, { additionalProperties: false }), { default: [] }),
    distributionSets: Type.Array(HawkbitDistributionSetSchema, { default: [] }),
    rollouts: Type.Array(HawkbitRolloutSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export const HawkbitCatalogSchema = Type.Object(
  {
    pollingSleep: Type.Optional(Sleep),
    /** Per client IP and second; 0 switches a limit off. */
    maxReadPerSecond: Type.Integer({ minimum: 0, default: 200 }),
    maxWritePerSecond: Type.Integer({ minimum: 0, default: 50 }),
    maxStatusEntriesPerAction: Type.Integer({ minimum: 0, default: 1000 }),
    tenants: Type.Array(HawkbitTenantSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export type HawkbitCatalog = Static<typeof HawkbitCatalogSchema>;
export type HawkbitTenant = Static<typeof HawkbitTenantSchema>;
export type HawkbitRollout = Static<typeof HawkbitRolloutSchema>;
export type HawkbitDistributionSet = Static<typeof HawkbitDistributionSetSchema>;

export const DEFAULT_HAWKBIT_TENANT = 'DEFAULT';
/** Demo key of the embedded server's target tokens; not a secret anywhere else. */
export const DEFAULT_HAWKBIT_TOKEN_KEY = 'ota-swarm-hawkbit-demo-key-not-a-secret';
export const DEFAULT_HAWKBIT_GATEWAY_TOKEN = 'ota-swarm-hawkbit-demo-gateway-token';

/** The built-in tenant: 100,000 controllers `dev-0000000…`, one distribution set, a forced three-group rollout of 5000 and a soft one. */
export const DEFAULT_HAWKBIT_CATALOG: HawkbitCatalog = {
  maxReadPerSecond: 200,
  maxWritePerSecond: 50,
  maxStatusEntriesPerAction: 1000,
  tenants: [
    {
      name: DEFAULT_HAWKBIT_TENANT,
      targetTokenKey: DEFAULT_HAWKBIT_TOKEN_KEY,
      gatewayToken: DEFAULT_HAWKBIT_GATEWAY_TOKEN,
      pollingSleep: '00:05:00',
      targets: [{ ids: 'dev-{0000000..0099999}' }],
      distributionSets: [
        {
          id: 'fw-2.0',
          version: '2.0.0',
          modules: [{ id: 1, type: 'os', name: 'firmware', version: '2.0.0', artifacts: [{ filename: 'firmware-2.0.0.bin', size: 128 * 1024, seed: 31 }] }],
        },
      ],
      rollouts: [
        {
          name: 'fw-2.0-rollout',
          distributionSet: 'fw-2.0',
          targets: 'dev-{0000000..0004999}',
          groups: [10, 30, 60],
          actionType: 'forced',
          successThreshold: 80,
          successAction: 'nextgroup',
          errorThreshold: { percent: 20 },
          start: true,
        },
        {
          // Soft (attempt): a device may decline, as one low on battery does.
          name: 'fw-2.0-soft',
          distributionSet: 'fw-2.0',
          targets: 'dev-{0010000..0019999}',
          groups: [100],
          actionType: 'soft',
          successThreshold: 100,
          successAction: 'nextgroup',
          errorThreshold: {},
          start: true,
        },
      ],
    },
  ],
};

/**
 * The checks beyond the schema, each failing through `fail(path, message)` (the loader adds the
 * file, line and column): tenant names unique, ranges readable, rollouts naming a distribution set
 * of their tenant, groups adding up to 100 %.
 */
export function checkHawkbitCatalog(c: HawkbitCatalog, fail: (path: string, message: string) => never): void {
  const names = new Set<string>();
  c.tenants.forEach((t, ti) => {
    const at = (p: string): string => `tenants.${ti}.${p}`;
    if (names.has(t.name)) fail(at('name'), `tenant ${t.name} twice`);
    names.add(t.name);
    const range = (p: string, text: string): void => {
      try {
        parseIdRange(text);
      } catch (err) {
        fail(at(p), (err as Error).message);
      }
    };
    t.targets.forEach((r, i) => range(`targets.${i}.ids`, r.ids));
    const sets = new Set<string>();
    t.distributionSets.forEach((d, i) => {
      if (sets.has(d.id)) fail(at(`distributionSets.${i}.id`), `distribution set ${d.id} twice`);
      sets.add(d.id);
    });
    const rollouts = new Set<string>();
    t.rollouts.forEach((r, i) => {
      if (rollouts.has(r.name)) fail(at(`rollouts.${i}.name`), `rollout ${r.name} twice`);
      rollouts.add(r.name);
      if (!sets.has(r.distributionSet)) fail(at(`rollouts.${i}.distributionSet`), `no distribution set ${r.distributionSet} in tenant ${t.name}`);
      const sum = r.groups.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 100) > 1e-6) fail(at(`rollouts.${i}.groups`), `the groups' percentages add up to ${sum}, not 100`);
      range(`rollouts.${i}.targets`, r.targets);
      if (r.maintenanceWindow !== undefined && r.maintenanceWindow.duration > r.maintenanceWindow.every) fail(at(`rollouts.${i}.maintenanceWindow.duration`), 'longer than the period (every)');
    });
  });
}
