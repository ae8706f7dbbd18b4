/**
 * The device settings a target profile adds to every cohort's: how a Luat device confirms the
 * version it flashed, and the version a served file installs when it names none. The profile is
 * resolved once in the main thread (./target.ts) and reaches the workers in the dialect target.
 */
import type { DialectTarget } from '../dialect/types.js';
import type { DeviceSettings } from '../device/types.js';
import type { FleetPlan } from '../scenario/fleet.js';

export function withTargetSettings(plan: FleetPlan, target: DialectTarget): FleetPlan {
  const l = target.luat;
  if (l?.versionConfirm === undefined && l?.firmwareVersion === undefined) return plan;
  const extra: Partial<DeviceSettings> = {
    ...(l.versionConfirm !== undefined ? { versionConfirm: l.versionConfirm } : {}),
    ...(l.firmwareVersion !== undefined ? { firmwareVersion: l.firmwareVersion } : {}),
  };
  const cache = new Map<number, DeviceSettings>();
  return {
    ...plan,
    settingsOf(cohortIndex) {
      let s = cache.get(cohortIndex);
      if (s === undefined) cache.set(cohortIndex, (s = Object.freeze({ ...plan.settingsOf(cohortIndex), ...extra })));
      return s;
    },
  };
}
