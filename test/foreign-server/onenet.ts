/**
 * OneNET south-bound HTTP API (spec §1.2), as pure-ish handlers over in-memory state: a request
 * and the wall-clock instant in, an answer out (server.ts does the I/O).
 *
 * Choices where the digest is silent (written down in README.md):
 * - Every device in a task's id range has that one task, pending until it first checks.
 * - A check from a device already on the task's target is answered 11 (equal versions create no
 *   task, spec §3.4); a succeeded, failed or cancelled task is not offered again (11).
 * - The task token is issued by the first check that offers the task and handed out again while
 *   it is valid (2 days); an expired one is replaced by the next check.
 * - Errnos for calls whose table the digest does not give: an unknown token or one of another
 *   device → 4, a body or step that does not parse → 2, a version report with a bad version → 27,
 *   a progress step (0…100) outside downloading → 17, a result on a finished task → 20, on a
 *   cancelled one → 22, a 1xx result while upgrading → 21.
 * - The download needs no Authorization (spec: every call but the download carries it); a
 *   download of a finished or unknown task is the one-byte error 3 (invalid token).
 * - A Range resolving to the whole file is answered 200, any other 206 with Content-Range.
 */
import { randomBytes } from 'node:crypto';
import { BreakLog, type IdRange, type Package, type Req, type Res, breakOf, inRange, json, makePackage, parseRange } from './common.js';
import { verify } from './onenet-auth.js';
import { isWhole, resolveRange } from './range.js';

export type OnenetBreak = 'range-ignored' | 'wrong-md5' | 'stale-task';

export interface OnenetTaskSpec {
  /** Device ids, `"lo..hi"`. */
  ids: string;
  /** 1 FOTA (module), 2 SOTA (application). */
  type: 1 | 2;
  manuf: string;
  model: string;
  /** The version a diff package starts from; with `packageType: 1` any version may upgrade. */
  from: string;
  target: string;
  /** 1 full package, 2 diff package. */
  packageType: 1 | 2;
  size: number;
  signal: number;
  power: number;
  retry: number;
  /** Seconds. */
  interval: number;
}

export interface OnenetConfig {
  productId: string;
  /** base64. */
  accessKey: string;
  tasks: OnenetTaskSpec[];
  /** Shares of devices (0…1, disjoint) that get each break. */
  breaks?: Partial<Record<OnenetBreak, number>>;
}

type TaskState = 'pending' | 'downloading' | 'upgrading' | 'succeeded' | 'failed' | 'cancelled' | 'paused';

interface Task {
  spec: OnenetTaskSpec;
  pkg: Package;
  state: TaskState;
  token?: string;
  tokenIssued?: number;
}

interface Device {
  id: string;
  task: Task;
  fVersion?: string;
  sVersion?: string;
  brk?: OnenetBreak;
}

const TOKEN_VALID_MS = 2 * 86_400_000;
const VERSION = /^[a-zA-Z0-9_\-.]{1,20}$/;
const LIVE: ReadonlySet<TaskState> = new Set(['pending', 'downloading', 'upgrading']);
const FAIL_CODES: ReadonlySet<number> = new Set([102, 103, 104, 105, 106, 107, 202, 203, 204, 205, 206, 207, 208]);
const ERRORS: Readonly<Record<number, string>> = {
  0: 'succ',
  1: 'authentication failed',
  2: 'bad parameters',
  4: 'token and device differ',
  7: 'internal error',
  8: 'manuf or model differ',
  9: 'version differs',
  11: 'no task',
  12: 'token expired',
  17: 'invalid state',
  20: 'task finished',
  21: 'invalid operation',
  22: 'task cancelled',
  27: 'bad version format',
};
const answer = (errno: number, data?: unknown): Res => json(data === undefined ? { errno, error: ERRORS[errno] ?? 'error' } : { errno, error: ERRORS[errno] ?? 'error', data });

export class OnenetServer {
  private readonly ranges: { range: IdRange; spec: OnenetTaskSpec; pkg: Package; wrongMd5: string }[];
  private readonly devices = new Map<string, Device>();
  private readonly tokens = new Map<string, Device>();

  constructor(
    private readonly cfg: OnenetConfig,
    private readonly seed: number,
    private readonly log: BreakLog,
  ) {
    this.ranges = cfg.tasks.map((spec, i) => {
      const pkg = makePackage(seed, `onenet-${i}-${spec.target}`, spec.size);
      // An md5 that is not the file's: that of another seeded package of the same size.
      const wrong = makePackage(seed, `onenet-${i}-${spec.target}-other`, spec.size).md5;
      return { range: parseRange(spec.ids), spec, pkg, wrongMd5: wrong };
    });
  }

