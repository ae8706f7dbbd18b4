/**
 * `target.profile` of a scenario file → a profile layer (src/protocol/profile.ts); each bad value
 * is a one-line error at its file:line and path.
 */
import { parseProfileValue, setLayer, type ProfileKey, type ProfileLayer } from '../protocol/profile.js';

type Fail = (path: string, message: string) => never;

/** The file's keys and the profile key each one sets. */
const FIELDS: readonly [section: 'luat' | 'onenet' | 'push', field: string, key: ProfileKey][] = [
  ['luat', 'banLimitPerDay', 'luat.banLimitPerDay'],
  ['luat', 'banDayStartUtc', 'luat.banDayStartUtc'],
  ['luat', 'banCountsWaits', 'luat.banCountsWaits'],
  ['luat', 'diffBuild', 'luat.diffBuild'],
  ['luat', 'dfota', 'luat.dfota'],
  ['luat', 'versionConfirm', 'luat.versionConfirm'],
  ['luat', 'firmwareVersion', 'luat.firmwareVersion'],
  ['onenet', 'tokenTtl', 'onenet.tokenTtl'],
  ['push', 'answerWithin', 'push.answerWithin'],
  ['push', 'cacheFor', 'push.cacheFor'],
  ['push', 'maxFailures', 'push.maxFailures'],
  ['push', 'retryEvery', 'push.retryEvery'],
];

export function resolveProfileLayer(raw: { luat?: Record<string, unknown>; onenet?: Record<string, unknown>; push?: Record<string, unknown> }, fail: Fail): ProfileLayer {
  const layer: ProfileLayer = {};
  for (const [section, field, key] of FIELDS) {
    const v = raw[section]?.[field];
    if (v === undefined) continue;
    const parsed = parseProfileValue(key, v);
    if ('error' in parsed) fail(`target.profile.${section}.${field}`, parsed.error);
    else setLayer(layer, key, parsed.value);
  }
  return layer;
}
