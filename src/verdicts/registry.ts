/** Every verdict rule, and the ones that speak to a dialect (also what expectations may name). */
import type { Rule } from './rule.js';
import { coapRetransmit, finalStateAgreement } from './rules/common.js';
import { ONENET_RULES } from './rules/onenet.js';
import { LUAT_RULES } from './rules/luat.js';
import { staleTask } from './rules/stale-task.js';
import { HAWKBIT_RULES } from './rules/hawkbit.js';
import { LWM2M_RULES } from './rules/lwm2m.js';

export const ALL_RULES: readonly Rule[] = [finalStateAgreement, coapRetransmit, ...ONENET_RULES, ...LUAT_RULES, staleTask, ...HAWKBIT_RULES, ...LWM2M_RULES];

/** The rules that speak to a dialect. */
export const rulesOf = (dialect: string): Rule[] => ALL_RULES.filter((r) => r.dialects.includes(dialect));
