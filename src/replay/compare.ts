/**
 * Whether the server now answers a call as it did in the log. Compared, where the log says: the
 * status, a transport failure (a lost answer and a timeout are one: the device heard nothing),
 * errno / code, whether a task was handed out (its value is new every run), the version offered,
 * and the bytes of a file answer. A cut the replay enacts compares its status and bytes only. Pure.
 */
import type { AnswerFields } from '../exchanges/exchange.js';
import { NO_ANSWER_CODES, type ReplayStep } from './script.js';

export type ComparedField = 'status' | 'net' | 'errno' | 'code' | 'task' | 'version' | 'bytes';

const netClass = (net: string | undefined): string | undefined => (net === undefined ? undefined : NO_ANSWER_CODES.has(net) ? 'no answer' : net);

/** The fields in which the replayed answer differs from the logged one (empty: the same). */
export function differences(step: ReplayStep, now: AnswerFields): ComparedField[] {
  const was = step.logged;
  const out: ComparedField[] = [];
  const unheard = (a: AnswerFields): boolean => a.status === undefined && netClass(a.net) === 'no answer';
  if (unheard(was) || unheard(now)) {
    // Nothing reached the device, then or now: only whether that is still so can be compared.
    if (unheard(was) !== unheard(now)) out.push(was.status !== now.status ? 'status' : 'net');
    return out;
  }
  if (was.status !== undefined && was.status !== now.status) out.push('status');
  if (step.cutAfterBytes === undefined && netClass(was.net) !== netClass(now.net) && (was.net !== undefined || was.status !== undefined)) out.push('net');
  if (was.errno !== undefined && was.errno !== now.errno) out.push('errno');
  if (was.code !== undefined && was.code !== now.code) out.push('code');
  if (knowsJson(was) && (was.task !== undefined) !== (now.task !== undefined)) out.push('task');
  if (was.version !== undefined && was.version !== now.version) out.push('version');
  if (step.file && isFileAnswer(was) && was.bytes !== now.bytes) out.push('bytes');
  return out;
}

/** A file's bytes (a 2xx that is no JSON code); an error answer's size says nothing of the file. */
const isFileAnswer = (a: AnswerFields): boolean => a.bytes !== undefined && a.errno === undefined && a.code === undefined && a.status !== undefined && a.status >= 200 && a.status < 300;

/** The log read the answer's JSON (an access log does not: it cannot say whether a task came). */
const knowsJson = (a: AnswerFields): boolean => a.errno !== undefined || a.code !== undefined;

/** An answer's fields as one short line, for the side-by-side view. */
export function answerLine(a: AnswerFields): string {
  const parts: string[] = [];
  if (a.status !== undefined) parts.push(`status ${a.status}`);
  if (a.net !== undefined) parts.push(`net ${a.net}`);
  if (a.errno !== undefined) parts.push(`errno ${a.errno}`);
  if (a.code !== undefined) parts.push(`code ${a.code}`);
  if (a.task !== undefined) parts.push('task');
  if (a.version !== undefined) parts.push(`version ${a.version}`);
  if (a.bytes !== undefined) parts.push(`${a.bytes} bytes${a.cut === true ? ' (cut)' : ''}`);
  return parts.length === 0 ? '(nothing)' : parts.join(', ');
}
