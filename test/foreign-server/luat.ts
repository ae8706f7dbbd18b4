/**
 * Luat IoT upgrade API (spec §2): `GET /api/site/firmware_upgrade?project_key&imei&firmware_name
 * &version&core_version?&dfota=1`; an update is the file itself as the body (200), anything else a
 * status ≥ 300 with `{code, msg}`.
 *
 * Choices where the digest is silent (written down in README.md):
 * - Order of the checks: project key (25), device (3: no lower-case `imei`, `mac` or `uid`, or not in
 *   the id range), firmware name (26), ban (40), then the answer proper: 27 (version ≥ the
 *   platform's), 43 (diff still building) or the file.
 * - A device that asks with `dfota=1` and a `core_version` gets a diff package, built for that core
 *   on the first such request and ready `diffBuildMs` later (43 meanwhile); without them, or with
 *   `fullFiles`, the full file at once.
 * - The loop ban: every ask that reached the ban check counts toward the day's limit (27 and the
 *   file; 43 when `banCountsWaits`); once a day's count has reached the limit the next ask is
 *   answered 40 and the device stays banned (no console here to lift it). Days are UTC days of the
 *   server's wall clock.
 * - Every code answer is HTTP 400 with `{code, msg}`; a version that is not dotted numbers reads as
 *   older than any.
 */
import { BreakLog, type IdRange, type Package, type Req, type Res, breakOf, inRange, json, makePackage, parseRange, utcDay } from './common.js';

export const LUAT_PATH = '/api/site/firmware_upgrade';

export type LuatBreak = 'early-ban' | 'late-ban';

export interface LuatConfig {
  projectKey: string;
  firmwareName: string;
  /** Device ids (IMEIs), `"lo..hi"`. */
  ids: string;
  /** The platform's version of the script. */
  version: string;
  size: number;
  /** `'none'`: full files only, never 43 (a deployment of its own). */
  diffBuildMs: number | 'none';
  banLimit: number;
  banCountsWaits: boolean;
  breaks?: Partial<Record<LuatBreak, number>>;
  /** early-ban: the ban comes after this many counted asks (below the limit). */
  earlyBanAt?: number;
  /** late-ban: the ban comes after this many counted asks (above the limit). */
  lateBanAt?: number;
}

interface Device {
  day: number;
  counted: number;
  banned: boolean;
  brk?: LuatBreak;
}

const MSG: Readonly<Record<number, string>> = {
  3: 'invalid device',
  25: 'invalid project',
  26: 'invalid firmware',
  27: 'already newest',
  40: 'loop upgrade',
  43: 'please wait',
};
const code = (c: number): Res => json({ code: c, msg: MSG[c] ?? 'error' }, 400);

/** Dotted numbers compared piecewise; anything else is older than any version. */
export function compareVersions(a: string, b: string): number {
  const pa = /^\d{1,9}(\.\d{1,9}){0,5}$/.test(a) ? a.split('.').map(Number) : [-1];
  const pb = /^\d{1,9}(\.\d{1,9}){0,5}$/.test(b) ? b.split('.').map(Number) : [-1];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export class LuatServer {
  private readonly range: IdRange;
  private readonly full: Package;
  private readonly diffs = new Map<string, { pkg: Package; readyAt: number }>();
  private readonly devices = new Map<string, Device>();

  constructor(
    private readonly cfg: LuatConfig,
    private readonly seed: number,
    private readonly log: BreakLog,
  ) {
    this.range = parseRange(cfg.ids);
    this.full = makePackage(seed, `luat-full-${cfg.version}`, cfg.size);
  }

  /** The file a device would get (for tests): the diff for its core, or the full file. */
  fileFor(core: string | undefined): Package {
    return core !== undefined && this.cfg.diffBuildMs !== 'none' ? this.diffOf(core, 0).pkg : this.full;
  }

  bannedDevices(): string[] {
    return [...this.devices].filter(([, d]) => d.banned).map(([id]) => id);
  }

  private diffOf(core: string, now: number): { pkg: Package; readyAt: number } {
    let diff = this.diffs.get(core);
    if (!diff) {
      const build = this.cfg.diffBuildMs === 'none' ? 0 : this.cfg.diffBuildMs;
      // Diffs are smaller than the full file: half, at least one byte.
      diff = { pkg: makePackage(this.seed, `luat-diff-${core}-${this.cfg.version}`, Math.max(1, Math.floor(this.cfg.size / 2))), readyAt: now + build };
      this.diffs.set(core, diff);
    }
    return diff;
  }

  private device(id: string): Device {
    let d = this.devices.get(id);
    if (!d) {
      d = { day: -1, counted: 0, banned: false };
      const brk = breakOf(this.seed, id, this.cfg.breaks ?? {});
      if (brk) d.brk = brk;
      this.devices.set(id, d);
    }
    return d;
  }

  /** Where this device's ban falls: the configured limit, or the break's own count. */
  private banAt(d: Device): number {
    if (d.brk === 'early-ban') return Math.min(this.cfg.earlyBanAt ?? Math.floor(this.cfg.banLimit / 2), this.cfg.banLimit);
    if (d.brk === 'late-ban') return Math.max(this.cfg.lateBanAt ?? this.cfg.banLimit + 3, this.cfg.banLimit);
    return this.cfg.banLimit;
  }

  handle(req: Req, now: number): Res | undefined {
    if (req.path !== LUAT_PATH || req.method !== 'GET') return undefined;
    const q = req.query;
    if (q.get('project_key') !== this.cfg.projectKey) return code(25);
    const id = q.get('imei') ?? q.get('mac') ?? q.get('uid');
    if (id === null || !inRange(this.range, id)) return code(3);
    if (q.get('firmware_name') !== this.cfg.firmwareName) return code(26);
    const d = this.device(id);
    if (d.banned) return code(40);
    const day = utcDay(now);
    if (day !== d.day) {
      d.day = day;
      d.counted = 0;
    }
    const limit = this.cfg.banLimit;
    const banAt = this.banAt(d);
    if (d.counted >= banAt) {
      d.banned = true;
      if (d.counted < limit) this.log.record(id, 'early-ban', now, `banned after ${d.counted} counted asks; the limit is ${limit}`);
      return code(40);
    }
    if (d.counted >= limit) this.log.record(id, 'late-ban', now, `ask ${d.counted + 1} of the day answered normally; the limit is ${limit}`);
    const { res, wait } = this.answer(q, now);
    if (!wait || this.cfg.banCountsWaits) d.counted++;
    return res;
  }

  private answer(q: URLSearchParams, now: number): { res: Res; wait: boolean } {
    const version = q.get('version') ?? '';
    if (compareVersions(version, this.cfg.version) >= 0) return { res: code(27), wait: false };
    const core = q.get('core_version');
    const wantsDiff = q.get('dfota') === '1' && core !== null && core !== '' && this.cfg.diffBuildMs !== 'none';
    let pkg = this.full;
    if (wantsDiff) {
      const diff = this.diffOf(core, now);
      if (now < diff.readyAt) return { res: code(43), wait: true };
      pkg = diff.pkg;
    }
    return { res: { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: pkg.bytes }, wait: false };
  }
}
