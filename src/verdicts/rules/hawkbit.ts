/**
 * The hawkBit DDI rules (protocol/hawkbit.ts), judged from each device's own exchanges: what a
 * DDI server must have done for the devices to see what they saw. Each catches one named bug of
 * the reference server (src/server/bugs.ts), and the same fault in any DDI server.
 */
import type { Exchange } from '../evidence.js';
import { at, perDevice, type Rule } from '../rule.js';

const DIALECTS = ['hawkbit'] as const;
const isClosingSuccess = (e: Exchange): boolean => e.op === 'feedback' && e.facts.execution === 'closed' && e.facts.finished === 'success';

export const ddiRangeHonoured: Rule = {
  name: 'ddi-range-honoured',
  description: 'an artifact download with a Range is answered 206 from the first byte asked for (a resumed download must not start over)',
  dialects: DIALECTS,
  evaluate: perDevice(
    (d) => d.exchanges.some((e) => e.op === 'download' && e.facts.status !== undefined),
    (d) => {
      for (const e of d.exchanges) {
        if (e.op !== 'download' || e.facts.status === undefined || e.facts.start === undefined) continue;
        if (e.facts.status !== 200 && e.facts.status !== 206) continue;
        if (e.facts.status === 200 || e.facts.rangeStart !== e.facts.start) {
          return `download bytes=${e.facts.start}-${e.facts.end ?? '?'} at ${at(e.sent)} was answered http:${e.facts.status} from byte ${e.facts.rangeStart ?? '?'} (expected 206 from ${e.facts.start})`;
        }
      }
      return undefined;
    },
  ),
};

export const ddiHashMatches: Rule = {
  name: 'ddi-hash-matches',
  description: "the bytes an artifact link serves have the md5 its deploymentBase announces (devices whose own download is corrupted on purpose are not judged)",
  dialects: DIALECTS,
  evaluate: perDevice(
    (d) => !d.behaviour.corruptDownload && d.exchanges.some((e) => e.op === 'download' && e.facts.md5 !== undefined),
    (d, _ctx, count) => {
      let announced: Exchange | undefined;
      for (const e of d.exchanges) {
        if (e.op === 'deployment' && e.facts.offerMd5 !== undefined) announced = e;
        if (e.op !== 'download' || e.facts.md5 === undefined || announced === undefined) continue;
        if (e.facts.held !== announced.facts.offerSize) continue;
        count('images-checked');
        if (e.facts.md5 !== announced.facts.offerMd5) {
          return `action ${announced.facts.offerAction ?? '?'}: the ${e.facts.held} bytes served have md5 ${e.facts.md5.slice(0, 8)}…, its deploymentBase at ${at(announced.sent)} announced ${announced.facts.offerMd5?.slice(0, 8) ?? '?'}…`;
        }
      }
      return undefined;
    },
  ),
};

export const ddiCancelHonoured: Rule = {
  name: 'ddi-cancel-honoured',
  description: 'once the server refuses an action\'s feedback as being cancelled (409), it offers that action by cancelAction only: no poll offers its deploymentBase and its deploymentBase is not answered 200',
  dialects: DIALECTS,
  evaluate: perDevice(
    (d) => d.exchanges.some((e) => e.op === 'feedback' && e.facts.status === 409),
    (d) => {
      const cancelled = new Map<number, Exchange>();
      for (const e of d.exchanges) {
        if (e.op === 'feedback' && e.facts.status === 409 && e.facts.action !== undefined) cancelled.set(e.facts.action, e);
        const action = e.op === 'poll' && e.facts.offerLink === 'deploymentBase' ? e.facts.offerAction : e.op === 'deployment' && e.facts.status === 200 ? e.facts.action : undefined;
        const refused = action === undefined ? undefined : cancelled.get(action);
        if (refused !== undefined) {
          const what = e.op === 'poll' ? 'a poll offered its deploymentBase' : 'its deploymentBase was answered 200';
          return `action ${action} was refused as being cancelled (409) at ${at(refused.sent)}, yet at ${at(e.sent)} ${what}`;
        }
      }
      return undefined;
    },
  ),
};

export const ddiClosedOnce: Rule = {
  name: 'ddi-closed-once',
  description: 'an action closes once: a closing feedback sent again (after a lost answer) is answered 410 (gone), never accepted and counted a second time (and, where the server shows its view, it counts one success per action)',
  dialects: DIALECTS,
  evaluate: perDevice(
    (d) => d.exchanges.some(isClosingSuccess),
    (d, ctx, count) => {
      const counted = (ctx.views.get(d.id)?.tasks ?? []).find((t) => (t.successes ?? 0) > 1);
      if (counted !== undefined) return `the server counts action ${counted.id ?? '?'} finished ${counted.successes} times (expected once)`;
      const closed = new Map<number, Exchange>();
      for (const e of d.exchanges) {
        if (!isClosingSuccess(e) || e.facts.action === undefined) continue;
        const before = closed.get(e.facts.action);
        if (before !== undefined && e.facts.status === 200) {
          return `action ${e.facts.action} was closed at ${at(before.sent)}${before.facts.lost ? ' (answer lost)' : ''}; the closing feedback sent again at ${at(e.sent)} was answered 200 (expected 410: counted twice)`;
        }
        if (before !== undefined && e.facts.status === 410) count('repeats-answered-410');
        // A lost answer is a processed request: the action is closed all the same.
        if (e.facts.status === 200 || e.facts.lost === true) closed.set(e.facts.action, before ?? e);
      }
      return undefined;
    },
  ),
};

export const HAWKBIT_RULES: readonly Rule[] = [ddiRangeHonoured, ddiHashMatches, ddiCancelHonoured, ddiClosedOnce];
