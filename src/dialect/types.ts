/**
 * A dialect speaks one OTA server protocol. It turns a device's typed requests into its
 * transport's messages (HTTP's by default) and the answers (or transport failures) back into typed
 * answers. Pure: the engine's transport does the sending. A new protocol comes as one more
 * `DialectPlugin`, declaring its transport and owning its `target.<name>` settings; no shared type
 * names a platform.
 */
import type { DeviceMachine, TransitionRules } from '../device/types.js';
import type { EvidenceCodec } from '../verdicts/evidence.js';

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Path with its query string. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * Set on firmware downloads: the engine assembles these bytes and digests them (md5, and with
   * `hash` that algorithm too, reported as `digest`).
   */
  readonly download?: { readonly total: number; readonly hash?: 'md5' | 'sha1' | 'sha256' };
  /** Field faults the device brings to this request; the engine enacts them. */
  readonly fault?: RequestFault;
  /**
   * The largest answer body this request can legitimately get (the dialect knows its wire: a
   * JSON answer is small, a download is bounded by the file it asks for). The network cuts a
   * bigger one off as `BODY_TOO_LARGE` instead of buffering it; absent: the network's default.
   */
  readonly maxAnswerBytes?: number;
}

export interface RequestFault {
  /**
   * The request reaches the server and is processed, but the answer never reaches the device
   * (lost on the radio link): the engine waits for the answer's headers, then drops the
   * connection and reports `ANSWER_LOST`.
   */
  readonly loseAnswer?: boolean;
  /** The link drops after this many bytes of the answer's body: the bytes before it are kept. */
  readonly cutAfterBytes?: number;
}

/** An answer as it arrived: status, headers, body and, for downloads, what the device now holds. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The body (for downloads: this chunk's bytes). */
  readonly body: Uint8Array;
  /** Downloads only: bytes the device now holds in order, and their md5 once all are held. */
  readonly held?: number;
  readonly md5?: string;
  /** Downloads that asked for a `hash`: the hex digest of the bytes held, once all are held. */
  readonly digest?: string;
}

/** What came back, as the network layer saw it. */
export type HttpResult =
  | (HttpAnswer & {
      readonly kind: 'response';
      /** The link dropped before the whole body arrived (a `cutAfterBytes` fault): `body` is the part that did. */
      readonly cut?: boolean;
    })
  | {
      readonly kind: 'error';
      /** ECONNREFUSED, ECONNRESET, TIMEOUT, EPIPE, BAD_RESPONSE, ANSWER_LOST, ABORTED, ... */
      readonly code: string;
      /**
       * A 2xx answer broken off mid-body (a reset): the part that arrived and, for a download, the
       * bytes the device now holds in order with it (and their md5 once all are held).
       */
      readonly partial?: HttpAnswer;
    };

import type { TargetProfile } from '../protocol/profile.js';
import type { DeviceSettings } from '../device/types.js';

/**
 * How a dialect's messages travel. The engine picks the transport its plugin declares
 * (engine/transports.ts); `http` speaks HttpRequest / HttpResult, another transport its own pair.
 */
export type TransportKind = 'http' | 'coap';

/** Where a dialect's settings are read: the scenario file (named in messages) and the environment (secrets). */
export interface TargetContext {
  readonly file: string;
  readonly env: NodeJS.ProcessEnv;
}

/** What the scenario loader hands a dialect's `resolve`: a way to fail at the block's place, and the command line's values. */
export interface TargetLoadContext {
  readonly file: string;
  /** Throws a ConfigError `file:line:col: target.<dialect>.<path>: message` (an empty path names the block). */
  fail(path: string, message: string): never;
  /** Values given on the command line that a dialect may take, by name (`--product-id` gives `productId`). */
  readonly overrides: Readonly<Record<string, string>>;
}

/**
 * The dialect's own part of a scenario's `target:` block, `target.<dialect name>`, and what the
 * devices need of it at run time (keys, ids, names: its settings `T`, never logged). The engine
 * carries `T` opaque to the workers, so it must be structured-cloneable (plain data).
 */