  /** The package a device's task serves (for tests). */
  packageOf(id: string): Package | undefined {
    return this.device(id)?.task.pkg;
  }

  /** A device's task state (for tests; there is no admin API on the wire). */
  taskStateOf(id: string): TaskState | undefined {
    return this.devices.get(id)?.task.state;
  }

  private device(id: string): Device | undefined {
    const known = this.devices.get(id);
    if (known) return known;
    const r = this.ranges.find((x) => inRange(x.range, id));
    if (!r) return undefined;
    const d: Device = { id, task: { spec: r.spec, pkg: r.pkg, state: 'pending' } };
    const brk = breakOf(this.seed, id, this.cfg.breaks ?? {});
    if (brk) d.brk = brk;
    this.devices.set(id, d);
    return d;
  }

  handle(req: Req, now: number): Res | undefined {
    const p = req.path;
    if (p === '/ota/device/version') return req.method === 'POST' ? this.reportVersion(req, now) : req.method === 'GET' ? this.queryVersion(req, now) : undefined;
    if (p === '/ota/south/check' && req.method === 'GET') return this.check(req, now);
    const dl = /^\/ota\/south\/download\/([^/]+)(\/check)?$/.exec(p);
    if (dl && req.method === 'GET') return dl[2] ? this.tokenCheck(req, decodeURIComponent(dl[1] as string), now) : this.download(req, decodeURIComponent(dl[1] as string), now);
    const pr = /^\/ota\/south\/device\/download\/([^/]+)\/progress$/.exec(p);
    if (pr && req.method === 'POST') return this.progress(req, decodeURIComponent(pr[1] as string), now);
    return undefined;
  }

  /** The authorised device of a JSON call, or the errno-1 answer. */
  private authed(req: Req, now: number): Device | Res {
    const auth = verify(req.headers['authorization'], this.cfg.productId, this.cfg.accessKey, now);
    if (!auth.ok) return answer(1);
    const id = req.query.get('dev_id') ?? '';
    return this.device(id) ?? answer(1);
  }

