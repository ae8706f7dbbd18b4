/**
 * A log's exchanges turned into one replay script a device: its calls in order, each at its offset
 * from the log's first exchange (so devices keep their order against each other), with the gaps
 * long enough to be a device asleep marked as sleeps, the cuts and lost answers the device met,
 * and retransmissions (a call sent again after no answer) kept as calls of their own. Pure.
 */
import type { AnswerFields, Exchange } from '../exchanges/exchange.js';
import { recogniseCall, replayDialect } from '../exchanges/calls.js';

/** A gap this long or longer between two calls of a device is a sleep (the radio off), not think time. */
export const SLEEP_GAP_MS = 60_000;

/** Transport codes that mean the device heard no answer at all (the answer lost, or given up on). */
export const NO_ANSWER_CODES: ReadonlySet<string> = new Set(['ANSWER_LOST', 'TIMEOUT', 'NO_ANSWER', 'CLIENT_CLOSED']);

export interface ReplayStep {
  /** Where the exchange was read (file:line). */
  readonly where: string;
  /** Virtual ms from the log's first exchange. */
  readonly atMs: number;
  /** Virtual ms since the device's previous call (0 for its first). */
  readonly gapMs: number;
  /** The gap is a sleep (≥ SLEEP_GAP_MS). */
  readonly sleep: boolean;
  readonly op: string;
  readonly file: boolean;
  readonly method: string;
  readonly path: string;
  readonly range?: string;
  readonly body?: string;
  /** The logged task the path carries; replaced by the one the new answers give. */
  readonly task?: string;
  /** The link dropped after this many bytes of the answer's body: enacted again. */
  readonly cutAfterBytes?: number;
  /** The device heard no answer: the answer is dropped again once its headers arrive. */
  readonly loseAnswer?: boolean;
  /** The same call as the previous one, sent again because that one went unanswered. */
  readonly retransmission: boolean;
  /** What the server answered then. */
  readonly logged: AnswerFields;
}

export interface DeviceScript {
  readonly device: string;
  readonly dialect: string;
  readonly steps: readonly ReplayStep[];
}

export interface ScriptSet {
  readonly scripts: DeviceScript[];
  /** Virtual instant of the log's first exchange (ms since the epoch). */
  readonly startMs: number;
  /** Exchanges that are no OTA call (health checks, static files): counted, not replayed. */
  readonly notCalls: number;
  /** Calls whose device could not be told (a download whose token no other line ties to a device). */
  readonly noDevice: number;
  /** Why some exchanges cannot be replayed as they were (one line each, deduplicated). */
  readonly notes: string[];
}

const isTwoHundred = (s: number | undefined): boolean => s !== undefined && s >= 200 && s < 300;

function answerUnheard(a: AnswerFields): boolean {
  return a.status === undefined && a.net !== undefined && NO_ANSWER_CODES.has(a.net);
}

