/**
 * The contract of a virtual device: a pure state machine per dialect. A machine never does I/O and
 * never reads a clock; it is given the virtual time `now` (ms) and answers with its next state and
 * one action for the engine to carry out. The engine owns timers, sockets and bytes.
 */

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

/** Faults a cohort gives its devices; all off by default. */
export interface Behaviour {
  /** The assembled image never matches its md5 (reports 205 and tries again). */
  readonly corruptDownload: boolean;
  /** After flashing, the device boots back into its old version. */
  readonly rebootIntoOld: boolean;
}

export const NO_FAULTS: Behaviour = { corruptDownload: false, rebootIntoOld: false };

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
  /** Luat: virtual ms to wait after a 43 before asking again (the docs say 1–3 minutes). */
  readonly waitBackoffMs: number;
}

export const DEFAULT_DEVICE_SETTINGS: DeviceSettings = {
  chunkSize: 16 * 1024,
  progressEvery: 25,
  requestTimeoutMs: 10_000,
  rebootMs: 5_000,
  maxAttempts: 3,
  retryDelayMs: 60_000,
  waitBackoffMs: 90_000,
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
