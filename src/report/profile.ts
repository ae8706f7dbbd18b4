/** The target profile as the report prints it (report.json carries `profileEntries` of src/protocol/profile.ts). */
import type { ProfileEntry } from './types.js';

/** One compact line: `banLimitPerDay 20 (flag) · banDayStartUtc 00:00 · …`; documented values carry no source. */
export function profileLine(entries: readonly ProfileEntry[]): string {
  return entries.map((e) => `${e.key.slice(e.key.indexOf('.') + 1)} ${e.value}${e.source === 'documented' ? '' : ` (${e.source})`}`).join(' · ');
}
