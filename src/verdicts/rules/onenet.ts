/**
 * The OneNET rules (spec §1): what a device and the platform must have done, judged from the
 * device's exchanges and, where the target has the admin API, the server's view of the device.
 */
import type { DeviceEvidence, Exchange } from '../evidence.js';
import { at, hasServerView, NO_SERVER_VIEW, ops, perDevice, serverTask, tokenNamer, type Rule, type VerdictContext } from '../rule.js';

const short = (md5: string | undefined): string => (md5 === undefined ? '?' : `${md5.slice(0, 8)}…`);
const isStep = (e: Exchange): boolean => (e.op === 'result' || e.op === 'progress') && e.facts.step !== undefined;
const noView = (ctx: VerdictContext): string | undefined => (hasServerView(ctx) ? undefined : NO_SERVER_VIEW);

// ---------------------------------------------------------------------------------------------

export const oneSuccessPerTask: Rule = {
  name: 'one-success-per-task',
  description:
    'a task succeeds once: once a 201 is recorded, every later step (a retransmitted 201, a late progress report) is answered 20 (task finished) and the server counts one success, with the refused duplicates counted apart',
  dialects: ['onenet'],
  evaluate: perDevice(
    (d) => d.exchanges.some((e) => e.op === 'result' && e.facts.step === 201),
    (d, ctx, count) => {
      let recorded: Exchange | undefined;
      let accepted = 0;
      let answered20 = 0;
      for (const e of d.exchanges) {
        if (!isStep(e)) continue;
        if (recorded !== undefined && e.facts.errno === 0) {
          return `${e.op} step ${e.facts.step} at ${at(e.sent)}, after the 201 recorded at ${at(recorded.sent)}, was answered errno 0 (expected 20, task finished)`;
        }
        if (e.op !== 'result' || e.facts.step !== 201) continue;
        if (e.facts.errno === 20) answered20++;
        if (e.facts.errno === 0) accepted++;
        // A lost answer is a processed request: the 201 is recorded all the same.
        if (e.facts.errno === 0 || e.facts.lost === true) recorded ??= e;
      }
      if (answered20 > 0) count('duplicates-answered-20', answered20);
      if (d.final?.duplicateResult) count('duplicate-results');
      const task = serverTask(d, ctx);
      if (accepted > 0 && task !== undefined && task.state !== 'succeeded') {
        return `its 201 was recorded (errno 0), yet the server's task is now ${task.state}: a later step moved it back`;
      }
      if (task?.successes !== undefined) {
        if (task.successes > 1) return `the server counts ${task.successes} successes of one task (expected 1)`;
        if (accepted > 0 && task.successes === 0) return 'its 201 was answered errno 0 but the server counts no success';
      }
      if (task?.duplicateResults !== undefined && task.duplicateResults < answered20) {
        return `the server counts ${task.duplicateResults} refused duplicate results, but answered 20 to ${answered20} of this device's 201s`;
      }
      return undefined;
    },
    noView,
  ),
};

// ---------------------------------------------------------------------------------------------

export const ownToken: Rule = {
  name: 'own-token',
  description: "the token a check hands a device is its own task's: no later call with it is answered 4 (token and device differ), and the server's task holds it",
  dialects: ['onenet'],
  evaluate: perDevice(
    (d) => d.exchanges.some((e) => e.facts.offerToken !== undefined),
    (d, ctx) => {
      const name = tokenNamer(d);
      const offered = new Set<string>();
      let last: string | undefined;
      for (const e of d.exchanges) {
        if (e.facts.offerToken !== undefined) {
          offered.add(e.facts.offerToken);
          last = e.facts.offerToken;
        }
        if (e.facts.token !== undefined && offered.has(e.facts.token) && e.facts.errno === 4) {
          return `its own check handed it ${name(e.facts.token)}, then the ${e.op} at ${at(e.sent)} with it was answered 4 (token and device differ)`;
        }
      }
      const tasks = ctx.views.get(d.id)?.tasks;
      if (last !== undefined && tasks !== undefined && tasks.some((t) => t.token !== undefined) && !tasks.some((t) => t.token === last)) {
        return `its last check handed it ${name(last)}, which no task of this device holds on the server`;
      }
      return undefined;
    },
    noView,
  ),
};

