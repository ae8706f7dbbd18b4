/**
 * Sends the AIOT pushes the schedule (./push-schedule.ts) decides, to the configured URL with the
 * `Appid` / `Appkey` headers, on the server's virtual clock: a timer wakes at the schedule's next
 * instant, an attempt that gets no answer within answerWithinMs (virtual) is aborted and counted
 * failed. A backend that misbehaves is only ever a failed attempt: nothing here throws.
 */
import { Pool } from 'undici';
import type { Clock } from '../../time/clock.js';
import { PUSH_SENT_HEADER, type PushMessage, type PushRetryPolicy } from '../../protocol/aiot.js';
import { PushSchedule, type Attempt, type PushCounts } from './push-schedule.js';

/**
 * Real ms the pusher gives an answer at least, whatever the time scale: at ×60 the spec's 15 s
 * are 250 ms, and lag in the server's own thread would read as a late answer (a duplicate the
 * receiver did not cause). Below this the policy's window is stretched, never shortened.
 */
export const MIN_ANSWER_REAL_MS = 500;

/** Connections to the push URL: the attempts in flight share them. */
const PUSH_CONNECTIONS = 64;

export interface PusherOptions {
  url: string;
  appId: string;
  appKey: string;
  policy: PushRetryPolicy;
  clock: Clock;
  bugs: ReadonlySet<string>;
}

export class Pusher {
  private readonly schedule: PushSchedule;
  private timer: NodeJS.Timeout | undefined;
  private wakeAt: number | undefined;
  private closed = false;
  private readonly inFlight = new Set<AbortController>();
  /** Keep-alive connections to the push URL (undici's request: a fraction of fetch's cost a call). */
  private readonly pool: Pool;
  private readonly path: string;

  constructor(private readonly o: PusherOptions) {
    this.schedule = new PushSchedule(o.policy, o.bugs);
    const url = new URL(o.url);
    this.pool = new Pool(url.origin, { connections: PUSH_CONNECTIONS });
    this.path = `${url.pathname}${url.search}`;
  }

  get counts(): PushCounts {
    return this.schedule.counts;
  }

  get pending(): number {
    return this.schedule.pending;
  }

  push(msg: PushMessage): void {
    if (this.closed) return;
    this.schedule.make(msg, this.o.clock.now());
    this.pump();
  }

  private pump(): void {
    if (this.closed) return;
    const now = this.o.clock.now();
    for (const a of this.schedule.due(now)) void this.send(a.msg).then((ok) => this.ended(a, ok, now));
    this.arm();
  }

  private ended(a: Attempt, ok: boolean, startedAt: number): void {
    const again = this.schedule.ended(a.id, ok, startedAt, this.o.clock.now());
    if (again) void this.send(again);
    this.pump();
  }

  private arm(): void {
    const at = this.schedule.nextWakeAt();
    if (at === undefined || (this.wakeAt !== undefined && this.wakeAt <= at && this.timer)) return;
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = at;
    const realMs = Math.max(0, (at - this.o.clock.now()) / this.o.clock.scale);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wakeAt = undefined;
      this.pump();
    }, Math.ceil(realMs));
    this.timer.unref();
  }

  /** One attempt: true for a 200 within the answer time (real ms, at least MIN_ANSWER_REAL_MS). */
  private async send(msg: PushMessage): Promise<boolean> {
    const abort = new AbortController();
    this.inFlight.add(abort);
    const limitReal = Math.max(MIN_ANSWER_REAL_MS, this.o.policy.answerWithinMs / this.o.clock.scale);
    const t0 = performance.now();
    const timer = setTimeout(() => abort.abort(), Math.ceil(limitReal));
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers: { 'content-type': 'application/json', appid: this.o.appId, appkey: this.o.appKey, [PUSH_SENT_HEADER]: String(Math.round(this.o.clock.now())) },
        body: JSON.stringify(msg),
        signal: abort.signal,
      });
      await res.body.dump().catch(() => undefined);
      return res.statusCode === 200 && performance.now() - t0 <= limitReal;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(abort);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const a of this.inFlight) a.abort();
    void this.pool.destroy().catch(() => undefined);
  }
}
