/**
 * How the push receiver answers on purpose, as a pure decision per push: a healthy backend, or
 * one that struggles (slow answers, 5xx at a rate, no answer at all, down for a window), so a run
 * can watch the platform's retry policy at work. Durations are virtual ms; windows count from the
 * run's start.
 */

export interface DownWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

export interface ReceiverBehaviour {
  /** Answer after this long (virtual ms); 0 answers at once. */
  readonly answerAfterMs: number;
  /** Share of pushes answered `errorStatus` instead of 200. */
  readonly errorRate: number;
  readonly errorStatus: number;
  /** Never answer (the connection stays open until the platform gives up on it). */
  readonly neverAnswer: boolean;
  /** While inside one of these, every push has its connection reset at once. */
  readonly down: readonly DownWindow[];
}

export const HEALTHY: ReceiverBehaviour = { answerAfterMs: 0, errorRate: 0, errorStatus: 503, neverAnswer: false, down: [] };

export type ReceiverAction =
  | { readonly kind: 'answer'; readonly status: number; readonly afterMs: number }
  | { readonly kind: 'hang' }
  | { readonly kind: 'reset' };

/** What to do with a push arriving `sinceStartMs` after the run started; `draw` gives [0, 1). */
export function decide(b: ReceiverBehaviour, sinceStartMs: number, draw: () => number): ReceiverAction {
  if (b.down.some((w) => sinceStartMs >= w.fromMs && sinceStartMs < w.toMs)) return { kind: 'reset' };
  if (b.neverAnswer) return { kind: 'hang' };
  const status = b.errorRate > 0 && draw() < b.errorRate ? b.errorStatus : 200;
  return { kind: 'answer', status, afterMs: b.answerAfterMs };
}