// ---------------------------------------------------------------------------------------------

/** Did a republish happen while this download ran (then its bytes may mix two images)? */
const republishedBetween = (ctx: VerdictContext, from: number, to: number): boolean =>
  ctx.events.some((ev) => ev.action === 'republish' && ev.doneAt >= from && ev.startedAt <= to);

export const resumeFromHeld: Rule = {
  name: 'resume-from-held',
  description:
    'downloads get the bytes they ask for (206 from the requested byte); after the link drops the next request starts at the last byte held; the bytes received add up to the file plus what restarts discarded, and the assembled md5 is the task\'s',
  dialects: ['onenet'],
  evaluate: perDevice(
    (d) => d.exchanges.some((e) => e.op === 'download'),
    (d, ctx, count) => {
      let size: number | undefined;
      let offerMd5: string | undefined;
      let changed = false;
      let held = 0;
      let total = 0;
      let discarded = 0;
      let cutAt: number | undefined;
      let firstDownload: number | undefined;
      let whole: Exchange | undefined;
      let wholeMd5Offer: string | undefined;
      for (const e of d.exchanges) {
        const f = e.facts;
        if (e.op === 'check' && f.offerSize !== undefined) {
          if (offerMd5 !== undefined && f.offerMd5 !== offerMd5) changed = true;
          size = f.offerSize;
          offerMd5 = f.offerMd5;
          continue;
        }
        if (e.op !== 'download' || f.start === undefined) continue;
        firstDownload ??= e.sent;
        if (cutAt !== undefined) {
          if (f.start === cutAt) count('resumed');
          else if (!(f.start === 0 && changed)) return `the link dropped at byte ${cutAt}; its next request asked for bytes=${f.start}-${f.end} (expected ${cutAt}-)`;
          cutAt = undefined;
        }
        if (f.start === 0 && held > 0) {
          discarded += held;
          held = 0;
          changed = false;
        } else if (f.start !== held) {
          return `it asked for bytes=${f.start}-${f.end} while it held ${held} bytes`;
        }
        if (f.status !== 200 && f.status !== 206) continue;
        if (f.bytes === undefined || f.code !== undefined) continue;
        total += f.bytes;
        const wholeFile = size !== undefined && f.start === 0 && f.end !== undefined && f.end >= size - 1;
        if (f.status === 200 && !wholeFile) return `asked for bytes=${f.start}-${f.end}${size !== undefined ? ` of ${size}` : ''}; answered 200 with ${f.bytes} bytes from byte 0 (the Range was ignored)`;
        if (f.status === 206 && f.rangeStart !== undefined && f.rangeStart !== f.start) return `asked for bytes=${f.start}-${f.end}; answered 206 from byte ${f.rangeStart}`;
        if (f.held !== undefined) held = f.held;
        if (f.cut) {
          cutAt = held;
          count('cuts');
        }
        if (size !== undefined && held >= size) {
          whole = e;
          wholeMd5Offer = offerMd5;
        }
      }
      if (whole === undefined || size === undefined) return undefined;
      if (total < size) return `it assembled a ${size}-byte file from ${total} bytes received`;
      if (total > size + discarded) {
        return `it received ${total} bytes for a ${size}-byte file (${discarded} discarded by restarts): ${total - size - discarded} more than needed`;
      }
      if (whole.facts.md5 !== undefined && wholeMd5Offer !== undefined && whole.facts.md5 !== wholeMd5Offer && !republishedBetween(ctx, firstDownload ?? 0, whole.answered)) {
        return `the bytes served assemble to md5 ${short(whole.facts.md5)}, the task's md5 is ${short(wholeMd5Offer)}`;
      }
      return undefined;
    },
  ),
};

// ---------------------------------------------------------------------------------------------

