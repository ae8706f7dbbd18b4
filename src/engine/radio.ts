/**
 * Each device's radio, drawn from its cohort: power-saving mode and timers, RRC set-up cost and
 * link, as the pure radio model defines them. Computed on demand (a sleeping device costs nothing
 * here), the same for a device every time it is asked.
 */
import type { Scenario } from '../scenario/types.js';
import type { FleetPlan } from '../scenario/fleet.js';
import { radioConfigOf } from '../radio/model.js';
import { linkConfigOf } from '../radio/link.js';
import type { WakePattern } from '../radio/wake.js';
import type { RadioConfig } from '../radio/model.js';
import type { LinkConfig } from '../radio/link.js';

export interface DeviceRadio {
  config: RadioConfig;
  link?: LinkConfig;
}

const STEADY: WakePattern = { pattern: 'steady' };

/** Whether any cohort models its radio at all; without, the engine skips the model entirely. */
export function usesRadio(scenario: Scenario): boolean {
  return scenario.wake !== undefined || scenario.fleet.cohorts.some((c) => c.radio.mode !== 'always-on' || c.rrcSetup !== undefined || c.link !== undefined);
}

export function radioOfDevice(scenario: Scenario, plan: FleetPlan, globalIndex: number, runStartVirtual: number): DeviceRadio {
  const cohort = plan.cohorts[plan.cohortOf(globalIndex)];
  if (!cohort) throw new RangeError(`device ${globalIndex} is in no cohort`);
  const config = radioConfigOf(cohort.radio, cohort.rrcSetup ?? 0, scenario.seed, globalIndex, scenario.wake ?? STEADY, runStartVirtual);
  if (!cohort.link) return { config };
  const signal = plan.profileOf(globalIndex).signal;
  return { config, link: linkConfigOf(cohort.link.bitrate, cohort.link.rtt, signal, scenario.seed, globalIndex) };
}
