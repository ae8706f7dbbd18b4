/**
 * The Luat rules (spec §2): the loop ban and the diff-package wait, judged from each device's asks
 * and the answers it got, with the server's own limits (GET /admin/catalog: banLimitPerDay,
 * banCountsWaits, diffBuildMs) or the documented defaults.
 *
 * Days: the ban counts requests per UTC day of the server's virtual clock. A request is processed
 * between the instant it was sent and the instant its answer came; when those two fall on either
 * side of midnight the day it counted in is not known, and the rule accepts either.
 */
import { dayIndex } from '../../protocol/luat.js';
import { UNANSWERED_CODES } from '../../device/retransmit.js';
import type { DeviceEvidence, Exchange } from '../evidence.js';
import { at, perDevice, type FleetFold, type Rule, type VerdictContext } from '../rule.js';

const LOOP = 40;
const WAIT = 43;
/** Codes the server answers before it can tie a request to the device: never counted. */
const UNCOUNTED = new Set([3, 17, 25, 26]);
/** Most requests whose day is ambiguous that a device may have for the rule to try every reading. */
const MAX_AMBIGUOUS = 6;

type Answer = { kind: 'ban' } | { kind: 'wait' } | { kind: 'normal'; label: string } | { kind: 'unknown' };

function answerOf(e: Exchange): Answer {
  if (e.facts.code === LOOP) return { kind: 'ban' };
  if (e.facts.code === WAIT) return { kind: 'wait' };
  if (e.facts.code !== undefined || e.facts.bytes !== undefined) return { kind: 'normal', label: e.outcome };
  // A lost answer (or a reset, a timeout): processed or not, its answer is not known.
  return { kind: 'unknown' };
}

/** Whether the server saw the request at all, as far as the device can tell. */
const reached = (e: Exchange): boolean => e.facts.net === undefined || UNANSWERED_CODES.has(e.facts.net);

interface Ask {
  e: Exchange;
  answer: Answer;
  /** The days it may have counted in (one, or two across midnight). */
  days: number[];
  /** Ban lifts (admin) between the previous ask and this one. */
  liftedBefore: boolean;
}

function asksOf(d: DeviceEvidence, ctx: VerdictContext): Ask[] {
  const lifts = ctx.events.filter((ev) => ev.action === 'lift-bans' && ev.error === undefined);
  const asks: Ask[] = [];
  let prev = -Infinity;
  for (const e of d.exchanges) {
    if (!reached(e) || (e.facts.code !== undefined && UNCOUNTED.has(e.facts.code))) continue;
    const a = dayIndex(ctx.originVirtual + e.sent);
    const b = dayIndex(ctx.originVirtual + e.answered);
    // At or after: under --time-scale max an ask can be sent at the very instant the lift was done.
    const liftedBefore = lifts.some((ev) => ev.doneAt > prev && ev.doneAt <= e.sent);
    asks.push({ e, answer: answerOf(e), days: a === b ? [a] : [a, b], liftedBefore });
    prev = e.answered;
  }
  return asks;
}

/** The first break of the ban rule for one reading of the days, or undefined. */
function judge(asks: readonly Ask[], dayOf: readonly number[], ctx: VerdictContext): string | undefined {
  const { banLimit, banCountsWaits } = ctx.server.luat;
  let day = NaN;
  let counted = 0;
  let banned: Ask | undefined;
  for (let i = 0; i < asks.length; i++) {
    const ask = asks[i] as Ask;
    const d = dayOf[i] as number;
    if (ask.liftedBefore) {
      banned = undefined;
      counted = 0;
    }
    if (d !== day) {
      day = d;
      counted = 0;
    }
    const { answer, e } = ask;
    if (answer.kind === 'unknown') {
      if (banned === undefined) counted++;
      continue;
    }
    if (banned !== undefined) {
      if (answer.kind !== 'ban') return `it was banned at ${at(banned.e.sent)}, yet its ask at ${at(e.sent)} was answered ${e.outcome} (expected 40 until the ban is lifted)`;
      continue;
    }
    if (answer.kind === 'ban') {
      if (counted < banLimit) return `banned (40) at ${at(e.sent)} after ${counted} counted request(s) that day; the limit is ${banLimit} a day`;
      banned = ask;
      continue;
    }
    if (answer.kind === 'wait' && !banCountsWaits) continue;
    if (counted >= banLimit) return `its request ${counted + 1} of the day (UTC day ${day}) at ${at(e.sent)} was answered ${e.outcome}; the limit is ${banLimit} a day, so it should have been 40`;
    counted++;
  }
  return undefined;
}

