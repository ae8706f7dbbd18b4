/**
 * Runs replay scripts: each device's calls at their virtual instants (a device never sends before
 * its previous answer came), tasks taken from the new answers, cuts and lost answers enacted again,
 * each answer compared with the logged one. Time and the network are injected: a scaled clock and
 * the engine's Network in a run, a fake clock and a fake send in tests.
 */
import { setMaxListeners } from 'node:events';
import type { HttpRequest, HttpResult } from '../dialect/types.js';
import type { LagRecorder, OperationRecorder, SendInstant } from '../metrics/recorder.js';
import type { Transport } from '../engine/transport.js';
import { answerFields, type AnswerFields } from '../exchanges/exchange.js';
import { differences, type ComparedField } from './compare.js';
import { replayDialect, type ReplayDialect, type ReplaySettings } from '../exchanges/calls.js';
import type { DeviceScript, ReplayStep } from './script.js';

export interface ReplayClock {
  /** Virtual ms since the epoch. */
  now(): number;
  /** Real ms (performance.now() timeline) at which virtual instant `v` happens. */
  realAt(v: number): number;
  /** Resolves once virtual instant `v` is reached (at once when it has passed). */
  sleepUntil(v: number, signal?: AbortSignal): Promise<void>;
}

/** Where the replay sends: the engine's transport (HTTP; each device its own slot), a fake one in tests. */
export type ReplayTransport = Pick<Transport<HttpRequest, HttpResult>, 'exchange' | 'release'>;

export interface FirstDifference {
  /** Position of the call in the device's script (0-based). */
  readonly index: number;
  readonly where: string;
  readonly op: string;
  readonly request: string;
  readonly fields: readonly ComparedField[];
  readonly logged: AnswerFields;
  readonly now: AnswerFields;
}

export interface ReplayedCall {
  readonly device: string;
  readonly index: number;
  readonly op: string;
  /** The virtual instant the device meant to send at, and the one it sent at. */
  readonly decidedAt: number;
  readonly sentAt: number;
  readonly answer: AnswerFields;
  readonly fields: readonly ComparedField[];
  /** The task the request carried (the new one, once an answer gave it). */
  readonly task?: string;
  /** Virtual instant the answer came (under a real clock; the send instant under a fake one that does not move). */
  readonly answeredAt: number;
  /** The request as sent and its result as the transport gave it (for the dialect's evidence codec). */
  readonly sent: HttpRequest;
  readonly result: HttpResult;
  /** The size of the file the device's last offer named, when one did. */
  readonly total?: number;
}

export interface DeviceReplay {
  readonly device: string;
  readonly dialect: string;
  readonly calls: number;
  readonly replayed: number;
  readonly differing: number;
  readonly first?: FirstDifference;
  /** Why the device's script stopped early (an interrupt, a target without its dialect's keys). */
  readonly stopped?: string;
}

export interface DriveOptions {
  scripts: readonly DeviceScript[];
  /** Each dialect's target settings, by dialect name. */
  target: ReplaySettings;
  clock: ReplayClock;
  /** Virtual instant the log's first exchange is replayed at. */
  startVirtual: number;
  transport: ReplayTransport;
  timeoutMs: number;
  recorder: OperationRecorder;
  /** How late each device woke against its due instant (real clock only), for the harness verdict. */
  lag?: LagRecorder;
  signal?: AbortSignal;
  /** Each call as it is answered (tests, the exchange log of the replay). */
  onCall?: (call: ReplayedCall) => void;
}

/** Outcome label of an answer, as the run's counts write them. */
export function outcomeOf(a: AnswerFields): string {
  if (a.net !== undefined && a.status === undefined) return `net:${a.net}`;
  if (a.errno !== undefined) return `errno:${a.errno}`;
  if (a.code !== undefined) return `code:${a.code}`;
  if (a.status !== undefined && (a.status < 200 || a.status >= 300)) return `http:${a.status}`;
  return a.net !== undefined ? `net:${a.net}` : 'bytes';
}

const isError = (a: AnswerFields): boolean => a.net !== undefined || (a.status ?? 0) >= 500;

export async function driveReplay(o: DriveOptions): Promise<DeviceReplay[]> {
  // Every device waits on the one signal: as many listeners as devices are expected.
  if (o.signal) setMaxListeners(0, o.signal);
  return Promise.all(
    o.scripts.map(async (s, slot) => {
      try {
        return await driveDevice(s, slot, o);
      } finally {
        o.transport.release(slot);
      }
    }),
  );
}

