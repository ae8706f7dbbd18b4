/**
 * The verdicts of a run: after the workers return their devices' evidence, every rule of the
 * dialect judges it, with the server's view where the target has the admin API (the catalog's
 * limits, and the devices looked up in bulk). The result is the report's `verdicts` section:
 * per rule, devices checked, violations, counts, and the first few violating devices with their
 * traces. Rules are pure (./rules/); this module only fetches and assembles.
 */
import type { VerdictReport, VerdictTraceLine } from '../report/types.js';
import type { Scenario } from '../scenario/types.js';
import { DEFAULT_DEVICE_SETTINGS } from '../device/types.js';
import { getDialect } from '../dialect/registry.js';
import type { DeviceEvidence, EvidenceBatch, EvidenceCodec } from './evidence.js';
import { DEFAULT_SERVER_FACTS, tokenNamer, type Rule, type ServerFacts, type VerdictContext } from './rule.js';
import { lookUpDevices, type ServerDeviceView } from './server-agreement.js';
import type { AdminApi, AppliedEvent } from './server-events.js';
import { coapRetransmit, finalStateAgreement } from './rules/common.js';
import { ONENET_RULES } from './rules/onenet.js';
import { LUAT_RULES } from './rules/luat.js';
import { DOCUMENTED, type ResolvedProfile } from '../protocol/profile.js';
import { SHARED_CLOCK, type TargetClock } from '../time/target-clock.js';

export const ALL_RULES: readonly Rule[] = [finalStateAgreement, coapRetransmit, ...ONENET_RULES, ...LUAT_RULES];

/** The rules that speak to a dialect. */
export const rulesOf = (dialect: string): Rule[] => ALL_RULES.filter((r) => r.dialects.includes(dialect));

/** Violating devices reported per rule, with their traces. */
export const MAX_VERDICT_SAMPLES = 5;
/** Trace lines shown per sample (the first and the last ones). */
export const MAX_TRACE_LINES = 60;

export interface VerdictInput {
  scenario: Scenario;
  batches: readonly EvidenceBatch[];
  admin?: AdminApi;
  events: readonly AppliedEvent[];
  originVirtual: number;
  log?: (line: string) => void;
  /** The target profile the rules judge against (default: the documented one). */
  profile?: ResolvedProfile;
  /** The server's clock (default: it shares the run's). */
  targetClock?: TargetClock;
}

/** Reads the server's packages from its catalog view (defensively: an odd server gives none). */
export function serverFactsOf(catalog: unknown): ServerFacts {
  const c = (catalog ?? {}) as {
    onenet?: { products?: { packages?: { id?: unknown; version?: unknown; size?: unknown; md5?: unknown; kind?: unknown; from?: unknown }[] }[] };
  };
  const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
  const packages = new Map<string, { version: string; size: number; md5: string; kind: 'full' | 'diff'; from: string[] }>();
  for (const product of c.onenet?.products ?? []) {
    for (const p of product.packages ?? []) {
      if (typeof p.id !== 'string' || typeof p.md5 !== 'string') continue;
      packages.set(p.id, {
        version: typeof p.version === 'string' ? p.version : '',
        size: num(p.size, 0),
        md5: p.md5.toLowerCase(),
        kind: p.kind === 'diff' ? 'diff' : 'full',
        from: Array.isArray(p.from) ? p.from.filter((x): x is string => typeof x === 'string') : [],
      });
    }
  }
  return { known: true, packages };
}

/** A device's exchanges as trace lines, the middle elided past MAX_TRACE_LINES. */
export function traceOf(d: DeviceEvidence, codec: EvidenceCodec<unknown, unknown> | undefined): VerdictTraceLine[] {
  const name = tokenNamer(d);
  const lines = d.exchanges.map((e): VerdictTraceLine => {
    const words = codec?.describe(e.op, e.outcome, e.facts, name) ?? { request: e.op, answer: e.outcome };
    return { t: Math.round(e.sent), request: words.request, answer: words.answer, state: e.state };
  });
  if (d.final === undefined) lines.push({ t: lines[lines.length - 1]?.t ?? 0, request: '', answer: '(the run ended before the device did)', state: d.exchanges[d.exchanges.length - 1]?.state ?? '' });
  if (d.truncated > 0) lines.push({ t: lines[lines.length - 1]?.t ?? 0, request: '', answer: `(${d.truncated} more exchanges not kept)`, state: '' });
  if (lines.length <= MAX_TRACE_LINES) return lines;
  const head = Math.floor(MAX_TRACE_LINES / 3);
  const tail = MAX_TRACE_LINES - head - 1;
  const gap = { t: lines[head]?.t ?? 0, request: '…', answer: `${lines.length - head - tail} lines left out`, state: '' };
  return [...lines.slice(0, head), gap, ...lines.slice(lines.length - tail)];
}

/** Judges the evidence by every rule of the scenario's dialect. */
export async function runVerdicts(input: VerdictInput): Promise<VerdictReport[]> {
  const { scenario, admin } = input;
  const devices = input.batches.flatMap((b) => b.devices);
  const dropped = input.batches.reduce((n, b) => n + b.dropped, 0);
  const seen = input.batches.reduce((n, b) => n + b.seen, 0);
  let server = DEFAULT_SERVER_FACTS;
  let views = new Map<string, ServerDeviceView>();
  if (admin !== undefined) {
    try {
      server = serverFactsOf(await admin.get('/admin/catalog'));
      views = await lookUpDevices(admin, devices.map((d) => d.id), scenario.dialect);
    } catch (err) {
      input.log?.(`verdicts: the server's view is not available (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): judged from the devices alone`);
    }
  }
  const cohorts = new Map(scenario.fleet.cohorts.map((c) => [c.name, c.settings]));
  const radios = new Set(scenario.fleet.cohorts.filter((c) => c.radio.mode !== 'always-on' || c.rrcSetup !== undefined || c.link !== undefined).map((c) => c.name));
  const ctx: VerdictContext = {
    dialect: scenario.dialect,
    originVirtual: input.originVirtual,
    server,
    profile: (input.profile ?? DOCUMENTED).profile,
    profileSources: (input.profile ?? DOCUMENTED).sources,
    targetClock: input.targetClock ?? SHARED_CLOCK,
    views,
    events: input.events,
    retransmitOf: (cohort) => cohorts.get(cohort)?.retransmit ?? DEFAULT_DEVICE_SETTINGS.retransmit,
    waitBackoffOf: (cohort) => cohorts.get(cohort)?.waitBackoffMs ?? DEFAULT_DEVICE_SETTINGS.waitBackoffMs,
    radioModelled: (cohort) => radios.has(cohort),
  };
  const codec = getDialect(scenario.dialect).evidence as EvidenceCodec<unknown, unknown> | undefined;
  const sampled = dropped > 0 ? `evidence of ${devices.length} of ${seen} devices (unremarkable ones past the cap were not kept)` : undefined;
  const out: VerdictReport[] = [];
  for (const rule of rulesOf(scenario.dialect)) {
    const r = rule.evaluate(devices, ctx);
    if (r.checked === 0 && r.violations.length === 0) continue;
    const notes = [r.note, sampled].filter((n): n is string => n !== undefined);
    out.push({
      rule: rule.name,
      description: rule.description,
      checked: r.checked,
      violations: r.violations.length,
      ...(r.counts !== undefined ? { counts: r.counts } : {}),
      ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
      samples: r.violations.slice(0, MAX_VERDICT_SAMPLES).map((v) => ({ device: v.device.id, detail: v.detail, trace: traceOf(v.device, codec) })),
    });
  }
  return out;
}
