/**
 * What a device leaves behind for the verdicts: every exchange it made (request, answer, the state
 * it went to), as facts the rules can read, plus its profile's behaviour and its final state.
 * Plain data: it crosses from the workers to the main thread by structured clone.
 *
 * Facts hold the task tokens a rule compares (is the token the device used its own?), but a token
 * never reaches a report: traces are written from the facts by `describe` functions that name a
 * token only by its order in the device's life (`token#1`, `token#2`).
 */
import type { Behaviour } from '../device/types.js';

/** The facts of one exchange; each dialect fills the fields its calls have. */
export interface ExchangeFacts {
  /**
   * Made by the probe before the fleet (src/engine/probe.ts), not by the device's own machine:
   * the server counted it, but the device's next request was not decided from its answer.
   */
  probe?: true;
  /** The device made the radio lose this transmission's answer (`fault.loseAnswer`). */
  lost?: boolean;
  /** The device's link dropped after this many bytes of the answer (`fault.cutAfterBytes`). */
  cutAfter?: number;
  // ---- the request
  token?: string;
  start?: number;
  end?: number;
  step?: number;
  version?: string;
  manuf?: string;
  model?: string;
  signal?: number;
  battery?: number;
  core?: string;
  /** The Authorization the request carried had expired when it was sent (its `et` was past). */
  authExpired?: boolean;
  // ---- the answer
  /** HTTP status, when an HTTP answer came. */
  status?: number;
  /** Transport failure code (ECONNRESET, ANSWER_LOST, TIMEOUT, ...). */
  net?: string;
  errno?: number;
  /** Luat code, or OneNET's one-byte download error. */
  code?: number;
  /** Bytes of body that arrived. */
  bytes?: number;
  /** First byte of a 206 (its Content-Range); 0 for a 200. */
  rangeStart?: number;
  /** Bytes the device holds in order after this answer. */
  held?: number;
  /** md5 of the whole image, once held. */
  md5?: string;
  /** The answer was cut short by the link. */
  cut?: boolean;
  /** A check's offer. */
  offerToken?: string;
  offerMd5?: string;
  offerSize?: number;
  offerSignal?: number;
  offerPower?: number;
  offerTarget?: string;
  /** Luat file answers: the version (X-Firmware-Version, else the file name) and md5 the answer announced. */
  fileVersion?: string;
  /** Luat file answers: which labels named a version (the profile's versionConfirm says which one counts). */
  fileLabels?: 'header' | 'filename' | 'both';
  expectedMd5?: string;
  /** hawkBit DDI: the action a request or answer names, a feedback's execution / finished, an offer's link. */
  action?: number;
  execution?: string;
  finished?: string;
  offerAction?: number;
  offerLink?: 'deploymentBase' | 'cancelAction';
  // ---- LwM2M (the device answers the server: its calls come as answers to a listen)
  /** The server's call (`execute /5/0/2`, `write /5/0/1`) a listen brought or a reply answered. */
  call?: string;
  /** CoAP code of the answer (to the device's request, or the device's reply to the server). */
  coapCode?: string;
  /** Object 5 State and Update Result when the call came, or at a registration. */
  fwState?: number;
  fwResult?: number;
  /** Block asks: the Block2 number asked for. */
  block?: number;
  /** The device left this server request unacknowledged on purpose (its cohort drops ACKs). */
  dropped?: boolean;
  /** Server messages the device saw: the virtual instants (ms) of each one's transmissions, and whether it answered. */
  seen?: { at: number[]; answered: boolean; asleep?: boolean; cut?: boolean }[];
  /** LwM2M: the device closed its socket for this sleep (sleepingSocket: close), so it could witness nothing sent to it asleep. */
  released?: boolean;
  /** LwM2M registrations: the binding the device registered with (`UQ`: queue mode). */
  binding?: string;
  /** LwM2M: the repository path (`/fw/{package}`) of a Block2 download the answer completed. */
  path?: string;
}

export interface Exchange {
  /**
   * Virtual ms since the run's origin: when the device decided to send (the instant its machine
   * was given), when the request went out, and when its answer came.
   */
  decided: number;
  sent: number;
  answered: number;
  /** Operation (histogram name). */
  op: string;
  /** The dialect's outcome label (`errno:0`, `bytes`, `net:ANSWER_LOST`, `code:43`). */
  outcome: string;
  /** The state kind the device went to on this answer. */
  state: string;
  facts: ExchangeFacts;
}

/** A device's final state, as far as the rules read it. */
export interface FinalState {
  kind: string;
  /** OneNET: the errno or step code that decided it; Luat: the code. */
  code?: number;
  version?: string;
  /** OneNET: the 201 was answered "task finished" (already recorded). */
  duplicateResult?: boolean;
  /** Stale offers the device refused after its success (`recheck`). */
  staleOffers?: number;
  /** Luat: succeeded without anything confirming the served version. */
  unconfirmed?: true;
}

export interface DeviceEvidence {
  id: string;
  /** Fleet-wide index. */
  index: number;
  cohort: string;
  /** The device's own values the rules compare with (its thresholds, its version). */
  profile: { version: string; manuf: string; model: string; core: string; signal: number; battery: number; taskType: 1 | 2 };
  behaviour: Behaviour;
  /** Absent when the run ended before the device did. */
  final?: FinalState;
  exchanges: Exchange[];
  /** Exchanges past the per-device cap were not kept (the rules then judge only what they see). */
  truncated: number;
}

/**
 * What a worker collected: every device that made an exchange, in its spill file (a worker's run)
 * or in `devices` (in memory: tests, small callers). Never both; every device is in one of them.
 */
export interface EvidenceBatch {
  devices?: DeviceEvidence[];
  /** JSON lines of DeviceEvidence (./spill.ts). */
  file?: string;
  /** Devices that made at least one exchange. */
  seen: number;
  /** Devices stored (in the file or the list): equal to `seen` unless the worker failed mid-way. */
  stored: number;
  /** Virtual instant of the run's origin (exchange times are relative to it). */
  originVirtual: number;
}

/** One line of a trace as reports show it. */
export interface TraceLine {
  t: number;
  request: string;
  answer: string;
  state: string;
}

/** A dialect's reading of its own requests and answers, for the collector and the traces. */
export interface EvidenceCodec<R, A, Res = import('../dialect/types.js').HttpResult> {
  /** The facts of one exchange. `authTtlSec`: lifetime of the Authorization the dialect signs. */
  factsOf(request: R, result: Res, answer: A, context: { sentVirtual: number; authTtlSec: number | undefined }): ExchangeFacts;
  /** The request and answer in words (`tokenName` turns a token into `token#k`). */
  describe(op: string, outcome: string, facts: ExchangeFacts, tokenName: (token: string) => string): { request: string; answer: string };
  /** What a device's transport still held for it when the run ended (Transport.leftover), as facts; absent: nothing is kept. */
  factsOfLeftover?(leftover: Res): ExchangeFacts;
}
