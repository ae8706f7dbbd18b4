/**
 * When the platform sends each push, as decisions on virtual instants (no I/O, no timers): the
 * retry policy of spec §3.3 and the named push bugs. ./pusher.ts does the sending.
 *
 * - A push is sent once when it is made; a 200 within `answerWithinMs` ends it.
 * - A failure (another status, no answer in time, a refused connection) is retried
 *   `retryEveryMs` after the attempt started, while fewer than `maxFailures` retries have failed
 *   and the next attempt falls within `cacheMs` of the first; then the message is given up and the
 *   URL marked invalid.
 * - While the URL is invalid, nothing is sent but one probe (the oldest cached message) every
 *   `retryEveryMs`; its success makes the URL valid again and the cache is sent. Messages still
 *   expire `cacheMs` after they were made.
 */
import type { PushMessage, PushRetryPolicy } from '../../protocol/aiot.js';

export type PushBug = 'push-lost' | 'push-duplicated' | 'push-retry-early' | 'push-no-give-up';

/** Every how many messages the lost / duplicated bugs strike (deterministic, so tests can count). */
export const BUG_EVERY = 10;
/** The retry-early bug retries after this share of the interval. */
export const EARLY_SHARE = 1 / 6;

interface Cached {
  readonly id: number;
  readonly msg: PushMessage;
  readonly madeAt: number;
  attempts: number;
  failures: number;
  nextAt: number;
  inFlight: boolean;
}

export interface Attempt {
  readonly id: number;
  readonly msg: PushMessage;
  /** 1 for the first send. */
  readonly attempt: number;
  readonly probe: boolean;
}

export interface PushCounts {
  made: number;
  sent: number;
  delivered: number;
  failedAttempts: number;
  givenUp: number;
  expired: number;
  lostByBug: number;
  duplicatedByBug: number;
  urlInvalidTimes: number;
}

export class PushSchedule {
  private readonly cache = new Map<number, Cached>();
  private seq = 0;
  private resultSeq = 0;
  private deliveredSeq = 0;
  private urlValid = true;
  private nextProbeAt = 0;
  private probing: number | undefined;
  readonly counts: PushCounts = { made: 0, sent: 0, delivered: 0, failedAttempts: 0, givenUp: 0, expired: 0, lostByBug: 0, duplicatedByBug: 0, urlInvalidTimes: 0 };

  constructor(
    private readonly policy: PushRetryPolicy,
    private readonly bugs: ReadonlySet<string>,
  ) {}

  get valid(): boolean {
    return this.urlValid;
  }

  /** A push the platform makes now. */
  make(msg: PushMessage, now: number): void {
    this.counts.made++;
    if (msg.msgType === 'ota_upgrade_result' && this.bugs.has('push-lost') && ++this.resultSeq % BUG_EVERY === 0) {
      this.counts.lostByBug++;
      return;
    }
    const id = ++this.seq;
    this.cache.set(id, { id, msg, madeAt: now, attempts: 0, failures: 0, nextAt: now, inFlight: false });
  }

  /** The attempts to start now, oldest message first. */
  due(now: number): Attempt[] {
    this.expire(now);
    const out: Attempt[] = [];
    if (!this.urlValid) {
      if (this.probing !== undefined || now < this.nextProbeAt) return out;
      const oldest = this.cache.values().next();
      if (oldest.done) return out;
      const c = oldest.value;
      this.probing = c.id;
      this.nextProbeAt = now + this.policy.retryEveryMs;
      return [this.start(c, true)];
    }
    for (const c of this.cache.values()) if (!c.inFlight && c.nextAt <= now) out.push(this.start(c, false));
    return out;
  }

  private start(c: Cached, probe: boolean): Attempt {
    c.inFlight = true;
    c.attempts++;
    this.counts.sent++;
    return { id: c.id, msg: c.msg, attempt: c.attempts, probe };
  }

  /**
   * How an attempt ended: `ok` only for a 200 within answerWithinMs. `startedAt`: when the
   * attempt started (retries count from it). Returns a message to send again at once (the
   * duplicated bug), if any.
   */
  ended(id: number, ok: boolean, startedAt: number, now: number): PushMessage | undefined {
    const c = this.cache.get(id);
    if (!c) return undefined;
    c.inFlight = false;
    const wasProbe = this.probing === id;
    if (wasProbe) this.probing = undefined;
    if (ok) {
      this.cache.delete(id);
      this.counts.delivered++;
      if (wasProbe || !this.urlValid) {
        this.urlValid = true;
        for (const other of this.cache.values()) if (!other.inFlight) other.nextAt = Math.min(other.nextAt, now);
      }
      if (this.bugs.has('push-duplicated') && ++this.deliveredSeq % BUG_EVERY === 0) {
        this.counts.duplicatedByBug++;
        return c.msg;
      }
      return undefined;
    }
    this.counts.failedAttempts++;
    if (c.attempts > 1 || wasProbe) c.failures++;
    const noGiveUp = this.bugs.has('push-no-give-up');
    const interval = this.bugs.has('push-retry-early') ? this.policy.retryEveryMs * EARLY_SHARE : this.policy.retryEveryMs;
    const next = startedAt + interval;
    const spent = c.failures >= this.policy.maxFailures || next > c.madeAt + this.policy.cacheMs;
    if (spent && !noGiveUp) {
      this.cache.delete(id);
      this.counts.givenUp++;
      if (this.urlValid) {
        this.urlValid = false;
        this.counts.urlInvalidTimes++;
        this.nextProbeAt = next;
      }
      return undefined;
    }
    c.nextAt = Math.max(next, now);
    if (!this.urlValid) this.nextProbeAt = Math.max(this.nextProbeAt, c.nextAt);
    return undefined;
  }

  /** Messages older than the cache time that are not being sent are dropped. */
  private expire(now: number): void {
    if (this.bugs.has('push-no-give-up')) return;
    for (const c of this.cache.values()) {
      if (!c.inFlight && now > c.madeAt + this.policy.cacheMs) {
        this.cache.delete(c.id);
        this.counts.expired++;
      }
    }
  }

  /** The next instant something may be due, or undefined when nothing waits. */
  nextWakeAt(): number | undefined {
    let at: number | undefined;
    for (const c of this.cache.values()) {
      if (c.inFlight) continue;
      const t = this.urlValid ? c.nextAt : Math.max(this.nextProbeAt, c.nextAt);
      if (at === undefined || t < at) at = t;
    }
    return at;
  }

  /** Messages cached (waiting or in flight). */
  get pending(): number {
    return this.cache.size;
  }
}
