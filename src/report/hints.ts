/**
 * Hints for the reader (pure): a run whose figures have a likely cause outside the server's
 * behaviour says so, with what to do. Today: a fleet that a server of the user's already
 * upgraded (an earlier run against the same server), which otherwise reads as 0% succeeded with
 * no word of why, and Luat devices banned by asks an earlier run made the same day.
 */
import type { Report } from './types.js';

/** Share of the fleet that must have ended so for the hint to be given. */
const MOST = 0.5;

const RESET =
  "reset the server (the reference server: curl -X POST -H \"Authorization: Bearer $OTA_SWARM_ADMIN_TOKEN\" <target>/admin/reset, or restart `ota-swarm serve`) or give the cohorts another `ids` range (--seed does not change ids)";

/** Hints for a run against `target` (embedded servers start fresh, so they get none). */
export function rerunHints(r: Pick<Report, 'dialect' | 'devices' | 'target'>, embedded: boolean): string[] {
  if (embedded) return [];
  const { byFinalState, total } = r.devices;
  const upToDate = byFinalState['up-to-date'] ?? 0;
  const succeeded = byFinalState['succeeded'] ?? 0;
  const banned = byFinalState['banned'] ?? 0;
  const hints: string[] = [];
  if (total > 0 && upToDate >= MOST * total && succeeded < upToDate) {
    const answer = r.dialect === 'luat' ? 'code:27 already newest' : 'errno:11 no task';
    hints.push(
      `${upToDate} of ${total} devices ended up-to-date (${answer}): the server has no task for them, most likely because an earlier run against ${r.target} already upgraded them (the server keeps their new version): ${RESET.replace('<target>', r.target)}`,
    );
  }
  if (r.dialect === 'luat' && total > 0 && banned >= MOST * total) {
    hints.push(
      `${banned} of ${total} devices ended banned (code:40 loop ban): the server counts asks per device and day, earlier runs' included: lift the bans (the reference server: POST /admin/bans/lift-all) or ${RESET.replace('<target>', r.target)}`,
    );
  }
  return hints;
}
