/**
 * A server's transmissions of one unacknowledged CON under a schedule, as a test fixture: every
 * resend at the same point `u` of its window (as serve's planner draws them), or at half of it
 * (the `lwm2m-retransmit-early` bug). Instants from the first transmission, virtual ms.
 */
import type { DownlinkSchedule } from '../../src/protocol/lwm2m.js';

export function planTransmissionsForTest(schedule: DownlinkSchedule, u: number, early: boolean): number[] {
  const giveUp = schedule.giveUpMs[0] + u * (schedule.giveUpMs[1] - schedule.giveUpMs[0]);
  const out = [0];
  let t = 0;
  for (const [min, max] of schedule.resendWindowsMs) {
    t += (min + u * (max - min)) / (early ? 2 : 1);
    if (t >= giveUp) break;
    out.push(t);
  }
  return out;
}
