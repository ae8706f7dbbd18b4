/**
 * The LwM2M device's vocabulary: its requests (registration interface, the listening of a queue
 * mode device, answers to the server, block asks of a package), the answers the wire decodes, and
 * its state union. Shared by the machine and the wire codec (dialect/lwm2m/wire.ts).
 */
import type { BlockValue } from '../../protocol/coap.js';
import type { Binding, FirmwareState, UpdateResult } from '../../protocol/lwm2m.js';
import type { SeenMessage, ServerRequestRef } from '../../dialect/coap.js';
import type { Block2State } from '../../coap/block.js';

/** A package URI the device can pull from: coap:// block-wise, or http:// by ranged GETs. */
export interface PackageSource {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Set for an http:// URI: the URL itself. */
  readonly http?: string;
}

export type Lwm2mRequest =
  | {
      readonly op: 'register';
      readonly endpoint: string;
      readonly lifetimeSec: number;
      readonly binding: Binding;
      readonly objects: string;
      readonly rebind?: boolean;
      /** For the evidence (not sent): the version it runs and Object 5's Update Result at this registration. */
      readonly version?: string;
      readonly fwResult?: number;
    }
  | { readonly op: 'update'; readonly location: string; readonly rebind?: boolean }
  | { readonly op: 'deregister'; readonly location: string }
  | { readonly op: 'listen'; readonly until: number }
  | {
      readonly op: 'reply';
      readonly to: ServerRequestRef;
      readonly code: string;
      readonly body?: string;
      readonly contentFormat?: number;
      readonly observe?: number;
      readonly drop?: boolean;
      /** For the evidence (not sent): the call answered, and Object 5 as it was when the call came. */
      readonly call?: string;
      readonly fwState?: number;
      readonly fwResult?: number;
    }
  | {
      readonly op: 'notify';
      readonly token: string;
      readonly observe: number;
      readonly body: string;
      readonly contentFormat: number;
      /** For the evidence (not sent): the observed path the notification reports. */
      readonly path?: string;
      /** Sent as CON (acknowledged, retransmitted until it is); absent: NON. */
      readonly confirmable?: true;
    }
  | { readonly op: 'block'; readonly source: PackageSource; readonly block: BlockValue }
  | { readonly op: 'chunk'; readonly url: string; readonly start: number; readonly end: number }
  /** `release`: the socket closes while it sleeps (target.lwm2m.sleepingSocket: close). */
  | { readonly op: 'sleep'; readonly release?: boolean };

export type Lwm2mOp = Lwm2mRequest['op'];
export const LWM2M_OPERATIONS: readonly Lwm2mOp[] = ['register', 'update', 'deregister', 'listen', 'reply', 'notify', 'block', 'chunk', 'sleep'];

/** A server request, read: an operation on an object path (`[object, instance?, resource?]`). */
export type ServerCall =
  | { readonly op: 'read'; readonly path: readonly number[]; readonly observe?: 'register' | 'deregister'; readonly token: string }
  | { readonly op: 'write'; readonly path: readonly number[]; readonly value: string }
  | { readonly op: 'execute'; readonly path: readonly number[] }
  | { readonly op: 'unsupported'; readonly code: string; readonly path: string };

export type Lwm2mAnswer = (
  /** 2.01 to a Register, with the registration's location ("/rd/5a3f"). */
  | { readonly type: 'created'; readonly location: string }
  /** Any other 2.xx to a registration request. */
  | { readonly type: 'ok'; readonly code: string }
  /** 4.xx / 5.xx; `retryAfterMs`: a 5.03's Max-Age, the server's word on when to ask again (RFC 7252 §5.9.3.4). */
  | { readonly type: 'refused'; readonly code: string; readonly retryAfterMs?: number }
  /** An answer to a block ask: what onBlock2 needs, and what the transport holds (offset-wise, digested). */
  | {
      readonly type: 'block';
      readonly code: string;
      readonly block?: BlockValue;
      readonly etag?: string;
      readonly size?: number;
      readonly payloadBytes: number;
      readonly held: number;
      readonly md5?: string;
    }
  /** An answer to a ranged GET of an http:// package. */
  | { readonly type: 'chunk'; readonly status: number; readonly total: number | undefined; readonly held: number; readonly md5?: string }
  | { readonly type: 'server'; readonly ref: ServerRequestRef; readonly call: ServerCall }
  | { readonly type: 'quiet' }
  | { readonly type: 'done' }
  /** No answer (TIMEOUT: the CON's schedule ran out), RESET, or a message that did not parse. */
  | { readonly type: 'net'; readonly code: string }
) & {
  /** Server messages whose retransmissions the device saw, complete since the last answer. */
  readonly seen?: readonly SeenMessage[];
};

