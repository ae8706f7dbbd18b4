/**
 * Deduplication of confirmable (and non-confirmable) messages by (peer, Message ID) over
 * EXCHANGE_LIFETIME (RFC 7252 §4.5): a duplicate is answered with the bytes first sent, never
 * processed twice. Entries leave in arrival order once their lifetime is over. Pure, clocked by
 * the caller.
 */
export interface Seen {
  /** What was answered the first time (undefined: nothing, e.g. a NON or an ACK-less request). */
  answer: Buffer | undefined;
}

export class DedupCache {
  private readonly entries = new Map<string, Seen & { expiresAt: number }>();

  constructor(private readonly lifetimeMs: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The earlier exchange of this (peer, mid), if still within its lifetime. */
  lookup(peer: string, messageId: number, now: number): Seen | undefined {
    this.sweep(now);
    return this.entries.get(`${peer}#${messageId}`);
  }

  remember(peer: string, messageId: number, now: number, answer: Buffer | undefined): Seen {
    const seen = { answer, expiresAt: now + this.lifetimeMs };
    const key = `${peer}#${messageId}`;
    // Re-inserting moves the key to the end, keeping the map in expiry order.
    this.entries.delete(key);
    this.entries.set(key, seen);
    return seen;
  }

  /** Drops the expired entries at the front (the map is in expiry order). */
  sweep(now: number): void {
    for (const [key, e] of this.entries) {
      if (e.expiresAt > now) return;
      this.entries.delete(key);
    }
  }
}
