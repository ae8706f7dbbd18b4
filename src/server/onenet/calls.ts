/**
 * The OneNET south-bound calls (spec §1.2) as decisions on the store: each takes a request and
 * returns the answer as data. The shared step rules come from protocol/onenet.ts (applyStep,
 * applyReportResult), Range from protocol/range.ts.
 *
 * Choices where the spec is silent (also in docs/server.md):
 * - Order of checks on every authorized call: Authorization (errno 1) → dev_id present (2; the old
 *   report call answers 1) → dev_id a device of the token's product (1) → the call's own checks.
 * - check: `manuf`, `model`, `type` (1|2), `version` and `cdn` (true|false) are required (2);
 *   `signals` / `powers`, when given, are integers (2); a bad version is 27. A task is returned
 *   while pending, downloading or upgrading. A token lives 2 days (virtual); check issues a fresh
 *   one when it has expired or when the package was republished with another size.
 *   manuf/model differing from the task's fail it (8); a diff task checked from a version outside
 *   the package's `from` fails it (9).
 * - Auto-add: with no active task of the type, the first matching rule of the product (type,
 *   devices range, manuf/model, the device's version in `fromVersions`, or any version but the
 *   target) creates a pending task, once per device and rule.
 * - Token check: unknown token or another device's: 4; expired or replaced: 12; succeeded or
 *   failed: 20; cancelled: 22; paused: 21 (the operation is not allowed while paused); upgrading:
 *   17; pending → downloading: 0; downloading: 0.
 * - Download (no Authorization): unknown, expired or replaced token → one-byte `3`; the token's task
 *   paused, cancelled, failed or succeeded → `1`; package republished to another size since the
 *   token was issued → `2`. The first download moves pending → downloading.
 * - Progress: 2 for a missing or non-integer step or bad JSON, 4 for an unknown token or another
 *   device's, 12 expired, then applyStep. A 201 sets the device's version to the target.
 * - Old report call: 1 for a bad Authorization, a missing dev_id or token, an unknown token, another
 *   device's or an expired one; bad JSON or a non-integer result → 24; then applyReportResult.
 * - Report version: a body with neither f_version nor s_version, or a non-string one → 2; a string
 *   that is not a valid version → 27. A reported version equal to the target of an active task of
 *   that type (f_version: FOTA tasks, s_version: SOTA tasks) completes it (succeeded; `successes`
 *   counts only accepted 201s).
 */
import { indexOf } from '../../catalog/id-range.js';
import { ACTIVE_TASK_STATES, applyReportResult, applyStep, isProgressStep, isValidVersion, ResultCode, type CheckData, type TaskType } from '../../protocol/onenet.js';
import { contentRange, resolveRange, type ByteSpan } from '../../protocol/range.js';
import type { Answer, Outcome, RequestContext } from '../http/answer.js';
import { parseJsonObject } from '../http/body.js';
import type { OnenetDevice, OnenetTask, Store } from '../state/store.js';
import { AuthCache } from './auth.js';
import { dataAnswer, errnoAnswer, type ErrnoTable } from './messages.js';

const MAX_ID = 64;
const INT = /^-?\d{1,9}$/;
const byteAnswers = new Map<number, Answer>();
const byteAnswer = (code: number): Answer => {
  let a = byteAnswers.get(code);
  if (!a) byteAnswers.set(code, (a = { kind: 'byte', code, label: `byte:${code}` }));
  return a;
};

/** Not downloadable (one-byte `1`). */
const CLOSED_STATES = new Set(['succeeded', 'failed', 'cancelled', 'paused']);

export class OnenetCalls {
  private readonly auth: AuthCache;
  /** `ipPort` of the check answer: where the server listens. */
  ipPort = '127.0.0.1:0';

  constructor(private readonly store: Store) {
    this.auth = new AuthCache(store.runtime.products);
  }

