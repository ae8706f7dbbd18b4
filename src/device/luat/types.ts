/**
 * The Luat device's vocabulary: its one request, the decoded answers and its state union.
 * Shared by the machine and the wire codec.
 */

import type { RequestFault } from '../../dialect/types.js';

/** `GET /api/site/firmware_upgrade`: the project key and firmware name come from the target. */
export interface LuatRequest {
  readonly op: 'ask';
  /** Field faults the device brings to this transmission (a lost answer). */
  readonly fault?: RequestFault;
  readonly imei: string;
  /** Script version `x.y.z` the device runs. */
  readonly version: string;
  /** Core (firmware) version; empty = not sent. */
  readonly core: string;
}

/** The histogram operation of every Luat request. */
export const LUAT_OPERATION = 'luat';

export type LuatAnswer =
  /**
   * HTTP 200/206 with a body: the upgrade file. `held`/`md5`: what arrived (the engine's digest);
   * `version` and `expectedMd5`: what the answer says it is, when it says.
   */
  | {
      readonly type: 'file';
      readonly held: number;
      readonly md5?: string;
      /** The version an `X-Firmware-Version` header names. */
      readonly version?: string;
      /** The version the Content-Disposition file name ends in (`_x.y.z`). */
      readonly nameVersion?: string;
      readonly expectedMd5?: string;
    }
  /** No update: a JSON `{code, msg}`. */
  | { readonly type: 'code'; readonly code: number }
  | { readonly type: 'http'; readonly status: number }
  | { readonly type: 'net'; readonly code: string }
  | { readonly type: 'garbage' }
  /** JSON, but not the spec's shape (see dialect/decode.ts): a failed request. */
  | { readonly type: 'protocol'; readonly label: string; readonly reason: string };

/** What every non-final state knows. */
interface LuatProgress {
  /** The version the device runs now. */
  readonly version: string;
  /** Requests sent so far (bounded by LUAT_MAX_ASKS). */
  readonly asks: number;
  /** Consecutive failed requests (transport, unreadable, unknown code). */
  readonly attempts: number;
  /** Files flashed so far. */
  readonly flashes: number;
  /** Random draws used so far (the counter of the device's backoff stream). */
  readonly draws: number;
  /** Loop-ban answers (40) received so far. */
  readonly bans: number;
  /**
   * Upgraded and confirmed, asking again (`recheck`): `left` asks after the one in flight, `stale`
   * files refused so far (a file for the version it runs). Absent before success.
   */
  readonly recheck?: { readonly left: number; readonly stale: number };
}

export type LuatAwaiting = { readonly kind: 'requesting' } & LuatProgress;

export type LuatSleeping =
  /** Told 43 (diff package being built): asks again at `until`. */
  | ({ readonly kind: 'waiting'; readonly until: number } & LuatProgress)
  /** A request failed: asks again at `until`. */
  | ({ readonly kind: 'retrying'; readonly until: number } & LuatProgress)
  /**
   * Flashing and booting `version`; then `confirm`: `re-ask` the server (a 27 confirms), trust the
   * file's `label`, or end `unconfirmed` (`why` says why).
   */
  | ({ readonly kind: 'rebooting'; readonly until: number; readonly confirm: LuatConfirmStep; readonly why?: string } & LuatProgress)
  /** Upgraded: asks again at `until` (`recheck`). */
  | ({ readonly kind: 'rechecking'; readonly until: number } & LuatProgress);

export type LuatConfirmStep = 're-ask' | 'label' | 'unconfirmed';

/** `stale-offer`: sent a file of the version it already runs; it flashed nothing (a server fault). */
export type LuatFinalKind = 'succeeded' | 'up-to-date' | 'stale-offer' | 'failed' | 'banned' | 'rejected' | 'gave-up';

export interface LuatFinal {
  readonly kind: LuatFinalKind;
  /** The Luat code that decided it; 0 when none did (transport, unconfirmed flash). */
  readonly code: number;
  /** The version the device runs at the end; empty when a flashed file did not name its version. */
  readonly version: string;
  /** Stale files refused after success (`recheck`, or the confirming ask answered with the same file); absent: none. */
  readonly staleOffers?: number;
  /** Succeeded without anything confirming the served version (see VersionConfirm). */
  readonly unconfirmed?: true;
  /** Why it ended so, when the code alone does not say (an unconfirmed or failed flash). */
  readonly why?: string;
}

export type LuatDeviceState = LuatAwaiting | LuatSleeping | LuatFinal;
export type LuatKind = LuatDeviceState['kind'];
