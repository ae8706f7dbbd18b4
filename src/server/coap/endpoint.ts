/**
 * The UDP side of `serve`: one node:dgram socket on the server's event loop (the same process or
 * worker thread as the HTTP server), CoAP messages parsed with coap-packet. It moves datagrams and
 * applies the `coap` fault knobs; the LwM2M server (../lwm2m/server.ts) decides what they mean.
 *
 * Choices:
 * - Deduplication (RFC 7252 §4.5): a request or a separate response / notification seen again from
 *   the same (address, port, Message ID) within EXCHANGE_LIFETIME is answered with the bytes first
 *   sent (replayed even when they were lost on the way), never processed twice.
 * - Fault order, inbound: loss → parse → dedup → the call. Outbound: loss → late ACK (answers only)
 *   → reorder → the send → duplicate.
 * - Timers run on the server's virtual clock (virtual ms / time scale = real ms); CoAP carries no
 *   virtual-time header, so `--time-scale max` is refused when the CoAP port is asked for.
 * - A datagram that is no CoAP message is ignored (counted), never answered.
 */
import { createSocket, type Socket } from 'node:dgram';
import { COAP_CODE, derivedTimes, RFC7252 } from '../../protocol/coap.js';
import type { Clock } from '../../time/clock.js';
import type { EndpointFaults } from '../faults/config.js';
import type { FaultDice } from '../faults/dice.js';
import { DedupCache } from './dedup.js';
import { emptyAck, generate, isRequestCode, peerKey, piggybacked, reset, tryParse, type ParsedPacket, type Peer, type ResponseParts } from './packet.js';

/** What the endpoint calls; implemented by the LwM2M server. */
export interface CoapHandler {
  onRequest(req: ParsedPacket, peer: Peer): { answer: ResponseParts; then?: () => void };
  onAckOrReset(msg: ParsedPacket): void;
  onResponse(msg: ParsedPacket, peer: Peer): Buffer | undefined;
  nextMessageId(): number;
}

export interface CoapEndpointOptions {
  host: string;
  port: number;
  clock: Clock;
  /** Read at each datagram: the admin API may change them at run time. */
  faults: () => EndpointFaults | undefined;
  dice: () => FaultDice;
  handler: () => CoapHandler;
  quiet: boolean;
}

export interface CoapCounters {
  datagramsIn: number;
  datagramsOut: number;
  duplicatesAnswered: number;
  garbage: number;
  lost: number;
  duplicated: number;
  reordered: number;
  lateAcks: number;
  separateResponses: number;
  separateRetransmissions: number;
  separateGivenUp: number;
}

export interface CoapEndpoint {
  readonly url: string;
  readonly counters: CoapCounters;
  send(bytes: Buffer, peer: Peer): void;
  /** Runs `fn` after `virtualMs` of the server's clock; returns a cancel. */
  after(virtualMs: number, fn: () => void): () => void;
  close(): Promise<void>;
}

/** Asked of the kernel for the socket's buffers (Linux caps it at net.core.rmem_max / wmem_max). */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
/** How long a reordered datagram is held back, real ms. */
const REORDER_HOLD = { dist: 'uniform', min: 1, max: 50 } as const;

