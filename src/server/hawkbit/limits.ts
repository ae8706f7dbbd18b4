/**
 * hawkBit's DoS filter: reads (GET) and writes per client IP and second, over the limit answered
 * 429. The second is the server's clock's (virtual at `--time-scale K`, so a fleet run K times
 * faster meets the limits as the real fleet would). Whitelisted addresses are never counted.
 */
import { isWhitelistedAddress } from '../../protocol/hawkbit.js';

interface Window {
  second: number;
  reads: number;
  writes: number;
}

/** Clients tracked at most; beyond, the windows of past seconds are dropped. */
const MAX_CLIENTS = 200_000;

export class RateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly maxReads: number,
    private readonly maxWrites: number,
  ) {}

  /** Counts one request; false when it is over the client's limit for this second. */
  admit(ip: string, read: boolean, nowMs: number): boolean {
    const limit = read ? this.maxReads : this.maxWrites;
    if (limit <= 0 || isWhitelistedAddress(ip)) return true;
    const second = Math.floor(nowMs / 1000);
    let w = this.windows.get(ip);
    if (w === undefined || w.second !== second) {
      if (w === undefined && this.windows.size >= MAX_CLIENTS) this.prune(second);
      w = { second, reads: 0, writes: 0 };
      this.windows.set(ip, w);
    }
    if (read) {
      if (w.reads >= limit) return false;
      w.reads++;
    } else {
      if (w.writes >= limit) return false;
      w.writes++;
    }
    return true;
  }

  private prune(second: number): void {
    for (const [ip, w] of this.windows) if (w.second !== second) this.windows.delete(ip);
  }
}
