/**
 * The CoAP transport: each device's messages over its own UDP socket (src/engine/udp.ts) through
 * its own CoAP endpoint (src/coap/endpoint.ts). Besides request → response it carries what a
 * device does as the server's peer: a `listen` is answered by the server's next request while
 * the device is awake, a `reply` answers one, and while the device sleeps (after a `sleep`)
 * datagrams that reach it are only seen — the instants of each server message and of each of its
 * retransmissions come back with the results (`seen`), as the evidence of the server's schedule.
 *
 * Decisions stay in the layers it drives: the endpoint retransmits and deduplicates, the block
 * arithmetic (src/coap/block.ts) says which bytes of a block are new; here they are carried out.
 */
import { createHash, type Hash } from 'node:crypto';
import { CoapEndpoint, type Effect, type EndpointCounters } from '../coap/endpoint.js';
import { onBlock2, type Block2Answer } from '../coap/block.js';
import { pathOptions, queryOptions, uintOption, pathOf, type CoapMessage, type CoapOption } from '../coap/message.js';
import { COAP_OPTION, exchangeLifetimeMs, encodeBlock, type RetransmitTiming } from '../protocol/coap.js';
import type { CoapTransportMessage, CoapTransportResult, SeenMessage } from '../dialect/coap.js';
import { UdpLink, type UdpPeer } from './udp.js';
import type { ExchangeOptions, Exchanged, Transport } from './transport.js';
import { request as httpRequest } from 'undici';
import { DownloadSink } from './download-sink.js';

/** Content-Range's total (`bytes 0-1023/262144`), when it gives one. */
const totalOf = (contentRange: string | undefined): number | undefined => {
  const m = contentRange === undefined ? null : /\/(\d+)\s*$/.exec(contentRange);
  return m ? Number(m[1]) : undefined;
};

type CoapExchanged = Exchanged<CoapTransportResult>;

export interface CoapTransportDeps {
  /** The LwM2M / CoAP server every device talks to (loopback). */
  readonly server: UdpPeer;
  /** The devices' CoAP transmission parameters (RetransmitSettings): one for all, or `timingOf` a device's cohort. */
  readonly timing: RetransmitTiming;
  timingOf?(slot: number): RetransmitTiming;
  /** Virtual now, and the real ms until a virtual instant (timers wait in real time). */
  now(): number;
  realMsUntil(virtual: number): number;
  /** A server message unanswered and quiet this long (virtual ms) is a complete record of the server's schedule. */
  readonly seenCompleteAfterMs: number;
  /** Seed of the endpoints' message ids, tokens and timeout draws (per slot: seed ^ slot). */
  readonly seed: number;
  /** Whether a host may be loaded (a Package URI's): loopback unless the run permits remote. */
  isAllowedHost(host: string): boolean;
  /** The local address a device's socket sends from (IPv4 loopback targets: see udp.ts loopbackSourceOf); absent: the OS's choice. */
  sourceOf?(slot: number): string | undefined;
}

interface SeenRecord {
  at: number[];
  answered: boolean;
  asleep?: boolean;
  /** Unanswered when the device closed its socket to sleep: complete, since nothing more can be heard. */
  cut?: boolean;
  /** Handed to the device, its reply (or dropped ACK) not yet decided: the record is not complete. */
  deciding?: boolean;
}

interface Download {
  hash: Hash;
  held: number;
  etag: string | undefined;
}

/** One peer of a device: its endpoint, its socket and the endpoint's timer. */
interface PeerLink {
  readonly session: Session;
  readonly endpoint: CoapEndpoint;
  link: UdpLink;
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
}

