/**
 * HTTP as a transport (./transport.ts): the keep-alive pool of ./network.ts, and what HTTP
 * downloads need on top of it: the chunks of each device's image assembled in order and digested
 * as they come (./download-sink.ts), and the link time of a ranged answer.
 */
import type { HttpRequest, HttpResult } from '../dialect/types.js';
import type { LinkConfig } from '../radio/link.js';
import { transferTimeMs } from '../radio/link.js';
import { formatVirtualTime, VIRTUAL_TIME_HEADER } from '../protocol/virtual-time.js';
import { DownloadSink } from './download-sink.js';
import type { RawResult } from './network.js';
import type { ExchangeOptions, Exchanged, OnWritten, Transport } from './transport.js';

/** What sends one HTTP request (./network.ts's Network; a fake in tests). */
export interface HttpSender {
  send(req: HttpRequest, timeoutMs: number, paceMs?: number, onWritten?: OnWritten): Promise<RawResult>;
  abortAll(): void;
  close(): Promise<void>;
}

export class HttpTransport implements Transport<HttpRequest, HttpResult> {
  readonly kind = 'http';
  private readonly sink = new DownloadSink();

  constructor(private readonly sender: HttpSender) {}

  get bytesReceived(): number {
    return this.sink.bytesReceived;
  }

  linkTimeMs(http: HttpRequest, link: LinkConfig): number {
    return http.download ? linkTransferMs(link, http) : 0;
  }

  withVirtualTime(http: HttpRequest, virtualNow: number): HttpRequest {
    return { ...http, headers: { ...http.headers, [VIRTUAL_TIME_HEADER]: formatVirtualTime(virtualNow) } };
  }

  async exchange(slot: number, http: HttpRequest, o: ExchangeOptions): Promise<Exchanged<HttpResult>> {
    const raw = await this.sender.send(http, o.timeoutMs, o.paceMs, o.onWritten);
    if (raw.kind === 'error' && raw.code === 'ABORTED') return { result: raw, aborted: true };
    const result = this.withDownload(slot, http, raw);
    return raw.kind === 'response' ? { result, aborted: false, firstByteAt: raw.headersAt } : { result, aborted: false };
  }

  failure(code: 'ABORTED' | 'NO_SIGNAL'): HttpResult {
    return { kind: 'error', code };
  }

  release(slot: number): void {
    this.sink.release(slot);
  }

  abortAll(): void {
    this.sender.abortAll();
  }

  close(): Promise<void> {
    return this.sender.close();
  }

  /** The answer as the device holds it: a download's bytes join its image, and `held` / `md5` say how far it is. */
  private withDownload(slot: number, http: HttpRequest, raw: RawResult): HttpResult {
    if (raw.kind === 'error' && raw.partial && http.download) {
      // A reset mid-chunk: the bytes that arrived in order are held, so the device resumes after them.
      const { partial } = raw;
      return { ...raw, partial: { ...partial, ...this.sink.accept(slot, partial.status, partial.headers['content-range'], partial.body, http.download.total) } };
    }
    if (raw.kind !== 'response' || !http.download || raw.status >= 300) return raw;
    if (isOneByteError(raw)) return raw;
    const held = this.sink.accept(slot, raw.status, raw.headers['content-range'], raw.body, http.download.total);
    return { ...raw, ...held };
  }
}

/**
 * OneNET answers a failed download with a one-byte body ('1', '2' or '3') and no Content-Length;
 * those bytes are an error code, never part of the image.
 */
function isOneByteError(raw: { headers: Readonly<Record<string, string | undefined>>; body: Uint8Array }): boolean {
  if (raw.body.length !== 1 || raw.headers['content-length'] !== undefined) return false;
  const b = raw.body[0] as number;
  return b >= 0x31 && b <= 0x33;
}

const RANGE = /bytes=(\d+)-(\d+)/;

/** Virtual ms a download answer takes over the device's link (Infinity: no link at all). */
function linkTransferMs(link: LinkConfig, http: HttpRequest): number {
  const m = RANGE.exec(http.headers['range'] ?? http.headers['Range'] ?? '');
  const bytes = m ? Number(m[2]) - Number(m[1]) + 1 : (http.download?.total ?? 0);
  return transferTimeMs(link, Math.max(0, bytes));
}
