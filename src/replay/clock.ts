/** The replay's clock in a run: virtual time at the run's scale, slept on in real time. */
import { ScaledClock, type ClockOrigin } from '../time/clock.js';
import type { ReplayClock } from './drive.js';

/** Longest single timer: long sleeps are cut so an abort is noticed promptly. */
const MAX_TIMER_MS = 1000;

export function scaledReplayClock(origin: ClockOrigin): ReplayClock {
  const clock = new ScaledClock(origin);
  return {
    now: () => clock.now(),
    realAt: (v) => clock.realAt(v),
    async sleepUntil(v, signal) {
      for (;;) {
        const wait = clock.realAt(v) - performance.now();
        if (wait <= 0 || signal?.aborted) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(wait, MAX_TIMER_MS));
          function done(): void {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
          }
          signal?.addEventListener('abort', done, { once: true });
        });
      }
    },
  };
}
