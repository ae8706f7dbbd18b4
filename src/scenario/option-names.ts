/**
 * How the caller calls each run option, so one validation serves both faces: the CLI names its
 * flags (`--devices`), the programmatic API its option paths (`options.overrides.devices`). A user
 * of `run(...)` who never typed a flag is told which field of theirs is wrong.
 */

/** Every option whose validation error names it. */
export type RunOptionField = 'devices' | 'durationMs' | 'timeScale' | 'seed' | 'targetUrl' | 'productId' | 'allowRemote';

export type OptionNames = (field: RunOptionField) => string;

const FLAGS: Record<RunOptionField, string> = {
  devices: '--devices',
  durationMs: '--duration',
  timeScale: '--time-scale',
  seed: '--seed',
  targetUrl: '--target',
  productId: '--product-id',
  allowRemote: '--allow-remote',
};

/** The `ota-swarm run` flags. */
export const CLI_FLAGS: OptionNames = (field) => FLAGS[field];

/** `run(scenario, options)` of src/api.ts. */
export const API_OPTIONS: OptionNames = (field) => (field === 'allowRemote' ? 'options.allowRemote' : `options.overrides.${field}`);
