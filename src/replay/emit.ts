/**
 * The scenario a set of replay scripts amounts to, for the regression suite: one cohort a device
 * (devices with the same inferred behaviour share one past 50), its version and model from its
 * calls, and its field behaviours inferred from what the log shows: the byte a download was cut at
 * and the gap before it went on, the share of answers it never heard, its sleeps (the longest gap
 * in the middle of a download: a long sleep; Luat: the gap after a 43 as its wait backoff). Pure:
 * the caller writes the YAML.
 */
import { queryParam } from '../exchanges/exchange.js';
import { SLEEP_GAP_MS, type DeviceScript, type ReplayStep } from './script.js';

const MAX_SINGLE_COHORTS = 50;
/** Emitted runs go at a scale that plays the log's span in about this many real seconds. */
const TARGET_REAL_SPAN_MS = 30_000;

type Yaml = Record<string, unknown>;

const seconds = (ms: number): string => `${Math.max(1, Math.round(ms / 1000))}s`;

function mostCommon<T>(values: readonly T[]): T | undefined {
  const counts = new Map<T, number>();
  let best: T | undefined;
  let bestN = 0;
  for (const v of values) {
    const n = (counts.get(v) ?? 0) + 1;
    counts.set(v, n);
    if (n > bestN) [best, bestN] = [v, n];
  }
  return best;
}

const RANGE = /^bytes=(\d+)-(\d+)$/;
const rangeOf = (s: ReplayStep): { start: number; end: number } | undefined => {
  const m = s.range !== undefined ? RANGE.exec(s.range.trim()) : null;
  return m ? { start: Number(m[1]), end: Number(m[2]) } : undefined;
};

/** What a device's calls say it is and what befell it. */
export function inferCohort(script: DeviceScript): Yaml {
  const steps = script.steps;
  const cohort: Yaml = { name: `device-${script.device}`, count: 1, ids: script.device };
  const asked = steps.find((s) => s.op === 'check' || s.op === 'luat');
  if (asked) {
    const v = queryParam(asked.path, 'version');
    if (v !== undefined) cohort['version'] = v;
    if (script.dialect === 'onenet') {
      for (const k of ['manuf', 'model'] as const) {
        const x = queryParam(asked.path, k);
        if (x !== undefined) cohort[k] = x;
      }
      const type = queryParam(asked.path, 'type');
      if (type === '1' || type === '2') cohort['taskType'] = Number(type);
    } else {
      const core = queryParam(asked.path, 'core_version');
      if (core !== undefined && core !== '') cohort['core'] = core;
    }
  }
  const behaviours: Yaml = {};
  const settings: Yaml = {};
  const chunk = mostCommon(steps.flatMap((s) => {
    const r = rangeOf(s);
    return r && s.cutAfterBytes === undefined ? [r.end - r.start + 1] : [];
  }));
  if (chunk !== undefined) settings['chunkSize'] = chunk;
  const cuts = steps.map((s, i) => ({ s, i })).filter(({ s }) => s.cutAfterBytes !== undefined);
  if (cuts.length > 0) {
    const { s, i } = cuts[0]!;
    const at = (rangeOf(s)?.start ?? 0) + (s.cutAfterBytes ?? 0);
    const next = steps[i + 1];
    behaviours['disconnect'] = { count: 1, at, times: cuts.length, ...(next ? { reconnect: seconds(next.gapMs) } : {}) };
  }
  const lost = steps.filter((s) => s.loseAnswer === true);
  if (lost.length > 0) {
    // The share of the calls of those operations (the first sends and the retransmissions) whose answer never came.
    const ops = [...new Set(lost.map((s) => s.op))];
    const sent = steps.filter((s) => ops.includes(s.op)).length;
    const rate = Math.max(1, Math.round((100 * lost.length) / sent));
    behaviours['answerLoss'] = { count: 1, rate: `${rate}%`, ops };
  }
  const midDownloadSleeps = steps.filter((s, i) => s.sleep && s.op === 'download' && steps[i - 1]?.op === 'download');
  if (script.dialect === 'onenet' && midDownloadSleeps.length > 0) {
    behaviours['longSleep'] = { count: 1, sleep: seconds(Math.max(...midDownloadSleeps.map((s) => s.gapMs))) };
  }
  if (script.dialect === 'luat') {
    const afterWait = steps.filter((s, i) => steps[i - 1]?.logged.code === 43).map((s) => s.gapMs);
    const backoff = mostCommon(afterWait);
    if (backoff !== undefined) settings['waitBackoff'] = seconds(backoff);
  }
  const afterFailure = steps.filter((s, i) => {
    const prev = steps[i - 1]?.logged;
    return prev !== undefined && (prev.net !== undefined || (prev.status ?? 0) >= 500) && s.sleep;
  }).map((s) => s.gapMs);
  const retry = mostCommon(afterFailure);
  if (retry !== undefined) settings['retryDelay'] = seconds(retry);
  if (Object.keys(behaviours).length > 0) cohort['behaviours'] = behaviours;
  if (Object.keys(settings).length > 0) cohort['settings'] = settings;
  return cohort;
}