/** One device's session: its endpoint and socket per peer, what it is doing, what it saw. */
class Session {
  readonly links = new Map<string, PeerLink>();
  awake = true;
  /** Virtual instant it last went to sleep. */
  asleepSince = -Infinity;
  /** Server requests heard awake, not yet handed to a listen. */
  readonly queue: CoapMessage[] = [];
  /** Server requests handed to the device, by message id, until it replies. */
  readonly held = new Map<number, CoapMessage>();
  listener: { resolve: (r: CoapTransportResult) => void; timer: NodeJS.Timeout } | undefined;
  readonly pending = new Map<string, { resolve: (r: CoapTransportResult) => void; download: boolean }>();
  readonly seen = new Map<number, SeenRecord>();
  download: Download | undefined;
  constructor(readonly slot: number) {}
}

/** The device stops hearing (its socket closes, the run ends): what it left unanswered is complete as far as it goes. */
function cutShort(s: Session): void {
  for (const rec of s.seen.values()) {
    if (rec.answered) continue;
    rec.cut = true;
    rec.deciding = false;
  }
}

/** Nothing in it outlives a sleep: no exchange, no server message, no download in progress. */
const isIdle = (s: Session): boolean => s.links.size === 0 && s.pending.size === 0 && s.seen.size === 0 && s.queue.length === 0 && s.held.size === 0 && s.download === undefined && s.listener === undefined;

const peerKey = (p: UdpPeer): string => `${p.host}|${p.port}`;

export class CoapTransport implements Transport<CoapTransportMessage, CoapTransportResult> {
  readonly kind = 'coap' as const;
  private readonly sessions = new Map<number, Session>();
  /** Devices asleep with their socket closed: where their next endpoint's ids go on from. */
  private readonly counters = new Map<number, EndpointCounters>();
  /** http:// packages: bytes assembled in order and digested, as the HTTP dialects' are. */
  private readonly sink = new DownloadSink();
  private aborted = false;
  bytesReceived = 0;
  datagramsSent = 0;
  datagramsReceived = 0;
  /** Endpoint counts of sockets already closed (a sleep, a stopped device); the live ones are added when asked. */
  private readonly closedCounts = { retransmissions: 0, notificationsUnacknowledged: 0 };
  private socketErrors = 0;

  constructor(private readonly d: CoapTransportDeps) {}

  linkTimeMs(): number {
    return 0;
  }

  withVirtualTime(message: CoapTransportMessage): CoapTransportMessage {
    return message;
  }

  failure(code: 'ABORTED' | 'NO_SIGNAL'): CoapTransportResult {
    return { kind: 'error', code };
  }

  private session(slot: number): Session {
    let s = this.sessions.get(slot);
    if (s === undefined) {
      s = new Session(slot);
      this.sessions.set(slot, s);
    }
    return s;
  }

  private peerOf(s: Session, peer: UdpPeer): PeerLink {
    const key = peerKey(peer);
    let x = s.links.get(key);
    if (x === undefined) {
      const timing = this.d.timingOf?.(s.slot) ?? this.d.timing;
      const resume = this.counters.get(s.slot);
      this.counters.delete(s.slot);
      const endpoint = new CoapEndpoint({ timing, seed: (this.d.seed ^ Math.imul(s.slot + 1, 0x9e3779b1)) >>> 0, exchangeLifetimeMs: exchangeLifetimeMs(timing), ...(resume === undefined ? {} : { resume }) });
      const entry: PeerLink = { session: s, endpoint, link: undefined as unknown as UdpLink, timer: undefined, timerAt: Infinity };
      entry.link = new UdpLink(
        peer,
        (bytes) => {
          this.datagramsReceived += 1;
          this.bytesReceived += bytes.length;
          this.apply(s, entry, endpoint.receive(bytes, this.d.now(), s.awake));
        },
        // A socket that cannot open or send (EMFILE past the open-files limit): what waits on it fails with that code, not a silent timeout.
        (code) => {
          this.socketErrors += 1;
          for (const token of [...s.pending.keys()]) this.settle(s, token, { kind: 'error', code });
        },
        peer.host.startsWith('127.') ? this.d.sourceOf?.(s.slot) : undefined,
      );
      x = entry;
      s.links.set(key, x);
    }
    return x;
  }