/** Judges every reading of the ambiguous days; a device breaks the rule only if every reading does. */
function judgeAll(asks: readonly Ask[], ctx: VerdictContext): string | undefined | 'unjudged' {
  const ambiguous = asks.map((a, i) => (a.days.length > 1 ? i : -1)).filter((i) => i >= 0);
  if (ambiguous.length > MAX_AMBIGUOUS) return 'unjudged';
  let first: string | undefined;
  for (let mask = 0; mask < 1 << ambiguous.length; mask++) {
    const dayOf = asks.map((a) => a.days[0] as number);
    ambiguous.forEach((i, bit) => {
      dayOf[i] = (asks[i] as Ask).days[(mask >> bit) & 1] as number;
    });
    const why = judge(asks, dayOf, ctx);
    if (why === undefined) return undefined;
    first ??= why;
  }
  return first;
}

const defaults = (ctx: VerdictContext): string | undefined =>
  ctx.server.known ? undefined : `the server's limits are unknown (no admin API): judged with the documented ones (${ctx.server.luat.banLimit} a day, 43 counted)`;

export const loopBan: Rule = {
  name: 'loop-ban',
  description:
    'per device and UTC day the server answers at most N counted requests normally (N = banLimitPerDay, default 10), answers the next 40 and keeps answering 40 until the ban is lifted; a new day counts afresh; the device stops asking after a 40 (unless it is one that ignores bans)',
  dialects: ['luat'],
  evaluate: perDevice(
    (d) => d.exchanges.length > 0,
    (d, ctx, count) => {
      const asks = asksOf(d, ctx);
      const days = new Set(asks.map((a) => a.days[0]));
      if (days.size > 1) count('multi-day');
      const bans = asks.filter((a) => a.answer.kind === 'ban');
      if (bans.length > 0) count('banned');
      const verdict = judgeAll(asks, ctx);
      if (verdict === 'unjudged') {
        count('not-judged');
        return undefined;
      }
      if (verdict !== undefined) return verdict;
      // The device's side: it stops at a 40, or asks again at most `asks` times if it ignores bans.
      const after = d.exchanges.filter((e, i) => i > 0 && d.exchanges[i - 1]!.facts.code === LOOP).length;
      const allowed = d.behaviour.askAfterBan?.asks ?? 0;
      if (after > allowed) return `it asked again ${after} time(s) after a 40 (it may ask ${allowed})`;
      if (after > 0) count('asks-after-ban', after);
      return undefined;
    },
    defaults,
  ),
};

