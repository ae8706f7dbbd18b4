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
 *   expire `cacheMs` after they were made (dropped when their turn comes).
 * - At most `maxInFlight` attempts at once; the others wait their turn, oldest first.
 *
 * Queues, so a push costs O(log n) however many wait: messages to send now (FIFO), retries by
 * their instant (a heap), and those held while the URL is invalid (FIFO).
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

/** Attempts at once, by default. */
export const DEFAULT_MAX_IN_FLIGHT = 64;

/** A FIFO with O(1) shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  push(x: T): void {
    this.items.push(x);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head++] as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
  get size(): number {
    return this.items.length - this.head;
  }
  drainInto(other: Fifo<T>): void {
    for (let x = this.shift(); x !== undefined; x = this.shift()) other.push(x);
  }
}

/** A binary min-heap of messages by `nextAt` (ties: older message first). */
class RetryHeap {
  private readonly a: Cached[] = [];
  private less = (x: Cached, y: Cached): boolean => x.nextAt < y.nextAt || (x.nextAt === y.nextAt && x.id < y.id);
  get size(): number {
    return this.a.length;
  }
  peek(): Cached | undefined {
    return this.a[0];
  }
  push(c: Cached): void {
    const a = this.a;
    a.push(c);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i] as Cached, a[p] as Cached)) break;
      [a[i], a[p]] = [a[p] as Cached, a[i] as Cached];
      i = p;
    }
  }
  pop(): Cached | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l] as Cached, a[m] as Cached)) m = l;
        if (r < a.length && this.less(a[r] as Cached, a[m] as Cached)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as Cached, a[i] as Cached];
        i = m;
      }
    }
    return top;
  }
}

export class PushSchedule {
  private readonly ready = new Fifo<Cached>();
  private readonly held = new Fifo<Cached>();
  private readonly retries = new RetryHeap();
  private readonly inFlight = new Map<number, Cached>();
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
    private readonly maxInFlight = DEFAULT_MAX_IN_FLIGHT,
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
    const c: Cached = { id: ++this.seq, msg, madeAt: now, attempts: 0, failures: 0, nextAt: now };
    (this.urlValid ? this.ready : this.held).push(c);
  }

  private expired(c: Cached, now: number): boolean {
    if (this.bugs.has('push-no-give-up') || now <= c.madeAt + this.policy.cacheMs) return false;
    this.counts.expired++;
    return true;
  }

  /** The attempts to start now, oldest message first. */
  due(now: number): Attempt[] {
    const out: Attempt[] = [];
    const target = this.urlValid ? this.ready : this.held;
    for (let top = this.retries.peek(); top !== undefined && top.nextAt <= now; top = this.retries.peek()) target.push(this.retries.pop() as Cached);
    if (!this.urlValid) {
      if (this.probing !== undefined || now < this.nextProbeAt) return out;
      for (let c = this.held.shift(); c !== undefined; c = this.held.shift()) {
        if (this.expired(c, now)) continue;
        this.probing = c.id;
        this.nextProbeAt = now + this.policy.retryEveryMs;
        return [this.start(c, true)];
      }
      return out;
    }
    while (this.inFlight.size < this.maxInFlight) {
      const c = this.ready.shift();
      if (c === undefined) break;
      if (this.expired(c, now)) continue;
      out.push(this.start(c, false));
    }
    return out;
  }

  private start(c: Cached, probe: boolean): Attempt {
    this.inFlight.set(c.id, c);
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
    const c = this.inFlight.get(id);
    if (!c) return undefined;
    this.inFlight.delete(id);
    const wasProbe = this.probing === id;
    if (wasProbe) this.probing = undefined;
    if (ok) {
      this.counts.delivered++;
      if (!this.urlValid) {
        this.urlValid = true;
        this.held.drainInto(this.ready);
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
      this.counts.givenUp++;
      if (this.urlValid) {
        this.urlValid = false;
        this.counts.urlInvalidTimes++;
        this.nextProbeAt = next;
        this.ready.drainInto(this.held);
      }
      return undefined;
    }
    c.nextAt = Math.max(next, now);
    if (!this.urlValid) this.nextProbeAt = Math.max(this.nextProbeAt, c.nextAt);
    this.retries.push(c);
    return undefined;
  }

  /** The next instant something may be due (`now` or earlier: at once), or undefined when nothing waits on time. */
  nextWakeAt(): number | undefined {
    const retry = this.retries.peek()?.nextAt;
    if (this.urlValid) {
      if (this.ready.size > 0 && this.inFlight.size < this.maxInFlight) return -Infinity;
      return retry;
    }
    if (this.probing !== undefined || (this.held.size === 0 && retry === undefined)) return undefined;
    return Math.max(this.nextProbeAt, this.held.size > 0 ? -Infinity : (retry as number));
  }

  /** Messages cached (waiting or in flight). */
  get pending(): number {
    return this.ready.size + this.held.size + this.retries.size + this.inFlight.size;
  }
}
