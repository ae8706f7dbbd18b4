/**
 * One CoAP endpoint's message layer (RFC 7252 §4): message ids and tokens, the sender's own
 * retransmission of confirmable messages, matching of piggybacked and separate responses, and
 * deduplication of what the peer sends over EXCHANGE_LIFETIME. No sockets and no clock: every
 * call takes `now` (ms of whichever clock drives it) and answers with effects for a driver to
 * carry out. One endpoint per device, one peer per endpoint (servers key sessions on the address).
 *
 * A device that is asleep still has the datagrams that reach it recorded (`listening: false`):
 * it answers none, and each server-originated message keeps the instants it was seen, which is
 * how the server's retransmission schedule is measured from the device's side.
 */
import { firstTimeoutMs, retransmitBudget, type RetransmitTiming } from '../protocol/coap.js';
import { hashUniform } from '../random/rng.js';
import { decodeMessage, emptyAck, encodeMessage, isEmpty, isRequestCode, reset, type CoapMessage, type CoapOption } from './message.js';

/** Stream of the per-exchange timeout draws. */
const COAP_TIMEOUT_STREAM = 0xc0a9_7100;
const MID_STREAM = 0xc0a9_0001;
const TOKEN_STREAM = 0xc0a9_0002;

export interface OutgoingRequest {
  readonly code: string;
  readonly options: readonly CoapOption[];
  readonly payload?: Buffer;
  /** CON (default) or NON. */
  readonly confirmable?: boolean;
}

/** What the driver must do. */
export type Effect =
  | { readonly kind: 'send'; readonly bytes: Buffer }
  /** The response to one of our requests (piggybacked or separate). */
  | { readonly kind: 'response'; readonly token: string; readonly message: CoapMessage; readonly transmissions: number }
  /** No response to our request within the layer's schedule. */
  | { readonly kind: 'give-up'; readonly token: string; readonly transmissions: number }
  /** A new request from the peer: answer it with `respond` (while listening). */
  | { readonly kind: 'request'; readonly message: CoapMessage }
  /** The peer sent a message id again (a retransmission, or a datagram duplicated on the way). */
  | { readonly kind: 'duplicate'; readonly message: CoapMessage; readonly seenAt: readonly number[] }
  /** A new message of the peer's that reached the device asleep: seen, not answered. */
  | { readonly kind: 'unheard'; readonly message: CoapMessage }
  /** The peer reset one of our messages (a notification it no longer wants, a request it cannot process). */
  | { readonly kind: 'reset'; readonly messageId: number; readonly token: string | undefined }
  /** A datagram that is no CoAP message, or a response nobody asked for: one line, nothing crashes. */
  | { readonly kind: 'ignored'; readonly reason: string };

interface Exchange {
  readonly token: string;
  readonly messageId: number;
  readonly bytes: Buffer;
  readonly confirmable: boolean;
  transmissions: number;
  timeoutMs: number;
  /** When to retransmit (or give up); undefined once the peer acknowledged and a separate response is awaited. */
  due: number;
  acked: boolean;
}

/** A message id the peer used, remembered over EXCHANGE_LIFETIME. */
interface Seen {
  readonly firstAt: number;
  readonly at: number[];
  /** What we answered; sent again for a duplicate. */
  reply: Buffer | undefined;
  readonly message: CoapMessage;
  /** Whether it reached the device awake (one asleep was only seen, and is handled on its first retransmission heard awake). */
  delivered: boolean;
}

export interface EndpointOptions {
  readonly timing: RetransmitTiming;
  /** The device's seed: message ids, tokens and timeout draws come from it. */
  readonly seed: number;
  /** How long a peer's message id is remembered (EXCHANGE_LIFETIME), ms. */
  readonly exchangeLifetimeMs: number;
  /** How long to wait for a separate response after an empty ACK (default: MAX_TRANSMIT_WAIT of `timing`). */
  readonly separateResponseMs?: number;
  /** Where an earlier endpoint of the same device left off (a new socket after a sleep): its ids go on from there. */
  readonly resume?: EndpointCounters;
}

