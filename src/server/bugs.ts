/**
 * Named bugs: each breaks exactly one documented rule on purpose, so a harness can prove that it
 * notices. Off unless asked for (`--bug NAME`, ServerOptions.bugs, PUT /admin/bugs).
 */
import { ConfigError } from '../config/load.js';

export const BUG_NAMES = [
  /** A progress step (0–100) on a succeeded task is accepted and moves it back to downloading, so a later 201 counts a second success. */
  'progress-after-success',
  /** check answers errno 0 with the task and token of another device of the same range. */
  'check-wrong-device',
  /** Luat: the loop ban never triggers (no 40). */
  'skip-loop-ban',
  /** A 201 on an already succeeded task is accepted (errno 0) and increments successes. */
  'double-count-success',
  /** Downloads ignore Range and always answer 200 with the whole file. */
  'ignore-range',
  /** After a republish, check answers the md5 of the previous bytes. */
  'stale-md5',
  /** An Authorization whose `et` is in the past is accepted. */
  'accept-expired-auth',
  /** Luat: a diff package is never "being built" (no 43). */
  'no-diff-wait',
  /** OneNET: check offers the task again after its success; Luat: a device on the newest version is sent the file again. */
  'stale-task-after-success',
  /** hawkBit: the poll keeps offering, and deploymentBase keeps answering, an action being cancelled or cancelled. */
  'answer-cancelled-action',
  /** hawkBit: a deployment's announced hashes are those of other bytes. */
  'wrong-hash',
  /** AIOT: every 10th result push is never sent. */
  'push-lost',
  /** AIOT: every 10th push answered 200 in time is sent again. */
  'push-duplicated',
  /** AIOT: a failed push is retried after a sixth of the policy's interval. */
  'push-retry-early',
  /** AIOT: a failing push is retried forever (no give-up, no cache expiry, the URL never marked invalid). */
  'push-no-give-up',
  /** LwM2M: downlink for a sleeping queue-mode device is sent at once (not held until it wakes), and a command lost so is never issued again. */
  'lwm2m-no-queue',
  /** LwM2M: each retransmission of a CON comes at half its scheduled delay (before the profile's window). */
  'lwm2m-retransmit-early',
  /** LwM2M: a CON is given up (TIMEOUT) at half the profile's earliest give-up time. */
  'lwm2m-give-up-early',
  /** CoAP repository: every Block2 block after the first starts one byte early. */
  'block2-off-by-one',
] as const;

export type BugName = (typeof BUG_NAMES)[number];

export const BUG_DESCRIPTIONS: Readonly<Record<BugName, string>> = {
  'progress-after-success': 'accepts a progress step after success (the task goes back to downloading; a later 201 counts again)',
  'check-wrong-device': "check answers with another device's task and token",
  'skip-loop-ban': 'Luat: never answers 40 (no loop ban)',
  'double-count-success': 'a duplicate 201 is accepted and counted as another success (hawkBit: a closed action answered 200 and counted finished again)',
  'ignore-range': 'downloads (hawkBit artifacts too) answer 200 with the whole file whatever the Range',
  'stale-md5': 'check returns the md5 of the previous package bytes after a republish',
  'accept-expired-auth': 'an Authorization whose et is in the past is accepted',
  'no-diff-wait': 'Luat: never answers 43 (diff packages are ready at once)',
  'answer-cancelled-action': 'hawkBit: the poll offers, and deploymentBase answers, an action being cancelled or cancelled',
  'wrong-hash': "hawkBit: deploymentBase announces the hashes (sha1, md5, sha256) of other bytes than the artifact's",
  'push-lost': 'AIOT: every 10th result push is never sent',
  'push-duplicated': 'AIOT: every 10th push answered 200 in time is sent again',
  'push-retry-early': "AIOT: a failed push is retried after a sixth of the policy's interval",
  'push-no-give-up': 'AIOT: a failing push is retried forever (never given up, the URL never marked invalid)',
  'stale-task-after-success': 'OneNET: check offers the succeeded task again (same token and target); Luat: a device already on the newest version is sent the file again',
  'lwm2m-no-queue': 'LwM2M: sends downlink to a sleeping queue-mode device at once instead of holding it until its Register / Update, and never re-issues what was lost',
  'lwm2m-retransmit-early': "LwM2M: retransmits a CON at half the profile's delays (too early)",
  'lwm2m-give-up-early': "LwM2M: gives up a CON (TIMEOUT) at half the profile's earliest give-up time",
  'block2-off-by-one': 'CoAP repository: Block2 blocks after the first start one byte early (the image is corrupt)',
};

export const isBugName = (s: string): s is BugName => (BUG_NAMES as readonly string[]).includes(s);

/** Validates a list of bug names; `where` names the flag or field in the error. */
export function parseBugs(value: unknown, where = 'bugs'): BugName[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v, i) => {
    if (typeof v !== 'string' || !isBugName(v)) {
      throw new ConfigError(`${where}${Array.isArray(value) ? `.${i}` : ''}: unknown bug ${JSON.stringify(v)} (expected one of ${BUG_NAMES.join(', ')})`);
    }
    return v;
  });
}
