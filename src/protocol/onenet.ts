/**
 * OneNET OTA south-bound HTTP API: the codes, states and shapes both the reference server and the
 * virtual devices must agree on (spec §1). Nothing here does I/O.
 *
 * Choices where the platform documents are silent (written down here so server and device share them):
 * - Every JSON call answers HTTP 200 with `{errno, error}`; only transport-level problems (unknown
 *   path 404, wrong method 405, body over the limit 413) use other HTTP statuses.
 * - A wrong or expired Authorization header is errno 1 ("authentication failed") on every call.
 * - The progress call (call 5) answers in the token-check errno space: 17 invalid state for a step
 *   the task's state does not allow, 20 once the task succeeded or failed, 22 once cancelled,
 *   21 for a step code that is not documented, 12 for an expired token, 4 for a token of another
 *   device, 2 for a missing or non-integer step.
 */

export const ONENET_TOKEN_VERSION = '2018-10-31';

/** Task states (任务状态). */
export type TaskState =
  | 'pending'
  | 'downloading'
  | 'upgrading'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'paused';

export const TASK_STATES: readonly TaskState[] = [
  'pending',
  'downloading',
  'upgrading',
  'succeeded',
  'failed',
  'cancelled',
  'paused',
];

/** States in which check returns the task and results may be reported. */
export const ACTIVE_TASK_STATES: ReadonlySet<TaskState> = new Set(['pending', 'downloading', 'upgrading']);
/** States in which the token-check call may succeed. */
export const TOKEN_CHECKABLE_STATES: ReadonlySet<TaskState> = new Set(['pending', 'downloading']);

/** `type` of check and of a task: 1 FOTA (module firmware), 2 SOTA (application). */
export type TaskType = 1 | 2;
/** `data.type` of the check answer: 1 full package, 2 diff package. */
export type PackageKind = 1 | 2;

export const CheckErrno = {
  OK: 0,
  AUTH_FAILED: 1,
  BAD_PARAMS: 2,
  INTERNAL: 7,
  MANUF_MODEL_MISMATCH: 8,
  VERSION_MISMATCH: 9,
  NO_TASK: 11,
  BAD_VERSION_FORMAT: 27,
} as const;
export type CheckErrno = (typeof CheckErrno)[keyof typeof CheckErrno];

export const TokenErrno = {
  OK: 0,
  AUTH_FAILED: 1,
  BAD_PARAMS: 2,
  TOKEN_DEVICE_MISMATCH: 4,
  INTERNAL: 7,
  TOKEN_EXPIRED: 12,
  INVALID_STATE: 17,
  TASK_FINISHED: 20,
  INVALID_OPERATION: 21,
  TASK_CANCELLED: 22,
} as const;
export type TokenErrno = (typeof TokenErrno)[keyof typeof TokenErrno];

/** The older `POST /ota/south/report` call. */
export const ReportErrno = {
  OK: 0,
  TOKEN_AUTH_FAILED: 1,
  UNKNOWN_CODE: 2,
  TASK_FINISHED: 20,
  INVALID_OPERATION: 21,
  TASK_CANCELLED: 22,
  BAD_RESULT: 24,
} as const;
export type ReportErrno = (typeof ReportErrno)[keyof typeof ReportErrno];

/** One-byte bodies (no Content-Length) the download call answers instead of the file. */
export const DownloadError = {
  NOT_FOUND: 1,
  SIZE_MISMATCH: 2,
  INVALID_TOKEN: 3,
} as const;
export type DownloadError = (typeof DownloadError)[keyof typeof DownloadError];

/** Result codes above 100 (call 5's `step`, or the older call's `result`). */
export const ResultCode = {
  DOWNLOADED: 101,
  NO_SPACE: 102,
  DOWNLOAD_OUT_OF_MEMORY: 103,
  REQUEST_TIMEOUT: 104,
  DOWNLOAD_LOW_BATTERY: 105,
  POOR_SIGNAL: 106,
  DOWNLOAD_UNKNOWN: 107,
  UPGRADED: 201,
  UPGRADE_LOW_BATTERY: 202,
  UPGRADE_OUT_OF_MEMORY: 203,
  VERSION_DIFFERS: 204,
  MD5_FAILED: 205,
  UPGRADE_UNKNOWN: 206,
  RETRIES_EXHAUSTED: 207,
  EXPIRED: 208,
} as const;
export type ResultCode = (typeof ResultCode)[keyof typeof ResultCode];

const RESULT_CODES: ReadonlySet<number> = new Set(Object.values(ResultCode));
export const isResultCode = (n: number): n is ResultCode => RESULT_CODES.has(n);
/** 102…107: the download failed. */
export const isDownloadFailure = (n: number): boolean => n >= 102 && n <= 107;
/** 202…208: the upgrade failed. */
export const isUpgradeFailure = (n: number): boolean => n >= 202 && n <= 208;
export const isProgressStep = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 100;