/** What a device's next endpoint continues from: a modem's message ids and tokens do not restart with its source port. */
export interface EndpointCounters {
  readonly nextMid: number;
  readonly tokenCounter: number;
  readonly exchanges: number;
}

export const tokenKey = (token: Buffer): string => token.toString('hex');
/** A CON notification's exchange key: its message id (a notification awaits an ACK, no response). */
const NOTIFICATION_KEY = 'mid:';

/** The sender's timeouts of one exchange: the first drawn, each next one doubled (§4.2). */
export function transmissionSchedule(timing: RetransmitTiming, u: number): { resendAfterMs: number[]; giveUpAfterMs: number } {
  const first = firstTimeoutMs(timing, u);
  const resendAfterMs: number[] = [];
  let at = 0;
  for (let k = 0; k < retransmitBudget(timing); k++) {
    at += first * 2 ** k;
    resendAfterMs.push(at);
  }
  return { resendAfterMs, giveUpAfterMs: at + first * 2 ** retransmitBudget(timing) };
}

export class CoapEndpoint {
  private nextMid: number;
  private tokenCounter: number;
  private exchanges = 0;
  private readonly outgoing = new Map<string, Exchange>();
  private seen: Map<number, Seen> | undefined;
  private readonly separateResponseMs: number;
  /** Retransmissions sent (requests and CON notifications alike), and CON notifications the peer never acknowledged. */
  readonly counts = { retransmissions: 0, notificationsUnacknowledged: 0 };

  constructor(private readonly opts: EndpointOptions) {
    this.nextMid = opts.resume?.nextMid ?? Math.floor(hashUniform(opts.seed, MID_STREAM) * 0x10000);
    this.tokenCounter = opts.resume?.tokenCounter ?? Math.floor(hashUniform(opts.seed, TOKEN_STREAM) * 0x1_0000_0000);
    this.exchanges = opts.resume?.exchanges ?? 0;
    this.separateResponseMs = opts.separateResponseMs ?? transmissionSchedule(opts.timing, 1).giveUpAfterMs;
  }

  counters(): EndpointCounters {
    return { nextMid: this.nextMid, tokenCounter: this.tokenCounter, exchanges: this.exchanges };
  }

  private takeMid(): number {
    const mid = this.nextMid;
    this.nextMid = (this.nextMid + 1) & 0xffff;
    return mid;
  }

  private takeToken(): Buffer {
    const t = Buffer.alloc(4);
    t.writeUInt32BE(this.tokenCounter >>> 0);
    this.tokenCounter = (this.tokenCounter + 1) % 0x1_0000_0000;
    return t;
  }

  /** Requests in flight (awaiting an ACK or a separate response). */
  get inFlight(): number {
    return this.outgoing.size;
  }

  /** Sends a request; its response (or give-up) comes as an effect under the returned token. */
  request(req: OutgoingRequest, now: number): { token: string; effects: Effect[] } {
    const confirmable = req.confirmable ?? true;
    const token = this.takeToken();
    const messageId = this.takeMid();
    const bytes = encodeMessage({ type: confirmable ? 'CON' : 'NON', code: req.code, messageId, token, options: req.options, payload: req.payload ?? Buffer.alloc(0) });
    const u = hashUniform(this.opts.seed, COAP_TIMEOUT_STREAM, this.exchanges++);
    const schedule = transmissionSchedule(this.opts.timing, u);
    const timeoutMs = confirmable ? firstTimeoutMs(this.opts.timing, u) : schedule.giveUpAfterMs;
    const key = tokenKey(token);
    this.outgoing.set(key, { token: key, messageId, bytes, confirmable, transmissions: 1, timeoutMs, due: now + timeoutMs, acked: false });
    return { token: key, effects: [{ kind: 'send', bytes }] };
  }

