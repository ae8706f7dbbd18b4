/**
 * The CoAP transport's message and result, as HttpRequest / HttpResult are HTTP's: what a dialect
 * over CoAP encodes for the engine (engine/coap-transport.ts) and decodes from it. Besides the
 * device's own requests, a device listens while awake: a `listen` is answered by the server's
 * next request (or by quiet when the window passes), and a `reply` answers one.
 */
import type { BlockValue } from '../protocol/coap.js';

export interface CoapOptionValue {
  readonly number: number;
  readonly value: Uint8Array;
}

/** A server request the device holds, by what the CoAP layer needs to answer it. */
export interface ServerRequestRef {
  readonly messageId: number;
  /** Token, hex. */
  readonly token: string;
}

export type CoapTransportMessage =
  /** One request of the device's (a block request is one too: the block arithmetic is the machine's). */
  | {
      readonly kind: 'request';
      readonly code: string;
      /** "/rd/5a3f" — the path; `query` its Uri-Query options ("ep=x"). */
      readonly path: string;
      readonly query?: readonly string[];
      readonly payload?: Uint8Array;
      readonly contentFormat?: number;
      readonly confirmable?: boolean;
      /** A download's block ask; the transport assembles its bytes (offset-wise) and digests them. */
      readonly block2?: BlockValue;
      /** Another server than the target's (a Package URI's host), loopback only. */
      readonly peer?: { readonly host: string; readonly port: number };
      /** NAT rebinding: this datagram leaves from a new source port (after a long sleep). */
      readonly rebind?: boolean;
    }
  /** Awake and answering until virtual instant `until`: answered by the server's next request, or quiet. */
  | { readonly kind: 'listen'; readonly until: number }
  /** Answers a held server request (piggybacked on its ACK); `drop`: send nothing (the cohort drops this ACK). */
  | {
      readonly kind: 'reply';
      readonly to: ServerRequestRef;
      readonly code: string;
      readonly payload?: Uint8Array;
      readonly contentFormat?: number;
      readonly observe?: number;
      readonly drop?: boolean;
    }
  /** An Observe notification on `token` (hex). */
  | { readonly kind: 'notify'; readonly token: string; readonly code: string; readonly observe: number; readonly payload: Uint8Array; readonly contentFormat?: number; readonly confirmable: boolean }
  /**
   * Asleep from now (PSM): nothing is answered until the next listen or request. `release`: its
   * socket closes too (nothing sent to it asleep arrives; its next datagram leaves from a new port).
   */
  | { readonly kind: 'sleep'; readonly release?: boolean }
  /** A package URI that says http: one ranged GET of it (the transport assembles and digests, as the HTTP dialects' sink does). */
  | { readonly kind: 'http-range'; readonly url: string; readonly start: number; readonly end: number };

/** Every retransmission of one server-originated message the device saw, and when (virtual ms). */
export interface SeenMessage {
  readonly messageId: number;
  /** Instants it arrived: the first transmission, then each retransmission. */
  readonly at: readonly number[];
  /** Whether the device answered it (it arrived, or was retransmitted, while the device was awake). */
  readonly answered: boolean;
  /** Its first transmission reached the device asleep (a queue-mode server should have held it). */
  readonly asleep?: boolean;
  /**
   * Unanswered when the device closed its socket to sleep: the retransmissions after that went
   * unheard, so `at` shows the schedule's start and says nothing of when the server gave up.
   */
  readonly cut?: boolean;
}

export type CoapTransportResult = (
  | {
      readonly kind: 'response';
      readonly code: string;
      readonly options: readonly CoapOptionValue[];
      readonly payload: Uint8Array;
      /** Transmissions of the request it answers (1: no retransmission). */
      readonly transmissions: number;
      /** Block downloads: bytes held in order after it, and their md5 once the last block came. */
      readonly held?: number;
      readonly md5?: string;
    }
  | {
      readonly kind: 'server-request';
      readonly ref: ServerRequestRef;
      readonly code: string;
      readonly path: string;
      readonly options: readonly CoapOptionValue[];
      readonly payload: Uint8Array;
    }
  | { readonly kind: 'quiet' }
  | { readonly kind: 'done' }
  /** The answer to an `http-range`: its status, the file's size (Content-Range), bytes held in order and their md5 once all are. */
  | { readonly kind: 'http'; readonly status: number; readonly total: number | undefined; readonly held: number; readonly md5?: string }
  /** TIMEOUT (the CON's schedule ran out), RESET, UNREACHABLE, ABORTED, NO_SIGNAL. */
  | { readonly kind: 'error'; readonly code: string }
) & {
  /** Server messages whose record is complete since the last result (the retransmission evidence). */
  readonly seen?: readonly SeenMessage[];
};