async function driveDevice(script: DeviceScript, slot: number, o: DriveOptions): Promise<DeviceReplay> {
  const dialect = replayDialect(script.dialect);
  const base = { device: script.device, dialect: script.dialect, calls: script.steps.length };
  if (dialect === undefined) return { ...base, replayed: 0, differing: 0, stopped: `dialect ${script.dialect} has no replay` };
  const tasks = new Map<string, string>();
  let replayed = 0;
  let differing = 0;
  let first: FirstDifference | undefined;
  let lastAnswerReal = -Infinity;
  let total: number | undefined;
  for (let index = 0; index < script.steps.length; index++) {
    const step = script.steps[index]!;
    const due = o.startVirtual + step.atMs;
    await o.clock.sleepUntil(due, o.signal);
    if (o.signal?.aborted) return { ...base, replayed, differing, ...(first ? { first } : {}), stopped: 'interrupted' };
    const path = step.task !== undefined && tasks.has(step.task) ? dialect.withTask(step.path, step.task, tasks.get(step.task)!) : step.path;
    const sentAt = Math.max(due, o.clock.now());
    let http: HttpRequest;
    try {
      http = withFault(dialect.encode({ method: step.method, path, ...(step.range !== undefined ? { range: step.range } : {}), ...(step.body !== undefined ? { body: step.body } : {}) }, o.target[script.dialect], sentAt, total), step);
    } catch (err) {
      return { ...base, replayed, differing, ...(first ? { first } : {}), stopped: (err as Error).message };
    }
    // The device means to act at its logged instant, or as its previous answer comes if that is later.
    const intendedReal = Math.max(o.clock.realAt(due), lastAnswerReal);
    const handedReal = performance.now();
    o.lag?.recordScheduleLag(Math.max(0, handedReal - intendedReal));
    let written: number | undefined;
    const { result } = await o.transport.exchange(slot, http, { timeoutMs: o.timeoutMs, paceMs: 0, onWritten: (at) => (written ??= at) });
    const doneReal = performance.now();
    lastAnswerReal = doneReal;
    const answer = answerFields(result);
    const offered = dialect.offeredSize(result);
    const totalThen = total;
    if (offered !== undefined) total = offered;
    const sent: SendInstant = written !== undefined ? { atMs: written, written: true } : { atMs: handedReal, written: false };
    o.recorder.record(step.op, outcomeOf(answer), isError(answer), intendedReal, sent, doneReal);
    replayed++;
    if (step.logged.task !== undefined && answer.task !== undefined) tasks.set(step.logged.task, answer.task);
    const fields = differences(step, answer);
    if (fields.length > 0) {
      differing++;
      first ??= { index, where: step.where, op: step.op, request: requestLine(step, dialect), fields, logged: withoutTask(step.logged), now: withoutTask(answer) };
    }
    const task = step.task !== undefined ? (tasks.get(step.task) ?? step.task) : undefined;
    o.onCall?.({ device: script.device, index, op: step.op, decidedAt: due, sentAt, answer, fields, answeredAt: Math.max(sentAt, o.clock.now()), sent: http, result, ...(task !== undefined ? { task } : {}), ...(totalThen !== undefined ? { total: totalThen } : {}) });
  }
  return { ...base, replayed, differing, ...(first ? { first } : {}) };
}

function withFault(http: HttpRequest, step: ReplayStep): HttpRequest {
  if (step.loseAnswer === true) return { ...http, fault: { loseAnswer: true } };
  if (step.cutAfterBytes !== undefined) return { ...http, fault: { cutAfterBytes: step.cutAfterBytes } };
  return http;
}

/** An answer for the report: a task token is a download's credential, shown as TASK. */
function withoutTask(a: AnswerFields): AnswerFields {
  return a.task === undefined ? a : { ...a, task: 'TASK' };
}

/** The call in words; its task (a download's credential) shown as TASK. */
function requestLine(step: ReplayStep, dialect: ReplayDialect): string {
  const path = step.task !== undefined ? dialect.withTask(step.path, step.task, 'TASK') : step.path;
  return `${step.method} ${path}${step.range !== undefined ? ` (Range ${step.range})` : ''}${step.body !== undefined ? ` ${step.body}` : ''}`;
}