  /** The device an authorized call is about, or the errno answer. */
  private identify(ctx: RequestContext, table: ErrnoTable): OnenetDevice | Answer {
    const store = this.store;
    const product = this.auth.authorize(ctx.headers.authorization, store.now(), store.bugs.has('accept-expired-auth'));
    if (!product) return errnoAnswer(table, 1);
    const devId = ctx.query['dev_id'];
    if (!devId || devId.length > MAX_ID) return errnoAnswer(table, table === 'report' ? 1 : 2);
    return store.onenetDevice(devId, product) ?? errnoAnswer(table, 1);
  }

  check(ctx: RequestContext): Outcome {
    const who = this.identify(ctx, 'check');
    if ('kind' in who) return { answer: who };
    const device = who;
    const q = ctx.query;
    const { manuf, model, version, cdn } = q;
    const typeText = q['type'];
    const summary = `type=${short(typeText)} version=${short(version)}`;
    const fail = (errno: number): Outcome => ({ answer: errnoAnswer('check', errno), owner: device, summary });
    if (!manuf || !model || manuf.length > 16 || model.length > 16 || (typeText !== '1' && typeText !== '2') || version === undefined) return fail(2);
    if (cdn === undefined || !/^(true|false)$/i.test(cdn)) return fail(2);
    if ((q['signals'] !== undefined && !INT.test(q['signals'])) || (q['powers'] !== undefined && !INT.test(q['powers']))) return fail(2);
    if (!isValidVersion(version)) return fail(27);
    const type: TaskType = typeText === '1' ? 1 : 2;
    const live = this.store.activeTask(device, type) ?? this.autoAdd(device, type, manuf, model, version);
    const stale = live === undefined ? this.staleTask(device, type) : undefined;
    if (stale) return { answer: this.checkAnswer(stale), owner: device, summary };
    let task = live;
    if (!task) return fail(11);
    if (task.manuf !== manuf || task.model !== model) {
      this.store.setTaskState(task, 'failed');
      return fail(8);
    }
    if (task.pkg.kind === 2 && !task.pkg.from.has(version)) {
      this.store.setTaskState(task, 'failed');
      return fail(9);
    }
    if (this.store.bugs.has('check-wrong-device')) {
      const other = this.store.neighbourOf(device);
      task = (other && this.store.activeTask(other, type)) || task;
    }
    return { answer: this.checkAnswer(task), owner: device, summary };
  }

  /** The `stale-task-after-success` bug: the newest succeeded task, offered as if still to do. */
  private staleTask(device: OnenetDevice, type: TaskType): OnenetTask | undefined {
    if (!this.store.bugs.has('stale-task-after-success')) return undefined;
    for (let i = device.tasks.length - 1; i >= 0; i--) {
      const t = device.tasks[i] as OnenetTask;
      if (t.type === type && t.state === 'succeeded') return t;
    }
    return undefined;
  }

  private autoAdd(device: OnenetDevice, type: TaskType, manuf: string, model: string, version: string): OnenetTask | undefined {
    for (const rule of device.product.autoAdd) {
      const spec = rule.spec;
      if (rule.type !== type || spec.manuf !== manuf || spec.model !== model) continue;
      if (rule.range && indexOf(rule.range, device.id) < 0) continue;
      if (spec.fromVersions ? !spec.fromVersions.includes(version) : version === rule.pkg.version) continue;
      if (device.autoAdded?.has(rule.index)) continue;
      (device.autoAdded ??= new Set()).add(rule.index);
      const { signal, power, retry, interval } = spec;
      return this.store.createTask(device, { pkg: rule.pkg, type, signal, power, retry, interval, manuf, model }, 'pending', `autoAdd:${rule.index}`);
    }
    return undefined;
  }

