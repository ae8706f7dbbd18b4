import { describe, expect, it } from 'vitest';
import { HUAWEI_DOWNLINK, RFC7252_DOWNLINK } from '../../../src/protocol/lwm2m.js';
import { planTransmissions, resendOffsets } from '../../../src/server/lwm2m/schedule.js';

describe('the downlink transmission plan', () => {
  it('puts every Huawei resend inside its documented window and the give-up after the last', () => {
    for (const u of [0, 0.37, 0.999]) {
      const plan = planTransmissions(HUAWEI_DOWNLINK, u);
      plan.resendDelaysMs.forEach((d, k) => {
        const [min, max] = HUAWEI_DOWNLINK.resendWindowsMs[k] as [number, number];
        expect(d).toBeGreaterThanOrEqual(min);
        expect(d).toBeLessThanOrEqual(max);
      });
      expect(plan.giveUpAfterMs).toBeGreaterThanOrEqual(80_000);
      expect(plan.giveUpAfterMs).toBeLessThanOrEqual(120_000);
      const offsets = resendOffsets(plan);
      expect(offsets).toHaveLength(3);
      expect(plan.giveUpAfterMs).toBeGreaterThan(offsets[2] as number);
    }
    expect(resendOffsets(planTransmissions(HUAWEI_DOWNLINK, 0))).toEqual([10_000, 30_000, 70_000]);
  });

  it('follows RFC 7252: one timeout T in [2 s, 3 s], doubling, four resends, give-up at 31·T', () => {
    const plan = planTransmissions(RFC7252_DOWNLINK, 0.5);
    const T = 2_500;
    expect(resendOffsets(plan)).toEqual([T, 3 * T, 7 * T, 15 * T]);
    expect(plan.giveUpAfterMs).toBe(31 * T);
    expect(planTransmissions(RFC7252_DOWNLINK, 0).giveUpAfterMs).toBe(62_000);
    expect(planTransmissions(RFC7252_DOWNLINK, 1).giveUpAfterMs).toBe(93_000);
  });

  it('retransmits early and gives up early only under the named bugs', () => {
    const early = planTransmissions(HUAWEI_DOWNLINK, 0, { retransmitEarly: true, giveUpEarly: false });
    expect(early.resendDelaysMs[0]).toBe(5_000);
    expect(early.resendDelaysMs[0]).toBeLessThan(HUAWEI_DOWNLINK.resendWindowsMs[0]?.[0] as number);
    const giveUp = planTransmissions(HUAWEI_DOWNLINK, 1, { retransmitEarly: false, giveUpEarly: true });
    expect(giveUp.giveUpAfterMs).toBe(40_000);
    // Resends due after the give-up are never sent.
    expect(resendOffsets(giveUp)).toEqual([15_000]);
  });
});
