/**
 * The verdicts of a run: every device's evidence (the workers' spill files, read back in batches
 * of JUDGE_BATCH) judged by every rule of the dialect, with the server's view where the target has
 * the admin API (the catalog's limits, and each batch's devices looked up in bulk). Memory is one
 * batch plus the tallies and samples; no device is left out. Rules that compare a device with the
 * fleet fold over every device first (`Rule.fleet`). Every violation goes to the violation sink
 * (violations.jsonl), one line each; the result is the report's `verdicts` section: per rule, its
 * status (judged, partly judged, not judged and why), devices checked, violations, counts, and
 * the first MAX_VERDICT_SAMPLES violating devices with their traces. Rules are pure (./rules/);
 * this module only reads, fetches and assembles (the tallying is ./tally.ts).
 */
import type { VerdictReport, VerdictTraceLine } from '../report/types.js';
import { MAX_EXCHANGES } from './collect.js';
import type { CohortSpec, Scenario } from '../scenario/types.js';
import { DEFAULT_DEVICE_SETTINGS } from '../device/types.js';
import { getDialect } from '../dialect/registry.js';
import type { DeviceEvidence, EvidenceBatch, EvidenceCodec } from './evidence.js';
import { DEFAULT_SERVER_FACTS, tokenNamer, type ServerFacts, type VerdictContext } from './rule.js';
import { lookUpDevices, type ServerDeviceView } from './server-agreement.js';
import type { AdminApi, AppliedEvent } from './server-events.js';
import { rulesOf } from './registry.js';
import { readSpill } from './spill.js';
import { RuleTally, type ViolationLine } from './tally.js';
import { DOCUMENTED, type ResolvedProfile } from '../protocol/profile.js';
import { SHARED_CLOCK, type TargetClock } from '../time/target-clock.js';

export { ALL_RULES, rulesOf } from './registry.js';
export type { ViolationLine } from './tally.js';

/** Violating devices reported per rule in the report, with their traces (all of them go to the violation sink). */
export const MAX_VERDICT_SAMPLES = 20;
/** Devices judged at a time (and looked up on the server at a time). */
export const JUDGE_BATCH = 2000;
/** Trace lines shown per sample (the first and the last ones). */
export const MAX_TRACE_LINES = 60;

/**
 * What the verdicts read of a scenario: its dialect, each cohort's device settings and radio, and
 * the server events it asked for. A run passes its Scenario; a replay (src/replay/verdicts.ts) the
 * one cohort its replayed devices stand in.
 */
export interface VerdictScenario {
  dialect: Scenario['dialect'];
  fleet: { cohorts: readonly Pick<CohortSpec, 'name' | 'settings' | 'radio' | 'rrcSetup' | 'link'>[] };
  server: Pick<Scenario['server'], 'events'>;
}

export interface VerdictInput {
  scenario: VerdictScenario;
  batches: readonly EvidenceBatch[];
  admin?: AdminApi;
  events: readonly AppliedEvent[];
  originVirtual: number;
  log?: (line: string) => void;
  /** Takes every violation, in the order judged (violations.jsonl); absent: only counted and sampled. */
  violations?: (line: ViolationLine) => void | Promise<void>;
  /**
   * Rules the caller knows its evidence cannot judge, with the reason (a replay has no device
   * machine): reported not judged with it, never evaluated.
   */
  notJudged?: ReadonlyMap<string, string>;
  /** What a trace ends with for a device that has no final state (default: the run ended before it did). */
  unfinished?: string;
  /** Devices judged at a time (default JUDGE_BATCH). */
  batchSize?: number;
  /** Applied to each device as it is read (e.g. the probe's exchanges put before that device's own). */
  amend?: (d: DeviceEvidence) => DeviceEvidence;
  /** What limits every rule beyond the evidence read (e.g. devices lost with their worker, never given). */
  notes?: readonly string[];
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
  return { known: true, packages, ...lwm2mPackagesOf(catalog) };
}