  /** The errno-0 answer for a task, with a live token; serialised once per (token, publication, md5 choice). */
  private checkAnswer(task: OnenetTask): Answer {
    const store = this.store;
    const pkg = task.pkg;
    let record = task.token;
    if (!record || store.now() > record.expiresAt || record.size !== pkg.size) record = store.issueToken(task);
    const stale = store.bugs.has('stale-md5');
    const key = pkg.generation * 2 + (stale ? 1 : 0);
    if (task.answerKey === key && task.answerBody) return task.answerBody;
    const data: CheckData = {
      target: task.target,
      token: record.token,
      size: pkg.size,
      signal: task.signal,
      power: task.power,
      retry: task.retry,
      interval: task.interval,
      md5: stale ? (pkg.previousMd5 ?? pkg.md5) : pkg.md5,
      ipPort: this.ipPort,
      type: pkg.kind,
    };
    task.answerKey = key;
    task.answerBody = dataAnswer(data);
    return task.answerBody;
  }

  tokenCheck(ctx: RequestContext): Outcome {
    const who = this.identify(ctx, 'token');
    if ('kind' in who) return { answer: who };
    const device = who;
    const out = (errno: number): Outcome => ({ answer: errnoAnswer('token', errno), owner: device, summary: `token=${short(ctx.param)}` });
    const record = this.store.tokens.get(ctx.param);
    if (!record || record.task.device !== device) return out(4);
    if (!this.store.tokenLive(record)) return out(12);
    const task = record.task;
    switch (task.state) {
      case 'succeeded':
      case 'failed':
        return out(20);
      case 'cancelled':
        return out(22);
      case 'paused':
        return out(21);
      case 'upgrading':
        return out(17);
      case 'pending':
        this.store.setTaskState(task, 'downloading');
        return out(0);
      case 'downloading':
        return out(0);
    }
  }

  download(ctx: RequestContext): Outcome {
    const record = this.store.tokens.get(ctx.param);
    const rangeHeader = ctx.headers.range;
    const summary = rangeHeader === undefined ? 'no range' : `range=${short(rangeHeader)}`;
    if (!record) return { answer: byteAnswer(3) };
    const task = record.task;
    const owner = task.device;
    if (!this.store.tokenLive(record)) return { answer: byteAnswer(3), owner, summary };
    if (CLOSED_STATES.has(task.state)) return { answer: byteAnswer(1), owner, summary };
    const pkg = task.pkg;
    if (record.size !== pkg.size) return { answer: byteAnswer(2), owner, summary };
    if (task.state === 'pending') this.store.setTaskState(task, 'downloading');
    const image = pkg.image;
    const span: ByteSpan = this.store.bugs.has('ignore-range') ? { start: 0, end: image.size - 1, partial: false } : resolveRange(rangeHeader, image.size);
    return { answer: fileAnswer(image.bytes, span, pkg.disposition, undefined), owner, summary };
  }

  progress(ctx: RequestContext): Outcome {
    const who = this.identify(ctx, 'token');
    if ('kind' in who) return { answer: who };
    const device = who;
    const step = parseJsonObject(ctx.body)?.['step'];
    const summary = `step=${short(String(step))}`;
    const out = (errno: number): Outcome => ({ answer: errnoAnswer('token', errno), owner: device, summary });
    if (typeof step !== 'number' || !Number.isInteger(step)) return out(2);
    const record = this.store.tokens.get(ctx.param);
    if (!record || record.task.device !== device) return out(4);
    if (!this.store.tokenLive(record)) return out(12);
    const task = record.task;
    if (task.state === 'succeeded') {
      if (this.store.bugs.has('progress-after-success') && isProgressStep(step)) {
        this.store.setTaskState(task, step === 100 ? 'upgrading' : 'downloading');
        return out(0);
      }
      if (this.store.bugs.has('double-count-success') && step === ResultCode.UPGRADED) {
        task.successes++;
        return out(0);
      }
    }
    const verdict = applyStep(task.state, step);
    if (!verdict.accepted) {
      if (verdict.errno === 20 && step > 100) task.duplicateResults++;
      return out(verdict.errno);
    }
    this.finishStep(task, verdict.next, step);
    if (isProgressStep(step)) this.store.observer?.progress(task, step);
    return out(0);
  }