export const restartOnRepublish: Rule = {
  name: 'restart-on-republish',
  description:
    'after a package is republished (new md5), checks offer the new md5; a device holding bytes of the old image starts over at byte 0 and ends upgraded with the new image (spec §3.4)',
  dialects: ['onenet'],
  evaluate: (devices, ctx) => {
    const events = ctx.events.filter((ev) => ev.action === 'republish' && ev.error === undefined && (ev.md5?.length ?? 0) > 0);
    if (events.length === 0) return { checked: 0, violations: [], notJudged: ctx.eventsNotDone ?? 'no republish happened in this run' };
    const relevant = (d: DeviceEvidence): (typeof events)[number] | undefined =>
      events.find((ev) => {
        const md5s = new Set([...(ev.md5 ?? []), ...(ev.previousMd5 ?? [])]);
        const offers = d.exchanges.filter((e) => e.facts.offerMd5 !== undefined);
        return offers.some((e) => md5s.has(e.facts.offerMd5 as string)) && offers.some((e) => e.sent >= ev.doneAt);
      });
    return perDevice(
      (d) => relevant(d) !== undefined,
      (d, _ctx, count) => {
        const ev = relevant(d)!;
        const old = new Set(ev.previousMd5 ?? []);
        const fresh = new Set(ev.md5 ?? []);
        let heldBefore = 0;
        let sizeBefore = 0;
        let freshOffer: Exchange | undefined;
        let restarted = false;
        let lastWhole: Exchange | undefined;
        // "After" is ">=" and the device's own order: under --time-scale max virtual time stands
        // still through an exchange, so the next one is sent at the instant the last was answered.
        for (const e of d.exchanges) {
          const f = e.facts;
          if (e.op === 'check' && f.offerSize !== undefined && e.answered < ev.startedAt) sizeBefore = f.offerSize;
          if (e.op === 'download' && f.held !== undefined && e.answered < ev.startedAt) heldBefore = f.held;
          if (e.op === 'check' && f.offerMd5 !== undefined && e.sent >= ev.doneAt) {
            if (old.has(f.offerMd5) && !fresh.has(f.offerMd5)) {
              return `its check at ${at(e.sent)}, after the republish done at ${at(ev.doneAt)}, offered md5 ${short(f.offerMd5)}: the package's md5 before the republish (now ${short(ev.md5?.[0])})`;
            }
            freshOffer ??= e;
          }
          if (e.op === 'download' && freshOffer !== undefined && e.sent >= freshOffer.answered && f.start !== undefined && !restarted) {
            const stale = heldBefore > 0 && heldBefore < sizeBefore;
            if (stale && f.start !== 0) return `it held ${heldBefore} bytes of the old image; after the check offered the new md5 it asked for bytes=${f.start}- (expected to start over at 0)`;
            if (stale) count('started-over');
            restarted = true;
          }
          if (e.op === 'download' && f.md5 !== undefined) lastWhole = e;
        }
        if (d.final === undefined) return undefined;
        if (d.final.kind !== 'succeeded') return `it ended ${d.final.kind}${d.final.code !== undefined ? ` (${d.final.code})` : ''} instead of upgrading with the republished image`;
        if (lastWhole?.facts.md5 !== undefined && !fresh.has(lastWhole.facts.md5)) return `it upgraded with md5 ${short(lastWhole.facts.md5)}, not the republished ${short(ev.md5?.[0])}`;
        return undefined;
      },
    )(devices, ctx);
  },
};

// ---------------------------------------------------------------------------------------------

/** The device's signal as it gates itself: 99 (no signal) is below anything. */
const signalOf = (d: DeviceEvidence): number => (d.profile.signal === 99 ? -1 : d.profile.signal);

/** The first check offer that put the device below a threshold, and the code that says so. */
function gateOf(d: DeviceEvidence): { at: number; code: 105 | 106 } | undefined {
  const i = d.exchanges.findIndex(
    (e) => e.facts.offerSignal !== undefined && e.facts.offerPower !== undefined && (signalOf(d) <= e.facts.offerSignal || d.profile.battery <= e.facts.offerPower),
  );
  if (i < 0) return undefined;
  const offer = d.exchanges[i] as Exchange;
  return { at: i, code: signalOf(d) <= (offer.facts.offerSignal as number) ? 106 : 105 };
}

/** The failure report `code`, from exchange `from` on: its answer, or why it is missing. */
function reported(d: DeviceEvidence, code: number, from: number): string | undefined {
  const reports = d.exchanges.slice(from).filter((e) => e.op === 'result' && e.facts.step === code);
  if (reports.length === 0) return `it never reported ${code}`;
  if (!reports.some((e) => e.facts.errno === 0)) return `its report of ${code} was answered ${reports.map((e) => e.outcome).join(', ')} (expected errno 0)`;
  return undefined;
}

