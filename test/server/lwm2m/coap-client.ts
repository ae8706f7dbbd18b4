/**
 * A small CoAP test client on coap-packet + node:dgram: sends requests (retransmitting a CON a few
 * times on a short timer, so the tests survive loss knobs) and collects what the server sends,
 * including its own CONs. Not a device model: just enough to drive `serve`'s CoAP endpoint.
 */
import { createSocket, type Socket } from 'node:dgram';
import { generate, parse, type ParsedPacket } from 'coap-packet';

export interface RequestOptions {
  code?: string;
  query?: string[];
  payload?: Buffer;
  block2?: Buffer;
  confirmable?: boolean;
  messageId?: number;
  /** Real ms between retransmits (default 100); attempts (default 20). */
  retryMs?: number;
  attempts?: number;
}

export class TestCoapClient {
  readonly socket: Socket;
  /** Everything the server sent, in order. */
  readonly received: ParsedPacket[] = [];
  private mid = Math.floor(Math.random() * 30_000);
  private waiters: ((m: ParsedPacket) => boolean)[] = [];

  private constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.socket = createSocket('udp4');
    this.socket.on('message', (bytes) => {
      const m = parse(bytes);
      this.received.push(m);
      this.waiters = this.waiters.filter((w) => !w(m));
    });
  }

  static async open(url: string): Promise<TestCoapClient> {
    const u = new URL(url.replace(/^coap:/, 'http:'));
    const c = new TestCoapClient(u.hostname, Number(u.port));
    await new Promise<void>((r) => c.socket.bind(0, '127.0.0.1', () => r()));
    return c;
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  sendRaw(bytes: Buffer): void {
    this.socket.send(bytes, this.port, this.host);
  }

  /** The bytes of a request (to send twice for a duplicate). */
  build(path: string[], o: RequestOptions = {}): { bytes: Buffer; messageId: number; token: Buffer } {
    const messageId = o.messageId ?? (this.mid = (this.mid + 1) & 0xffff);
    const token = Buffer.from([messageId >> 8, messageId & 0xff, 7]);
    const options = [
      ...path.map((p) => ({ name: 'Uri-Path' as const, value: Buffer.from(p) })),
      ...(o.query ?? []).map((q) => ({ name: 'Uri-Query' as const, value: Buffer.from(q) })),
      ...(o.block2 ? [{ name: 'Block2' as const, value: o.block2 }] : []),
    ];
    const bytes = generate({ code: o.code ?? '0.01', confirmable: o.confirmable ?? true, messageId, token, options, payload: o.payload ?? Buffer.alloc(0) });
    return { bytes, messageId, token };
  }

  /** Waits for a message the predicate accepts (already received ones included). */
  waitFor(pred: (m: ParsedPacket) => boolean, timeoutMs = 5_000): Promise<ParsedPacket> {
    const seen = this.received.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no such message from the server in time')), timeoutMs);
      this.waiters.push((m) => {
        if (!pred(m)) return false;
        clearTimeout(timer);
        resolve(m);
        return true;
      });
    });
  }

  /** Sends a request and resolves with its piggybacked answer, retransmitting until it comes. */
  async request(path: string[], o: RequestOptions = {}): Promise<ParsedPacket> {
    const { bytes, messageId } = this.build(path, o);
    const answered = this.waitFor((m) => m.ack && m.messageId === messageId, (o.retryMs ?? 100) * (o.attempts ?? 20) + 1_000);
    let done = false;
    void answered.finally(() => (done = true)).catch(() => {});
    for (let i = 0; i < (o.attempts ?? 20) && !done; i++) {
      this.sendRaw(bytes);
      await Promise.race([answered.catch(() => {}), new Promise((r) => setTimeout(r, o.retryMs ?? 100))]);
    }
    return answered;
  }

  /** Acknowledges a server CON, with a piggybacked response when `code` is given. */
  ack(con: ParsedPacket, code?: string, payload?: string, observe?: number): void {
    const options = observe === undefined ? [] : [{ name: 'Observe' as const, value: Buffer.from([observe]) }];
    this.sendRaw(generate({ code: code ?? '0.00', ack: true, messageId: con.messageId, token: code ? con.token : Buffer.alloc(0), options, payload: Buffer.from(payload ?? '') }));
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

export const pathOf = (m: ParsedPacket): string => `/${m.options.filter((o) => o.name === 'Uri-Path').map((o) => o.value.toString()).join('/')}`;