/** What a step does to a task, or why it is refused; the one rule both sides apply. */
export type StepVerdict =
  | { accepted: true; next: TaskState }
  | { accepted: false; errno: TokenErrno };

/** Spec §1.2 call 5: which step a task in `state` accepts, and where it goes. */
export function applyStep(state: TaskState, step: number): StepVerdict {
  if (!Number.isInteger(step)) return { accepted: false, errno: TokenErrno.BAD_PARAMS };
  if (state === 'succeeded' || state === 'failed') return { accepted: false, errno: TokenErrno.TASK_FINISHED };
  if (state === 'cancelled') return { accepted: false, errno: TokenErrno.TASK_CANCELLED };
  if (isProgressStep(step)) {
    if (state !== 'downloading') return { accepted: false, errno: TokenErrno.INVALID_STATE };
    return { accepted: true, next: step === 100 ? 'upgrading' : 'downloading' };
  }
  if (!isResultCode(step)) return { accepted: false, errno: TokenErrno.INVALID_OPERATION };
  if (state === 'paused') return { accepted: false, errno: TokenErrno.INVALID_STATE };
  // Results are accepted while pending, downloading or upgrading; while upgrading only 2xx.
  if (state === 'upgrading' && step < 200) return { accepted: false, errno: TokenErrno.INVALID_STATE };
  if (step === ResultCode.DOWNLOADED) return { accepted: true, next: 'upgrading' };
  if (step === ResultCode.UPGRADED) return { accepted: true, next: 'succeeded' };
  return { accepted: true, next: 'failed' };
}

/** The older report call: 1xx first, then 2xx; errnos of its own table. */
export function applyReportResult(state: TaskState, result: unknown): { errno: ReportErrno; next?: TaskState } {
  if (typeof result !== 'number' || !Number.isInteger(result)) return { errno: ReportErrno.BAD_RESULT };
  if (!isResultCode(result)) return { errno: ReportErrno.UNKNOWN_CODE };
  if (state === 'succeeded' || state === 'failed') return { errno: ReportErrno.TASK_FINISHED };
  if (state === 'cancelled') return { errno: ReportErrno.TASK_CANCELLED };
  if (state === 'paused') return { errno: ReportErrno.INVALID_OPERATION };
  // 1xx first, then 2xx: a 2xx needs the 101 before it, and a 1xx after 101 is out of order.
  if (result >= 200 && state !== 'upgrading') return { errno: ReportErrno.INVALID_OPERATION };
  if (result < 200 && state === 'upgrading') return { errno: ReportErrno.INVALID_OPERATION };
  if (result === ResultCode.DOWNLOADED) return { errno: ReportErrno.OK, next: 'upgrading' };
  if (result === ResultCode.UPGRADED) return { errno: ReportErrno.OK, next: 'succeeded' };
  return { errno: ReportErrno.OK, next: 'failed' };
}

/** Versions: only `[a-zA-Z0-9_\-.]`, length 1–20 (check errno 27). */
export const VERSION_PATTERN = /^[A-Za-z0-9_.-]{1,20}$/;
export const isValidVersion = (v: string): boolean => VERSION_PATTERN.test(v);

/** A token is valid for two days after check issues it. */
export const TOKEN_VALIDITY_MS = 2 * 24 * 60 * 60 * 1000;

/** Answer body of the JSON calls. */
export interface OnenetAnswer<D = undefined> {
  errno: number;
  error: string;
  data?: D;
}

/** `data` of a successful check. */
export interface CheckData {
  target: string;
  token: string;
  size: number;
  signal: number;
  power: number;
  retry: number;
  interval: number;
  md5: string;
  ipPort: string;
  type: PackageKind;
}

export const ONENET_PATHS = {
  reportVersion: '/ota/device/version',
  queryVersion: '/ota/device/version',
  check: '/ota/south/check',
  /** `/ota/south/download/{token}`; `/check` appended for the token check. */
  downloadPrefix: '/ota/south/download/',
  /** `/ota/south/device/download/{token}/progress` */
  progressPrefix: '/ota/south/device/download/',
  report: '/ota/south/report',
} as const;

/** Manufacturer / model codes of SOTA chips (seed 003). */
export const SOTA_CHIPS = [
  { name: 'ESP32', manuf: '101', model: '10101' },
  { name: 'nRF52832', manuf: '102', model: '10201' },
  { name: 'GD32', manuf: '103', model: '10301' },
  { name: 'other', manuf: '100', model: '10001' },
] as const;
