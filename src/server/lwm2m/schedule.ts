/**
 * When the server (re)transmits one confirmable downlink and when it gives up: a plan drawn once per
 * message from the profile's DownlinkSchedule. Pure.
 *
 * Choice: one uniform draw `u` per message places every resend and the give-up at the same point of
 * their windows (min + u·(max − min)). For RFC 7252 that is exactly its rule (the first timeout T in
 * [2 s, 3 s], doubling: resends at T, 3T, 7T, 15T, give-up at 31T ∈ [62 s, 93 s]); for Huawei's it
 * keeps every resend in its documented window and the give-up after the last resend.
 */
import type { DownlinkSchedule } from '../../protocol/lwm2m.js';

export interface TransmissionPlan {
  /** Delay of each resend after the transmission before it (virtual ms). */
  readonly resendDelaysMs: readonly number[];
  /** Give-up (TIMEOUT) after the first transmission (virtual ms). */
  readonly giveUpAfterMs: number;
}

/** How a named bug bends the plan (`lwm2m-retransmit-early`, `lwm2m-give-up-early`). */
export interface PlanBugs {
  /** Each resend at half its drawn delay: below the window's minimum. */
  readonly retransmitEarly: boolean;
  /** Give up at half the window's minimum: before the documented give-up. */
  readonly giveUpEarly: boolean;
}

const at = ([min, max]: readonly [number, number], u: number): number => min + u * (max - min);

export function planTransmissions(schedule: DownlinkSchedule, u: number, bugs: PlanBugs = { retransmitEarly: false, giveUpEarly: false }): TransmissionPlan {
  const resendDelaysMs = schedule.resendWindowsMs.map((w) => (bugs.retransmitEarly ? at(w, u) / 2 : at(w, u)));
  const giveUpAfterMs = bugs.giveUpEarly ? schedule.giveUpMs[0] / 2 : at(schedule.giveUpMs, u);
  return { resendDelaysMs, giveUpAfterMs };
}

/**
 * Offsets (from the first transmission) of the resends that happen before the give-up: a resend
 * due at or after it is never sent.
 */
export function resendOffsets(plan: TransmissionPlan): number[] {
  const out: number[] = [];
  let t = 0;
  for (const d of plan.resendDelaysMs) {
    t += d;
    if (t >= plan.giveUpAfterMs) break;
    out.push(t);
  }
  return out;
}