export interface DialectTargetSpec<T = unknown> {
  /**
   * JSON Schema (TypeBox or plain) of `target.<dialect>`, checked at load with file:line errors
   * (defaults it declares are filled in). Absent: any object is taken.
   */
  readonly schema?: object;
  /**
   * After the schema: what a schema cannot say (units, command-line overrides, a block the dialect
   * cannot do without: `ctx.fail('field', 'required by dialect "x"')` when `block` is undefined).
   * Returns the block as the scenario keeps it (`Scenario.target.block`). Absent: kept as validated.
   */
  resolve?(block: unknown, ctx: TargetLoadContext): unknown;
  /** Settings for a target of the user's (`--target`): secrets through resolveSecret; a ConfigError naming the field. */
  fromScenario(block: unknown, ctx: TargetContext): T;
  /** Settings from a reference server's admin catalog (GET /admin/catalog), keys discovered; absent: fromScenario. */
  fromCatalog?(block: unknown, catalog: unknown, ctx: TargetContext): T;
  /** What the devices follow of the resolved target profile. */
  withProfile?(settings: T, profile: TargetProfile): T;
  /** Device settings the target adds to every cohort's (engine/target-settings.ts). */
  deviceSettings?(settings: T): Partial<DeviceSettings> | undefined;
  /** The firmware the devices ask for, by which a reference server's catalog is read for the profile. */
  firmwareName?(block: unknown): string | undefined;
  /** Lifetime (s) of the Authorization the dialect signs, for the verdicts' evidence; absent: none expires. */
  authTtlSec?(settings: T): number | undefined;
  /** Where the run's secret came from, for a refused probe's message (never the secret itself). */
  secretSource?(block: unknown, ctx: TargetContext): string;
  /**
   * Sockets `devices` devices hold for the whole run (the open-files check up front counts them):
   * absent, one each on a socket transport; 0 when they hold one only while awake.
   */
  socketsHeld?(block: unknown, devices: number): number;
}

/** Settings of a dialect with no target spec (a plugin that needs none). */
export const NO_TARGET_SETTINGS: Readonly<Record<string, never>> = Object.freeze({});

/**
 * `Req` / `Res`: the transport's message and result types (HTTP's by default); `T` the settings
 * its target spec makes.
 */
export interface Wire<R, A, T = unknown, Req = HttpRequest, Res = HttpResult> {
  encode(request: R, settings: T, now: number): Req;
  decode(request: R, result: Res): A;
  /** Operation (histogram) a request belongs to. */
  operationOf(request: R): string;
  /** Outcome label of an answer for the counts: `errno:0`, `code:43`, `http:503`, `net:ECONNRESET`. */
  outcomeOf(answer: A): string;
  /** Whether an answer counts as an error of its operation (transport, 5xx, unexpected). */
  isError(answer: A): boolean;
  /**
   * Whether a request sends nothing and only waits (a listen window for the server's next
   * request, going to sleep): it takes no in-flight slot, or a fleet of listeners would hold every
   * slot for their whole awake windows and make the harness late for real requests. Absent: none.
   */
  waits?(request: R): boolean;
}

/**
 * `T`: the settings its target spec makes; `Req` / `Res`: its transport's message and result
 * (HttpRequest / HttpResult for `http`; `unknown` where the engine handles any transport).
 */
export interface DialectPlugin<S extends { readonly kind: string } = { readonly kind: string }, R = unknown, A = unknown, T = unknown, Req = unknown, Res = unknown> {
  readonly name: string;
  /** How its messages travel; absent: `http`. */
  readonly transport?: TransportKind;
  /** Its `target.<name>` block and settings; absent: no block, empty settings. */
  readonly target?: DialectTargetSpec<T>;
  readonly operations: readonly string[];
  readonly machine: DeviceMachine<S, R, A>;
  readonly wire: Wire<R, A, T, Req, Res>;
  readonly rules: TransitionRules;
  /** How the dialect's exchanges read as verdict evidence (verdicts/); absent: no evidence kept. */
  readonly evidence?: EvidenceCodec<R, A, Res>;
  /**
   * The request that undoes what the probe's calls left on the user's server (LwM2M: De-register
   * the registration it got), given the probe device's state when it stopped; absent or undefined:
   * nothing to undo.
   */
  readonly probeLeave?: (state: S) => R | undefined;
}