/** The log's exchanges as one script a device. */
export function buildScripts(exchanges: readonly Exchange[]): ScriptSet {
  const sorted = [...exchanges].sort((a, b) => a.t - b.t);
  const notes = new Set<string>();
  const calls = sorted.map((e) => ({ e, call: recogniseCall(e.method, e.path, e.body) }));
  // A task handed to a device (its check's answer, or a call that names both) ties later calls
  // that name only the task (a download's path has no device) to that device.
  const deviceOfTask = new Map<string, string>();
  for (const { e, call } of calls) {
    const device = e.device ?? call?.device;
    if (device === undefined) continue;
    if (call?.task !== undefined && !deviceOfTask.has(call.task)) deviceOfTask.set(call.task, device);
    if (e.task !== undefined && !deviceOfTask.has(e.task)) deviceOfTask.set(e.task, device);
  }
  const byDevice = new Map<string, { dialect: string; list: { e: Exchange; op: string; file: boolean; task?: string }[] }>();
  let notCalls = 0;
  let noDevice = 0;
  for (const { e, call } of calls) {
    if (call === undefined) {
      notCalls++;
      continue;
    }
    const device = e.device ?? call.device ?? (call.task !== undefined ? deviceOfTask.get(call.task) : undefined);
    if (device === undefined) {
      noDevice++;
      continue;
    }
    let entry = byDevice.get(device);
    if (entry === undefined) byDevice.set(device, (entry = { dialect: call.dialect, list: [] }));
    if (entry.dialect !== call.dialect) {
      notes.add(`${e.where}: device ${device} speaks ${entry.dialect}, this call is ${call.dialect}: left out`);
      continue;
    }
    entry.list.push({ e, op: call.op, file: call.file, ...(call.task !== undefined ? { task: call.task } : {}) });
  }
  const startMs = sorted[0]?.t ?? 0;
  const scripts: DeviceScript[] = [];
  for (const [device, { dialect, list }] of byDevice) {
    const held = new Map<string, number>();
    const steps: ReplayStep[] = [];
    list.forEach(({ e, op, file, task }, i) => {
      const prev = list[i - 1];
      const gapMs = prev === undefined ? 0 : e.t - prev.e.t;
      const logged: AnswerFields = pickAnswer(e);
      let range = e.range;
      if (file && range === undefined && dialect === 'onenet' && e.status === 206 && e.bytes !== undefined && task !== undefined) {
        // An access log does not keep the Range: a device resumes from the bytes it holds.
        const from = held.get(task) ?? 0;
        range = `bytes=${from}-${from + e.bytes - 1}`;
      }
      if (file && task !== undefined && isTwoHundred(e.status) && e.bytes !== undefined) held.set(task, (held.get(task) ?? 0) + e.bytes);
      // A cut: the log says so, or a 2xx broke off, or a 206 brought fewer bytes than its Range asked.
      const cut = file && e.bytes !== undefined && (e.cut === true || (e.net !== undefined && isTwoHundred(e.status)) || (e.status === 206 && e.bytes < (rangeLength(range) ?? 0)));
      const lose = answerUnheard(logged);
      if (e.method === 'POST' && e.body === undefined && dialect === 'onenet') notes.add(`${e.where}: the log keeps no request body; ${op} is sent without one (the server's answer may differ for that reason)`);
      const retransmission = prev !== undefined && answerUnheard(pickAnswer(prev.e)) && prev.e.method === e.method && prev.e.path === e.path && prev.e.body === e.body;
      steps.push({
        where: e.where,
        atMs: e.t - startMs,
        gapMs,
        sleep: gapMs >= SLEEP_GAP_MS,
        op,
        file,
        method: e.method,
        path: e.path,
        ...(range !== undefined ? { range } : {}),
        ...(e.body !== undefined ? { body: e.body } : {}),
        ...(task !== undefined ? { task } : {}),
        ...(cut ? { cutAfterBytes: e.bytes } : {}),
        ...(lose ? { loseAnswer: true } : {}),
        retransmission,
        logged,
      });
    });
    scripts.push({ device, dialect, steps });
  }
  for (const s of scripts) if (replayDialect(s.dialect) === undefined) notes.add(`device ${s.device}: dialect ${s.dialect} has no replay`);
  return { scripts, startMs, notCalls, noDevice, notes: [...notes] };
}

const RANGE = /^\s*bytes=(\d+)-(\d+)\s*$/;

/** Bytes a `bytes=a-b` Range asks for; undefined for any other form. */
export function rangeLength(range: string | undefined): number | undefined {
  const m = range !== undefined ? RANGE.exec(range) : null;
  return m ? Number(m[2]) - Number(m[1]) + 1 : undefined;
}

function pickAnswer(e: Exchange): AnswerFields {
  const out: { -readonly [K in keyof AnswerFields]: AnswerFields[K] } = {};
  if (e.status !== undefined) out.status = e.status;
  if (e.net !== undefined) out.net = e.net;
  if (e.errno !== undefined) out.errno = e.errno;
  if (e.code !== undefined) out.code = e.code;
  if (e.task !== undefined) out.task = e.task;
  if (e.version !== undefined) out.version = e.version;
  if (e.bytes !== undefined) out.bytes = e.bytes;
  if (e.cut === true) out.cut = true;
  return out;
}

/**
 * One device's script cloned onto `count` devices: ids from `firstId` on (decimal ids counted up,
 * keeping their width), the k-th starting `k × spreadMs / count` later.
 */
export function cloneScript(script: DeviceScript, count: number, spreadMs: number, firstId = script.device): DeviceScript[] {
  const dialect = replayDialect(script.dialect);
  const ids = idRange(firstId, count);
  return ids.map((id, k) => {
    const shift = count <= 1 ? 0 : Math.floor((k * spreadMs) / count);
    const first = script.steps[0]?.atMs ?? 0;
    return {
      device: id,
      dialect: script.dialect,
      steps: script.steps.map((s) => ({ ...s, atMs: s.atMs - first + shift, path: dialect ? dialect.withDevice(s.path, id) : s.path })),
    };
  });
}

/** `count` ids counted up from `first` (a decimal id keeps its width; another gets `-k` appended). */
export function idRange(first: string, count: number): string[] {
  if (/^\d{1,18}$/.test(first)) {
    const base = BigInt(first);
    return Array.from({ length: count }, (_, k) => (base + BigInt(k)).toString().padStart(first.length, '0'));
  }
  return Array.from({ length: count }, (_, k) => (k === 0 ? first : `${first}-${k}`));
}
