/** Legal successions of the LwM2M device's kinds (checked on every run like the other dialects'). */
import type { TransitionRules } from '../types.js';
import { LWM2M_FINAL_KINDS, type Lwm2mKind } from './types.js';

const awake: Lwm2mKind[] = ['listening', 'answering', 'notifying', 'downloading', 'asleep', 'deregistering', 'rebooting'];

export const lwm2mRules: TransitionRules = {
  kinds: ['registering', 'updating', 'listening', 'answering', 'notifying', 'downloading', 'rebooting', 'asleep', 'deregistering', ...LWM2M_FINAL_KINDS],
  initial: ['registering'],
  final: LWM2M_FINAL_KINDS,
  next: {
    registering: ['listening', 'notifying', 'asleep', 'deregistering', 'gave-up', 'registering', 'succeeded', 'failed', 'up-to-date'],
    updating: ['listening', 'notifying', 'asleep', 'deregistering', 'registering', 'gave-up', 'updating', 'succeeded', 'failed', 'up-to-date'],
    listening: ['answering', ...awake.filter((k) => k !== 'listening' && k !== 'answering'), 'succeeded', 'failed', 'up-to-date'],
    answering: [...awake.filter((k) => k !== 'answering'), 'succeeded', 'failed', 'up-to-date'],
    notifying: [...awake.filter((k) => k !== 'notifying'), 'succeeded', 'failed', 'up-to-date'],
    downloading: [...awake.filter((k) => k !== 'downloading'), 'succeeded', 'failed', 'up-to-date'],
    rebooting: ['registering'],
    asleep: ['updating', 'registering'],
    deregistering: LWM2M_FINAL_KINDS,
  },
};
