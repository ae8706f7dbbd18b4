/**
 * The verdict rules a replay can judge: those that read only what the server answered to the calls
 * (OneNET: a task succeeds once, a device's token is its own), fed the replayed exchanges as
 * evidence, with the server's own view of the devices when its admin API gives it. The others judge what a device machine decided (states, backoffs, resumes, gates) and
 * a replay decides nothing (it sends the logged calls whatever the answers): they are listed as
 * not judged, with that reason. Pure.
 */
import type { DeviceEvidence, Exchange as Evidence, ExchangeFacts } from '../verdicts/evidence.js';
import { DEFAULT_SERVER_FACTS, type Rule, type VerdictContext } from '../verdicts/rule.js';
import type { ServerDeviceView } from '../verdicts/server-agreement.js';
import { oneSuccessPerTask, ownToken } from '../verdicts/rules/onenet.js';
import { rulesOf } from '../verdicts/registry.js';
import { resolveProfile } from '../protocol/profile.js';
import { DEFAULT_DEVICE_SETTINGS } from '../device/types.js';
import { SHARED_CLOCK } from '../time/target-clock.js';
import { MAX_EXCHANGES } from '../verdicts/collect.js';
import { outcomeOf, type ReplayedCall } from './drive.js';
import type { DeviceScript } from './script.js';

/** Rules that judge the server from its answers alone, by dialect. */
const SERVER_RULES: Readonly<Record<string, readonly Rule[]>> = { onenet: [oneSuccessPerTask, ownToken] };

export interface ReplayVerdict {
  rule: string;
  description: string;
  checked: number;
  violations: { device: string; detail: string }[];
  /** Why the rule judged only part of what it checks (no server view: the answers alone). */
  note?: string;
}

export interface ReplayVerdicts {
  judged: ReplayVerdict[];
  /** The dialect's other rules, and why a replay cannot judge them. */
  notJudged: { rules: string[]; reason: string };
}

export const NOT_JUDGED_REASON =
  'not judged, because they judge what a device machine decided (its states, backoffs, resumes, gates) and a replay decides nothing: it sends the logged calls whatever the answers; run the emitted scenario (--emit-scenario) to judge them';

/** The step a OneNET progress call's body carries. */
function stepOf(body: string | undefined): number | undefined {
  if (body === undefined) return undefined;
  try {
    const step = (JSON.parse(body) as { step?: unknown }).step;
    return typeof step === 'number' && Number.isInteger(step) ? step : undefined;
  } catch {
    return undefined;
  }
}

function evidenceOf(script: DeviceScript, index: number, calls: readonly ReplayedCall[], originVirtual: number): DeviceEvidence {
  const exchanges: Evidence[] = calls.slice(0, MAX_EXCHANGES).map((c) => {
    const step = script.steps[c.index];
    const a = c.answer;
    const facts: ExchangeFacts = {
      ...(c.task !== undefined ? { token: c.task } : {}),
      ...(stepOf(step?.body) !== undefined ? { step: stepOf(step?.body) } : {}),
      ...(step?.loseAnswer === true ? { lost: true } : {}),
      ...(a.status !== undefined ? { status: a.status } : {}),
      ...(a.net !== undefined ? { net: a.net } : {}),
      ...(a.errno !== undefined ? { errno: a.errno } : {}),
      ...(a.code !== undefined ? { code: a.code } : {}),
      ...(a.bytes !== undefined ? { bytes: a.bytes } : {}),
      ...(a.task !== undefined ? { offerToken: a.task } : {}),
      ...(a.version !== undefined ? { offerTarget: a.version } : {}),
    };
    return { decided: c.decidedAt - originVirtual, sent: c.sentAt - originVirtual, answered: c.answeredAt - originVirtual, op: c.op, outcome: outcomeOf(a), state: 'replayed', facts };
  });
  return {
    id: script.device,
    index,
    cohort: 'replay',
    profile: { version: '', manuf: '', model: '', core: '', signal: 0, battery: 0, taskType: 2 },
    behaviour: { corruptDownload: false, rebootIntoOld: false },
    exchanges,
    truncated: Math.max(0, calls.length - MAX_EXCHANGES),
  };
}

/**
 * Judges the replayed calls (`calls`: every call of the replay, any order) with the rules a replay
 * can; `views`: the server's own view of the devices by dialect (its admin API), when it gave one.
 */
export function judgeReplay(scripts: readonly DeviceScript[], calls: readonly ReplayedCall[], originVirtual: number, views?: ReadonlyMap<string, ReadonlyMap<string, ServerDeviceView>>): ReplayVerdicts {
  const byDevice = new Map<string, ReplayedCall[]>();
  for (const c of calls) {
    let list = byDevice.get(c.device);
    if (list === undefined) byDevice.set(c.device, (list = []));
    list.push(c);
  }
  const resolved = resolveProfile({});
  const ctx: VerdictContext = {
    dialect: '',
    originVirtual,
    server: DEFAULT_SERVER_FACTS,
    profile: resolved.profile,
    profileSources: resolved.sources,
    targetClock: SHARED_CLOCK,
    views: new Map<string, ServerDeviceView>(),
    events: [],
    retransmitOf: () => DEFAULT_DEVICE_SETTINGS.retransmit,
    waitBackoffOf: () => DEFAULT_DEVICE_SETTINGS.waitBackoffMs,
    radioModelled: () => false,
    serverView: false,
  };
  const judged: ReplayVerdict[] = [];
  const notJudged = new Set<string>();
  for (const dialect of new Set(scripts.map((s) => s.dialect))) {
    const mine = scripts.filter((s) => s.dialect === dialect);
    const devices = mine.map((s, i) => evidenceOf(s, i, (byDevice.get(s.device) ?? []).sort((a, b) => a.index - b.index), originVirtual));
    const rules = SERVER_RULES[dialect] ?? [];
    for (const rule of rules) {
      const seen = views?.get(dialect);
      const outcome = rule.evaluate(devices, { ...ctx, dialect, ...(seen !== undefined ? { views: seen, serverView: true } : {}) });
      judged.push({
        rule: rule.name,
        description: rule.description,
        checked: outcome.checked,
        violations: outcome.violations.map((v) => ({ device: v.device.id, detail: v.detail })),
        ...(outcome.notJudged !== undefined ? { note: outcome.notJudged } : outcome.note !== undefined ? { note: outcome.note } : {}),
      });
    }
    for (const r of rulesOf(dialect)) if (!rules.includes(r)) notJudged.add(r.name);
  }
  return { judged, notJudged: { rules: [...notJudged], reason: NOT_JUDGED_REASON } };
}
