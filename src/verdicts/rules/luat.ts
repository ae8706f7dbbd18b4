/**
 * The Luat rules (spec §2): the loop ban, the diff-package wait and the confirmation of a flashed
 * version, judged from each device's asks and the answers it got, against the target profile
 * (ctx.profile: the ban limit, when its day starts, whether 43s count, the diff build time or
 * `none`, whether devices ask for diffs, how a version is confirmed).
 *
 * Days: the ban counts requests per day of the server's clock (ctx.targetClock), starting at the
 * profile's banDayStartUtc. A request is processed between the instant it was sent and the instant
 * its answer came; when those two fall on either side of the day's start the day it counted in is
 * not known, and the rule accepts either. Likewise for a ban lift still under way while an ask was
 * in flight: the server may have handled the ask before or after it.
 */
import { banDayOf, profileValueText, type ProfileKey } from '../../protocol/profile.js';
import { targetInstant } from '../../time/target-clock.js';
import { UNANSWERED_CODES } from '../../device/retransmit.js';
import type { DeviceEvidence, Exchange } from '../evidence.js';
import { at, perDevice, type FleetFold, type Rule, type RuleOutcome, type VerdictContext } from '../rule.js';
import type { AppliedEvent } from '../server-events.js';

const LOOP = 40;
const WAIT = 43;
/** Codes the server answers before it can tie a request to the device: never counted. */
const UNCOUNTED = new Set([3, 17, 25, 26]);
/** Most ambiguous requests (their day, or their order with a lift) a device may have for the rule to try every reading. */
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
  /**
   * A ban lift (admin) between the previous ask and this one: `before`; `maybe` when the lift was
   * under way while this ask was in flight, so the server may have handled the ask before or after it.
   */
  lift: 'none' | 'before' | 'maybe';
}

function asksOf(d: DeviceEvidence, ctx: VerdictContext): Ask[] {
  const lifts = ctx.events.filter((ev) => ev.action === 'lift-bans' && ev.error === undefined);
  const uncertain = new Set<AppliedEvent>();
  const asks: Ask[] = [];
  let prev = -Infinity;
  for (const e of d.exchanges) {
    if (!reached(e) || (e.facts.code !== undefined && UNCOUNTED.has(e.facts.code))) continue;
    const a = banDayOf(targetInstant(ctx.targetClock, ctx.originVirtual + e.sent), ctx.profile.luat);
    const b = banDayOf(targetInstant(ctx.targetClock, ctx.originVirtual + e.answered), ctx.profile.luat);
    // At or after: under --time-scale max an ask can be sent at the very instant the lift was done.
    const before = lifts.some((ev) => !uncertain.has(ev) && ev.doneAt > prev && ev.doneAt <= e.sent);
    const during = before ? undefined : lifts.find((ev) => !uncertain.has(ev) && ev.startedAt < e.answered && ev.doneAt > e.sent);
    if (during !== undefined) uncertain.add(during);
    asks.push({ e, answer: answerOf(e), days: a === b ? [a] : [a, b], lift: before ? 'before' : during !== undefined ? 'maybe' : 'none' });
    prev = e.answered;
  }
  return asks;
}