  private apply(s: Session, x: PeerLink, effects: readonly Effect[]): void {
    const now = this.d.now();
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          this.datagramsSent += 1;
          x.link.send(e.bytes);
          break;
        case 'response':
          this.settle(s, e.token, this.responseResult(s, e.message, e.transmissions, s.pending.get(e.token)?.download === true));
          break;
        case 'give-up':
          this.settle(s, e.token, { kind: 'error', code: 'TIMEOUT' });
          break;
        case 'reset':
          if (e.token !== undefined) this.settle(s, e.token, { kind: 'error', code: 'RESET' });
          break;
        case 'request':
          // Answered only once the device replies: a cohort that drops this ACK leaves it unanswered (see 'reply').
          s.seen.set(e.message.messageId, { ...s.seen.get(e.message.messageId), at: [...(x.endpoint.seenOf(e.message.messageId) ?? [now])], answered: false, deciding: true });
          this.deliver(s, e.message);
          break;
        case 'unheard':
          // Asleep for more than an ACK_TIMEOUT: a server that thought it awake a moment longer is not the fault the rule names.
          s.seen.set(e.message.messageId, { at: [now], answered: false, ...(now - s.asleepSince > this.d.timing.ackTimeoutMs ? { asleep: true } : {}) });
          break;
        case 'duplicate': {
          const r = s.seen.get(e.message.messageId);
          if (r !== undefined) r.at = [...e.seenAt];
          break;
        }
        case 'ignored':
          break;
      }
    }
    this.arm(x);
  }

  private deliver(s: Session, m: CoapMessage): void {
    s.held.set(m.messageId, m);
    if (s.listener !== undefined) {
      const l = s.listener;
      s.listener = undefined;
      clearTimeout(l.timer);
      l.resolve(this.withSeen(s, this.serverRequest(m)));
      return;
    }
    s.queue.push(m);
  }

  private serverRequest(m: CoapMessage): CoapTransportResult {
    return { kind: 'server-request', ref: { messageId: m.messageId, token: m.token.toString('hex') }, code: m.code, path: pathOf(m), options: m.options, payload: m.payload };
  }

  private responseResult(s: Session, m: CoapMessage, transmissions: number, download: boolean): CoapTransportResult {
    const base = { kind: 'response' as const, code: m.code, options: m.options, payload: m.payload, transmissions };
    const dl = s.download;
    if (!download || dl === undefined) return base;
    const held = this.assemble(dl, m);
    return { ...base, held: held.held, ...(held.md5 === undefined ? {} : { md5: held.md5 }) };
  }

  /** Appends a block's new bytes, offset-wise, by the same arithmetic the device decides with. */
  private assemble(dl: Download, m: CoapMessage): { held: number; md5?: string } {
    const state = { held: dl.held, szx: 6, etag: dl.etag, size: undefined, done: false };
    const out = onBlock2(state, m);
    if (out.kind === 'restart') {
      dl.hash = createHash('md5');
      dl.held = 0;
      dl.etag = undefined;
      return { held: 0 };
    }
    if (out.kind !== 'accepted') return { held: dl.held };
    dl.hash.update(m.payload.subarray(out.fresh.start, Math.max(out.fresh.start, out.fresh.end)));
    dl.held = out.state.held;
    dl.etag = out.state.etag;
    if (!out.state.done) return { held: dl.held };
    return { held: dl.held, md5: dl.hash.copy().digest('hex') };
  }

  private settle(s: Session, token: string, r: CoapTransportResult): void {
    const pending = s.pending.get(token);
    s.pending.delete(token);
    pending?.resolve(this.withSeen(s, r));
  }

  /** The result with the server messages whose record is complete: answered ones, and unanswered ones gone quiet. */
  private withSeen(s: Session, r: CoapTransportResult): CoapTransportResult {
    if (s.seen.size === 0) return r;
    const now = this.d.now();
    const done: SeenMessage[] = [];
    for (const [mid, rec] of s.seen) {
      if (rec.deciding === true) continue;
      // Unanswered: complete once past any give-up a server may have (counted from its first transmission).
      if (rec.answered || rec.cut === true || now - rec.at[0]! >= this.d.seenCompleteAfterMs) {
        done.push({ messageId: mid, at: rec.at, answered: rec.answered, ...(rec.asleep === true ? { asleep: true } : {}), ...(rec.cut === true ? { cut: true } : {}) });
        s.seen.delete(mid);
      }
    }
    return done.length === 0 ? r : { ...r, seen: done };
  }

  private arm(x: PeerLink): void {
    const due = x.endpoint.nextDue();
    if (due === undefined || due >= x.timerAt) {
      if (due === undefined && x.timer !== undefined) {
        clearTimeout(x.timer);
        x.timer = undefined;
        x.timerAt = Infinity;
      }
      return;
    }
    if (x.timer !== undefined) clearTimeout(x.timer);
    x.timerAt = due;
    x.timer = setTimeout(() => {
      x.timer = undefined;
      x.timerAt = Infinity;
      if (this.sessions.get(x.session.slot) === x.session) this.apply(x.session, x, x.endpoint.timer(this.d.now()));
    }, Math.ceil(this.d.realMsUntil(due)));
  }

  exchange(slot: number, message: CoapTransportMessage, o: ExchangeOptions): Promise<CoapExchanged> {
    if (this.aborted) return Promise.resolve({ result: { kind: 'error', code: 'ABORTED' }, aborted: true });
    const s = this.session(slot);
    const ended = (result: CoapTransportResult): CoapExchanged => ({
      result,
      aborted: this.aborted,
      ...(result.kind === 'response' ? { firstByteAt: performance.now() } : {}),
      ...(this.aborted && result.seen !== undefined ? { evidence: true } : {}),
    });
    switch (message.kind) {
      case 'sleep': {
        s.awake = false;
        s.asleepSince = this.d.now();
        // Heard but never handed to a listen: as good as unheard, so a retransmission after the wake is handled afresh.
        const server = s.links.get(peerKey(this.d.server));
        for (const m of s.queue) {
          server?.endpoint.undeliver(m.messageId);
          s.held.delete(m.messageId);
          const rec = s.seen.get(m.messageId);
          if (rec !== undefined) {
            rec.answered = false;
            rec.deciding = false;
          }
        }
        s.queue.length = 0;
        if (message.release !== true) return Promise.resolve(ended(this.withSeen(s, { kind: 'done' })));
        this.closeLinks(s);
        const result = ended(this.withSeen(s, { kind: 'done' }));
        // Nothing left to carry over the sleep: the device costs no session until it speaks again.
        if (isIdle(s)) this.sessions.delete(slot);
        return Promise.resolve(result);
      }
      case 'listen': {
        s.awake = true;
        const next = s.queue.shift();
        if (next !== undefined) return Promise.resolve(ended(this.withSeen(s, this.serverRequest(next))));
        return new Promise((resolve) => {
          const timer = setTimeout(() => {
            s.listener = undefined;
            resolve(ended(this.withSeen(s, { kind: 'quiet' })));
          }, Math.ceil(this.d.realMsUntil(message.until)));
          s.listener = { resolve: (r) => resolve(ended(r)), timer };
        });
      }
      case 'reply': {
        const request = s.held.get(message.to.messageId);
        s.held.delete(message.to.messageId);
        const x = this.peerOf(s, this.d.server);
        if (request === undefined) return Promise.resolve(ended({ kind: 'error', code: 'NO_REQUEST' }));
        if (message.drop === true) {
          x.endpoint.undeliver(request.messageId);
          const rec = s.seen.get(request.messageId);
          if (rec !== undefined) {
            rec.answered = false;
            rec.deciding = false;
          }
          return Promise.resolve(ended({ kind: 'done' }));
        }
        const options: CoapOption[] = [];
        if (message.observe !== undefined) options.push({ number: COAP_OPTION.OBSERVE, value: uintOption(message.observe) });
        if (message.contentFormat !== undefined) options.push({ number: COAP_OPTION.CONTENT_FORMAT, value: uintOption(message.contentFormat) });
        o.onWritten?.(performance.now());
        const rec = s.seen.get(request.messageId);
        if (rec !== undefined) {
          rec.answered = true;
          rec.deciding = false;
        }
        this.apply(s, x, x.endpoint.respond(request, { code: message.code, options, payload: Buffer.from(message.payload ?? []) }));
        return Promise.resolve(ended(this.withSeen(s, { kind: 'done' })));
      }
      case 'notify': {
        const x = this.peerOf(s, this.d.server);
        const options: CoapOption[] = [{ number: COAP_OPTION.OBSERVE, value: uintOption(message.observe) }];
        if (message.contentFormat !== undefined) options.push({ number: COAP_OPTION.CONTENT_FORMAT, value: uintOption(message.contentFormat) });
        o.onWritten?.(performance.now());
        this.apply(
          s,
          x,
          x.endpoint.notify({ type: message.confirmable ? 'CON' : 'NON', code: message.code, token: Buffer.from(message.token, 'hex'), options, payload: Buffer.from(message.payload) }, this.d.now()),
        );
        return Promise.resolve(ended({ kind: 'done' }));
      }
      case 'http-range': {
        s.awake = true;
        let host: string;
        try {
          host = new URL(message.url).hostname.replace(/^\[|\]$/g, '');
        } catch {
          return Promise.resolve(ended({ kind: 'error', code: 'BAD_URL' }));
        }
        if (!this.d.isAllowedHost(host)) return Promise.resolve(ended({ kind: 'error', code: 'NOT_LOOPBACK' }));
        o.onWritten?.(performance.now());
        return this.httpRange(slot, message.url, message.start, message.end, o.timeoutMs).then((r) => ended(this.withSeen(s, r)));
      }
      case 'request': {
        s.awake = true;
        const peer = message.peer ?? this.d.server;
        if (!this.d.isAllowedHost(peer.host)) return Promise.resolve(ended({ kind: 'error', code: 'NOT_LOOPBACK' }));
        const x = this.peerOf(s, peer);
        if (message.rebind === true) x.link.rebind();
        // A download starts at block 0 (a new one, or one the device starts over).
        if (message.block2 !== undefined && (message.block2.num === 0 || s.download === undefined)) s.download = { hash: createHash('md5'), held: 0, etag: undefined };
        const options: CoapOption[] = [...pathOptions(message.path), ...queryOptions((message.query ?? []).join('&'))];
        if (message.contentFormat !== undefined) options.push({ number: COAP_OPTION.CONTENT_FORMAT, value: uintOption(message.contentFormat) });
        if (message.block2 !== undefined) options.push({ number: COAP_OPTION.BLOCK2, value: encodeBlock(message.block2) });
        return new Promise((resolve) => {
          const { token, effects } = x.endpoint.request({ code: message.code, options, ...(message.payload === undefined ? {} : { payload: Buffer.from(message.payload) }), confirmable: message.confirmable ?? true }, this.d.now());
          s.pending.set(token, { resolve: (r) => resolve(ended(r)), download: message.block2 !== undefined });
          o.onWritten?.(performance.now());
          this.apply(s, x, effects);
        });
      }
    }
  }

  /**
   * The device's sockets close for its sleep (sleepingSocket: close): what it left unanswered is
   * cut short (its later retransmissions are unheard by design, not given up by the server).
   */
  private closeLinks(s: Session): void {
    for (const x of s.links.values()) this.closePeer(x);
    // The server's endpoint is the one whose ids matter (a package repository elsewhere is a new exchange each time).
    const server = s.links.get(peerKey(this.d.server));
    if (server !== undefined) this.counters.set(s.slot, server.endpoint.counters());
    s.links.clear();
    for (const token of [...s.pending.keys()]) this.settle(s, token, { kind: 'error', code: 'CLOSED' });
    cutShort(s);
  }

  /** One ranged GET of an http:// package (loopback only), its bytes into the sink. Never throws. */
  private async httpRange(slot: number, url: string, start: number, end: number, timeoutMs: number): Promise<CoapTransportResult> {
    try {
      const res = await httpRequest(url, { method: 'GET', headers: { range: `bytes=${start}-${end}` }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      const body = Buffer.from(await res.body.arrayBuffer());
      this.bytesReceived += body.length;
      const range = typeof res.headers['content-range'] === 'string' ? res.headers['content-range'] : undefined;
      const total = res.statusCode === 206 ? totalOf(range) : res.statusCode === 200 ? body.length : undefined;
      if (total === undefined || (res.statusCode !== 200 && res.statusCode !== 206)) return { kind: 'http', status: res.statusCode, total, held: 0 };
      const held = this.sink.accept(slot, res.statusCode, range, body, total);
      return { kind: 'http', status: res.statusCode, total, held: held.held, ...(held.md5 === undefined ? {} : { md5: held.md5 }) };
    } catch (e) {
      return { kind: 'error', code: (e as { code?: string }).code ?? 'HTTP_ERROR' };
    }
  }

  leftover(slot: number): CoapTransportResult | undefined {
    const s = this.sessions.get(slot);
    if (s === undefined || s.seen.size === 0) return undefined;
    cutShort(s);
    const r = this.withSeen(s, { kind: 'error', code: 'ABORTED' });
    return r.seen === undefined ? undefined : r;
  }

  release(slot: number): void {
    this.sink.release(slot);
    this.counters.delete(slot);
    const s = this.sessions.get(slot);
    if (s === undefined) return;
    for (const x of s.links.values()) this.closePeer(x);
    if (s.listener !== undefined) clearTimeout(s.listener.timer);
    this.sessions.delete(slot);
  }

  /** One peer of a device done with: its timer stopped, its socket closed, its endpoint's counts kept for wireCounts. */
  private closePeer(x: PeerLink): void {
    if (x.timer !== undefined) clearTimeout(x.timer);
    x.link.close();
    this.closedCounts.retransmissions += x.endpoint.counts.retransmissions;
    this.closedCounts.notificationsUnacknowledged += x.endpoint.counts.notificationsUnacknowledged;
  }

  wireCounts(): Readonly<Record<string, number>> {
    let retransmissions = this.closedCounts.retransmissions;
    let unacknowledged = this.closedCounts.notificationsUnacknowledged;
    for (const s of this.sessions.values()) {
      for (const x of s.links.values()) {
        retransmissions += x.endpoint.counts.retransmissions;
        unacknowledged += x.endpoint.counts.notificationsUnacknowledged;
      }
    }
    return {
      'datagrams sent': this.datagramsSent,
      'datagrams received': this.datagramsReceived,
      'retransmissions by the devices': retransmissions,
      'CON notifications never acknowledged': unacknowledged,
      'socket errors': this.socketErrors,
    };
  }

  abortAll(): void {
    this.aborted = true;
    for (const s of this.sessions.values()) {
      // The run's end ends what the device can still hear: the records it holds go out with the aborted exchange (settle, withSeen).
      if (s.pending.size > 0 || s.listener !== undefined) cutShort(s);
      for (const token of [...s.pending.keys()]) this.settle(s, token, { kind: 'error', code: 'ABORTED' });
      if (s.listener !== undefined) {
        clearTimeout(s.listener.timer);
        s.listener.resolve(this.withSeen(s, { kind: 'error', code: 'ABORTED' }));
        s.listener = undefined;
      }
    }
  }

  async close(): Promise<void> {
    this.abortAll();
    for (const slot of [...this.sessions.keys()]) this.release(slot);
  }
}

