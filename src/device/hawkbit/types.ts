/**
 * The hawkBit DDI device's vocabulary: its requests, the decoded answers and its state union.
 * Shared by the machine (./machine.ts) and the wire codec (src/dialect/hawkbit/wire.ts).
 */
import type { RequestFault } from '../../dialect/types.js';
import type { Execution, Finished, Handling, MaintenanceWindow } from '../../protocol/hawkbit.js';

/** Histogram names, one per DDI resource the device calls. */
export const HAWKBIT_OPERATIONS = ['poll', 'deployment', 'download', 'feedback', 'cancel', 'cancelFeedback', 'config'] as const;
export type HawkbitOperation = (typeof HAWKBIT_OPERATIONS)[number];

interface Base {
  /** The controller id. */
  readonly id: string;
  readonly fault?: RequestFault;
}

export interface FeedbackReport {
  readonly execution: Execution;
  readonly finished: Finished;
  readonly progress?: { readonly cnt: number; readonly of: number };
  readonly details?: readonly string[];
}

export type HawkbitRequest =
  | (Base & { readonly op: 'poll' })
  | (Base & { readonly op: 'config'; readonly path: string; readonly data: Readonly<Record<string, string>> })
  | (Base & { readonly op: 'deployment'; readonly path: string; readonly action: number })
  | (Base & { readonly op: 'download'; readonly path: string; readonly action: number; readonly start: number; readonly end: number; readonly total: number })
  | (Base & { readonly op: 'feedback'; readonly action: number; readonly report: FeedbackReport })
  | (Base & { readonly op: 'cancel'; readonly path: string; readonly action: number })
  | (Base & { readonly op: 'cancelFeedback'; readonly action: number; readonly report: FeedbackReport });

/** A link the poll offered: its path on the target (the href's origin is not followed) and action id. */
export interface ActionLink {
  readonly path: string;
  readonly action: number;
}

export interface Artifact {
  readonly path: string;
  readonly filename: string;
  readonly size: number;
  readonly md5: string;
  readonly sha1?: string;
  readonly sha256?: string;
}

export type HawkbitAnswer =
  | { readonly type: 'poll'; readonly sleepMs: number; readonly deployment?: ActionLink; readonly cancel?: ActionLink; readonly config?: string }
  | {
      readonly type: 'deployment';
      readonly action: number;
      readonly download: Handling;
      readonly update: Handling;
      readonly window?: MaintenanceWindow;
      /** The first artifact of the first chunk (the device flashes one image). */
      readonly artifact: Artifact;
      readonly version: string;
    }
  | { readonly type: 'cancel'; readonly action: number; readonly stopId: number }
  /** 200 to a feedback or configData. */
  | { readonly type: 'ok' }
  /** Artifact bytes: what the device holds in order, its md5 once whole, whether the link cut it. */
  | { readonly type: 'file'; readonly status: number; readonly held: number; readonly md5?: string; readonly cut?: boolean }
  /** A DDI status other than 200 (400, 401, 403, 404, 405, 409, 410, 429). */
  | { readonly type: 'status'; readonly status: number }
  | { readonly type: 'http'; readonly status: number }
  /** A transport failure; `held`: a download broken off mid-body kept these bytes. */
  | { readonly type: 'net'; readonly code: string; readonly held?: number; readonly md5?: string }
  | { readonly type: 'garbage' }
  | { readonly type: 'protocol'; readonly label: string; readonly reason: string };

/** The action the device works on. */
export interface Job {
  readonly action: number;
  readonly deploymentPath: string;
  readonly download: Handling;
  readonly update: Handling;
  readonly artifact: Artifact;
  readonly version: string;
  /** Bytes held in order, and the most ever held. */
  readonly held: number;
  readonly best: number;
  /** Link cuts enacted so far (the `disconnect` behaviour). */
  readonly cuts: number;
  /** The `longSleep` behaviour done. */
  readonly slept: boolean;
  /** Last progress percent reported. */
  readonly reported: number;
  /** Feedback `downloaded` accepted. */
  readonly downloaded: boolean;
  /** Status reports refused by the quota (403): no more progress is sent. */
  readonly quotaHit: boolean;
  /** `scheduled` reported (the update waits for the maintenance window). */
  readonly scheduled: boolean;
}

