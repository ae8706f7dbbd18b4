/**
 * The seam between the shard and the wire: a transport carries a dialect's encoded messages and
 * hands back what its wire decodes. HTTP (./http-transport.ts) is one; a dialect declares which
 * it speaks (`DialectPlugin.transport`), and ./transports.ts makes the one it names. The shard
 * never looks inside a message: what a transport must tell it (link time, the end of a run) it
 * asks through this interface.
 */
import type { LinkConfig } from '../radio/link.js';
import type { TransportKind } from '../dialect/types.js';

/**
 * Called once, synchronously, at the instant a message leaves for the wire (HTTP: written to a
 * connection's socket): latency "from send" counts from it. Never called for a message never sent.
 */
export type OnWritten = (atMs: number) => void;

export interface ExchangeOptions {
  /** How long to wait for the answer, real ms (the device's requestTimeoutMs). */
  readonly timeoutMs: number;
  /** Real ms the answer should take to arrive, as over the device's radio link (0: as fast as it comes). */
  readonly paceMs: number;
  readonly onWritten?: OnWritten;
}

/** What an exchange came to. */
export interface Exchanged<Res> {
  /** What the dialect's wire decodes (transport failures included: never a throw). */
  readonly result: Res;
  /** Broken off by the run's stop (`abortAll`): no measurement. */
  readonly aborted: boolean;
  /**
   * Broken off, but carrying what the device saw until the stop (CoAP: the server messages it left
   * unanswered, cut short): no measurement, yet the verdicts get it, so no late data is dropped.
   */
  readonly evidence?: boolean;
  /** performance.now() when the answer began to arrive (a paced answer's latency ends there); absent: none arrived. */
  readonly firstByteAt?: number;
}

export interface Transport<Req = unknown, Res = unknown> {
  readonly kind: TransportKind;
  /** Virtual ms the device's link needs to carry this message's answer (0: too small to matter; Infinity: no link at all). */
  linkTimeMs(message: Req, link: LinkConfig): number;
  /** The message carrying the virtual instant it is sent at (`--time-scale max`: the server judges by it). */
  withVirtualTime(message: Req, virtualNow: number): Req;
  /** Carries one message of device `slot` and its answer. Never throws. */
  exchange(slot: number, message: Req, o: ExchangeOptions): Promise<Exchanged<Res>>;
  /** The result of an exchange that never left: the run stopped (`ABORTED`), the device has no signal (`NO_SIGNAL`). */
  failure(code: 'ABORTED' | 'NO_SIGNAL'): Res;
  /**
   * The run ended with the device still going: what the transport holds for it that no exchange
   * has reported yet (CoAP: server messages it saw, cut short), for the verdicts; undefined: nothing.
   */
  leftover?(slot: number): Res | undefined;
  /** The device stopped: forget what is kept for it (a download's bytes, a socket). */
  release(slot: number): void;
  /** Answer bytes received in all. */
  readonly bytesReceived: number;
  /**
   * What it counted on the wire that no operation's histogram shows (CoAP: datagrams each way, the
   * devices' own retransmissions, confirmable notifications never acknowledged, socket errors),
   * named in words; absent: nothing of the kind.
   */
  wireCounts?(): Readonly<Record<string, number>>;
  /** Makes every pending and later exchange end at once as aborted. */
  abortAll(): void;
  close(): Promise<void>;
}
