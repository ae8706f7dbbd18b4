/**
 * Hand-built evidence for the rule tests: a device's exchanges written as a script, times counted
 * up by themselves unless given, and a verdict context with the documented defaults.
 */
import { DEFAULT_DEVICE_SETTINGS, NO_FAULTS, type Behaviour } from '../../src/device/types.js';
import type { DeviceEvidence, Exchange, ExchangeFacts, FinalState } from '../../src/verdicts/evidence.js';
import { DEFAULT_SERVER_FACTS, type ServerFacts, type VerdictContext } from '../../src/verdicts/rule.js';
import { DOCUMENTED_PROFILE, PROFILE_KEYS, type LuatProfile, type ProfileKey, type ProfileSource } from '../../src/protocol/profile.js';
import { SHARED_CLOCK, type TargetClock } from '../../src/time/target-clock.js';
import type { ServerDeviceView } from '../../src/verdicts/server-agreement.js';
import type { AppliedEvent } from '../../src/verdicts/server-events.js';

export interface Step {
  op: string;
  facts?: ExchangeFacts;
  outcome?: string;
  state?: string;
  /** Virtual ms: when decided/sent (default: 1000 after the previous), and how long the answer took (default 10). */
  at?: number;
  took?: number;
  decided?: number;
}

const outcomeOf = (f: ExchangeFacts): string => {
  if (f.net !== undefined) return `net:${f.net}`;
  if (f.errno !== undefined) return `errno:${f.errno}`;
  if (f.code !== undefined) return f.bytes === 1 ? `download-error:${f.code}` : `code:${f.code}`;
  if (f.bytes !== undefined) return 'bytes';
  return 'other';
};

export function exchanges(steps: readonly Step[]): Exchange[] {
  let t = 0;
  return steps.map((s) => {
    const sent = s.at ?? t + 1000;
    const answered = sent + (s.took ?? 10);
    t = answered;
    const facts = s.facts ?? {};
    return { decided: s.decided ?? sent, sent, answered, op: s.op, outcome: s.outcome ?? outcomeOf(facts), state: s.state ?? 'x', facts };
  });
}

export function device(id: string, steps: readonly Step[], over: { final?: FinalState; behaviour?: Partial<Behaviour>; profile?: Partial<DeviceEvidence['profile']>; cohort?: string } = {}): DeviceEvidence {
  return {
    id,
    index: 0,
    cohort: over.cohort ?? 'c',
    profile: { version: 'V1.0', manuf: '101', model: '10101', core: '3032', signal: 25, battery: 100, taskType: 2, ...over.profile },
    behaviour: { ...NO_FAULTS, ...over.behaviour },
    ...(over.final ? { final: over.final } : {}),
    exchanges: exchanges(steps),
    truncated: 0,
  };
}

export function context(
  over: {
    dialect?: string;
    views?: Record<string, ServerDeviceView>;
    events?: AppliedEvent[];
    server?: Partial<ServerFacts>;
    luat?: Partial<LuatProfile>;
    tokenTtlMs?: number;
    sources?: Partial<Record<ProfileKey, ProfileSource>>;
    clock?: TargetClock;
    origin?: number;
    waitBackoffMs?: number;
    radio?: boolean;
  } = {},
): VerdictContext {
  const server: ServerFacts = { ...DEFAULT_SERVER_FACTS, known: true, ...over.server };
  const sources = Object.fromEntries(PROFILE_KEYS.map((k) => [k, over.sources?.[k] ?? 'scenario'])) as Record<ProfileKey, ProfileSource>;
  return {
    dialect: over.dialect ?? 'onenet',
    originVirtual: over.origin ?? 0,
    server,
    profile: { luat: { ...DOCUMENTED_PROFILE.luat, ...over.luat }, onenet: { tokenTtlMs: over.tokenTtlMs ?? DOCUMENTED_PROFILE.onenet.tokenTtlMs }, push: DOCUMENTED_PROFILE.push },
    profileSources: sources,
    targetClock: over.clock ?? SHARED_CLOCK,
    views: new Map(Object.entries(over.views ?? {})),
    events: over.events ?? [],
    retransmitOf: () => DEFAULT_DEVICE_SETTINGS.retransmit,
    waitBackoffOf: () => over.waitBackoffMs ?? 60_000,
    radioModelled: () => over.radio ?? false,
  };
}

export const task = (over: Record<string, unknown> = {}): ServerDeviceView => ({ id: 'x', tasks: [{ state: 'succeeded', type: 2, successes: 1, duplicateResults: 0, token: 't1', manuf: '101', model: '10101', package: 'p', ...over }] });