  private reportVersion(req: Req, now: number): Res {
    const d = this.authed(req, now);
    if (!('task' in d)) return d;
    let body: unknown;
    try {
      body = JSON.parse(req.body.toString('utf8'));
    } catch {
      return answer(2);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return answer(2);
    const o = body as Record<string, unknown>;
    const f = o['f_version'];
    const s = o['s_version'];
    if (f === undefined && s === undefined) return answer(2);
    for (const v of [f, s]) if (v !== undefined && (typeof v !== 'string' || !VERSION.test(v))) return answer(27);
    if (typeof f === 'string') d.fVersion = f;
    if (typeof s === 'string') d.sVersion = s;
    // "If the device has a task whose target is the version reported, the task becomes completed."
    const reported = d.task.spec.type === 1 ? d.fVersion : d.sVersion;
    if (LIVE.has(d.task.state) && reported === d.task.spec.target) d.task.state = 'succeeded';
    return answer(0);
  }

  private queryVersion(req: Req, now: number): Res {
    const d = this.authed(req, now);
    if (!('task' in d)) return d;
    const data: Record<string, string> = {};
    if (d.fVersion !== undefined) data['f_version'] = d.fVersion;
    if (d.sVersion !== undefined) data['s_version'] = d.sVersion;
    return answer(0, data);
  }

  private check(req: Req, now: number): Res {
    const d = this.authed(req, now);
    if (!('task' in d)) return d;
    const q = req.query;
    const manuf = q.get('manuf');
    const model = q.get('model');
    const type = q.get('type');
    const version = q.get('version');
    if (!manuf || !model || (type !== '1' && type !== '2') || version === null) return answer(2);
    if (!VERSION.test(version)) return answer(27);
    const t = d.task;
    if (Number(type) !== t.spec.type) return answer(11);
    const stale = d.brk === 'stale-task';
    if (!LIVE.has(t.state)) {
      if (stale && t.state === 'succeeded') {
        this.log.record(d.id, 'stale-task', now, `offered the task for ${t.spec.target} again after it succeeded`);
        return this.offer(d, now);
      }
      return answer(11);
    }
    if (manuf !== t.spec.manuf || model !== t.spec.model) {
      t.state = 'failed';
      return answer(8);
    }
    if (version === t.spec.target) {
      if (!stale) return answer(11);
      this.log.record(d.id, 'stale-task', now, `offered the task for ${t.spec.target} to a device already running it`);
      return this.offer(d, now);
    }
    if (t.spec.packageType === 2 && version !== t.spec.from) {
      t.state = 'failed';
      return answer(9);
    }
    return this.offer(d, now);
  }

  private offer(d: Device, now: number): Res {
    const t = d.task;
    if (t.token === undefined || (t.tokenIssued ?? 0) + TOKEN_VALID_MS < now) {
      if (t.token !== undefined) this.tokens.delete(t.token);
      t.token = randomBytes(16).toString('hex');
      t.tokenIssued = now;
      this.tokens.set(t.token, d);
    }
    let md5 = t.pkg.md5;
    if (d.brk === 'wrong-md5') {
      md5 = (this.ranges.find((r) => r.spec === t.spec) as { wrongMd5: string }).wrongMd5;
      this.log.record(d.id, 'wrong-md5', now, `offered md5 ${md5.slice(0, 8)}… for a file whose md5 is ${t.pkg.md5.slice(0, 8)}…`);
    }
    const s = t.spec;
    return answer(0, {
      target: s.target,
      token: t.token,
      size: t.pkg.bytes.length,
      signal: s.signal,
      power: s.power,
      retry: s.retry,
      interval: s.interval,
      md5,
      ipPort: '',
      type: s.packageType,
    });
  }

  /** The device a task token belongs to, or the errno answer (4 unknown or another's, 12 expired). */
  private tokenOwner(token: string, devId: string | null, now: number): Device | Res {
    const d = this.tokens.get(token);
    if (!d || d.id !== devId) return answer(4);
    if ((d.task.tokenIssued ?? 0) + TOKEN_VALID_MS < now) return answer(12);
    return d;
  }

  private tokenCheck(req: Req, token: string, now: number): Res {
    const caller = this.authed(req, now);
    if (!('task' in caller)) return caller;
    const d = this.tokenOwner(token, caller.id, now);
    if (!('task' in d)) return d;
    switch (d.task.state) {
      case 'pending':
        d.task.state = 'downloading';
        return answer(0);
      case 'downloading':
        return answer(0);
      case 'succeeded':
      case 'failed':
        return answer(20);
      case 'cancelled':
        return answer(22);
      default:
        return answer(17);
    }
  }

  private download(req: Req, token: string, now: number): Res {
    const d = this.tokens.get(token);
    const bad: Res = { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from('3'), noLength: true };
    if (!d || (d.task.tokenIssued ?? 0) + TOKEN_VALID_MS < now || !LIVE.has(d.task.state)) return bad;
    if (d.task.state === 'pending') d.task.state = 'downloading';
    const bytes = d.task.pkg.bytes;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename="${d.task.spec.target}.bin"`,
    };
    const rangeHeader = req.headers['range'];
    const span = resolveRange(rangeHeader, bytes.length);
    if (isWhole(span, bytes.length)) return { status: 200, headers, body: bytes };
    if (d.brk === 'range-ignored') {
      this.log.record(d.id, 'range-ignored', now, `answered 200 with the whole file to Range ${rangeHeader}`);
      return { status: 200, headers, body: bytes };
    }
    headers['content-range'] = `bytes ${span.start}-${span.end}/${bytes.length}`;
    return { status: 206, headers, body: bytes.subarray(span.start, span.end + 1) };
  }

  private progress(req: Req, token: string, now: number): Res {
    const caller = this.authed(req, now);
    if (!('task' in caller)) return caller;
    const d = this.tokenOwner(token, caller.id, now);
    if (!('task' in d)) return d;
    let step: unknown;
    try {
      step = (JSON.parse(req.body.toString('utf8')) as { step?: unknown }).step;
    } catch {
      return answer(2);
    }
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) return answer(2);
    const t = d.task;
    if (step <= 100) {
      if (t.state !== 'downloading') return answer(17);
      if (step === 100) t.state = 'upgrading';
      return answer(0);
    }
    if (step !== 101 && step !== 201 && !FAIL_CODES.has(step)) return answer(2);
    if (t.state === 'cancelled') return answer(22);
    if (!LIVE.has(t.state)) return answer(20);
    if (t.state === 'upgrading' && step < 200) return answer(21);
    if (step === 101) t.state = 'upgrading';
    else if (step === 201) {
      t.state = 'succeeded';
      if (t.spec.type === 1) d.fVersion = t.spec.target;
      else d.sVersion = t.spec.target;
    } else t.state = 'failed';
    return answer(0);
  }
}
