/**
 * Coarse categories of device states for the devices-by-state chart: asleep, checking,
 * downloading, upgrading, succeeded, failed, banned, other. A dialect plugin may name its own
 * (`categories`); otherwise the state's name decides.
 */
import { DIALECTS } from './registry.js';

export const STATE_CATEGORIES = ['asleep', 'checking', 'downloading', 'upgrading', 'succeeded', 'failed', 'banned', 'other'] as const;
export type StateCategory = (typeof STATE_CATEGORIES)[number];

const BY_NAME: [RegExp, StateCategory][] = [
  [/banned/, 'banned'],
  [/succeeded|up-to-date/, 'succeeded'],
  [/fail|gave-up|rejected|gated|cancelled|error/, 'failed'],
  [/download|token/, 'downloading'],
  [/upgrad|reboot|flash|verif|result|report-success|installing/, 'upgrading'],
  [/check|report|request|ask/, 'checking'],
  [/sleep|idle|wait|asleep|backoff|retry/, 'asleep'],
];

export function stateCategory(dialect: string, kind: string): StateCategory {
  const own = (DIALECTS[dialect] as { categories?: Readonly<Record<string, StateCategory>> } | undefined)?.categories?.[kind];
  if (own) return own;
  for (const [re, cat] of BY_NAME) if (re.test(kind)) return cat;
  return 'other';
}