/** The first break of the ban rule for one reading of the days and lifts, or undefined. */
function judge(asks: readonly Ask[], dayOf: readonly number[], liftAt: readonly boolean[], ctx: VerdictContext): string | undefined {
  const { banLimitPerDay: banLimit, banCountsWaits } = ctx.profile.luat;
  let day = NaN;
  let counted = 0;
  let banned: Ask | undefined;
  for (let i = 0; i < asks.length; i++) {
    const ask = asks[i] as Ask;
    const d = dayOf[i] as number;
    if (liftAt[i] === true) {
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

/**
 * Judges every reading of what is ambiguous (the day of an ask across the day's start; whether a
 * lift under way came before or after an ask); a device breaks the rule only if every reading does.
 */
function judgeAll(asks: readonly Ask[], ctx: VerdictContext): string | undefined | 'unjudged' {
  const days = asks.map((a, i) => (a.days.length > 1 ? i : -1)).filter((i) => i >= 0);
  const lifts = asks.map((a, i) => (a.lift === 'maybe' ? i : -1)).filter((i) => i >= 0);
  if (days.length + lifts.length > MAX_AMBIGUOUS) return 'unjudged';
  let first: string | undefined;
  for (let mask = 0; mask < 1 << (days.length + lifts.length); mask++) {
    const dayOf = asks.map((a) => a.days[0] as number);
    days.forEach((i, bit) => {
      dayOf[i] = (asks[i] as Ask).days[(mask >> bit) & 1] as number;
    });
    const liftAt = asks.map((a) => a.lift === 'before');
    // Bit clear: the lift came before the ask; set: after it (so before the next one).
    lifts.forEach((i, k) => {
      const after = ((mask >> (days.length + k)) & 1) === 1;
      if (!after) liftAt[i] = true;
      else if (i + 1 < asks.length) liftAt[i + 1] = true;
    });
    const why = judge(asks, dayOf, liftAt, ctx);
    if (why === undefined) return undefined;
    first ??= why;
  }
  return first;
}

/** Which of `keys` the rule judged with documented values (no flag, scenario or admin API gave them), as a note. */
function documentedNote(ctx: VerdictContext, keys: readonly ProfileKey[]): string | undefined {
  const documented = keys.filter((k) => ctx.profileSources[k] === 'documented');
  if (documented.length === 0) return undefined;
  return `judged with the documented ${documented.map((k) => `${k.slice(k.indexOf('.') + 1)} ${profileValueText(k, ctx.profile)}`).join(', ')} (set target.profile or --profile if the server promises otherwise)`;
}

const joinNotes = (...notes: (string | undefined)[]): string | undefined => {
  const kept = notes.filter((n): n is string => n !== undefined);
  return kept.length > 0 ? kept.join('; ') : undefined;
};

const BAN_KEYS: readonly ProfileKey[] = ['luat.banLimitPerDay', 'luat.banDayStartUtc', 'luat.banCountsWaits'];

const loopBanNote = (ctx: VerdictContext): string | undefined =>
  joinNotes(
    documentedNote(ctx, BAN_KEYS),
    ctx.targetClock.kind === 'wall' ? "days counted on the target's wall clock (--allow-clock-skew: it does not share the run's time scale)" : undefined,
  );

export const loopBan: Rule = {
  name: 'loop-ban',
  description:
    'per device and ban day (from the profile\'s luat.banDayStartUtc, on the target\'s clock) the server answers at most N counted requests normally (N = luat.banLimitPerDay, documented 10), answers the next 40 and keeps answering 40 until the ban is lifted; a new day counts afresh; the device stops asking after a 40 (unless it is one that ignores bans)',
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
      const after = d.exchanges.filter((e, i) => i > 0 && d.exchanges[i - 1]!.facts.code === LOOP && d.exchanges[i - 1]!.facts.probe !== true).length;
      const allowed = d.behaviour.askAfterBan?.asks ?? 0;
      if (after > allowed) return `it asked again ${after} time(s) after a 40 (it may ask ${allowed})`;
      if (after > 0) count('asks-after-ban', after);
      return undefined;
    },
    loopBanNote,
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
        // The probe's 43 did not reach the device's machine: its first ask owes it no backoff.
        if (e.facts.code === WAIT && e.facts.probe !== true && next.decided - e.answered < backoff * (1 - 1e-9)) {
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
        if (others < ctx.profile.luat.banLimitPerDay) {
          if (!ctx.profile.luat.banCountsWaits) return `banned at ${at(ban.e.sent)} after ${others} counted request(s) and ${sameDay.length - others} 43(s): the server does not count 43s towards the ban`;
          count('banned-by-waits');
        }
        return undefined;
      }
      const lastWait = d.exchanges.map((e) => e.facts.code).lastIndexOf(WAIT);
      const gotFile = d.exchanges.slice(lastWait + 1).some((e) => e.facts.bytes !== undefined);
      if (d.final !== undefined && !gotFile) return `after ${waits} 43(s) it never got the file (it ended ${d.final.kind}, code ${d.final.code ?? '-'})`;
      return undefined;
    },
    (ctx) => documentedNote(ctx, ['luat.banLimitPerDay', 'luat.banCountsWaits']),
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
    'the first requests for a new diff package are answered 43 for the build time (profile luat.diffBuild, documented 1–3 minutes from the first such request); once it is surely built, 43 no longer; a server that builds no diffs (diffBuild: none) never answers 43',
  dialects: ['luat'],
  fleet: firstAsks as FleetFold<unknown>,
  evaluate: (devices, ctx) => {
    const { diffBuild, dfota } = ctx.profile.luat;
    if (diffBuild === 'none') return neverWait(devices, ctx);
    // A device that does not ask for diffs (dfota off) is served full files: nothing to wait for.
    if (!dfota) return { checked: 0, violations: [], notJudged: 'the devices do not ask for diff packages (profile luat.dfota: false), so no diff is built' };
    if (ctx.events.some((ev) => ev.action === 'republish')) return { checked: 0, violations: [], notJudged: 'a firmware was republished during the run (builds start over)' };
    const { minMs: min, maxMs: max } = diffBuild;
    // Judged in batches, the fleet's first asks come from the runner's fold over every device;
    // called on a plain list (tests), the list is the fleet.
    const firsts = (ctx.fleet?.get('diff-wait') as FirstAsks | undefined) ?? devices.reduce((acc, d) => firstAsks.add(acc, d), firstAsks.empty());
    // On the server's clock: a server keeping its own time builds in its own minutes (the order
    // of instants is the same on both clocks, so the fold's first ask is the first on either).
    const onTarget = (t: number): number => targetInstant(ctx.targetClock, ctx.originVirtual + t);
    const sent = (e: { sent: number }): number => onTarget(e.sent);
    const answered = (e: { answered: number }): number => onTarget(e.answered);
    return perDevice(
      (d) => diffAsks(d).length > 0,
      (d, _ctx, count) => {
        for (const e of diffAsks(d)) {
          const f = firsts.get(e.facts.core as string);
          if (f === undefined) continue;
          if (e.facts.code !== WAIT && answered(e) < sent(f) + min) {
            return `got ${e.outcome} ${at(answered(e) - sent(f))} after the fleet's first request for this diff package; the build takes at least ${at(min)}, so it should have been 43 (if the server serves full files at once, say luat.diffBuild: none)`;
          }
          if (e.facts.code === WAIT && sent(e) > answered(f) + max) {
            return `still told 43 ${at(sent(e) - answered(f))} after the first request for this diff package; the build takes at most ${at(max)}`;
          }
          if (e.facts.code === WAIT) count('waits-during-build');
        }
        return undefined;
      },
      () => documentedNote(ctx, ['luat.diffBuild']),
    )(devices, ctx);
  },
};

/** diffBuild none: the server promised full files at once, so any 43 breaks it. */
function neverWait(devices: readonly DeviceEvidence[], ctx: VerdictContext): RuleOutcome {
  return perDevice(
    (d) => d.exchanges.some((e) => e.facts.code !== undefined || e.facts.bytes !== undefined),
    (d) => {
      const wait = d.exchanges.find((e) => e.facts.code === WAIT);
      return wait === undefined ? undefined : `answered 43 (please wait) at ${at(wait.sent)}, but the profile says the server builds no diffs and serves full files at once (luat.diffBuild: none, from ${ctx.profileSources['luat.diffBuild']})`;
    },
  )(devices, ctx);
}

export const versionConfirm: Rule = {
  name: 'version-confirm',
  description:
    'the server confirms the version a device flashed the way the profile says (luat.versionConfirm): re-ask: the ask with the new version is answered 27, not a file again; header / filename: every file names its version there; the devices that succeeded unconfirmed are counted',
  dialects: ['luat'],
  evaluate: (devices, ctx) => {
    const mode = ctx.profile.luat.versionConfirm;
    const flashed = (d: DeviceEvidence): boolean => d.exchanges.some((e) => e.facts.bytes !== undefined && e.facts.code === undefined);
    if (mode === 'none') {
      // Applies to every device that flashed (it is counted), but the server is judged on nothing.
      const unconfirmed = devices.filter((d) => d.final?.unconfirmed === true).length;
      return { checked: 0, violations: [], counts: { flashed: devices.filter(flashed).length, unconfirmed }, notJudged: 'the profile says nothing confirms a version (luat.versionConfirm: none); the devices that succeeded unconfirmed are counted' };
    }
    return perDevice(
      (d) => flashed(d),
      (d, _ctx, count) => {
        if (d.final?.unconfirmed === true) count('unconfirmed');
        for (const [i, e] of d.exchanges.entries()) {
          if (e.facts.bytes === undefined || e.facts.code !== undefined) continue;
          const labels = e.facts.fileLabels;
          if (mode === 'header' && labels !== 'header' && labels !== 'both') return `its file at ${at(e.sent)} named no version in X-Firmware-Version (the profile says the server confirms versions there)`;
          if (mode === 'filename' && labels !== 'filename' && labels !== 'both') return `its file at ${at(e.sent)} had no version in its file name (the profile says the server confirms versions there)`;
          // re-ask: the next ask carries the flashed version (when the device booted into it) and is answered 27.
          const next = d.exchanges[i + 1];
          if (mode !== 're-ask' || next === undefined || next.facts.version === undefined || next.facts.version === e.facts.version) continue;
          if (next.facts.bytes !== undefined && next.facts.code === undefined) return `after flashing it asked again with ${next.facts.version} at ${at(next.sent)} and was served a file again, not 27 (already newest)`;
          if (next.facts.code === 27) count('confirmed');
        }
        return undefined;
      },
      (c) => (mode === 're-ask' && c.profile.luat.firmwareVersion === undefined ? 'devices learn the version they flashed from the file\'s labels (X-Firmware-Version or the file name); one without either and without luat.firmwareVersion in the profile ends unconfirmed' : undefined),
    )(devices, ctx);
  },
};

export const LUAT_RULES: readonly Rule[] = [loopBan, waitsNotBanned, diffWait, versionConfirm];

