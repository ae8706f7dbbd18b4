/**
 * A scenario's server events (`server.events`): admin actions at virtual offsets from the run's
 * start (republish a package, lift every loop ban), done through the target's admin API while the
 * fleet runs. What each did (the md5 a republish replaced, and when, on the virtual clock) goes to
 * the verdicts, which judge the devices against it.
 */
import type { ServerEvent } from '../scenario/types.js';
import type { Clock } from '../time/clock.js';
import type { Frontier } from '../time/frontier.js';

export interface AdminApi {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
}

export interface AppliedEvent {
  action: ServerEvent['action'];
  /** The OneNET package or Luat firmware republished. */
  package?: string;
  /** Virtual ms since the run's start: when the action was asked for, and when the server had done it. */
  startedAt: number;
  doneAt: number;
  /** Republish: the md5 before and after (OneNET packages; for Luat, each project's firmware). */
  previousMd5?: string[];
  md5?: string[];
  /** Why it could not be done. */
  error?: string;
}

export interface ServerEventRun {
  /** Cancels the events not yet due, waits for those under way, and lists what was done. */
  settle(): Promise<AppliedEvent[]>;
}

interface RepublishAnswer {
  md5?: unknown;
  previousMd5?: unknown;
  firmware?: { md5?: unknown; previousMd5?: unknown }[];
}

const MAX_TIMER_MS = 2_147_000_000;

const strings = (xs: unknown[]): string[] => xs.filter((x): x is string => typeof x === 'string');

async function apply(e: ServerEvent, admin: AdminApi): Promise<Pick<AppliedEvent, 'md5' | 'previousMd5'>> {
  if (e.action === 'lift-bans') {
    await admin.post('/admin/bans/lift-all', {});
    return {};
  }
  if (e.action === 'campaign') {
    await admin.post('/admin/lwm2m/campaigns', { endpoints: e.endpoints, package: e.package, observe: e.observe });
    return {};
  }
  const a = await admin.post<RepublishAnswer>(`/admin/packages/${encodeURIComponent(e.package)}/republish`, {});
  if (Array.isArray(a.firmware)) {
    return { md5: strings(a.firmware.map((f) => f.md5)), previousMd5: strings(a.firmware.map((f) => f.previousMd5)) };
  }
  return { md5: strings([a.md5]), previousMd5: strings([a.previousMd5]) };
}

/** What decides when an event is due: the run's clock, or under `--time-scale max` its frontier. */
export type EventTiming = { kind: 'clock'; clock: Clock } | { kind: 'frontier'; frontier: Frontier };

/** Schedules the events on the run's time; each fires once, in order of its offset. */
export function scheduleServerEvents(
  events: readonly ServerEvent[],
  admin: AdminApi | undefined,
  timing: EventTiming,
  runStartVirtual: number,
  log: (line: string) => void,
): ServerEventRun {
  const applied: AppliedEvent[] = [];
  const running = new Set<Promise<void>>();
  if (events.length > 0 && admin === undefined) log('server.events: the target has no admin API we can use: no server events were done');
  /** Does one event; `now` reads the virtual instant, for the record. */
  const fire = (e: ServerEvent, api: AdminApi, now: () => number): Promise<void> => {
    const startedAt = now() - runStartVirtual;
    const record: AppliedEvent = { action: e.action, ...(e.action === 'republish' || e.action === 'campaign' ? { package: e.package } : {}), startedAt, doneAt: startedAt };
    const p = apply(e, api)
      .then((r) => {
        Object.assign(record, r);
      })
      .catch((err: unknown) => {
        record.error = err instanceof Error ? err.message.split('\n')[0] : String(err);
        log(`server event ${e.action}${e.action === 'republish' || e.action === 'campaign' ? ` ${e.package}` : ''}: ${record.error}`);
      })
      .finally(() => {
        record.doneAt = now() - runStartVirtual;
        applied.push(record);
        running.delete(p);
      });
    running.add(p);
    return p;
  };
  const cancel =
    admin === undefined ? () => {}
    : timing.kind === 'clock' ? onClock(events, timing.clock, runStartVirtual, (e) => void fire(e, admin, () => timing.clock.now()))
    : onFrontier(events, timing.frontier, runStartVirtual, (e, at) => fire(e, admin, () => at));
  return {
    async settle() {
      cancel();
      await Promise.allSettled([...running]);
      return applied.sort((a, b) => a.startedAt - b.startedAt);
    },
  };
}

/** One timer per event, at its real instant. Returns what cancels the ones not yet fired. */
function onClock(events: readonly ServerEvent[], clock: Clock, runStartVirtual: number, fire: (e: ServerEvent) => void): () => void {
  const timers: NodeJS.Timeout[] = [];
  for (const e of events) {
    const delay = Math.max(0, clock.realAt(runStartVirtual + e.atMs) - performance.now());
    // Past what a timer can wait (about 24.8 days): no run lasts that long in real time.
    if (delay > MAX_TIMER_MS) continue;
    const timer = setTimeout(() => fire(e), delay);
    timer.unref();
    timers.push(timer);
  }
  return () => {
    for (const t of timers) clearTimeout(t);
  };
}

/**
 * Under a frontier: each event in turn is the barrier no worker passes; once every worker has
 * reached it, the event is done (virtual time standing still meanwhile) and the barrier moves on.
 * Events after the fleet has nothing left to do are not done, as a run that ended cancels them.
 */
function onFrontier(events: readonly ServerEvent[], frontier: Frontier, runStartVirtual: number, fire: (e: ServerEvent, at: number) => Promise<void>): () => void {
  const queue = [...events].sort((a, b) => a.atMs - b.atMs);
  let cancelled = false;
  void (async () => {
    for (const e of queue) {
      const at = runStartVirtual + e.atMs;
      // The first is set synchronously, before any worker starts, so none can pass it.
      frontier.setBarrier(at);
      for (;;) {
        const version = frontier.version();
        if (cancelled || frontier.lowestFloor() >= Math.floor(at)) break;
        await frontier.changed(version);
      }
      if (cancelled || frontier.lowestFloor() === Infinity) break;
      // Recorded at the barrier's whole ms: every device act from then on comes after the event.
      await fire(e, Math.floor(at));
    }
    frontier.setBarrier(Infinity);
  })();
  return () => {
    cancelled = true;
    frontier.setBarrier(Infinity);
  };
}
