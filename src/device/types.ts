/**
 * The contract of a virtual device: a pure state machine per dialect. A machine never does I/O and
 * never reads a clock; it is given the virtual time `now` (ms) and answers with its next state and
 * one action for the engine to carry out. The engine owns timers, sockets and bytes.
 */

import type { VersionConfirm } from '../protocol/profile.js';
import type { Lwm2mDeviceSettings } from './lwm2m/types.js';

/** What the engine knows of one device: drawn once from its cohort and seed, never mutated. */
export interface DeviceProfile {
  /** Position in the whole fleet; also the device's random stream. */
  readonly index: number;
  /** dev_id (OneNET) or IMEI (Luat). */
  readonly id: string;
  readonly cohort: string;
  /** Version the device runs when the run starts. */
  readonly version: string;
  /** OneNET manufacturer / model codes; Luat core version in `core`. */
  readonly manuf: string;
  readonly model: string;
  readonly core: string;
  /** OneNET check `type` the device asks for: 1 FOTA (module), 2 SOTA (application). */
  readonly taskType: 1 | 2;
  /** Battery, percent 0–100. */
  readonly battery: number;
  /** Signal as AT+CSQ rssi: 0–31, 99 = none (dBm = −113 + 2 × rssi). */
  readonly signal: number;
  /** Seed of the device's own random draws (jitter, backoff factors). */
  readonly seed: number;
  readonly behaviour: Behaviour;
}

/**
 * Faults a cohort gives its devices; all off by default. Each is drawn once per device from the
 * cohort's shares (scenario/fleet.ts); the machines read them and express them as `fault` on their
 * requests or as their own sleeps and reports. The optional ones are absent when off.
 */
export interface Behaviour {
  /** The assembled image never matches its md5 (reports 205 and tries again). */
  readonly corruptDownload: boolean;
  /** After flashing, the device boots back into its old version. */
  readonly rebootIntoOld: boolean;
  /** Answers lost on the radio link: the server processed the request, the device never hears. */
  readonly answerLoss?: AnswerLoss;
  /** The link drops in the middle of a download; the device reconnects and resumes. */
  readonly disconnect?: Disconnect;
  /** OneNET: the battery runs out once this share of the package is held (reports 105). */
  readonly batteryDies?: { readonly atShare: number };
  /** OneNET: no room for the package (reports 102 before downloading). */
  readonly storageFull?: boolean;
  /** OneNET: flashing the verified image fails (reports 202 low battery or 203 out of memory). */
  readonly flashFails?: { readonly code: 202 | 203 };
  /** OneNET: sleeps this long in the middle of its download (past the task token's 2 days). */
  readonly longSleep?: LongSleep;
  /** Luat: keeps asking after a 40 (loop ban), this many more times, before it gives up. */
  readonly askAfterBan?: { readonly asks: number };
  /** LwM2M: leaves this share (0–1) of the server's confirmable requests unacknowledged, drawn per request; the server retransmits. */
  readonly dropAcks?: { readonly rate: number };
  /** LwM2M: after each PSM sleep its next datagram leaves from a new source port (NAT rebinding). */
  readonly natRebind?: boolean;
}

export interface AnswerLoss {
  /** Chance that one transmission's answer is lost, 0–1, drawn per transmission from the device seed. */
  readonly rate: number;
  /** Operations (histogram names) whose answers may be lost. */
  readonly ops: readonly string[];
  /**
   * OneNET: a progress report never acknowledged (every transmission's answer lost) is kept and
   * sent once more after the upgrade, as store-and-forward clients flush their queue.
   */
  readonly requeue: boolean;
}

/** Where the link drops: a byte offset, a share of the file, or a random point of what is left. */
export type CutPoint = { readonly kind: 'bytes'; readonly bytes: number } | { readonly kind: 'share'; readonly share: number } | { readonly kind: 'random' };

export interface Disconnect {
  readonly at: CutPoint;
  /** Cuts in one download: cut k (1-based) falls at k × `at` (bytes, share), or at random in what is left. */
  readonly times: number;
  /**
   * Virtual ms without a link after a cut. The device then sends again, and its radio (the
   * engine's radio model: a PSM device asleep waits for its TAU wake, an idle one pays the RRC
   * set-up) decides when the request goes out.
   */
  readonly reconnectMs: number;
}

export interface LongSleep {
  /** Virtual ms slept once the first chunk is held. */
  readonly sleepMs: number;
  /**
   * The device keeps the Authorization it signed before the sleep (its `et` long past) until the
   * platform refuses it (errno 1), then signs a fresh one.
   */
  readonly staleAuth: boolean;
}

export const NO_FAULTS: Behaviour = { corruptDownload: false, rebootIntoOld: false };