  /** Forgets a request (its caller lost interest): no more retransmissions, no effect later. */
  cancel(token: string): void {
    this.outgoing.delete(token);
  }

  /** The earliest instant `timer` has work (a retransmission, a give-up, a dedup entry to forget). */
  nextDue(): number | undefined {
    let due: number | undefined;
    for (const x of this.outgoing.values()) if (due === undefined || x.due < due) due = x.due;
    return due;
  }

  /** Retransmissions and give-ups due by `now`. */
  timer(now: number): Effect[] {
    const effects: Effect[] = [];
    const budget = retransmitBudget(this.opts.timing);
    for (const x of [...this.outgoing.values()]) {
      if (x.due > now) continue;
      if (x.confirmable && !x.acked && x.transmissions <= budget) {
        x.transmissions += 1;
        x.timeoutMs *= 2;
        x.due = now + x.timeoutMs;
        this.counts.retransmissions += 1;
        effects.push({ kind: 'send', bytes: x.bytes });
      } else {
        this.outgoing.delete(x.token);
        if (x.token.startsWith(NOTIFICATION_KEY)) this.counts.notificationsUnacknowledged += 1;
        effects.push({ kind: 'give-up', token: x.token, transmissions: x.transmissions });
      }
    }
    this.forgetOld(now);
    return effects;
  }

  /**
   * A datagram from the peer. While not `listening` (asleep, or dropping this ACK) nothing is
   * answered and nothing delivered, but a peer's message is remembered as seen (its instants).
   */
  receive(bytes: Buffer, now: number, listening = true): Effect[] {
    const decoded = decodeMessage(bytes);
    if (!decoded.ok) return [{ kind: 'ignored', reason: decoded.error }];
    const m = decoded.message;
    if (m.type === 'ACK' || m.type === 'RST') return listening ? this.onAckOrReset(m, now) : [];
    return this.onConOrNon(m, now, listening);
  }

  private onAckOrReset(m: CoapMessage, now: number): Effect[] {
    const x = this.byMessageId(m.messageId);
    if (x === undefined) return [{ kind: 'ignored', reason: `${m.type} for message id ${m.messageId}: no exchange of ours` }];
    if (m.type === 'RST') {
      this.outgoing.delete(x.token);
      return [{ kind: 'reset', messageId: m.messageId, token: x.token }];
    }
    if (isEmpty(m) && x.token.startsWith(NOTIFICATION_KEY)) {
      this.outgoing.delete(x.token);
      return [];
    }
    if (isEmpty(m)) {
      // Separate response to come (§5.2.2): stop retransmitting, wait for it.
      x.acked = true;
      x.due = now + this.separateResponseMs;
      return [];
    }
    if (tokenKey(m.token) !== x.token) return [{ kind: 'ignored', reason: `ACK for message id ${m.messageId} with a token not of that request` }];
    this.outgoing.delete(x.token);
    return [{ kind: 'response', token: x.token, message: m, transmissions: x.transmissions }];
  }

  private onConOrNon(m: CoapMessage, now: number, listening: boolean): Effect[] {
    this.forgetOld(now);
    const seen = (this.seen ??= new Map());
    const before = seen.get(m.messageId);
    if (before !== undefined) {
      before.at.push(now);
      const effects: Effect[] = [{ kind: 'duplicate', message: m, seenAt: before.at }];
      if (!listening) return effects;
      if (before.delivered) return before.reply === undefined ? effects : [...effects, { kind: 'send', bytes: before.reply }];
      // First heard while asleep: this retransmission is the one the device answers.
      before.delivered = true;
      return [...effects, ...this.fresh(m, before)];
    }
    const entry: Seen = { firstAt: now, at: [now], reply: undefined, message: m, delivered: listening };
    seen.set(m.messageId, entry);
    return listening ? this.fresh(m, entry) : [{ kind: 'unheard', message: m }];
  }

