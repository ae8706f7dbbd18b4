/**
 * The LwM2M rules, judged from what each device saw and answered:
 * - `lwm2m-update-before-downloaded`: the server executes Update (/5/0/2) only once the device's
 *   State is 2 (Downloaded);
 * - `lwm2m-no-second-download`: once the device registered with Update Result 1, no new download;
 * - `lwm2m-result-agreement`: the Update Result the device ends with is the one the server shows;
 * - `lwm2m-downlink-schedule`: each server message the device left unanswered (asleep, or an ACK
 *   its cohort dropped) is retransmitted within the profile's windows, and given up no earlier than
 *   its schedule (all its resends came). Intervals are measured where the device is, so each may
 *   stray SLACK of its window's bounds.
 */
import { FIRMWARE_STATE_NAME, UPDATE_RESULT, type DownlinkSchedule, type FirmwareState } from '../../protocol/lwm2m.js';
import { DOCUMENTED_PROFILE } from '../../protocol/profile.js';
import type { DeviceEvidence } from '../evidence.js';
import { at, hasServerView, perDevice, type Rule, type VerdictContext } from '../rule.js';

const LWM2M = ['lwm2m'];
const UPDATE_CALL = 'execute /5/0/2';
/** How far a measured interval may stray outside its window, as a share of the window's bounds. */
export const SCHEDULE_SLACK = 0.1;

export const lwm2mUpdateBeforeDownloaded: Rule = {
  name: 'lwm2m-update-before-downloaded',
  description: 'the server executes Update (/5/0/2) only when the device reports State 2 (Downloaded)',
  dialects: LWM2M,
  evaluate: perDevice(
    (d) => d.exchanges.some((e) => e.op === 'reply' && e.facts.call === UPDATE_CALL),
    (d) => {
      const early = d.exchanges.find((e) => e.op === 'reply' && e.facts.call === UPDATE_CALL && e.facts.fwState !== 2);
      if (early === undefined) return undefined;
      const state = early.facts.fwState as FirmwareState | undefined;
      return `at ${at(early.sent)} the server executed Update while State was ${state ?? '?'} (${state === undefined ? 'unknown' : FIRMWARE_STATE_NAME[state]}), not 2 (Downloaded)`;
    },
  ),
};

export const lwm2mNoSecondDownload: Rule = {
  name: 'lwm2m-no-second-download',
  description: 'after a device registered with Update Result 1 (success), the server does not make it download again',
  dialects: LWM2M,
  evaluate: perDevice(
    (d) => d.exchanges.some((e) => e.op === 'register' && e.facts.fwResult === UPDATE_RESULT.SUCCESS),
    (d) => {
      const success = d.exchanges.findIndex((e) => e.op === 'register' && e.facts.fwResult === UPDATE_RESULT.SUCCESS);
      const again = d.exchanges.slice(success + 1).find((e) => e.op === 'block' && e.facts.block === 0);
      return again === undefined ? undefined : `registered with Update Result 1 at ${at(d.exchanges[success]!.sent)}, then was made to download again at ${at(again.sent)}`;
    },
  ),
};

/** A read (plain or observe) or a notification of Update Result (/5/0/5). */
const RESULT_TOLD = /^(read(\(observe [a-z]+\))?|notify) \/5\/0\/5$/;

/**
 * The last Update Result the device told the server (an acknowledged read of /5/0/5, or a
 * notification of it); undefined when it never told one. A dropped ACK told nothing.
 */
export function lastResultTold(d: DeviceEvidence): number | undefined {
  for (let i = d.exchanges.length - 1; i >= 0; i--) {
    const e = d.exchanges[i]!;
    if ((e.op !== 'reply' && e.op !== 'notify') || e.facts.dropped === true || e.facts.fwResult === undefined) continue;
    if (e.facts.call !== undefined && RESULT_TOLD.test(e.facts.call)) return e.facts.fwResult;
  }
  return undefined;
}