function endedWith(d: DeviceEvidence, kind: string, code: number, ctx: VerdictContext): string | undefined {
  if (d.final === undefined) return undefined;
  if (d.final.kind !== kind || d.final.code !== code) return `it ended ${d.final.kind} (${d.final.code ?? '-'}); expected ${kind} (${code})`;
  const task = serverTask(d, ctx);
  if (task !== undefined && task.state !== 'failed') return `it reported ${code}, but the server's task is ${task.state} (expected failed)`;
  return undefined;
}

export const gating: Rule = {
  name: 'gating',
  description: "a device whose signal or battery is not above the task's thresholds never downloads, reports 106 (signal) or 105 (battery), ends gated, and the server's task fails",
  dialects: ['onenet'],
  evaluate: perDevice(
    (d) => gateOf(d) !== undefined,
    (d, ctx, count) => {
      const g = gateOf(d)!;
      count(`gated-${g.code}`);
      const downloads = d.exchanges.slice(g.at).filter((e) => e.op === 'download' || e.op === 'tokenCheck');
      if (downloads.length > 0) return `below the task's thresholds, it still made a ${downloads[0]!.op} at ${at(downloads[0]!.sent)}`;
      return reported(d, g.code, g.at) ?? endedWith(d, 'gated', g.code, ctx);
    },
    noView,
  ),
};

/** The failure a faulty device must report, and where in its exchanges it should. */
function expectedFailure(d: DeviceEvidence): { code: number; why: string } | undefined {
  const b = d.behaviour;
  if (b.storageFull) return { code: 102, why: 'storage full' };
  if (b.batteryDies) return { code: 105, why: 'battery ran out mid-download' };
  if (b.flashFails) return { code: b.flashFails.code, why: 'flash failed' };
  return undefined;
}

export const failureCodes: Rule = {
  name: 'failure-codes',
  description:
    'a device whose storage is full reports 102 before downloading, one whose battery runs out mid-download 105, one whose flash fails 202/203 after its 101; each ends failed with that code and the server\'s task fails',
  dialects: ['onenet'],
  evaluate: perDevice(
    (d) => expectedFailure(d) !== undefined && gateOf(d) === undefined && d.exchanges.some((e) => e.facts.offerToken !== undefined),
    (d, ctx, count) => {
      const x = expectedFailure(d)!;
      count(`reported-${x.code}`);
      const downloads = ops(d, 'download');
      if (x.code === 102 && downloads.length > 0) return `its storage is full, yet it downloaded (${downloads.length} requests)`;
      if (d.behaviour.batteryDies && x.code === 105) {
        const held = Math.max(0, ...downloads.map((e) => e.facts.held ?? 0));
        const size = d.exchanges.find((e) => e.facts.offerSize !== undefined)?.facts.offerSize ?? 0;
        if (held >= size) return `its battery was to run out at ${Math.round(d.behaviour.batteryDies.atShare * 100)}% of the package, yet it held all ${size} bytes`;
      }
      if (x.code >= 202) {
        const downloaded = d.exchanges.some((e) => e.op === 'result' && e.facts.step === 101 && e.facts.errno === 0);
        if (!downloaded) return `its flash was to fail after the 101, but no 101 of it was accepted`;
      }
      return reported(d, x.code, 0) ?? endedWith(d, 'failed', x.code, ctx);
    },
    noView,
  ),
};

// ---------------------------------------------------------------------------------------------

