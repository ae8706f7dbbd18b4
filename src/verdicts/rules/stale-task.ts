/**
 * `stale-task`: a server must not offer a device the version it already runs, nor the task it
 * already finished. Judged from each device's own exchanges, so it holds against any server:
 *
 * - (a) an offer whose target is the version the check (OneNET) or ask (Luat) said the device
 *   runs: a fresh device already on the target, or one checking again after its upgrade;
 * - (b) OneNET: after a 201 the server accepted (errno 0, or 20 "already recorded"), a later
 *   check offering that task again (its token or its target);
 * - (c) OneNET: a task offered, then refused as finished (20) at its first use, before the device
 *   reported any result for it or its target version: the server offered a task it had finished
 *   (as in a second run against a server that keeps offering it; the device then ends `failed`).
 *
 * (b) is only seen when devices check again after success (the cohort's `recheck`); without it
 * the rule says so. A Luat file that names no version cannot be compared and is counted.
 */
import type { DeviceEvidence, Exchange } from '../evidence.js';
import { at, perDevice, tokenNamer, type Rule } from '../rule.js';

/** 201: the device runs the target (OneNET step code). */
const UPGRADED = 201;
/** OneNET errno "task finished". */
const TASK_FINISHED = 20;
/** Answers to a 201 that mean the server holds the success: accepted, or already recorded. */
const SUCCESS_HELD = new Set([0, 20]);

type Count = (name: string, n?: number) => void;

interface Finished {
  token: string;
  target: string;
  at: number;
}

/** The stale offers one OneNET device got, in words. */
function onenetStale(d: DeviceEvidence, count: Count): string[] {
  const name = tokenNamer(d);
  const found: string[] = [];
  let finished: Finished | undefined;
  let offered = new Map<string, string>();
  /** Tokens offered whose task the device has not yet reported on (result or target version). */
  const unreported = new Map<string, { target: string; at: number }>();
  for (const e of d.exchanges) {
    const f = e.facts;
    if (e.op === 'check' && f.errno === 0 && f.offerToken !== undefined && f.offerTarget !== undefined) {
      offered.set(f.offerToken, f.offerTarget);
      if (!unreported.has(f.offerToken)) unreported.set(f.offerToken, { target: f.offerTarget, at: e.sent });
    }
    if (e.op === 'result' && f.token !== undefined) unreported.delete(f.token);
    if (e.op === 'reportVersion') for (const [t, o] of unreported) if (o.target === f.version) unreported.delete(t);
    if (e.op !== 'check' && f.token !== undefined && f.errno === TASK_FINISHED) {
      const o = unreported.get(f.token);
      if (o !== undefined) {
        found.push(`at ${at(e.sent)} ${e.op} with ${name(f.token)} (target ${o.target}, offered at ${at(o.at)}) was answered ${e.outcome} (task finished) before the device reported anything for it: the server offered a task it had finished`);
        unreported.delete(f.token);
      }
    }
    if (e.op === 'result' && f.step === UPGRADED && f.errno !== undefined && SUCCESS_HELD.has(f.errno) && f.token !== undefined) {
      finished = { token: f.token, target: offered.get(f.token) ?? '?', at: e.answered };
      offered = new Map();
      continue;
    }
    if (e.op !== 'check') continue;
    if (finished !== undefined) count('checks-after-success');
    if (f.errno !== 0 || f.offerToken === undefined || f.offerTarget === undefined) continue;
    const task = `${name(f.offerToken)} (target ${f.offerTarget})`;
    if (f.offerTarget === f.version) {
      found.push(`at ${at(e.sent)} check with version=${f.version} was offered ${task}, the version it already runs: ${e.outcome}`);
    } else if (finished !== undefined && (f.offerToken === finished.token || f.offerTarget === finished.target)) {
      found.push(
        `at ${at(e.sent)} check was offered ${task} again after its 201 for ${name(finished.token)} (target ${finished.target}) was accepted at ${at(finished.at)}: ${e.outcome}`,
      );
    }
  }
  return found;
}

/** Whether an ask was answered with a file (the Luat evidence keeps the announced version, if any). */
const isFile = (e: Exchange): boolean => e.facts.fileVersion !== undefined || e.facts.bytes !== undefined;

/** The stale files one Luat device was sent, in words. */
function luatStale(d: DeviceEvidence, count: Count): string[] {
  const found: string[] = [];
  let confirmed = false;
  for (const e of d.exchanges) {
    const f = e.facts;
    if (confirmed) count('checks-after-success');
    if (!isFile(e)) {
      if (f.code === 27 && f.version !== undefined && f.version !== d.profile.version) confirmed = true;
      continue;
    }
    if (f.fileVersion === undefined) {
      count('files-naming-no-version');
      continue;
    }
    if (f.fileVersion === f.version) {
      found.push(`at ${at(e.sent)} ask with version=${f.version} was sent a file of version ${f.fileVersion}, the version it already runs: ${e.outcome}${f.bytes !== undefined ? ` ${f.bytes} B` : ''}`);
    }
  }
  return found;
}

const RECHECK_HINT = "the same task after success is judged only for devices that check again after it: none did (set a cohort's `recheck: { times: 2, every: 10m }`)";

export const staleTask: Rule = {
  name: 'stale-task',
  description:
    'the server never offers a device the version it already runs, nor (OneNET) the task whose success (201) it accepted; Luat: never sends a file of the version the device asks with',
  dialects: ['onenet', 'luat'],
  evaluate: (devices, ctx) =>
    perDevice(
      (d) => d.exchanges.some((e) => (ctx.dialect === 'luat' ? e.facts.version !== undefined : e.op === 'check' && e.facts.errno !== undefined)),
      (d, _ctx, count) => {
        const found = ctx.dialect === 'luat' ? luatStale(d, count) : onenetStale(d, count);
        if (found.length === 0) return undefined;
        count('stale-offers', found.length);
        return found.length === 1 ? found[0] : `${found[0]} (and ${found.length - 1} more stale offers)`;
      },
    )(devices, ctx),
  // Over the whole fleet: one batch without a device that checked again says nothing of the others.
  summary: (counts) => ((counts['checks-after-success'] ?? 0) > 0 ? undefined : RECHECK_HINT),
};
