/**
 * The OneNET device's vocabulary: what it asks (requests), what it is told (decoded answers) and
 * what it is (its state union). Shared by the machine and the wire codec.
 */

import type { RequestFault } from '../../dialect/types.js';

/** What any request may carry besides its call. */
export interface OnenetRequestExtras {
  /** Field faults the device brings to this transmission (a lost answer, a cut link). */
  readonly fault?: RequestFault;
  /** The virtual instant the device signed the Authorization it sends (absent: signed now). */
  readonly authAt?: number;
}

/** A request the device wants made; everything the wire needs except the target's keys. */
export type OnenetRequest = OnenetRequestExtras & (
  /** Call 1: the version the device runs (`f_version` for FOTA, `s_version` for SOTA). */
  | { readonly op: 'reportVersion'; readonly devId: string; readonly taskType: 1 | 2; readonly version: string }
  /** Call 2: is there a task for me? */
  | {
      readonly op: 'check';
      readonly devId: string;
      readonly taskType: 1 | 2;
      readonly manuf: string;
      readonly model: string;
      readonly version: string;
      /** AT+CSQ rssi, sent as `signals`. */
      readonly signal: number;
      /** Battery percent, sent as `powers`. */
      readonly battery: number;
    }
  /** Call 3: the token check (moves the task pending → downloading). */
  | { readonly op: 'tokenCheck'; readonly devId: string; readonly token: string }
  /** Call 4: bytes `start..end` (inclusive) of a file of `total` bytes. */
  | { readonly op: 'download'; readonly devId: string; readonly token: string; readonly start: number; readonly end: number; readonly total: number }
  /** Call 5 with a progress step 0…100. */
  | { readonly op: 'progress'; readonly devId: string; readonly token: string; readonly step: number }
  /** Call 5 with a result code above 100. */
  | { readonly op: 'result'; readonly devId: string; readonly token: string; readonly step: number }
);

export type OnenetOperation = OnenetRequest['op'];

export const ONENET_OPERATIONS: readonly OnenetOperation[] = ['reportVersion', 'check', 'tokenCheck', 'download', 'progress', 'result'];

/**
 * `data` of a check answer as the wire could read it: field types checked, values not judged
 * (the machine decides what is usable). Absent numbers mean the server sent none.
 */
export interface OnenetOffer {
  readonly target: string;
  readonly token: string;
  readonly size: number;
  readonly md5: string;
  readonly signal?: number;
  readonly power?: number;
  readonly retry?: number;
  /** Seconds. */
  readonly interval?: number;
  /** 1 full package, 2 diff package. */
  readonly type?: number;
}

/** An answer, decoded; transport failures are answers too. */
export type OnenetAnswer =
  /** A JSON call answered `{errno, error, data?}`; `offer` only for a check whose data could be read. */
  | { readonly type: 'json'; readonly errno: number; readonly offer?: OnenetOffer }
  /**
   * Download bytes arrived; `held` is what the device holds in order now (the engine's truth).
   * `cut`: the link dropped before the whole answer arrived (the bytes that did are held).
   */
  | { readonly type: 'file'; readonly held: number; readonly total?: number; readonly md5?: string; readonly cut?: boolean }
  /** The download's one-byte error body: 1 not found, 2 size mismatch, 3 invalid token. */
  | { readonly type: 'download-error'; readonly code: 1 | 2 | 3 }
  /** An HTTP status the call does not answer with (404, 413, 5xx, …). */
  | { readonly type: 'http'; readonly status: number }
  /**
   * No (whole) answer: ECONNRESET, TIMEOUT, … A download broken off mid-body carries `held`: the
   * bytes the device holds in order after the part that arrived (and their md5 once all are held).
   */
  | { readonly type: 'net'; readonly code: string; readonly held?: number; readonly md5?: string }
  /** An answer nobody could read. */
  | { readonly type: 'garbage' }
  /** JSON, but not the spec's shape (see dialect/decode.ts): a failed request. */
  | { readonly type: 'protocol'; readonly label: string; readonly reason: string };

/** The task as the device keeps it: validated facts of one check answer. */
export interface OnenetTask {
  readonly target: string;
  readonly token: string;
  readonly size: number;
  /** Lower-case. */
  readonly md5: string;
  readonly signal: number;
  readonly power: number;
  /** Retries the device allows itself per failing request, and whole-task retries after a 205. */
  readonly retry: number;
  readonly intervalMs: number;
  /** 1 full package, 2 diff package. */
  readonly pkg: 1 | 2;
}

