/**
 * The device's transmission layer, around any dialect's machine: CoAP-style retransmission of a
 * request whose answer never came (RFC 7252 §4.2), and the answers a cohort's `answerLoss` makes
 * the radio link lose. Pure like the machines it wraps: decisions from (state, profile, settings,
 * now) and draws from the device's own seed.
 *
 * - Every transmission has a number `n` (0, 1, … over the device's life): the loss draw is
 *   hashUniform(seed, LOSS_STREAM, n), the timeout draw hashUniform(seed, TIMEOUT_STREAM, n).
 *   A transmission whose operation is in `answerLoss.ops` is lost when its draw is below `rate`:
 *   the request carries `fault.loseAnswer`, the engine lets the server process it and drops the
 *   answer (`ANSWER_LOST`).
 * - An unanswered transmission (ANSWER_LOST, TIMEOUT, ECONNRESET: the request may have been
 *   processed, nothing came back) is sent again, unchanged, when its timeout has run out since it
 *   was sent (at once when the answer took longer). The first timeout is uniform in
 *   [ACK_TIMEOUT, ACK_TIMEOUT × ACK_RANDOM_FACTOR]; each retransmission doubles it; after
 *   MAX_RETRANSMIT retransmissions the last failure goes to the machine, whose own retry and
 *   interval logic takes over. Refused connections are not retransmitted here (nothing was sent).
 * - The state the engine sees keeps the machine's `kind`, so a retransmission is no transition.
 */
import type { RequestFault } from '../dialect/types.js';
import { hashUniform } from '../random/rng.js';
import type { Action, DeviceMachine, DeviceProfile, DeviceSettings, Step } from './types.js';
import { firstTimeoutMs, retransmitBudget } from '../protocol/coap.js';

/** Stream of the per-transmission loss draws. */
export const LOSS_STREAM = 0x1055_a45e;
/** Stream of the per-transmission timeout draws (the random factor). */
export const TIMEOUT_STREAM = 0xac4_71e0;

/** Transport failures after which the request may have been processed: no answer, so retransmit. */
export const UNANSWERED_CODES: ReadonlySet<string> = new Set(['ANSWER_LOST', 'TIMEOUT', 'ECONNRESET']);

/** What the layer needs to know of a dialect's requests and answers. */
export interface TransmissionAdapter<R, A> {
  /** The operation (histogram name) of a request, matched against `answerLoss.ops`. */
  opOf(request: R): string;
  /** The request with its loss fault set or cleared (other faults kept). */
  withLoss(request: R, lose: boolean): R;
  /** Whether an answer is no answer at all (see UNANSWERED_CODES). */
  isUnanswered(answer: A): boolean;
}

export interface TransmissionState<R> {
  /** Transmissions made so far: the index of the next loss and timeout draws. */
  readonly n: number;
  /** The request in flight or waiting to be sent again, without its loss fault; undefined when none. */
  readonly request: R | undefined;
  /** Retransmissions made of `request`. */
  readonly retries: number;
  /** Virtual instant of its latest transmission. */
  readonly sentAt: number;
  /** Timeout of its latest transmission, virtual ms. */
  readonly timeoutMs: number;
  /** Asleep until `request` is sent again (a sleep of this layer, not of the machine). */
  readonly resendAt: number | undefined;
}

/** The machine's state with the layer's; `kind` is always the machine's. */
export interface Transmitting<S extends { readonly kind: string }, R> {
  readonly kind: S['kind'];
  readonly inner: S;
  readonly tx: TransmissionState<R>;
}

/** The first timeout of transmission `n`: uniform in [ACK_TIMEOUT, ACK_TIMEOUT × factor]. */
export function initialTimeoutMs(p: DeviceProfile, s: DeviceSettings, n: number): number {
  return firstTimeoutMs(s.retransmit, hashUniform(p.seed, TIMEOUT_STREAM, n));
}


/** Whether transmission `n` of `op` loses its answer. */
export function losesAnswer(p: DeviceProfile, op: string, n: number): boolean {
  const loss = p.behaviour.answerLoss;
  if (loss === undefined || !(loss.rate > 0) || !loss.ops.includes(op)) return false;
  return hashUniform(p.seed, LOSS_STREAM, n) < loss.rate;
}

/** Wraps a dialect's machine in the transmission layer. */
export function withRetransmit<S extends { readonly kind: string }, R, A>(
  machine: DeviceMachine<S, R, A>,
  adapter: TransmissionAdapter<R, A>,
): DeviceMachine<Transmitting<S, R>, R, A> {
  type T = Transmitting<S, R>;

  const transmit = (inner: S, request: R, tx: TransmissionState<R>, p: DeviceProfile): Step<T, R> => {
    const lose = losesAnswer(p, adapter.opOf(request), tx.n);
    const state: T = { kind: inner.kind, inner, tx: { ...tx, n: tx.n + 1 } };
    return { state, action: { type: 'send', request: adapter.withLoss(request, lose) } };
  };

  /** A step of the machine, with a fresh transmission for its request. */
  const lift = (step: Step<S, R>, n: number, p: DeviceProfile, s: DeviceSettings, now: number): Step<T, R> => {
    const action = step.action as Action<R>;
    if (action.type === 'send') {
      const request = adapter.withLoss(action.request, false);
      return transmit(step.state, action.request, { n, request, retries: 0, sentAt: now, timeoutMs: initialTimeoutMs(p, s, n), resendAt: undefined }, p);
    }
    const tx: TransmissionState<R> = { n, request: undefined, retries: 0, sentAt: now, timeoutMs: 0, resendAt: undefined };
    return { state: { kind: step.state.kind, inner: step.state, tx }, action };
  };

  return {
    start(p, s, now) {
      return lift(machine.start(p, s, now), 0, p, s, now);
    },

    onTimer(st, p, s, now) {
      const { tx } = st;
      if (tx.resendAt !== undefined && tx.request !== undefined) {
        return transmit(st.inner, tx.request, { ...tx, retries: tx.retries + 1, sentAt: now, timeoutMs: tx.timeoutMs * 2, resendAt: undefined }, p);
      }
      return lift(machine.onTimer(st.inner, p, s, now), tx.n, p, s, now);
    },

    onAnswer(st, answer, p, s, now) {
      const { tx } = st;
      if (tx.resendAt !== undefined) return { state: st, action: { type: 'sleep', until: tx.resendAt } };
      const budget = retransmitBudget(s.retransmit);
      if (tx.request !== undefined && adapter.isUnanswered(answer) && tx.retries < budget) {
        const resendAt = Math.max(now, tx.sentAt + tx.timeoutMs);
        return { state: { ...st, tx: { ...tx, resendAt } }, action: { type: 'sleep', until: resendAt } };
      }
      return lift(machine.onAnswer(st.inner, answer, p, s, now), tx.n, p, s, now);
    },
  };
}

/** The machine's own state inside a wrapped one (or the state itself when it is not wrapped). */
export function innerState(state: { readonly kind: string }): { readonly kind: string } {
  const inner = (state as { inner?: unknown }).inner;
  return typeof inner === 'object' && inner !== null && typeof (inner as { kind?: unknown }).kind === 'string' ? (inner as { kind: string }) : state;
}

/** Re-exported for adapters. */
export type { RequestFault };