export const tokenRenewal: Rule = {
  name: 'token-renewal',
  description:
    "a token past its life (profile onenet.tokenTtl, documented 2 days) is refused (download error 3 or errno 12) and an expired Authorization is refused (errno 1); the device then checks again, gets a new token, uses only that one and carries on to the upgrade",
  dialects: ['onenet'],
  evaluate: perDevice(
    (d) => d.behaviour.longSleep !== undefined || d.exchanges.some((e) => e.facts.authExpired === true || (e.op === 'download' && e.facts.code === 3) || e.facts.errno === 12),
    (d, ctx, count) => {
      const name = tokenNamer(d);
      for (const e of d.exchanges) {
        if (e.facts.authExpired && e.facts.errno !== undefined && e.facts.errno !== 1) {
          return `its ${e.op} at ${at(e.sent)} carried an expired Authorization and was answered errno ${e.facts.errno} (expected 1, authentication failed)`;
        }
        if (e.facts.authExpired && e.facts.errno === 1) count('expired-auth-refused');
      }
      // A token used after a pause longer than its life must be refused.
      const xs = d.exchanges;
      const issued = new Map<string, number>();
      for (const e of xs) {
        if (e.facts.offerToken !== undefined && !issued.has(e.facts.offerToken)) issued.set(e.facts.offerToken, e.answered);
        const t = e.facts.token;
        if (t === undefined || !issued.has(t)) continue;
        const age = e.sent - (issued.get(t) as number);
        const served = e.op === 'download' ? e.facts.bytes !== undefined && e.facts.code === undefined : e.facts.errno === 0;
        const ttl = ctx.profile.onenet.tokenTtlMs;
        if (age > ttl && served) return `${name(t)} was ${at(age)} old (tokens live ${at(ttl)}, profile onenet.tokenTtl) and its ${e.op} at ${at(e.sent)} was still served`;
      }
      const refusal = xs.findIndex((e) => (e.op === 'download' && e.facts.code === 3) || e.facts.errno === 12);
      if (refusal < 0) return undefined;
      const refused = (xs[refusal] as Exchange).facts.token;
      const renewal = xs.findIndex((e, i) => i > refusal && e.facts.offerToken !== undefined && e.facts.offerToken !== refused);
      if (renewal < 0) return d.final !== undefined ? `after ${refused !== undefined ? name(refused) : 'its token'} was refused it never got a new one` : undefined;
      count('renewed');
      const reuse = xs.findIndex((e, i) => i > renewal && e.facts.token !== undefined && e.facts.token === refused);
      if (reuse >= 0) return `after it got ${name((xs[renewal] as Exchange).facts.offerToken as string)} it used the refused ${name(refused as string)} again (${(xs[reuse] as Exchange).op} at ${at((xs[reuse] as Exchange).sent)})`;
      if (d.final !== undefined && d.final.kind !== 'succeeded') return `after the renewal it ended ${d.final.kind} (${d.final.code ?? '-'})`;
      return undefined;
    },
  ),
};

// ---------------------------------------------------------------------------------------------

/** The errno a device's check should get by the server's own task and catalog, when 8 or 9. */
function mismatchOf(d: DeviceEvidence, ctx: VerdictContext, check: Exchange): 8 | 9 | undefined {
  const task = serverTask(d, ctx);
  if (task === undefined) return undefined;
  if (task.manuf !== undefined && task.model !== undefined && (task.manuf !== check.facts.manuf || task.model !== check.facts.model)) return 8;
  const pkg = task.package !== undefined ? ctx.server.packages.get(task.package) : undefined;
  if (pkg?.kind === 'diff' && check.facts.version !== undefined && !pkg.from.includes(check.facts.version)) return 9;
  return undefined;
}

export const expectedFailures: Rule = {
  name: 'expected-failures',
  description:
    "a check from another manuf/model is answered 8 and one from a version a diff package does not start from 9; the task fails on the server and the device ends failed with that errno: expected failures, not harness errors",
  dialects: ['onenet'],
  evaluate: perDevice(
    (d, ctx) => {
      const first = ops(d, 'check')[0];
      return first !== undefined && (first.facts.errno === 8 || first.facts.errno === 9 || mismatchOf(d, ctx, first) !== undefined);
    },
    (d, ctx, count) => {
      const first = ops(d, 'check')[0] as Exchange;
      const expected = mismatchOf(d, ctx, first);
      const errno = first.facts.errno;
      if (expected !== undefined && errno !== expected) {
        const why = expected === 8 ? `manuf/model ${first.facts.manuf}/${first.facts.model} differ from the task's` : `version ${first.facts.version} is not one the diff package starts from`;
        return `${why}; its check was answered ${first.outcome} (expected errno ${expected})`;
      }
      if (errno !== 8 && errno !== 9) return undefined;
      count(`errno-${errno}`);
      return endedWith(d, 'failed', errno, ctx);
    },
    noView,
  ),
};

export const ONENET_RULES: readonly Rule[] = [oneSuccessPerTask, ownToken, resumeFromHeld, restartOnRepublish, gating, failureCodes, tokenRenewal, expectedFailures];
