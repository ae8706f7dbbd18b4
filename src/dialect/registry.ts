/**
 * The dialects the harness speaks, by the name a scenario gives. A new protocol is one more entry.
 * Each machine runs inside the transmission layer (device/retransmit.ts: lost answers and their
 * CoAP-style retransmission), which keeps the machine's state kinds.
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
import { UNANSWERED_CODES, withRetransmit, type TransmissionAdapter } from '../device/retransmit.js';
import type { OnenetAnswer, OnenetRequest } from '../device/onenet/types.js';
import type { LuatAnswer, LuatRequest } from '../device/luat/types.js';
import type { RequestFault } from './types.js';
import { onenetEvidence } from './onenet/evidence.js';
import { luatEvidence } from './luat/evidence.js';
import { onenetTarget } from './onenet/target.js';
import { luatTarget } from './luat/target.js';

/** The fault with `loseAnswer` set or cleared, other faults kept; undefined when none is left. */
function faultWithLoss(fault: RequestFault | undefined, lose: boolean): RequestFault | undefined {
  if (lose) return { ...fault, loseAnswer: true };
  if (fault?.loseAnswer === undefined) return fault;
  const { loseAnswer: _dropped, ...rest } = fault;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

function withLoss<R extends { readonly fault?: RequestFault }>(request: R, lose: boolean): R {
  if (!lose && request.fault?.loseAnswer === undefined) return request;
  const fault = faultWithLoss(request.fault, lose);
  const { fault: _old, ...rest } = request;
  return (fault === undefined ? rest : { ...rest, fault }) as R;
}

/** No answer came; a download broken off mid-body (it carries `held`) was answered in part, and its machine resumes it. */
const isUnanswered = (a: { readonly type: string; readonly code?: unknown; readonly held?: unknown }): boolean =>
  a.type === 'net' && typeof a.code === 'string' && UNANSWERED_CODES.has(a.code) && a.held === undefined;

const onenetTransmission: TransmissionAdapter<OnenetRequest, OnenetAnswer> = { opOf: (r) => r.op, withLoss, isUnanswered };
const luatTransmission: TransmissionAdapter<LuatRequest, LuatAnswer> = { opOf: () => LUAT_OPERATION, withLoss, isUnanswered };

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
  flushing: 'upgrading',
  rechecking: 'checking',
  'reporting-failure': 'other',
  waiting: 'asleep',
  succeeded: 'succeeded',
  'up-to-date': 'succeeded',
  'stale-offer': 'other',
  failed: 'failed',
  'no-progress': 'failed',
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
  rechecking: 'asleep',
  succeeded: 'succeeded',
  'up-to-date': 'succeeded',
  'stale-offer': 'other',
  failed: 'failed',
  rejected: 'failed',
  'gave-up': 'failed',
  banned: 'banned',
} as const satisfies Record<LuatKind, StateCategory>;

export const onenetPlugin = {
  name: 'onenet',
  transport: 'http',
  target: onenetTarget,
  operations: ONENET_OPERATIONS,
  machine: withRetransmit(onenetMachine, onenetTransmission),
  wire: onenetWire,
  evidence: onenetEvidence,
  rules: onenetRules,
  categories: onenetCategories,
} as const;

export const luatPlugin = {
  name: 'luat',
  transport: 'http',
  target: luatTarget,
  operations: [LUAT_OPERATION],
  machine: withRetransmit(luatMachine, luatTransmission),
  wire: luatWire,
  evidence: luatEvidence,
  rules: luatRules,
  categories: luatCategories,
} as const;

const registry: Record<string, DialectPlugin> = {
  onenet: onenetPlugin as DialectPlugin,
  luat: luatPlugin as DialectPlugin,
};

export const DIALECTS: Readonly<Record<string, DialectPlugin>> = registry;

/** Whether a dialect is ota-swarm's own (a throw in its code is a harness bug, not a plugin's). */
export const isBuiltInDialect = (name: string): boolean => name === 'onenet' || name === 'luat';

/** Adds a dialect (see dialect/plugins.ts for loading one from a module); built-ins cannot be replaced. */
export function registerDialect(plugin: DialectPlugin): void {
  if (isBuiltInDialect(plugin.name)) throw new Error(`dialect plugin: "${plugin.name}" is built in`);
  registry[plugin.name] = plugin;
}

/** The plugin of a dialect name; an unknown name is a one-line error listing the known ones. */
export function getDialect(name: string): DialectPlugin {
  const plugin = Object.prototype.hasOwnProperty.call(DIALECTS, name) ? DIALECTS[name] : undefined;
  if (plugin === undefined) throw new Error(`unknown dialect "${name}"; known dialects: ${Object.keys(DIALECTS).join(', ')}`);
  return plugin;
}
