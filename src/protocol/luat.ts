/**
 * Luat IoT upgrade API (spec §2): one call, answered with the file or a code.
 *
 * Choices where the documents are silent:
 * - A code is answered with HTTP 400 (the documents only say "300 or above"; 304 cannot carry a
 *   body, so a single 4xx keeps every client's parser simple).
 * - Every request a device makes counts towards the daily loop-ban limit, including those answered
 *   43 (the platform counts requests, not outcomes); the server can be told otherwise.
 * - The ban day is the UTC calendar day of the server's (virtual) clock.
 */

export const LUAT_PATH = '/api/site/firmware_upgrade';

export const LuatCode = {
  OK: 0,
  INVALID_DEVICE: 3,
  NO_PERMISSION: 17,
  NOT_ALLOWED: 21,
  INVALID_PROJECT: 25,
  INVALID_FIRMWARE: 26,
  ALREADY_NEWEST: 27,
  LOOP_UPGRADE: 40,
  PLEASE_WAIT: 43,
  BASE_VERSION_MISSING: 44,
} as const;
export type LuatCode = (typeof LuatCode)[keyof typeof LuatCode];

export const LUAT_MESSAGES: Readonly<Record<LuatCode, string>> = {
  0: 'upgrade file',
  3: 'invalid device',
  17: 'no permission',
  21: 'not allowed',
  25: 'invalid project',
  26: 'invalid firmware',
  27: 'already newest',
  40: 'loop upgrade: banned, lift the ban in the device list',
  43: 'please wait: the diff package is being built',
  44: 'base version missing',
};

export const LUAT_ERROR_STATUS = 400;
export const DEFAULT_BAN_LIMIT_PER_DAY = 10;
export const DEFAULT_DIFF_BUILD_MS = { min: 60_000, max: 180_000 } as const;
export const DAY_MS = 86_400_000;

/** Which day window a (virtual) instant falls in. */
export const dayIndex = (virtualMs: number): number => Math.floor(virtualMs / DAY_MS);

export interface LuatErrorBody {
  code: number;
  msg: string;
}

/** Script versions are `x.y.z`; compared numerically part by part. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = Number(pa[i] ?? 0);
    const y = Number(pb[i] ?? 0);
    if (Number.isNaN(x) || Number.isNaN(y)) return (pa[i] ?? '').localeCompare(pb[i] ?? '');
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
