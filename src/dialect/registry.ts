/**
 * The dialects the harness speaks, by the name a scenario gives. A new protocol is one more entry.
 */
import type { DialectPlugin } from './types.js';
import { onenetMachine } from '../device/onenet/machine.js';
import { ONENET_OPERATIONS } from '../device/onenet/types.js';
import { luatMachine } from '../device/luat/machine.js';
import { LUAT_OPERATION } from '../device/luat/types.js';
import { luatRules, onenetRules } from '../device/rules.js';
import { onenetWire } from './onenet/wire.js';
import { luatWire } from './luat/wire.js';
import type { OnenetKind } from '../device/onenet/types.js';
import type { LuatKind } from '../device/luat/types.js';
import type { StateCategory } from './categories.js';

/** Chart categories of the OneNET kinds: a failure being reported is no failure yet (205 retries). */
const onenetCategories = {
  'reporting-version': 'checking',
  checking: 'checking',
  'token-checking': 'downloading',
  downloading: 'downloading',
  'reporting-progress': 'downloading',
  'reporting-downloaded': 'upgrading',
  rebooting: 'upgrading',
  'reporting-new-version': 'upgrading',
  'reporting-upgraded': 'upgrading',
  'reporting-failure': 'other',
  waiting: 'asleep',
  succeeded: 'succeeded',
  'up-to-date': 'succeeded',
  failed: 'failed',
  rejected: 'failed',
  gated: 'failed',
  'gave-up': 'failed',
  cancelled: 'failed',
} as const satisfies Record<OnenetKind, StateCategory>;

const luatCategories = {
  requesting: 'checking',
  waiting: 'asleep',
  retrying: 'asleep',
  rebooting: 'upgrading',
  succeeded: 'succeeded',
  'up-to-date': 'succeeded',
  failed: 'failed',
  rejected: 'failed',
  'gave-up': 'failed',
  banned: 'banned',
} as const satisfies Record<LuatKind, StateCategory>;

export const onenetPlugin = {
  name: 'onenet',
  operations: ONENET_OPERATIONS,
  machine: onenetMachine,
  wire: onenetWire,
  rules: onenetRules,
  categories: onenetCategories,
} as const;

export const luatPlugin = {
  name: 'luat',
  operations: [LUAT_OPERATION],
  machine: luatMachine,
  wire: luatWire,
  rules: luatRules,
  categories: luatCategories,
} as const;

export const DIALECTS: Readonly<Record<string, DialectPlugin>> = {
  onenet: onenetPlugin,
  luat: luatPlugin,
};

/** The plugin of a dialect name; an unknown name is a one-line error listing the known ones. */
export function getDialect(name: string): DialectPlugin {
  const plugin = Object.prototype.hasOwnProperty.call(DIALECTS, name) ? DIALECTS[name] : undefined;
  if (plugin === undefined) throw new Error(`unknown dialect "${name}"; known dialects: ${Object.keys(DIALECTS).join(', ')}`);
  return plugin;
}