/** The catalog's LwM2M packages (`lwm2m.packages[]`: id, md5, size), when it shows any. */
function lwm2mPackagesOf(catalog: unknown): Pick<ServerFacts, 'lwm2mPackages'> {
  const list = (catalog as { lwm2m?: { packages?: { id?: unknown; md5?: unknown; size?: unknown }[] } } | null | undefined)?.lwm2m?.packages;
  if (!Array.isArray(list)) return {};
  const packages = new Map<string, { md5: string; size: number }>();
  for (const p of list) {
    if (typeof p.id === 'string' && typeof p.md5 === 'string') packages.set(p.id, { md5: p.md5.toLowerCase(), size: typeof p.size === 'number' ? p.size : 0 });
  }
  return { lwm2mPackages: packages };
}

const UNFINISHED = '(the run ended before the device did)';

/** A device's exchanges as trace lines, the middle elided past MAX_TRACE_LINES. */
export function traceOf(d: DeviceEvidence, codec: EvidenceCodec<unknown, unknown> | undefined, unfinished = UNFINISHED): VerdictTraceLine[] {
  const name = tokenNamer(d);
  const lines = d.exchanges.map((e): VerdictTraceLine => {
    const words = codec?.describe(e.op, e.outcome, e.facts, name) ?? { request: e.op, answer: e.outcome };
    return { t: Math.round(e.sent), request: words.request, answer: words.answer, state: e.state };
  });
  if (d.final === undefined) lines.push({ t: lines[lines.length - 1]?.t ?? 0, request: '', answer: unfinished, state: d.exchanges[d.exchanges.length - 1]?.state ?? '' });
  if (d.truncated > 0) lines.push({ t: lines[lines.length - 1]?.t ?? 0, request: '', answer: `(${d.truncated} more exchanges not kept)`, state: '' });
  if (lines.length <= MAX_TRACE_LINES) return lines;
  const head = Math.floor(MAX_TRACE_LINES / 3);
  const tail = MAX_TRACE_LINES - head - 1;
  const gap = { t: lines[head]?.t ?? 0, request: '…', answer: `${lines.length - head - tail} lines left out`, state: '' };
  return [...lines.slice(0, head), gap, ...lines.slice(lines.length - tail)];
}

