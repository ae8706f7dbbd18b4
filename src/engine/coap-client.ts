/**
 * Carries out one device's CoAP endpoint over its UDP link: sends what the endpoint says, runs
 * its timer, and turns responses and give-ups into promises. No decisions here: retransmission,
 * dedup and matching are the endpoint's (src/coap/endpoint.ts), block arithmetic is
 * src/coap/block.ts's. Times are the given clock's (virtual ms); a timer waits the real time
 * until its virtual instant.
 */
import { createHash } from 'node:crypto';
import { CoapEndpoint, type Effect, type EndpointOptions, type OutgoingRequest } from '../coap/endpoint.js';
import { block1Option, block2Option, nextBlock1, nextBlock2, onBlock1, onBlock2, startBlock1, startBlock2, type Block2State } from '../coap/block.js';
import type { CoapMessage } from '../coap/message.js';
import { UdpLink, type UdpPeer } from './udp.js';

export interface CoapClock {
  now(): number;
  /** Real ms from now until virtual instant `v` (≥ 0). */
  waitMs(v: number): number;
}

export const realClock: CoapClock = { now: () => performance.now(), waitMs: (v) => Math.max(0, v - performance.now()) };

export type Exchanged = { readonly kind: 'response'; readonly message: CoapMessage; readonly transmissions: number } | { readonly kind: 'give-up'; readonly transmissions: number } | { readonly kind: 'reset' };

/** What the device does with a request from the server (the LwM2M dialect answers these). */
export type OnServerRequest = (request: CoapMessage, client: CoapClient) => void;

export interface DownloadResult {
  readonly ok: boolean;
  readonly bytes: number;
  readonly md5: string | undefined;
  /** Block requests made (first transmissions), retransmissions, give-ups resumed from, ETag restarts. */
  readonly asks: number;
  readonly retransmissions: number;
  readonly resumes: number;
  readonly restarts: number;
  readonly reason?: string;
}

export class CoapClient {
  readonly endpoint: CoapEndpoint;
  readonly link: UdpLink;
  private readonly pending = new Map<string, (x: Exchanged) => void>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** Whether the device answers what reaches it (false: asleep, every datagram only seen). */
  listening = true;
  /** Lines of what was ignored (malformed datagrams, unknown tokens), capped. */
  readonly ignored: string[] = [];

  constructor(
    peer: UdpPeer,
    options: EndpointOptions,
    private readonly clock: CoapClock = realClock,
    private readonly onServerRequest: OnServerRequest = () => {},
    private readonly onDuplicate: (message: CoapMessage, seenAt: readonly number[]) => void = () => {},
  ) {
    this.endpoint = new CoapEndpoint(options);
    this.link = new UdpLink(peer, (bytes) => this.apply(this.endpoint.receive(bytes, this.clock.now(), this.listening)));
  }

  request(req: OutgoingRequest): Promise<Exchanged> {
    const { token, effects } = this.endpoint.request(req, this.clock.now());
    const done = new Promise<Exchanged>((resolve) => this.pending.set(token, resolve));
    this.apply(effects);
    return done;
  }

  respond(request: CoapMessage, answer: { code: string; options?: CoapMessage['options']; payload?: Buffer }): void {
    this.apply(this.endpoint.respond(request, answer));
  }

  apply(effects: readonly Effect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          this.link.send(e.bytes);
          break;
        case 'response':
          this.settle(e.token, { kind: 'response', message: e.message, transmissions: e.transmissions });
          break;
        case 'give-up':
          this.settle(e.token, { kind: 'give-up', transmissions: e.transmissions });
          break;
        case 'reset':
          if (e.token !== undefined) this.settle(e.token, { kind: 'reset' });
          break;
        case 'request':
          this.onServerRequest(e.message, this);
          break;
        case 'duplicate':
          this.onDuplicate(e.message, e.seenAt);
          break;
        case 'ignored':
          if (this.ignored.length < 100) this.ignored.push(e.reason);
          break;
      }
    }
    this.arm();
  }

  private settle(token: string, x: Exchanged): void {
    const resolve = this.pending.get(token);
    this.pending.delete(token);
    resolve?.(x);
  }

  private arm(): void {
    const due = this.endpoint.nextDue();
    if (due === undefined) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer !== undefined && due >= this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.apply(this.endpoint.timer(this.clock.now()));
    }, Math.ceil(this.clock.waitMs(due)));
  }

  /**
   * Downloads `path` block by block (Block2), resuming from the last good block after a give-up,
   * at most `maxGiveUps` times in a row without progress; digests the bytes as they come.
   */
  async download(path: CoapMessage['options'], szx: number, maxGiveUps = 3): Promise<DownloadResult> {
    let state: Block2State = startBlock2(szx);
    let hash = createHash('md5');
    let asks = 0;
    let retransmissions = 0;
    let resumes = 0;
    let restarts = 0;
    let stalled = 0;
    const end = (ok: boolean, reason?: string): DownloadResult => ({
      ok,
      bytes: state.held,
      md5: ok ? hash.digest('hex') : undefined,
      asks,
      retransmissions,
      resumes,
      restarts,
      ...(reason === undefined ? {} : { reason }),
    });
    while (!state.done) {
      asks += 1;
      const x = await this.request({ code: '0.01', options: [...path, block2Option(nextBlock2(state))] });
      if (x.kind !== 'response') {
        if (x.kind === 'give-up') retransmissions += x.transmissions - 1;
        if (++stalled > maxGiveUps) return end(false, `no answer to block ${nextBlock2(state).num} after ${maxGiveUps} resumes`);
        resumes += 1;
        continue;
      }
      retransmissions += x.transmissions - 1;
      const out = onBlock2(state, x.message);
      if (out.kind === 'failed') return end(false, out.reason);
      if (out.kind === 'restart') {
        hash = createHash('md5');
        restarts += 1;
      }
      if (out.kind === 'accepted') {
        hash.update(x.message.payload.subarray(out.fresh.start, Math.max(out.fresh.start, out.fresh.end)));
        if (out.state.held > state.held) stalled = 0;
      }
      state = out.state;
    }
    return end(true);
  }

  /**
   * Uploads `body` to `path` block by block (Block1); the final answer, or why it failed.
   * `lastBlockTransmissions` > 1 says the last block was sent again after its answer was lost:
   * a server that does not deduplicate (RFC 7252 §4.5) may have processed it twice.
   */
  async upload(path: CoapMessage['options'], body: Buffer, szx: number, code = '0.03'): Promise<{ ok: boolean; answer?: CoapMessage; reason?: string; lastBlockTransmissions?: number }> {
    let state = startBlock1(body.length, szx);
    for (let i = 0; i < 1_000_000; i++) {
      const next = nextBlock1(state);
      const x = await this.request({ code, options: [...path, block1Option(next.block)], payload: body.subarray(next.start, next.end) });
      if (x.kind !== 'response') return { ok: false, reason: `block ${next.block.num}: ${x.kind}` };
      const out = onBlock1(state, x.message);
      if (out.kind === 'failed') return { ok: false, reason: out.reason };
      if (out.kind === 'done') return { ok: true, answer: out.answer, lastBlockTransmissions: x.transmissions };
      state = out.state;
    }
    return { ok: false, reason: 'too many blocks' };
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const token of [...this.pending.keys()]) this.settle(token, { kind: 'give-up', transmissions: 0 });
    this.link.close();
  }
}