/** What every non-final state knows. */
export interface Progress {
  readonly version: string;
  /** Requests sent so far (bounded). */
  readonly requests: number;
  /** Failed requests in a row. */
  readonly attempts: number;
  /** Polls in a row that offered nothing. */
  readonly idlePolls: number;
  /** Download answers in a row without a new high of bytes held. */
  readonly stalled: number;
  /** Random draws used (429 backoff jitter). */
  readonly draws: number;
  /** Attributes sent (configData accepted, or refused for good). */
  readonly configSent: boolean;
  /** Last polling sleep the server gave, virtual ms. */
  readonly sleepMs: number;
  readonly job?: Job;
  /** Actions this device closed or saw cancelled: offered again, they are stale (refused, counted). */
  readonly closed: readonly number[];
  readonly staleOffers: number;
}

/** What to do once a feedback is accepted. */
export type AfterReport =
  | { readonly kind: 'download' }
  | { readonly kind: 'install' }
  | { readonly kind: 'poll' }
  /** Sleep until the next poll (the server's sleep). */
  | { readonly kind: 'sleep' }
  | { readonly kind: 'end'; readonly final: HawkbitFinalKind; readonly why: string };

export type HawkbitAwaiting =
  | ({ readonly kind: 'polling'; readonly request: HawkbitRequest } & Progress)
  | ({ readonly kind: 'configuring'; readonly request: HawkbitRequest; readonly links: PollLinks } & Progress)
  | ({ readonly kind: 'fetching'; readonly request: HawkbitRequest } & Progress)
  | ({ readonly kind: 'downloading'; readonly request: HawkbitRequest } & Progress)
  | ({ readonly kind: 'reporting'; readonly request: Extract<HawkbitRequest, { op: 'feedback' | 'cancelFeedback' }>; readonly then: AfterReport } & Progress)
  | ({ readonly kind: 'cancelling'; readonly request: HawkbitRequest } & Progress);

/** An awaiting state without its progress: what a device backing off sends again. */
export type Retry = HawkbitAwaiting extends infer A ? (A extends HawkbitAwaiting ? Omit<A, keyof Progress> : never) : never;

export interface PollLinks {
  readonly deployment?: ActionLink;
  readonly cancel?: ActionLink;
}

export type HawkbitSleeping =
  /** Until the next poll (`config.polling.sleep`). */
  | ({ readonly kind: 'sleeping'; readonly until: number } & Progress)
  /** After a failure or a 429: then `retry` (the request it could not make, as it was waiting on it). */
  | ({ readonly kind: 'backing-off'; readonly until: number; readonly retry: Retry } & Progress)
  /** The link dropped mid-download; the device reconnects and resumes. */
  | ({ readonly kind: 'reconnecting'; readonly until: number } & Progress)
  /** The `longSleep` behaviour mid-download. */
  | ({ readonly kind: 'dozing'; readonly until: number } & Progress)
  /** Flashing and rebooting. */
  | ({ readonly kind: 'installing'; readonly until: number } & Progress);

export type HawkbitFinalKind = 'succeeded' | 'failed' | 'cancelled' | 'rejected' | 'gated' | 'idle' | 'gave-up' | 'no-progress';

export interface HawkbitFinal {
  readonly kind: HawkbitFinalKind;
  /** The HTTP status that decided it; 0 when none did. */
  readonly code: number;
  readonly version: string;
  readonly why?: string;
  /** The closed feedback was answered 410: the server had it already (a lost answer's retransmission). */
  readonly duplicateResult?: true;
  readonly staleOffers?: number;
}

export type HawkbitDeviceState = HawkbitAwaiting | HawkbitSleeping | HawkbitFinal;
export type HawkbitKind = HawkbitDeviceState['kind'];