/** Every device of the batches, in batches of `size` (a batch's spill file read line by line). */
async function* inBatches(batches: readonly EvidenceBatch[], size: number, onTorn: () => void, amend?: (d: DeviceEvidence) => DeviceEvidence): AsyncGenerator<DeviceEvidence[]> {
  let chunk: DeviceEvidence[] = [];
  for (const b of batches) {
    const devices: Iterable<DeviceEvidence> | AsyncIterable<DeviceEvidence> = b.file !== undefined ? readSpill(b.file, onTorn) : (b.devices ?? []);
    for await (const d of devices) {
      chunk.push(amend ? amend(d) : d);
      if (chunk.length >= size) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}

const firstLine = (err: unknown): string => (err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err));

/** Judges every device's evidence by every rule of the scenario's dialect; every rule is reported. */
export async function runVerdicts(input: VerdictInput): Promise<VerdictReport[]> {
  const { scenario, admin } = input;
  const size = Math.max(1, input.batchSize ?? JUDGE_BATCH);
  const rules = rulesOf(scenario.dialect).filter((r) => !input.notJudged?.has(r.name));
  const seen = input.batches.reduce((n, b) => n + b.seen, 0);
  const stored = input.batches.reduce((n, b) => n + b.stored, 0);
  let server = DEFAULT_SERVER_FACTS;
  let serverView = admin !== undefined;
  if (admin !== undefined) {
    try {
      server = serverFactsOf(await admin.get('/admin/catalog'));
    } catch (err) {
      serverView = false;
      input.log?.(`verdicts: the server's view is not available (${firstLine(err)}): judged from the devices alone`);
    }
  }
  // Fleet-wide folds first: a second pass over the evidence, only for the rules that need one.
  const folding = rules.filter((r) => r.fleet !== undefined);
  const fleet = new Map<string, unknown>(folding.map((r) => [r.name, r.fleet!.empty()]));
  if (folding.length > 0) {
    for await (const chunk of inBatches(input.batches, size, () => {}, input.amend)) {
      for (const d of chunk) for (const r of folding) fleet.set(r.name, r.fleet!.add(fleet.get(r.name), d));
    }
  }
  const cohorts = new Map(scenario.fleet.cohorts.map((c) => [c.name, c.settings]));
  const radios = new Set(scenario.fleet.cohorts.filter((c) => c.radio.mode !== 'always-on' || c.rrcSetup !== undefined || c.link !== undefined).map((c) => c.name));
  const base: Omit<VerdictContext, 'views' | 'serverView'> = {
    dialect: scenario.dialect,
    originVirtual: input.originVirtual,
    server,
    profile: (input.profile ?? DOCUMENTED).profile,
    profileSources: (input.profile ?? DOCUMENTED).sources,
    targetClock: input.targetClock ?? SHARED_CLOCK,
    events: input.events,
    retransmitOf: (cohort) => cohorts.get(cohort)?.retransmit ?? DEFAULT_DEVICE_SETTINGS.retransmit,
    waitBackoffOf: (cohort) => cohorts.get(cohort)?.waitBackoffMs ?? DEFAULT_DEVICE_SETTINGS.waitBackoffMs,
    radioModelled: (cohort) => radios.has(cohort),
    fleet,
    ...(admin === undefined && (scenario.server.events?.length ?? 0) > 0 ? { eventsNotDone: "the scenario's server events were not done: the target has no admin API we can use" } : {}),
  };
  const codec = getDialect(scenario.dialect).evidence as EvidenceCodec<unknown, unknown> | undefined;
  const tallies = rules.map((r) => new RuleTally(r, MAX_VERDICT_SAMPLES));
  let judged = 0;
  let truncated = 0;
  let torn = 0;
  for await (const chunk of inBatches(input.batches, size, () => torn++, input.amend)) {
    let views = new Map<string, ServerDeviceView>();
    let chunkView = serverView;
    if (serverView && admin !== undefined) {
      try {
        views = await lookUpDevices(admin, chunk.map((d) => d.id), scenario.dialect);
      } catch (err) {
        // One failed look-up leaves this batch without the view; the others keep theirs.
        chunkView = false;
        input.log?.(`verdicts: the server's view of ${chunk.length} devices is not available (${firstLine(err)}): judged from the devices alone`);
      }
    }
    const ctx: VerdictContext = { ...base, views, serverView: chunkView };
    judged += chunk.length;
    truncated += chunk.filter((d) => d.truncated > 0).length;
    for (const t of tallies) {
      const outcome = t.rule.evaluate(chunk, ctx);
      for (const line of t.add(outcome, (d) => traceOf(d, codec, input.unfinished))) await input.violations?.(line);
    }
  }
  const notes: string[] = [...(input.notes ?? [])];
  if (truncated > 0) notes.push(`${truncated} device(s) made more exchanges than the ${MAX_EXCHANGES} kept each: judged on the first ${MAX_EXCHANGES}`);
  if (stored < seen || torn > 0) notes.push(`evidence of ${judged} of ${seen} devices (${seen - stored} lost with a worker that did not finish${torn > 0 ? `, ${torn} unreadable` : ''})`);
  const reports = tallies.map((t) => t.report(notes, judged));
  const skipped = rulesOf(scenario.dialect).flatMap((r): VerdictReport[] => {
    const reason = input.notJudged?.get(r.name);
    return reason === undefined ? [] : [{ rule: r.name, description: r.description, status: 'not-judged', reason, checked: 0, violations: 0, samples: [] }];
  });
  return [...reports, ...skipped];
}