  report(ctx: RequestContext): Outcome {
    const who = this.identify(ctx, 'report');
    if ('kind' in who) return { answer: who };
    const device = who;
    const result = parseJsonObject(ctx.body)?.['result'];
    const summary = `result=${short(String(result))}`;
    const out = (errno: number): Outcome => ({ answer: errnoAnswer('report', errno), owner: device, summary });
    const token = ctx.query['token'];
    const record = token === undefined ? undefined : this.store.tokens.get(token);
    if (!record || record.task.device !== device || !this.store.tokenLive(record)) return out(1);
    const task = record.task;
    if (task.state === 'succeeded' && result === ResultCode.UPGRADED && this.store.bugs.has('double-count-success')) {
      task.successes++;
      return out(0);
    }
    const verdict = applyReportResult(task.state, result);
    if (verdict.errno === 20 && typeof result === 'number' && result > 100) task.duplicateResults++;
    if (verdict.next) this.finishStep(task, verdict.next, result as number);
    return out(verdict.errno);
  }

  private finishStep(task: OnenetTask, next: OnenetTask['state'], step: number): void {
    this.store.setTaskState(task, next, step);
    if (step === ResultCode.UPGRADED) {
      task.successes++;
      if (task.type === 1) task.device.fVersion = task.target;
      else task.device.sVersion = task.target;
    }
  }

  reportVersion(ctx: RequestContext): Outcome {
    const who = this.identify(ctx, 'version');
    if ('kind' in who) return { answer: who };
    const device = who;
    const body = parseJsonObject(ctx.body);
    const f = body?.['f_version'];
    const s = body?.['s_version'];
    const summary = `f_version=${short(String(f))} s_version=${short(String(s))}`;
    const out = (errno: number): Outcome => ({ answer: errnoAnswer('version', errno), owner: device, summary });
    if (!body || (f === undefined && s === undefined)) return out(2);
    if ((f !== undefined && typeof f !== 'string') || (s !== undefined && typeof s !== 'string')) return out(2);
    if ((f !== undefined && !isValidVersion(f)) || (s !== undefined && !isValidVersion(s))) return out(27);
    if (f !== undefined) {
      device.fVersion = f;
      this.completeAt(device, 1, f);
    }
    if (s !== undefined) {
      device.sVersion = s;
      this.completeAt(device, 2, s);
    }
    return out(0);
  }

  private completeAt(device: OnenetDevice, type: TaskType, version: string): void {
    for (const task of device.tasks) {
      if (task.type === type && task.target === version && ACTIVE_TASK_STATES.has(task.state)) this.store.setTaskState(task, 'succeeded');
    }
  }

  queryVersion(ctx: RequestContext): Outcome {
    const who = this.identify(ctx, 'version');
    if ('kind' in who) return { answer: who };
    const answer = dataAnswer({ f_version: who.fVersion, s_version: who.sVersion });
    return { answer, owner: who, summary: '' };
  }
}

/** A 200 / 206 file answer for `span` of `bytes`, sliced without a copy. */
export function fileAnswer(bytes: Buffer, span: ByteSpan, disposition: string, extra: Record<string, string> | undefined): Answer {
  const body = span.partial ? bytes.subarray(span.start, span.end + 1) : bytes;
  const status = span.partial ? 206 : 200;
  return {
    kind: 'file',
    status,
    bytes: body,
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      'content-disposition': disposition,
      'accept-ranges': 'bytes',
      ...(span.partial ? { 'content-range': contentRange(span, bytes.length) } : {}),
      ...extra,
    },
    label: `http:${status} bytes ${span.start}-${span.end}`,
  };
}

/** A parameter for a history line, cut short. */
const short = (s: string | undefined): string => (s === undefined ? '-' : s.length > 40 ? `${s.slice(0, 40)}…` : s);
