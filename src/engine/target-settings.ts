/**
 * The device settings a target adds to every cohort's (a dialect's `deviceSettings`: for Luat, how
 * a device confirms the version it flashed, and the version a served file installs when it names
 * none). The target is resolved once in the main thread (./target.ts) and reaches the workers in
 * the dialect's settings.
 */
import type { DialectPlugin } from '../dialect/types.js';
import type { DeviceSettings } from '../device/types.js';
import type { FleetPlan } from '../scenario/fleet.js';

/** The plan with the target's device settings over every cohort's; the plan itself when it adds none. */
export function withTargetSettings(plan: FleetPlan, plugin: Pick<DialectPlugin, 'target'>, settings: unknown): FleetPlan {
  const extra = plugin.target?.deviceSettings?.(settings);
  if (extra === undefined || Object.keys(extra).length === 0) return plan;
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