/** RFC 7252 §4.2 transmission parameters: a lost answer is retransmitted with exponential backoff. */
export interface RetransmitSettings {
  /** ACK_TIMEOUT, virtual ms. */
  readonly ackTimeoutMs: number;
  /** ACK_RANDOM_FACTOR (≥ 1): the first timeout is uniform in [ACK_TIMEOUT, ACK_TIMEOUT × factor]. */
  readonly randomFactor: number;
  /** MAX_RETRANSMIT: retransmissions after the first transmission; 0 turns retransmitting off. */
  readonly maxRetransmit: number;
}

/** RFC 7252's defaults: 2 s, 1.5, 4. */
export const COAP_RETRANSMIT: RetransmitSettings = { ackTimeoutMs: 2_000, randomFactor: 1.5, maxRetransmit: 4 };

/** Settings of a run shared by every device of a cohort (the scenario's knobs). */
export interface DeviceSettings {
  /** Bytes per ranged download request. */
  readonly chunkSize: number;
  /** Report download progress every this many percent (0 = never). */
  readonly progressEvery: number;
  /** How long the engine waits for an answer before it gives up on a request, real ms. */
  readonly requestTimeoutMs: number;
  /** Virtual ms a reboot takes. */
  readonly rebootMs: number;
  /** Retries after a network error or a failed attempt when the server gives no `retry`. */
  readonly maxAttempts: number;
  /** Virtual ms between attempts when the server gives no `interval`. */
  readonly retryDelayMs: number;
  /** Download answers in a row without a new high of bytes held after which the device gives up (`no-progress`). */
  readonly maxStalledAttempts: number;
  /** Luat: virtual ms to wait after a 43 before asking again (the docs say 1–3 minutes). */
  readonly waitBackoffMs: number;
  /** What a device does when an answer does not come (RFC 7252 §4.2). */
  readonly retransmit: RetransmitSettings;
  /** Luat: how the device confirms the version it flashed (target profile; absent: re-ask). */
  readonly versionConfirm?: VersionConfirm;
  /** Luat: the version a served file installs when the file names none (target profile). */
  readonly firmwareVersion?: string;
  /** Checks again after a successful upgrade (the cohort's `recheck`); absent: never. */
  readonly recheck?: Recheck;
  /** LwM2M: registration, queue mode and PSM knobs (absent: DEFAULT_LWM2M_SETTINGS). */
  readonly lwm2m?: Lwm2mDeviceSettings;
  /** LwM2M: Observe notifications go as CON (the cohort's `settings.lwm2m.confirmableNotify`); absent: NON. */
  readonly confirmableNotify?: boolean;
}

/**
 * Checks after success: a server that still offers the task (or offers the version the device
 * runs) is caught only by a device that asks again. `times` checks, `everyMs` virtual ms apart.
 */
export interface Recheck {
  readonly times: number;
  readonly everyMs: number;
}

export const DEFAULT_DEVICE_SETTINGS: DeviceSettings = {
  chunkSize: 16 * 1024,
  progressEvery: 25,
  requestTimeoutMs: 10_000,
  rebootMs: 5_000,
  maxAttempts: 3,
  retryDelayMs: 60_000,
  maxStalledAttempts: 5,
  waitBackoffMs: 90_000,
  retransmit: COAP_RETRANSMIT,
};

/** A request the device wants made; `R` is the dialect's own request union. */
export interface SendAction<R> {
  readonly type: 'send';
  readonly request: R;
}

export type Action<R> =
  | SendAction<R>
  /** Do nothing until virtual time `until`, then call onTimer. */
  | { readonly type: 'sleep'; readonly until: number }
  /** The device is done for this run; its state's kind is its final state. */
  | { readonly type: 'stop' };

export interface Step<S, R> {
  readonly state: S;
  readonly action: Action<R>;
}

/**
 * A dialect's device: `S` its state union (each member has a `kind`), `R` its requests, `A` the
 * answers the dialect decodes from the wire (including transport failures).
 */
export interface DeviceMachine<S extends { readonly kind: string }, R, A> {
  start(profile: DeviceProfile, settings: DeviceSettings, now: number): Step<S, R>;
  onTimer(state: S, profile: DeviceProfile, settings: DeviceSettings, now: number): Step<S, R>;
  onAnswer(state: S, answer: A, profile: DeviceProfile, settings: DeviceSettings, now: number): Step<S, R>;
}

/** Legal successor kinds of each kind, and which kinds a run may end in. */
export interface TransitionRules {
  readonly kinds: readonly string[];
  readonly next: Readonly<Record<string, readonly string[]>>;
  readonly initial: readonly string[];
  readonly final: readonly string[];
}
