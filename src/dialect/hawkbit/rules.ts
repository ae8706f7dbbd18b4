/** The hawkBit device's legal transitions (every device's sequence of kinds is checked against them). */
import type { TransitionRules } from '../../device/types.js';
import type { HawkbitKind } from '../../device/hawkbit/types.js';
import type { StateCategory } from '../categories.js';

const FINALS = ['succeeded', 'failed', 'cancelled', 'rejected', 'gated', 'idle', 'gave-up', 'no-progress'] as const satisfies readonly HawkbitKind[];

const next = {
  polling: ['configuring', 'cancelling', 'fetching', 'sleeping', 'backing-off', 'rejected', 'idle', 'gave-up'],
  configuring: ['cancelling', 'fetching', 'sleeping', 'backing-off', 'idle', 'gave-up'],
  fetching: ['reporting', 'downloading', 'installing', 'sleeping', 'backing-off', 'rejected', 'gave-up'],
  downloading: ['downloading', 'reporting', 'reconnecting', 'dozing', 'sleeping', 'backing-off', 'rejected', 'gave-up'],
  reporting: ['downloading', 'installing', 'sleeping', 'backing-off', 'rejected', 'succeeded', 'failed', 'cancelled', 'gated', 'no-progress', 'gave-up'],
  cancelling: ['reporting', 'sleeping', 'backing-off', 'rejected', 'gave-up'],
  sleeping: ['polling', 'gave-up'],
  'backing-off': ['polling', 'configuring', 'fetching', 'downloading', 'reporting', 'cancelling', 'gave-up'],
  reconnecting: ['reporting', 'downloading', 'gave-up'],
  dozing: ['reporting', 'downloading', 'gave-up'],
  installing: ['reporting', 'gave-up'],
  succeeded: [],
  failed: [],
  cancelled: [],
  rejected: [],
  gated: [],
  idle: [],
  'gave-up': [],
  'no-progress': [],
} as const satisfies Record<HawkbitKind, readonly HawkbitKind[]>;

export const hawkbitRules: TransitionRules = {
  kinds: Object.keys(next),
  next,
  initial: ['polling'],
  final: [...FINALS],
};

/** Chart categories of the kinds. */
export const hawkbitCategories = {
  polling: 'checking',
  configuring: 'checking',
  fetching: 'checking',
  cancelling: 'checking',
  downloading: 'downloading',
  reconnecting: 'downloading',
  dozing: 'downloading',
  reporting: 'downloading',
  installing: 'upgrading',
  sleeping: 'asleep',
  'backing-off': 'asleep',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'failed',
  rejected: 'failed',
  gated: 'failed',
  idle: 'other',
  'gave-up': 'failed',
  'no-progress': 'failed',
} as const satisfies Record<HawkbitKind, StateCategory>;