/** What the device keeps of Object 5 (Firmware Update). */
export interface Firmware {
  readonly state: FirmwareState;
  readonly result: UpdateResult;
  readonly uri: string;
  /** The version the held package installs. */
  readonly pending: string | undefined;
}

export interface Observation {
  readonly path: string;
  readonly token: string;
  readonly seq: number;
}

export interface Lwm2mCore {
  readonly version: string;
  readonly location: string | undefined;
  readonly fw: Firmware;
  /** Wakes (Update after a sleep) so far. */
  readonly wakes: number;
  /** Failed registration requests in a row. */
  readonly attempts: number;
  /** Block asks in a row with no new byte held. */
  readonly stalls: number;
  readonly download: (Block2State & { readonly source: PackageSource }) | undefined;
  /** Downloads started (a second one after success is a server's fault, caught by a rule). */
  readonly downloads: number;
  readonly observations: readonly Observation[];
  /** Paths whose observers must hear of a change. */
  readonly notices: readonly string[];
  /** Virtual instant the current awake window ends. */
  readonly awakeUntil: number;
  /** Draws of the ACK-drop stream so far. */
  readonly draws: number;
  /** The server's retransmissions seen (bounded: the evidence keeps them all). */
  readonly seenCount: number;
  /** What to do once the reply in flight is sent. */
  readonly then: 'listen' | 'download' | 'reboot';
  /** Listen windows that ended since the device reported success. */
  readonly windowsAfterSuccess: number;
}

export type Lwm2mKind =
  | 'registering'
  | 'updating'
  | 'listening'
  | 'answering'
  | 'notifying'
  | 'downloading'
  | 'rebooting'
  | 'asleep'
  | 'deregistering'
  | 'succeeded'
  | 'up-to-date'
  | 'failed'
  | 'gave-up';

/** `code`: the Update Result a stopped device ends with (the verdicts' FinalState.code). */
export type Lwm2mState = Lwm2mCore & { readonly kind: Lwm2mKind; readonly code?: number };

export const LWM2M_FINAL_KINDS: readonly Lwm2mKind[] = ['succeeded', 'up-to-date', 'failed', 'gave-up'];

/** The device side's knobs (the target's `lwm2m` block and the cohort's). */
export interface Lwm2mDeviceSettings {
  readonly lifetimeSec: number;
  readonly binding: Binding;
  /** Queue mode: how long the device stays reachable after it spoke, virtual ms. */
  readonly awakeMs: number;
  /** PSM: virtual ms between wakes (each wake is an Update). */
  readonly wakeEveryMs: number;
  /** Wakes before the device de-registers and ends. */
  readonly maxWakes: number;
  /** Block2 size exponent of its package downloads. */
  readonly blockSzx: number;
  /** Listen windows the device stays for after it reported success (a second download would show then). */
  readonly windowsAfterSuccess: number;
  /** Firmware version a package installs (the target profile's), else the URI's last path segment. */
  readonly firmwareVersion?: string;
  /**
   * What becomes of its UDP socket while it sleeps. `keep`: open, so whatever the server sends a
   * sleeping device is witnessed (the queue-mode verdict's evidence), one descriptor and ~3 KiB per
   * device. `close`: closed, as the NAT binding of a device in PSM lapses: each wake speaks from a
   * new source port, a sleeping device costs no socket, and nothing sent to it asleep is seen.
   */
  readonly sleepingSocket: SleepingSocket;
}

export type SleepingSocket = 'keep' | 'close';

export const DEFAULT_LWM2M_SETTINGS: Lwm2mDeviceSettings = {
  lifetimeSec: 86_400,
  binding: 'UQ',
  awakeMs: 93_000,
  wakeEveryMs: 3_600_000,
  maxWakes: 24,
  blockSzx: 6,
  windowsAfterSuccess: 1,
  sleepingSocket: 'keep',
};

export type { FirmwareState, UpdateResult };