export interface EmitInput {
  name: string;
  source: string;
  scripts: readonly DeviceScript[];
  /** The target settings the replay used (never a key): OneNET product id, Luat firmware name. */
  productId?: string;
  firmwareName?: string;
}

/** The scenario (as the YAML file holds it) equivalent to the scripts. */
export function emitScenario(input: EmitInput): Yaml {
  const { scripts } = input;
  const dialect = mostCommon(scripts.map((s) => s.dialect)) ?? 'onenet';
  const mine = scripts.filter((s) => s.dialect === dialect);
  const firsts = mine.map((s) => s.steps[0]?.atMs ?? 0);
  const span = Math.max(0, ...mine.map((s) => s.steps[s.steps.length - 1]?.atMs ?? 0));
  const arrivalSpread = firsts.length > 0 ? Math.max(...firsts) - Math.min(...firsts) : 0;
  let cohorts = mine.map(inferCohort);
  if (cohorts.length > MAX_SINGLE_COHORTS) cohorts = grouped(cohorts);
  const timeScale = Math.max(1, Math.ceil(span / TARGET_REAL_SPAN_MS));
  const target: Yaml = {};
  if (dialect === 'onenet') target['onenet'] = { productId: input.productId ?? '198290' };
  if (dialect === 'luat') {
    const fw = input.firmwareName ?? mine.map((s) => s.steps.find((x) => x.op === 'luat')).map((s) => (s ? queryParam(s.path, 'firmware_name') : undefined)).find((x) => x !== undefined);
    if (fw !== undefined) target['luat'] = { firmwareName: fw };
  }
  const sleeps = mine.reduce((n, s) => n + s.steps.filter((x) => x.sleep).length, 0);
  return {
    name: input.name,
    description: `replayed from ${input.source}: ${mine.length} device(s), ${mine.reduce((n, s) => n + s.steps.length, 0)} calls over ${seconds(span)} of virtual time, ${sleeps} sleep(s) of ${seconds(SLEEP_GAP_MS)} or more`,
    dialect,
    seed: 1,
    timeScale,
    target,
    fleet: { cohorts },
    arrival: arrivalSpread > 0 ? { pattern: 'spread', over: seconds(arrivalSpread) } : { pattern: 'all-at-once' },
    stop: { after: seconds((2 * span) / timeScale + 30_000) },
    expect: ['transitions.violations == 0', 'verdicts.violations == 0'],
  };
}

/** Cohorts of one device merged by everything but their name and id, one cohort a run of consecutive ids. */
function grouped(cohorts: Yaml[]): Yaml[] {
  const groups = new Map<string, { cohort: Yaml; ids: string[] }>();
  for (const c of cohorts) {
    const { name: _n, ids, count: _c, ...rest } = c;
    const key = JSON.stringify(rest);
    const g = groups.get(key);
    if (g) g.ids.push(String(ids));
    else groups.set(key, { cohort: rest, ids: [String(ids)] });
  }
  const out: Yaml[] = [];
  for (const { cohort, ids } of groups.values()) {
    for (const run of consecutiveRuns(ids)) {
      const range = run.length > 1 ? `${run[0]}..${run[run.length - 1]}` : run[0]!;
      out.push({ name: `group-${out.length + 1}`, count: run.length, ids: range, ...scaleShares(cohort, run.length) });
    }
  }
  return out;
}

/** Ids in runs of consecutive decimal ids of one width (any other id is a run of its own). */
function consecutiveRuns(ids: readonly string[]): string[][] {
  const numeric = ids.filter((id) => /^[1-9]\d{0,14}$/.test(id)).sort((a, b) => Number(a) - Number(b));
  const runs: string[][] = ids.filter((id) => !/^[1-9]\d{0,14}$/.test(id)).map((id) => [id]);
  for (const id of numeric) {
    const last = runs[runs.length - 1];
    const prev = last?.[last.length - 1];
    if (last && prev !== undefined && /^\d+$/.test(prev) && Number(prev) + 1 === Number(id)) last.push(id);
    else runs.push([id]);
  }
  return runs;
}

/** A group's behaviours apply to all its devices. */
function scaleShares(cohort: Yaml, count: number): Yaml {
  const b = cohort['behaviours'] as Record<string, Yaml> | undefined;
  if (!b) return cohort;
  const out: Record<string, Yaml> = {};
  for (const [k, v] of Object.entries(b)) out[k] = { ...v, count };
  return { ...cohort, behaviours: out };
}