export async function startCoapEndpoint(o: CoapEndpointOptions): Promise<CoapEndpoint> {
  const scale = o.clock.scale;
  if (!Number.isFinite(scale) || scale <= 0) throw new Error('the CoAP port needs a finite time scale (its retransmit timers run on the clock; --time-scale max has no clock)');
  // A large receive buffer: a fleet's bursts of Registers queue in the kernel instead of being dropped.
  const socket: Socket = createSocket({ type: o.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES, sendBufferSize: RECEIVE_BUFFER_BYTES });
  const dedup = new DedupCache(derivedTimes().exchangeLifetimeMs);
  const timers = new Set<NodeJS.Timeout>();
  const counters: CoapCounters = { datagramsIn: 0, datagramsOut: 0, duplicatesAnswered: 0, garbage: 0, lost: 0, duplicated: 0, reordered: 0, lateAcks: 0, separateResponses: 0, separateRetransmissions: 0, separateGivenUp: 0 };
  /** The server's separate responses awaiting their ACK, by message id. */
  const separate = new Map<number, () => void>();
  let closing = false;

  const afterReal = (ms: number, fn: () => void): (() => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closing) fn();
    }, ms);
    timers.add(t);
    return () => {
      clearTimeout(t);
      timers.delete(t);
    };
  };
  const after = (virtualMs: number, fn: () => void): (() => void) => afterReal(Math.max(0, virtualMs / scale), fn);

  const wire = (bytes: Buffer, peer: Peer): void => {
    if (closing) return;
    counters.datagramsOut++;
    socket.send(bytes, peer.port, peer.address, () => {});
  };

  /** Sends with the outbound knobs; `isAnswer`: an ACK / piggybacked answer (late-ACK knob). */
  const send = (bytes: Buffer, peer: Peer, isAnswer = false): void => {
    const f = o.faults();
    if (!f) return wire(bytes, peer);
    const dice = o.dice();
    if (f.lossRate !== undefined && dice.chance('coap', 'loss', f.lossRate)) {
      counters.lost++;
      return;
    }
    const out = (): void => {
      if (f.reorderRate !== undefined && dice.chance('coap', 'reorder', f.reorderRate)) {
        counters.reordered++;
        afterReal(dice.latency('coap', REORDER_HOLD), () => wire(bytes, peer));
      } else wire(bytes, peer);
      if (f.duplicateRate !== undefined && dice.chance('coap', 'duplicate', f.duplicateRate)) {
        counters.duplicated++;
        wire(bytes, peer);
      }
    };
    if (isAnswer && f.lateAck !== undefined) {
      counters.lateAcks++;
      after(dice.latency('coap', f.lateAck), out);
      return;
    }
    out();
  };

  /**
   * A separate response (RFC 7252 §5.2.2): an empty ACK now, the response later as a CON of its
   * own, retransmitted on RFC 7252's timers (first timeout 2–3 s, doubling, 4 times) until
   * acknowledged.
   */
  const answerSeparately = (req: ParsedPacket, answer: ResponseParts, peer: Peer, f: EndpointFaults, handler: CoapHandler, remember: (b: Buffer) => void): void => {
    const ack = emptyAck(req.messageId);
    remember(ack);
    send(ack, peer, false);
    const dice = o.dice();
    const messageId = handler.nextMessageId();
    const bytes = generate({ code: answer.code, confirmable: true, messageId, token: req.token, options: answer.options ?? [], payload: answer.payload ?? Buffer.alloc(0) });
    const firstTimeout = dice.latency('coap', { dist: 'uniform', min: RFC7252.ackTimeoutMs, max: RFC7252.ackTimeoutMs * RFC7252.ackRandomFactor });
    let cancel = (): void => {};
    const transmit = (k: number): void => {
      send(bytes, peer, false);
      if (k > 0) counters.separateRetransmissions++;
      cancel = after(firstTimeout * 2 ** k, () => {
        if (k < RFC7252.maxRetransmit) return transmit(k + 1);
        separate.delete(messageId);
        counters.separateGivenUp++;
      });
    };
    counters.separateResponses++;
    separate.set(messageId, () => cancel());
    const delay = f.lateAck === undefined ? 0 : dice.latency('coap', f.lateAck);
    cancel = after(delay, () => transmit(0));
  };

  const onMessage = (bytes: Buffer, peer: Peer): void => {
    counters.datagramsIn++;
    const f = o.faults();
    if (f?.lossRate !== undefined && o.dice().chance('coap', 'loss', f.lossRate)) {
      counters.lost++;
      return;
    }
    const msg = tryParse(bytes);
    if (!msg) {
      counters.garbage++;
      return;
    }
    const handler = o.handler();
    if (msg.ack || msg.reset) {
      const stop = separate.get(msg.messageId);
      if (!stop) return handler.onAckOrReset(msg);
      stop();
      separate.delete(msg.messageId);
      return;
    }
    const now = o.clock.now();
    const key = peerKey(peer);
    const seen = dedup.lookup(key, msg.messageId, now);
    if (seen) {
      counters.duplicatesAnswered++;
      if (seen.answer) send(seen.answer, peer, true);
      return;
    }
    if (isRequestCode(msg.code)) {
      const { answer, then } = handler.onRequest(msg, peer);
      if (msg.confirmable && f?.separateRate !== undefined && answer.code !== COAP_CODE.EMPTY && o.dice().chance('coap', 'separate', f.separateRate)) {
        answerSeparately(msg, answer, peer, f, handler, (b) => dedup.remember(key, msg.messageId, now, b));
        then?.();
        return;
      }
      const out = piggybacked(msg, answer, handler.nextMessageId);
      dedup.remember(key, msg.messageId, now, out);
      send(out, peer, msg.confirmable);
      then?.();
      return;
    }
    if (msg.code === '0.00') {
      // A CoAP ping (empty CON) is answered with RST; an empty NON is ignored.
      if (msg.confirmable) send(reset(msg.messageId), peer, true);
      return;
    }
    const answer = handler.onResponse(msg, peer);
    dedup.remember(key, msg.messageId, now, answer);
    if (answer) send(answer, peer, true);
  };

  socket.on('message', (bytes, rinfo) => {
    try {
      onMessage(bytes, { address: rinfo.address, port: rinfo.port });
    } catch (err) {
      // A hostile datagram never takes the server down.
      if (!o.quiet) process.stderr.write(`ota-swarm serve: internal error in coap: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  });
  socket.on('error', (err) => {
    if (!o.quiet) process.stderr.write(`ota-swarm serve: coap socket: ${err.message}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(err);
    socket.once('error', onError);
    socket.bind(o.port, o.host, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  const address = socket.address();
  const hostText = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `coap://${hostText}:${address.port}`,
    counters,
    send: (bytes, peer) => send(bytes, peer, false),
    after,
    close: () =>
      new Promise<void>((resolve) => {
        if (closing) return resolve();
        closing = true;
        for (const t of timers) clearTimeout(t);
        timers.clear();
        socket.close(() => resolve());
      }),
  };
}
