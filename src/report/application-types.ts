/**
 * The report's `application` section: the north-bound steps and the pushes the receiver judged
 * (src/engine/application.ts fills it; src/receiver/judge.ts makes the figures).
 */
import type { LatencySummary } from './types.js';

export interface StepResult {
  step: string;
  ok: boolean;
  detail: string;
}

export interface HistogramFigure {
  count: number;
  summary: LatencySummary;
  /** HdrHistogram (µs), compressed base64. */
  histogram: string;
}

export interface PushFigures {
  /** Arrivals by message type (every attempt). */
  received: Record<'ota_upgrade_progress' | 'ota_upgrade_result', number>;
  /** Distinct messages delivered at least once with a 200 in time. */
  delivered: number;
  messages: number;
  retries: number;
  duplicatesWithoutCause: number;
  /** Messages whose last attempt failed: the platform gave up on them (or the run ended first). */
  givenUp: number;
  /** Attempts per message: "1" → messages sent once, "2" → twice, ... */
  attemptsPerMessage: Record<string, number>;
  /** Device action → first arrival, virtual ms, per type. */
  latencyMs: Partial<Record<'ota_upgrade_progress' | 'ota_upgrade_result', HistogramFigure>>;
  /** Between a failed attempt and the next of the same message, virtual ms. */
  retryIntervalMs: HistogramFigure;
  /** From a given-up message's first attempt to its last, virtual ms. */
  giveUpAfterMs: HistogramFigure;
  /** Pushes whose device action was not found in the evidence. */
  unmatched: number;
  refusedAuth: number;
  malformed: number;
  /** Arrivals past the receiver's cap, not judged. */
  dropped: number;
}

export interface ApplicationReport {
  platform: 'aiot';
  /** Where the receiver listened (the URL to register with the platform). */
  receiverUrl: string;
  /** The retry policy the pushes were judged against (virtual ms), with the profile's sources. */
  policy: { answerWithinMs: number; cacheMs: number; maxFailures: number; retryEveryMs: number; sources: Record<string, string> };
  /** The receiver's behaviour, in words. */
  receiver: string;
  northbound: StepResult[];
  pushes: PushFigures;
  /** Virtual ms the run waited for pushes after the fleet, and why it stopped waiting. */
  settle: { virtualMs: number; endedBy: 'quiet' | 'settle-time' | 'interrupted' };
  /** What limits the figures (e.g. a time scale that leaves the platform little real time to get an answer). */
  notes?: string[];
}