export const waitsNotBanned: Rule = {
  name: 'waits-not-banned',
  description:
    'a device told 43 (diff package being built) backs off (waitBackoff × 0.8 at least) and gets the file afterwards; none is banned because of 43s alone, or, when the server counts 43s towards the ban, the devices that were are counted',
  dialects: ['luat'],
  evaluate: perDevice(
    (d) => d.exchanges.some((e) => e.facts.code === WAIT),
    (d, ctx, count) => {
      const waits = d.exchanges.filter((e) => e.facts.code === WAIT).length;
      count('waits', waits);
      const backoff = ctx.waitBackoffOf(d.cohort) * 0.8;
      for (let i = 0; i + 1 < d.exchanges.length; i++) {
        const e = d.exchanges[i] as Exchange;
        const next = d.exchanges[i + 1] as Exchange;
        if (e.facts.code === WAIT && next.decided - e.answered < backoff * (1 - 1e-9)) {
          return `told 43 at ${at(e.answered)}, it asked again ${at(next.decided - e.answered)} later (its backoff is at least ${at(backoff)})`;
        }
      }
      const asks = asksOf(d, ctx);
      const banIndex = asks.findIndex((a) => a.answer.kind === 'ban');
      if (banIndex >= 0) {
        const ban = asks[banIndex] as Ask;
        const day = ban.days[ban.days.length - 1] as number;
        const sameDay = asks.slice(0, banIndex).filter((a) => a.days.includes(day));
        const others = sameDay.filter((a) => a.answer.kind !== 'wait').length;
        if (others < ctx.server.luat.banLimit) {
          if (!ctx.server.luat.banCountsWaits) return `banned at ${at(ban.e.sent)} after ${others} counted request(s) and ${sameDay.length - others} 43(s): the server does not count 43s towards the ban`;
          count('banned-by-waits');
        }
        return undefined;
      }
      const lastWait = d.exchanges.map((e) => e.facts.code).lastIndexOf(WAIT);
      const gotFile = d.exchanges.slice(lastWait + 1).some((e) => e.facts.bytes !== undefined);
      if (d.final !== undefined && !gotFile) return `after ${waits} 43(s) it never got the file (it ended ${d.final.kind}, code ${d.final.code ?? '-'})`;
      return undefined;
    },
  ),
};

/** The asks of a device that name a diff package (a core) and got a 43 or the file. */
const diffAsks = (d: DeviceEvidence): Exchange[] =>
  d.exchanges.filter((e) => e.facts.core !== undefined && e.facts.core !== '' && (e.facts.code === WAIT || e.facts.bytes !== undefined));

/** The fleet's first ask per core (its send and answer instants): the build of that core's diff starts with it. */
type FirstAsks = Map<string, { sent: number; answered: number }>;

const firstAsks: FleetFold<FirstAsks> = {
  empty: () => new Map(),
  add(acc, d) {
    for (const e of diffAsks(d)) {
      const core = e.facts.core as string;
      const f = acc.get(core);
      if (f === undefined || e.sent < f.sent) acc.set(core, { sent: e.sent, answered: e.answered });
    }
    return acc;
  },
};

export const diffWait: Rule = {
  name: 'diff-wait',
  description:
    'the first requests for a new diff package are answered 43 for the build time (diffBuildMs, default 1–3 minutes from the first such request); once it is surely built, 43 no longer',
  dialects: ['luat'],
  fleet: firstAsks as FleetFold<unknown>,
  evaluate: (devices, ctx) => {
    const { min, max } = ctx.server.luat.diffBuildMs;
    // Judged in batches, the fleet's first asks come from the runner's fold over every device;
    // called on a plain list (tests), the list is the fleet.
    const first = (ctx.fleet?.get('diff-wait') as FirstAsks | undefined) ?? devices.reduce((acc, d) => firstAsks.add(acc, d), firstAsks.empty());
    const republished = ctx.events.some((ev) => ev.action === 'republish');
    return perDevice(
      (d) => !republished && diffAsks(d).length > 0,
      (d, _ctx, count) => {
        for (const e of diffAsks(d)) {
          const f = first.get(e.facts.core as string);
          if (f === undefined) continue;
          if (e.facts.code !== WAIT && e.answered < f.sent + min) {
            return `got ${e.outcome} ${at(e.answered - f.sent)} after the fleet's first request for this diff package; the build takes at least ${at(min)}, so it should have been 43`;
          }
          if (e.facts.code === WAIT && e.sent > f.answered + max) {
            return `still told 43 ${at(e.sent - f.answered)} after the first request for this diff package; the build takes at most ${at(max)}`;
          }
          if (e.facts.code === WAIT) count('waits-during-build');
        }
        return undefined;
      },
      () => (republished ? 'a firmware was republished during the run (builds start over): not judged' : defaults(ctx)),
    )(devices, ctx);
  },
};

export const LUAT_RULES: readonly Rule[] = [loopBan, waitsNotBanned, diffWait];