export const lwm2mResultAgreement: Rule = {
  name: 'lwm2m-result-agreement',
  description: "the Update Result a device ends with is the one the server's view shows",
  dialects: LWM2M,
  evaluate(devices, ctx) {
    const finished = devices.filter((d) => d.final?.code !== undefined && d.exchanges.some((e) => e.op === 'block'));
    if (!hasServerView(ctx)) return { checked: 0, violations: [], notJudged: 'the target shows no view of its devices (admin API), so its Update Results cannot be compared' };
    const violations = [];
    let checked = 0;
    let untold = 0;
    for (const d of finished) {
      const view = ctx.views.get(d.id);
      const server = view?.firmware?.updateResult;
      if (server === undefined) continue;
      // A device that ended before the server could read its last result (it left, or dropped the ACKs of the reads) is not the server's fault.
      if (lastResultTold(d) !== d.final!.code) {
        untold++;
        continue;
      }
      checked++;
      if (server !== d.final!.code) violations.push({ device: d, detail: `the device ended with Update Result ${d.final!.code} and told the server so, the server shows ${server}` });
    }
    const unseen = finished.length - checked - untold;
    const notes = [
      ...(unseen > 0 ? [`${unseen} device(s) that downloaded have no Update Result in the server's view`] : []),
      ...(untold > 0 ? [`${untold} device(s) not judged, because they ended before telling the server their last Update Result (no acknowledged read or notification of /5/0/5 with it)`] : []),
    ];
    return { checked, violations, ...(notes.length > 0 ? { note: notes.join('; ') } : {}) };
  },
};

export const scheduleOf = (ctx: VerdictContext): DownlinkSchedule => (ctx.profile.lwm2m ?? DOCUMENTED_PROFILE.lwm2m!).downlinkSchedule;

/** Whether `ms` falls in `[min, max]` with the slack. */
const within = (ms: number, [min, max]: readonly [number, number]): boolean => ms >= min * (1 - SCHEDULE_SLACK) && ms <= max * (1 + SCHEDULE_SLACK);
const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** What is wrong with one message's transmissions under `schedule`, counting the intervals into `count`. */
export function scheduleFaults(record: { at: readonly number[]; answered: boolean; cut?: boolean }, schedule: DownlinkSchedule, count: (name: string, n?: number) => void): string | undefined {
  const { at: times } = record;
  const windows = schedule.resendWindowsMs;
  for (let k = 1; k < times.length; k++) {
    const gap = times[k]! - times[k - 1]!;
    count(`resend#${k} ${Math.floor(gap / 1000)}s`);
    const window = windows[k - 1];
    if (window === undefined) return `retransmitted ${times.length - 1} times: the ${schedule.name} schedule resends ${windows.length}`;
    if (!within(gap, window)) return `resend ${k} came ${sec(gap)} after the transmission before it: the ${schedule.name} window is ${sec(window[0])}–${sec(window[1])}`;
  }
  const span = times[times.length - 1]! - times[0]!;
  if (span > schedule.giveUpMs[1] * (1 + SCHEDULE_SLACK)) return `a transmission came ${sec(span)} after the first: past the ${schedule.name} give-up (${sec(schedule.giveUpMs[1])})`;
  // Cut short where the device stopped hearing (its socket closed for a sleep, the run ended): the resends after that went unheard, so the give-up is unknown.
  if (record.cut === true) {
    count('cut short before its give-up');
    return undefined;
  }
  if (!record.answered) {
    count(`give-up after ${times.length - 1} resends`);
    if (times.length - 1 < windows.length) return `unanswered, it was given up after ${times.length - 1} resend(s) (the last ${sec(span)} after the first): the ${schedule.name} schedule resends ${windows.length} times and gives up at ${sec(schedule.giveUpMs[0])}–${sec(schedule.giveUpMs[1])}`;
  }
  return undefined;
}

const recordsOf = (d: DeviceEvidence): { at: number[]; answered: boolean; asleep?: boolean; cut?: boolean }[] => d.exchanges.flatMap((e) => e.facts.seen ?? []);
/** A record says something of the schedule once the server had to retransmit: unanswered at first, or retransmitted. */
const judged = (r: { at: readonly number[]; answered: boolean }): boolean => !r.answered || r.at.length > 1;

/**
 * A copy that reaches the device sooner than this share of the schedule's first window (after the
 * last transmission kept) is the network's duplicate of that datagram, not a resend: the device
 * cannot tell them apart by their bytes. A quarter: `lwm2m-retransmit-early`'s resends, at half the
 * delays, are still judged; a server resending faster still is caught once its copies add up to
 * a quarter of the window.
 */
export const DUPLICATE_SHARE = 0.25;

/** The transmissions of one message with the network's duplicates set apart. */
export function withoutDuplicates(times: readonly number[], schedule: DownlinkSchedule): { at: number[]; duplicates: number } {
  const within = (schedule.resendWindowsMs[0]?.[0] ?? 0) * DUPLICATE_SHARE;
  const at: number[] = [];
  for (const t of times) if (at.length === 0 || t - at[at.length - 1]! >= within) at.push(t);
  return { at, duplicates: times.length - at.length };
}

