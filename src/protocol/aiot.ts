/**
 * The AIOT open API (spec §4, seed 004): its north-bound calls and the pushes it makes to the
 * third-party backend, plus the push retry policy of spec §3.3 (Huawei), which the AIOT seed does
 * not state and the project applies to every push. Shared by `serve` (src/server/aiot/) and the
 * harness (src/receiver/, src/northbound/).
 */

export const AIOT_PATHS = {
  queryAll: '/open/ota/query/firmware',
  querySelected: '/open/ota/query/firmware/selected',
  upgradeAll: '/open/ota/upgrade/firmware',
  upgradeSelected: '/open/ota/upgrade/firmware/selected',
} as const;
export type AiotCall = keyof typeof AIOT_PATHS;

/** Header names as Node gives them (lower case); the seed spells them Appid, Appkey, Openid, Access-Token. */
export const AIOT_HEADERS = { appId: 'appid', appKey: 'appkey', openId: 'openid', accessToken: 'access-token' } as const;

/**
 * `code` of a north-bound answer. The seed names only 0; the others are the reference server's
 * choice (docs/application-side.md).
 */
export const AiotCode = {
  OK: 0,
  BAD_REQUEST: 1,
  AUTH_FAILED: 2,
  NO_DEVICE: 3,
  NOTHING_TO_UPGRADE: 4,
} as const;

export interface UpgradeFirmware {
  firmwareVersion: string;
  fileSize: string;
  updateLog: string;
  releaseDate: string;
}

export interface FirmwareEntry {
  did: string;
  name: string;
  deviceModel: string;
  firmwareVersion: string;
  upgradeFirmware: UpgradeFirmware;
}

export type PushMessage =
  | { readonly msgType: 'ota_upgrade_progress'; readonly did: string; readonly firmwareVersion: string; readonly progress: number }
  | { readonly msgType: 'ota_upgrade_result'; readonly did: string; readonly firmwareVersion: string; readonly upgradeResult: '0' | '1'; readonly cause: string };
export type PushType = PushMessage['msgType'];
export const PUSH_TYPES: readonly PushType[] = ['ota_upgrade_progress', 'ota_upgrade_result'];

/** A push body as the receiver reads it, or why it is not one (a field path and what is wrong). */
export function parsePush(body: unknown): { push: PushMessage } | { error: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { error: 'body: expected a JSON object' };
  const b = body as Record<string, unknown>;
  if (typeof b['did'] !== 'string' || b['did'].length === 0) return { error: 'did: expected a non-empty string' };
  // The seed writes firmwareVersion unquoted (`xxx`): a number is read as its text.
  const fv = typeof b['firmwareVersion'] === 'number' ? String(b['firmwareVersion']) : b['firmwareVersion'];
  if (typeof fv !== 'string') return { error: 'firmwareVersion: expected a string' };
  const did = b['did'];
  if (b['msgType'] === 'ota_upgrade_progress') {
    const p = b['progress'];
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 100) return { error: 'progress: expected an integer percent 0–100' };
    return { push: { msgType: 'ota_upgrade_progress', did, firmwareVersion: fv, progress: p } };
  }
  if (b['msgType'] === 'ota_upgrade_result') {
    const r = b['upgradeResult'];
    if (r !== '0' && r !== '1') return { error: 'upgradeResult: expected "0" (failed) or "1" (succeeded)' };
    const cause = b['cause'] ?? '';
    if (typeof cause !== 'string') return { error: 'cause: expected a string' };
    return { push: { msgType: 'ota_upgrade_result', did, firmwareVersion: fv, upgradeResult: r, cause } };
  }
  return { error: `msgType: expected ${PUSH_TYPES.join(' or ')}` };
}

/** What makes two deliveries the same message: a retry or a duplicate carries the same key. */
export const pushKey = (p: PushMessage): string =>
  p.msgType === 'ota_upgrade_progress' ? `${p.did}|p|${p.firmwareVersion}|${p.progress}` : `${p.did}|r|${p.firmwareVersion}|${p.upgradeResult}`;

/**
 * How the platform retries a push (spec §3.3): success is a 200 within `answerWithinMs`; a
 * failure is retried every `retryEveryMs` while the message is younger than `cacheMs`; after
 * `maxFailures` failed retries the URL is marked invalid and probed every `retryEveryMs` until
 * it answers. The spec gives no interval: 10 retries within 10 minutes makes one a minute.
 */
export interface PushRetryPolicy {
  readonly answerWithinMs: number;
  readonly cacheMs: number;
  readonly maxFailures: number;
  readonly retryEveryMs: number;
}

export const HUAWEI_PUSH_POLICY: PushRetryPolicy = { answerWithinMs: 15_000, cacheMs: 600_000, maxFailures: 10, retryEveryMs: 60_000 };

/**
 * Not AIOT's: the reference server stamps each push attempt with the virtual instant it sent it
 * (ms since the epoch), so the receiver measures its retry intervals at the source rather than
 * at arrival, where one attempt's slow way in would distort them. Absent from other platforms'
 * pushes: their intervals are measured at arrival, with a tolerance.
 */
export const PUSH_SENT_HEADER = 'x-ota-swarm-sent-ms';

/** HTTP statuses the spec counts as a failed push (besides no answer in time). */
export const isFailedPushStatus = (status: number): boolean => status !== 200;
