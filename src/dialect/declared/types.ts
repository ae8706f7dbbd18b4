/**
 * The vocabulary of a declared dialect's devices: what they ask (a call of the file, or a chunk of
 * the image), what they are told (the abstract events the file maps answers onto) and what they
 * are (one state shape; `kind` is the state).
 */
import type { RequestFault } from '../types.js';
import type { DeclaredEvent, DeclaredDialectFile } from './schema.js';

/** A dialect file as checked (plain data: it travels to the workers inside the scenario). */
export interface DeclaredSpec {
  readonly file: string;
  readonly dialect: DeclaredDialectFile;
}

export const DOWNLOAD_CALL = '#download';

/** An update offered: the four fields every flow needs, and whatever else the file names. */
export interface DeclaredOffer {
  readonly version: string;
  readonly size: number;
  readonly hash: string;
  readonly url?: string;
  readonly extra: Readonly<Record<string, string>>;
}

/** What the device is and has, as templates see it (`{{device.*}}`). */
export interface DeviceValues {
  readonly id: string;
  readonly index: number;
  readonly cohort: string;
  readonly version: string;
  readonly manuf: string;
  readonly model: string;
  readonly core: string;
  readonly taskType: number;
  readonly battery: number;
  readonly signal: number;
}

export interface DeclaredRequest {
  /** The call's name in the file, or DOWNLOAD_CALL. */
  readonly call: string;
  readonly device: DeviceValues;
  readonly offer?: DeclaredOffer;
  readonly progress?: { readonly step: number };
  readonly failure?: { readonly reason: string };
  /** A chunk: bytes start..end (inclusive) of `total`. */
  readonly download?: { readonly start: number; readonly end: number; readonly total: number };
  readonly fault?: RequestFault;
}

export type DeclaredAnswer =
  /** A call answered; `event` is what the file maps the answer onto. */
  | { readonly type: 'event'; readonly event: DeclaredEvent; readonly outcome: string; readonly offer?: DeclaredOffer; readonly waitSec?: number; readonly reason?: string }
  /** Image bytes arrived: `held` in order now (the engine's word), `digest` once all are held; `cut`: the link dropped. */
  | { readonly type: 'bytes'; readonly outcome: string; readonly held: number; readonly digest?: string; readonly cut?: boolean }
  /** No (whole) answer; a chunk broken off mid-body carries what is held. */
  | { readonly type: 'net'; readonly outcome: string; readonly code: string; readonly held?: number; readonly digest?: string };

export const DECLARED_KINDS = [
  'starting',
  'checking',
  'waiting',
  'retrying',
  'accepting',
  'downloading',
  'reporting-progress',
  'reconnecting',
  'reporting-downloaded',
  'rebooting',
  'confirming',
  'reporting-failure',
  'succeeded',
  'up-to-date',
  'rejected',
  'failed',
  'gave-up',
] as const;
export type DeclaredKind = (typeof DECLARED_KINDS)[number];

/** What a failure report leads to. */
export type AfterFailure = 'retry-task' | 'failed' | 'gave-up' | 'rejected';

export interface DeclaredState {
  readonly kind: DeclaredKind;
  /** Version the device runs. */
  readonly version: string;
  /** Position in the current list of calls (start, accept, downloaded, installed). */
  readonly index: number;
  readonly offer?: DeclaredOffer;
  readonly held: number;
  readonly digest?: string;
  readonly lastStep: number;
  /** Failed sends of the current request in a row. */
  readonly attempts: number;
  /** Times the whole task was started over (a hash mismatch). */
  readonly runs: number;
  readonly cuts: number;
  readonly stalled: number;
  /** `wait` answers taken so far. */
  readonly waits: number;
  /** A sleep's end (virtual ms). */
  readonly until?: number;
  /** The request a retry sends again, and the kind it is sent in. */
  readonly pending?: DeclaredRequest;
  readonly back?: DeclaredKind;
  readonly then?: AfterFailure;
  readonly reason?: string;
}