export const lwm2mDownlinkSchedule: Rule = {
  name: 'lwm2m-downlink-schedule',
  description: "a confirmable downlink the device does not acknowledge is retransmitted within the target profile's windows (lwm2m.downlinkSchedule) and given up no earlier than its schedule",
  dialects: LWM2M,
  evaluate(devices, ctx) {
    const schedule = scheduleOf(ctx);
    const records = (d: DeviceEvidence) => recordsOf(d).map((r) => ({ ...r, ...withoutDuplicates(r.at, schedule) }));
    const inner = perDevice(
      (d) => records(d).some(judged),
      (d, c, count) => {
        const all = records(d);
        const duplicates = all.reduce((n, r) => n + r.duplicates, 0);
        if (duplicates > 0) count('network duplicates set apart', duplicates);
        for (const r of all.filter(judged)) {
          count('messages');
          const fault = scheduleFaults(r, schedule, count);
          if (fault !== undefined) return `server message first seen at ${at(r.at[0]! - c.originVirtual)}: ${fault}`;
        }
        return undefined;
      },
    )(devices, ctx);
    return inner;
  },
  summary: (counts) =>
    counts['messages'] === undefined
      ? "not judged: no device reported a server message it left unanswered (none slept through one and no cohort drops ACKs, or the run ended before a record was complete: one completes twice a give-up after the message's first transmission)"
      : undefined,
};

export const lwm2mQueueMode: Rule = {
  name: 'lwm2m-queue-mode',
  description: 'a device registered in queue mode (binding UQ) is sent downlink only while it is reachable: the server holds it until the device speaks (Register / Update)',
  dialects: LWM2M,
  evaluate(devices, ctx) {
    const queueMode = devices.filter((d) => d.exchanges.some((e) => e.op === 'register' && e.facts.binding === 'UQ'));
    // A device whose socket closed for its sleeps heard nothing while asleep: silence is no evidence of a held downlink.
    const witnesses = queueMode.filter((d) => !d.exchanges.some((e) => e.op === 'sleep' && e.facts.released === true));
    const blind = queueMode.length - witnesses.length;
    const why = 'their socket closed while they slept (target.lwm2m.sleepingSocket: close), so nothing the server sent them asleep could be seen; sleepingSocket: keep witnesses it';
    if (queueMode.length > 0 && witnesses.length === 0) return { checked: 0, violations: [], notJudged: `all ${blind} queue-mode device(s): ${why}` };
    const outcome = perDevice(
      () => true,
      (d, c, count) => {
        const early = recordsOf(d).filter((r) => r.asleep === true);
        count('sent-while-asleep', early.length);
        if (early.length === 0) return undefined;
        const first = early[0]!;
        return `${early.length} server message(s) reached it asleep (the first at ${at(first.at[0]! - c.originVirtual)}, ${first.at.length} transmission(s)${first.answered ? ', answered after its wake' : ', never answered'}): the server did not hold downlink for a sleeping queue-mode device`;
      },
    )(witnesses, ctx);
    return blind > 0 ? { ...outcome, note: `${blind} device(s) not judged, because ${why}` } : outcome;
  },
};

/** The package a repository path names (`/fw/{id}`): its last segment. */
const packageIdOf = (path: string): string => decodeURIComponent(path.split('/').filter(Boolean).at(-1) ?? '');

export const lwm2mPackageIntegrity: Rule = {
  name: 'lwm2m-package-integrity',
  description: "the bytes a device assembled block by block (CoAP Block2) have the md5 the server's catalog publishes for the package (devices whose own download is corrupted on purpose are not judged)",
  dialects: LWM2M,
  evaluate(devices, ctx) {
    const packages = ctx.server.lwm2mPackages;
    if (packages === undefined) return { checked: 0, violations: [], notJudged: "the server's catalog (GET /admin/catalog) shows no LwM2M packages, so the md5 the devices assembled cannot be compared" };
    return perDevice(
      (d) => !d.behaviour.corruptDownload && d.exchanges.some((e) => e.op === 'block' && e.facts.md5 !== undefined && e.facts.path !== undefined),
      (d, _c, count) => {
        for (const e of d.exchanges) {
          if (e.op !== 'block' || e.facts.md5 === undefined || e.facts.path === undefined) continue;
          const id = packageIdOf(e.facts.path);
          const published = packages.get(id);
          if (published === undefined) {
            count('package not in the catalog');
            continue;
          }
          count('downloads');
          if (e.facts.md5 !== published.md5) return `the package ${id} it assembled at ${at(e.sent)} has md5 ${e.facts.md5}; the server publishes ${published.md5}`;
        }
        return undefined;
      },
    )(devices, ctx);
  },
};

export const LWM2M_RULES: readonly Rule[] = [lwm2mUpdateBeforeDownloaded, lwm2mNoSecondDownload, lwm2mResultAgreement, lwm2mDownlinkSchedule, lwm2mQueueMode, lwm2mPackageIntegrity];
