/**
 * The transitions each dialect's device may make: a change of state kind, as the engine logs it
 * (a kind entered again right after itself is no transition). The device tests prove the machines
 * make no other and every one listed here can happen.
 */
import type { TransitionRules } from './types.js';
import type { OnenetKind } from './onenet/types.js';
import type { LuatKind } from './luat/types.js';

const ONENET_FINAL = ['succeeded', 'up-to-date', 'stale-offer', 'failed', 'no-progress', 'rejected', 'gated', 'gave-up', 'cancelled'] as const satisfies readonly OnenetKind[];

const onenetNext = {
  'reporting-version': ['checking', 'waiting', 'gave-up'],
  checking: ['token-checking', 'reporting-failure', 'waiting', 'up-to-date', 'stale-offer', 'failed', 'rejected', 'gave-up'],
  'token-checking': ['downloading', 'checking', 'reporting-failure', 'waiting', 'failed', 'cancelled', 'rejected'],
  downloading: ['reporting-progress', 'reporting-downloaded', 'reporting-failure', 'checking', 'waiting', 'failed', 'cancelled'],
  'reporting-progress': ['downloading', 'waiting', 'checking', 'reporting-failure', 'failed', 'cancelled'],
  'reporting-downloaded': ['rebooting', 'waiting', 'failed', 'cancelled', 'gave-up'],
  rebooting: ['reporting-upgraded', 'reporting-new-version', 'reporting-failure'],
  'reporting-new-version': ['succeeded', 'flushing', 'reporting-failure', 'waiting', 'gave-up'],
  flushing: ['succeeded', 'waiting'],
  rechecking: ['waiting', 'succeeded'],
  'reporting-upgraded': ['reporting-new-version', 'cancelled', 'waiting', 'gave-up'],
  'reporting-failure': ['waiting', 'gated', 'failed', 'no-progress'],
  waiting: [
    'reporting-version',
    'checking',
    'token-checking',
    'downloading',
    'reporting-downloaded',
    'reporting-new-version',
    'reporting-upgraded',
    'reporting-failure',
    'rechecking',
  ],
  succeeded: [],
  'up-to-date': [],
  'stale-offer': [],
  failed: [],
  'no-progress': [],
  rejected: [],
  gated: [],
  'gave-up': [],
  cancelled: [],
} as const satisfies Record<OnenetKind, readonly OnenetKind[]>;

export const onenetRules: TransitionRules = {
  kinds: Object.keys(onenetNext),
  next: onenetNext,
  initial: ['reporting-version'],
  final: ONENET_FINAL,
};

const luatNext = {
  requesting: ['rebooting', 'waiting', 'retrying', 'rechecking', 'succeeded', 'up-to-date', 'stale-offer', 'failed', 'banned', 'rejected', 'gave-up'],
  waiting: ['requesting', 'gave-up'],
  retrying: ['requesting', 'gave-up'],
  // A file's label confirms the upgrade (versionConfirm header / filename): rechecks may follow.
  rebooting: ['requesting', 'succeeded', 'rechecking', 'gave-up'],
  rechecking: ['requesting', 'succeeded'],
  succeeded: [],
  'up-to-date': [],
  'stale-offer': [],
  failed: [],
  banned: [],
  rejected: [],
  'gave-up': [],
} as const satisfies Record<LuatKind, readonly LuatKind[]>;

export const luatRules: TransitionRules = {
  kinds: Object.keys(luatNext),
  next: luatNext,
  initial: ['requesting'],
  final: ['succeeded', 'up-to-date', 'stale-offer', 'failed', 'banned', 'rejected', 'gave-up'] satisfies LuatKind[],
};
