/**
 * A dialect speaks one OTA server protocol. It turns a device's typed requests into HTTP and HTTP
 * answers (or transport failures) back into typed answers. Pure: the engine's network layer does
 * the sending. A new protocol comes as one more `DialectPlugin`.
 */
import type { DeviceMachine, TransitionRules } from '../device/types.js';
import type { EvidenceCodec } from '../verdicts/evidence.js';

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Path with its query string. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Set on firmware downloads: the engine assembles these bytes and digests them. */
  readonly download?: { readonly total: number };
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

/** What came back, as the network layer saw it. */
export type HttpResult =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: Readonly<Record<string, string | undefined>>;
      /** The body (for downloads: this chunk's bytes). */
      readonly body: Uint8Array;
      /** Downloads only: bytes the device now holds in order, and their md5 once all are held. */
      readonly held?: number;
      readonly md5?: string;
      /** The link dropped before the whole body arrived (a `cutAfterBytes` fault): `body` is the part that did. */
      readonly cut?: boolean;
    }
  | {
      readonly kind: 'error';
      /** ECONNREFUSED, ECONNRESET, TIMEOUT, EPIPE, BAD_RESPONSE, ANSWER_LOST, ABORTED, ... */
      readonly code: string;
      /**
       * A 2xx answer broken off mid-body (a reset): the part that arrived and, for a download, the
       * bytes the device now holds in order with it (and their md5 once all are held).
       */
      readonly partial?: {
        readonly status: number;
        readonly headers: Readonly<Record<string, string | undefined>>;
        readonly body: Uint8Array;
        readonly held?: number;
        readonly md5?: string;
      };
    };

/** Target-wide facts a dialect needs to build requests: keys, ids, names. Never logged. */
import type { VersionConfirm } from '../protocol/profile.js';

export interface DialectTarget {
  readonly onenet?: { readonly productId: string; readonly accessKey: string; readonly signMethod: 'md5' | 'sha1' | 'sha256'; readonly tokenTtlSec: number };
  readonly luat?: {
    readonly projectKey: string;
    readonly firmwareName: string;
    /** Ask for diff packages (`dfota=1`); absent: true. From the target profile. */
    readonly dfota?: boolean;
    /** How a device confirms the served version, and the version a file installs when it names none (target profile). */
    readonly versionConfirm?: VersionConfirm;
    readonly firmwareVersion?: string;
  };
}

export interface Wire<R, A> {
  encode(request: R, target: DialectTarget, now: number): HttpRequest;
  decode(request: R, result: HttpResult): A;
  /** Operation (histogram) a request belongs to. */
  operationOf(request: R): string;
  /** Outcome label of an answer for the counts: `errno:0`, `code:43`, `http:503`, `net:ECONNRESET`. */
  outcomeOf(answer: A): string;
  /** Whether an answer counts as an error of its operation (transport, 5xx, unexpected). */
  isError(answer: A): boolean;
}

export interface DialectPlugin<S extends { readonly kind: string } = { readonly kind: string }, R = unknown, A = unknown> {
  readonly name: string;
  readonly operations: readonly string[];
  readonly machine: DeviceMachine<S, R, A>;
  readonly wire: Wire<R, A>;
  readonly rules: TransitionRules;
  /** How the dialect's exchanges read as verdict evidence (verdicts/); absent: no evidence kept. */
  readonly evidence?: EvidenceCodec<R, A>;
}
