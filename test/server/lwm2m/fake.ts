/**
 * The LwM2M server on a fake clock: timers fire when the test advances time, datagrams are
 * captured, and a device is played by building CoAP messages with coap-packet.
 */
import { generate, parse, type ParsedPacket } from 'coap-packet';
import { DEFAULT_CATALOG } from '../../../src/catalog/default.js';
import { prepareCatalog } from '../../../src/catalog/load.js';
import type { Lwm2mSection } from '../../../src/catalog/schema.js';
import type { BugName } from '../../../src/server/bugs.js';
import type { Peer } from '../../../src/server/coap/packet.js';
import { DEFAULT_LWM2M } from '../../../src/server/lwm2m/index.js';
import { Lwm2mServer } from '../../../src/server/lwm2m/server.js';
import { PackageRuntime } from '../../../src/server/state/catalog-runtime.js';

export const DEVICE: Peer = { address: '127.0.0.1', port: 40001 };

export interface Sent {
  t: number;
  msg: ParsedPacket;
  peer: Peer;
}

export class FakeWorld {
  now = 1_000_000;
  readonly sent: Sent[] = [];
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  readonly server: Lwm2mServer;
  private mid = 100;

  constructor(o: { section?: Partial<Lwm2mSection>; bugs?: BugName[]; u?: number } = {}) {
    const section: Lwm2mSection = { ...DEFAULT_LWM2M, ...o.section };
    const catalog = prepareCatalog(DEFAULT_CATALOG);
    const packages = new Map(section.packages.map((p) => [p.id, new PackageRuntime(p, 'lwm2m', catalog.seed)] as const));
    const u = o.u ?? 0;
    this.server = new Lwm2mServer(section, packages, {
      now: () => this.now,
      send: (bytes, peer) => this.sent.push({ t: this.now, msg: parse(bytes), peer }),
      after: (ms, fn) => {
        const id = ++this.seq;
        this.timers.push({ at: this.now + ms, fn, id });
        return () => {
          this.timers = this.timers.filter((t) => t.id !== id);
        };
      },
      random: () => u,
      bugs: new Set(o.bugs ?? []),
      coapBase: () => 'coap://127.0.0.1:5683',
      httpBase: () => 'http://127.0.0.1:8080',
    });
  }

  /** Moves the clock forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.now = Math.max(this.now, next.at);
      next.fn();
    }
    this.now = end;
  }

  /** A request from the device; returns the server's answer (the ACK) parsed, after its `then`. */
  request(code: string, path: string[], query: string[] = [], payload = Buffer.alloc(0), peer = DEVICE): ParsedPacket {
    const msg = parse(
      generate({
        code,
        confirmable: true,
        messageId: ++this.mid,
        token: Buffer.from([this.mid & 0xff]),
        options: [...path.map((p) => ({ name: 'Uri-Path' as const, value: Buffer.from(p) })), ...query.map((q) => ({ name: 'Uri-Query' as const, value: Buffer.from(q) }))],
        payload,
      }),
    );
    const { answer, then } = this.server.onRequest(msg, peer);
    then?.();
    return parse(generate({ code: answer.code, ack: true, messageId: msg.messageId, token: msg.token, options: answer.options ?? [], payload: answer.payload ?? Buffer.alloc(0) }));
  }

  register(ep: string, binding: 'U' | 'UQ' = 'UQ', lt = 86400, peer = DEVICE): string {
    const ack = this.request('0.02', ['rd'], [`ep=${ep}`, `lt=${lt}`, 'lwm2m=1.1', `b=${binding}`], Buffer.from('</1/0>,</3/0>,</5/0>'), peer);
    const loc = ack.options.filter((o) => o.name === 'Location-Path').map((o) => o.value.toString());
    return loc[1] as string;
  }

  /** The device acknowledges a server CON, with a piggybacked response when `code` is given. */
  ack(of: ParsedPacket, code?: string, payload?: string, observeSeq?: number): void {
    const options = [] as { name: 'Observe' | 'Content-Format'; value: Buffer }[];
    if (observeSeq !== undefined) options.push({ name: 'Observe', value: Buffer.from([observeSeq]) });
    if (payload !== undefined) options.push({ name: 'Content-Format', value: Buffer.alloc(0) });
    this.server.onAckOrReset(parse(generate({ code: code ?? '0.00', ack: true, messageId: of.messageId, token: code ? of.token : Buffer.alloc(0), options, payload: Buffer.from(payload ?? '') })));
  }

  /** A notification (or separate response) on `token`. */
  notify(token: Buffer, value: string, observeSeq: number, confirmable = false): ParsedPacket | undefined {
    const bytes = this.server.onResponse(
      parse(generate({ code: '2.05', confirmable, messageId: ++this.mid, token, options: [{ name: 'Observe', value: Buffer.from([observeSeq]) }], payload: Buffer.from(value) })),
    );
    return bytes ? parse(bytes) : undefined;
  }

  /** Datagrams sent since index `from`. */
  since(from: number): Sent[] {
    return this.sent.slice(from);
  }

  lastSent(): ParsedPacket {
    return (this.sent[this.sent.length - 1] as Sent).msg;
  }

  device(ep: string) {
    const d = this.server.registry.byEp.get(ep);
    if (!d) throw new Error(`no device ${ep}`);
    return d;
  }
}

export const pathOf = (m: ParsedPacket): string => `/${m.options.filter((o) => o.name === 'Uri-Path').map((o) => o.value.toString()).join('/')}`;
export const isObserve = (m: ParsedPacket): boolean => m.options.some((o) => o.name === 'Observe');