  private fresh(m: CoapMessage, entry: Seen): Effect[] {
    if (isRequestCode(m.code)) return [{ kind: 'request', message: m }];
    if (isEmpty(m)) {
      // A CON ping (§4.3) is answered with a reset; an empty NON is nothing.
      if (m.type === 'CON') return this.replyWith(entry, reset(m.messageId));
      return [];
    }
    // A separate response, or a notification of something we observe.
    const x = this.outgoing.get(tokenKey(m.token));
    const ack = m.type === 'CON' ? this.replyWith(entry, emptyAck(m.messageId)) : [];
    if (x === undefined) {
      if (m.type === 'CON') return [...this.replyWith(entry, reset(m.messageId)), { kind: 'ignored', reason: `response ${m.code} with an unknown token` }];
      return [{ kind: 'ignored', reason: `response ${m.code} with an unknown token` }];
    }
    this.outgoing.delete(x.token);
    return [...ack, { kind: 'response', token: x.token, message: m, transmissions: x.transmissions }];
  }

  private replyWith(entry: Seen, reply: CoapMessage): Effect[] {
    entry.reply = encodeMessage(reply);
    return [{ kind: 'send', bytes: entry.reply }];
  }

  /**
   * Answers a peer's request: piggybacked on the ACK of a CON, or a NON for a NON (§5.2). The
   * answer is remembered, so a retransmitted request gets it again without being processed twice.
   */
  respond(request: CoapMessage, answer: { code: string; options?: readonly CoapOption[]; payload?: Buffer }): Effect[] {
    const entry = this.seen?.get(request.messageId);
    const messageId = request.type === 'CON' ? request.messageId : this.takeMid();
    const reply: CoapMessage = {
      type: request.type === 'CON' ? 'ACK' : 'NON',
      code: answer.code,
      messageId,
      token: request.token,
      options: answer.options ?? [],
      payload: answer.payload ?? Buffer.alloc(0),
    };
    const bytes = encodeMessage(reply);
    if (entry !== undefined) entry.reply = bytes;
    return [{ kind: 'send', bytes }];
  }

  /** A message of our own, not a request: a NON or CON notification (its CON is retransmitted like a request). */
  notify(message: Omit<CoapMessage, 'messageId'>, now: number): Effect[] {
    if (message.type !== 'CON') return [{ kind: 'send', bytes: encodeMessage({ ...message, messageId: this.takeMid() }) }];
    const messageId = this.takeMid();
    const bytes = encodeMessage({ ...message, messageId });
    const u = hashUniform(this.opts.seed, COAP_TIMEOUT_STREAM, this.exchanges++);
    const timeoutMs = firstTimeoutMs(this.opts.timing, u);
    // Keyed by message id: the peer's empty ACK ends it (a notification has no response).
    const key = `${NOTIFICATION_KEY}${messageId}`;
    this.outgoing.set(key, { token: key, messageId, bytes, confirmable: true, transmissions: 1, timeoutMs, due: now + timeoutMs, acked: false });
    return [{ kind: 'send', bytes }];
  }

  /**
   * Takes back the delivery of a peer's request that is left unanswered on purpose (a cohort that
   * drops ACKs): its next retransmission is handled as if heard for the first time.
   */
  undeliver(messageId: number): void {
    const entry = this.seen?.get(messageId);
    if (entry !== undefined && entry.reply === undefined) entry.delivered = false;
  }

  /** Instants each message id of the peer was seen, while it is remembered. */
  seenOf(messageId: number): readonly number[] | undefined {
    return this.seen?.get(messageId)?.at;
  }

  private byMessageId(mid: number): Exchange | undefined {
    for (const x of this.outgoing.values()) if (x.messageId === mid) return x;
    return undefined;
  }

  private forgetOld(now: number): void {
    if (this.seen === undefined) return;
    for (const [mid, s] of this.seen) if (now - s.firstAt >= this.opts.exchangeLifetimeMs) this.seen.delete(mid);
    if (this.seen.size === 0) this.seen = undefined;
  }
}