/** Where a download stands; carried across a token renewal so it resumes. */
export interface OnenetDownload {
  readonly task: OnenetTask;
  /** Bytes held in order (the engine's last word). */
  readonly held: number;
  /** Most bytes ever held in this run: only a new high counts as progress. */
  readonly best: number;
  /** Last progress step reported (0 = none yet). */
  readonly lastStep: number;
  /** The server refused a progress step (task not downloading): send no more. */
  readonly quiet: boolean;
  /** Link cuts met so far (the `disconnect` behaviour): the next cut is number cuts + 1. */
  readonly cuts: number;
  /** The `longSleep` behaviour's sleep is behind the device. */
  readonly slept?: boolean;
  /** The device still sends the Authorization it signed at this instant (a stale one, `longSleep.staleAuth`). */
  readonly authAt?: number;
  /** A progress step never acknowledged, to send again after the upgrade (`answerLoss.requeue`); 0 or absent: none. */
  readonly queued?: number;
  /** Download answers in a row that brought no new high of bytes held (absent: none). */
  readonly stalls?: number;
}

/** Counters that last a whole task run (until a 205 restarts the task). */
interface RunCounters {
  /** Whole-task retries used (after an md5 failure). */
  readonly runs: number;
  /** Fresh tokens fetched in this task's life (errno 12, download error 3). */
  readonly renewals: number;
}

/** Consecutive failures of the request in flight. */
interface Attempts {
  readonly attempts: number;
}

/** A progress step still queued (see OnenetDownload.queued). */
interface Queued {
  readonly queued?: number;
}

/** What a failure report leads to once delivered. */
export type FailureThen = 'gated' | 'failed' | 'no-progress' | 'retry-task';

export type OnenetAwaiting =
  | ({ readonly kind: 'reporting-version' } & Attempts)
  | ({
      readonly kind: 'checking';
      /** Step code of the failure that sent the device back to check (205), 0 if none. */
      readonly failure: number;
      /** A download to resume if the check offers the same package again. */
      readonly resume: OnenetDownload | null;
    } & Attempts &
      RunCounters)
  | ({ readonly kind: 'token-checking' } & OnenetDownload & Attempts & RunCounters)
  | ({ readonly kind: 'downloading' } & OnenetDownload & Attempts & RunCounters)
  | ({ readonly kind: 'reporting-progress'; readonly step: number } & OnenetDownload & Attempts & RunCounters)
  | ({ readonly kind: 'reporting-downloaded'; readonly task: OnenetTask } & Attempts & Queued)
  /** `duplicate`: the 201 before it was answered "task finished" (already recorded). */
  | ({ readonly kind: 'reporting-new-version'; readonly task: OnenetTask; readonly booted: string; readonly duplicate: boolean } & Attempts & Queued)
  | ({ readonly kind: 'reporting-upgraded'; readonly task: OnenetTask; readonly booted: string } & Attempts & Queued)
  /** Upgraded: sending the progress step its queue still held (`queued`), then done. */
  | ({ readonly kind: 'flushing'; readonly task: OnenetTask; readonly booted: string; readonly duplicate: boolean; readonly step: number } & Attempts)
  /**
   * Upgraded, checking again (`recheck`): `left` checks after this one; `stale` offers refused so
   * far (a task for the version it runs, or the task it finished).
   */
  | ({
      readonly kind: 'rechecking';
      readonly task: OnenetTask;
      readonly booted: string;
      readonly duplicate: boolean;
      readonly left: number;
      readonly stale: number;
    } & Attempts)
  | ({
      readonly kind: 'reporting-failure';
      readonly task: OnenetTask;
      readonly step: number;
      readonly then: FailureThen;
      readonly runs: number;
    } & Attempts);

export type OnenetSleeping =
  /** Waiting `until` before sending `then`'s request again. */
  | { readonly kind: 'waiting'; readonly until: number; readonly then: OnenetAwaiting }
  /** Flashing and booting `booted`. */
  | ({ readonly kind: 'rebooting'; readonly until: number; readonly task: OnenetTask; readonly booted: string } & Queued);

/** `stale-offer`: offered a task for the version it already runs; it took none (a server fault). */
export type OnenetFinalKind = 'succeeded' | 'up-to-date' | 'stale-offer' | 'failed' | 'no-progress' | 'rejected' | 'gated' | 'gave-up' | 'cancelled';

export interface OnenetFinal {
  readonly kind: OnenetFinalKind;
  /** What decided it: a server errno (< 100), a step code the device reported (≥ 100), 0 for none. */
  readonly code: number;
  /** The version the device runs at the end. */
  readonly version: string;
  /** The 201 was answered "task finished" (the version report had completed the task already). */
  readonly duplicateResult: boolean;
  /** Stale offers refused while checking again after success (`recheck`); absent: none. */
  readonly staleOffers?: number;
}

export type OnenetDeviceState = OnenetAwaiting | OnenetSleeping | OnenetFinal;
export type OnenetKind = OnenetDeviceState['kind'];
