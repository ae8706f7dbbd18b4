/** The target profile as the report carries and prints it: each value with its source. */
import { profileKeysOf, profileValueText, type ResolvedProfile } from '../protocol/profile.js';
import type { ProfileEntry } from './types.js';

/** The dialect's keys of the profile, in order. */
export function profileReport(p: ResolvedProfile, dialect: string): ProfileEntry[] {
  return profileKeysOf(dialect).map((key) => ({ key, value: profileValueText(key, p.profile), source: p.sources[key] }));
}

/** One compact line: `banLimitPerDay 20 (flag) · banDayStartUtc 00:00 · …`; documented values carry no source. */
export function profileLine(entries: readonly ProfileEntry[]): string {
  return entries.map((e) => `${e.key.slice(e.key.indexOf('.') + 1)} ${e.value}${e.source === 'documented' ? '' : ` (${e.source})`}`).join(' · ');
}
