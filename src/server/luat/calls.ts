/**
 * The Luat upgrade call (spec §2) as a decision on the store.
 *
 * Order of checks (choices where the spec is silent, also in docs/server.md):
 *  1. no lower-case `imei` (nor `mac`, nor `uid`) → 3
 *  2. unknown `project_key` → 25
 *  3. no firmware of that `firmware_name` in the project → 26
 *  4. the id is in no device range, or in a project of another account → 17
 *     (these four do not count towards the loop ban: the platform cannot tie them to the device)
 *  5. the device is banned → 40
 *  6. the answer it would get is decided (below); the request is counted in the device's UTC day
 *     (a 43 only when catalog.luat.banCountsWaits); request N+1 of a day bans it → 40 instead,
 *     and the ban lasts until lifted through the admin API (lifting forgives the day's count)
 *  7. barred IMEI → 21; not in the project's upgrade list, in another project of the same account,
 *     or firmware switched off (enabled: false) → 27; `core_version` given and not in `cores` → 44;
 *     a forbidden jump from that core to the target core → 21; `version` ≥ the latest → 27
 *     (a missing `version` counts as older than any); dfota=1 on a diff-enabled firmware: no
 *     `core_version` → 44, else the diff package, built on the first such request per (firmware,
 *     core) for a seeded random time in diffBuildMs (virtual) and answered 43 until then;
 *     otherwise the full package.
 * A file is answered 200 with Content-Length, Content-Disposition, X-Firmware-Version,
 * X-Firmware-Md5 and X-Firmware-Kind (full|diff); a Range header is honoured with the OneNET rules
 * (206). Codes are answered with HTTP 400 and `{"code", "msg"}` (protocol/luat.ts).
 */
import { indexOf } from '../../catalog/id-range.js';
import { compareVersions, LUAT_ERROR_STATUS, LUAT_MESSAGES, LuatCode } from '../../protocol/luat.js';
import { resolveRange } from '../../protocol/range.js';
import { hashUniform, mix32 } from '../../random/rng.js';
import { json, type Answer, type Outcome, type RequestContext } from '../http/answer.js';
import { fileAnswer } from '../onenet/calls.js';
import type { FirmwareRuntime, ProjectRuntime } from '../state/catalog-runtime.js';
import type { DiffBuild, LuatDevice, Store } from '../state/store.js';

const DIFF_BUILD_STREAM = 0xd1ff;
const MAX_ID = 64;

const codeAnswers = new Map<number, Answer>();
export function codeAnswer(code: number): Answer {
  let a = codeAnswers.get(code);
  if (!a) {
    const msg = (LUAT_MESSAGES as Record<number, string>)[code] ?? 'error';
    codeAnswers.set(code, (a = json(LUAT_ERROR_STATUS, JSON.stringify({ code, msg }), `code:${code}`)));
  }
  return a;
}

/** What a request would get, before the loop ban has its say; side effects are applied after. */
type Decision =
  | { kind: 'code'; code: number }
  | { kind: 'wait'; buildKey: string; start: DiffBuild | undefined }
  | { kind: 'file'; fw: FirmwareRuntime; diffCore: string | undefined };

export class LuatCalls {
  constructor(private readonly store: Store) {}

  upgrade(ctx: RequestContext): Outcome {
    const q = ctx.query;
    const id = q['imei'] ?? q['mac'] ?? q['uid'];
    const summary = `version=${short(q['version'])} core=${short(q['core_version'])} dfota=${short(q['dfota'])}`;
    if (!id || id.length > MAX_ID) return { answer: codeAnswer(LuatCode.INVALID_DEVICE) };
    const project = this.store.runtime.projects.get(q['project_key'] ?? '');
    if (!project) return { answer: codeAnswer(LuatCode.INVALID_PROJECT) };
    const fw = project.firmware.get(q['firmware_name'] ?? '');
    if (!fw) return { answer: codeAnswer(LuatCode.INVALID_FIRMWARE) };
    const device = this.store.luatDevice(id);
    if (!device) return { answer: codeAnswer(LuatCode.NO_PERMISSION) };
    const out = (answer: Answer): Outcome => ({ answer, owner: device, summary });
    if (device.project.account !== project.account) return out(codeAnswer(LuatCode.NO_PERMISSION));

    const skipBan = this.store.bugs.has('skip-loop-ban');
    if (device.banned && !skipBan) return out(codeAnswer(LuatCode.LOOP_UPGRADE));
    const decision = this.decide(project, fw, device, ctx);
    const counts = !(decision.kind === 'wait' && !this.store.catalog.luat.banCountsWaits);
    if (counts) {
      if (this.store.requestsToday(device) >= this.store.banLimit && !skipBan) {
        this.store.ban(device);
        return out(codeAnswer(LuatCode.LOOP_UPGRADE));
      }
      device.requestsToday++;
    }
    device.version = q['version'] ?? device.version;
    device.core = q['core_version'] ?? device.core;
    switch (decision.kind) {
      case 'code':
        return out(codeAnswer(decision.code));
      case 'wait':
        if (decision.start) this.store.diffBuilds.set(decision.buildKey, decision.start);
        return out(codeAnswer(LuatCode.PLEASE_WAIT));
      case 'file': {
        device.upgradesServed++;
        const image = decision.diffCore === undefined ? fw.image : fw.diffImage(decision.diffCore);
        const span = resolveRange(ctx.headers.range, image.size);
        const extra = { 'x-firmware-version': fw.version, 'x-firmware-md5': image.md5, 'x-firmware-kind': decision.diffCore === undefined ? 'full' : 'diff' };
        return out(fileAnswer(image.bytes, span, decision.diffCore === undefined ? fw.disposition : fw.diffDisposition, extra));
      }
    }
  }

  private decide(project: ProjectRuntime, fw: FirmwareRuntime, device: LuatDevice, ctx: RequestContext): Decision {
    const q = ctx.query;
    const code = (c: number): Decision => ({ kind: 'code', code: c });
    if (project.barred.some((r) => indexOf(r, device.id) >= 0)) return code(LuatCode.NOT_ALLOWED);
    if (device.project !== project || !device.upgradeList || !fw.enabled) return code(LuatCode.ALREADY_NEWEST);
    const core = q['core_version'] || undefined;
    if (core !== undefined && !fw.cores.has(core)) return code(LuatCode.BASE_VERSION_MISSING);
    if (core !== undefined && fw.isForbiddenJump(core)) return code(LuatCode.NOT_ALLOWED);
    const version = q['version'];
    const stale = this.store.bugs.has('stale-task-after-success') && version === fw.version;
    if (version && compareVersions(version, fw.version) >= 0 && !stale) return code(LuatCode.ALREADY_NEWEST);
    if (q['dfota'] !== '1' || !fw.diff) return { kind: 'file', fw, diffCore: undefined };
    if (core === undefined) return code(LuatCode.BASE_VERSION_MISSING);
    if (this.store.bugs.has('no-diff-wait')) return { kind: 'file', fw, diffCore: core };
    const buildKey = `${fw.projectKey}\n${fw.name}\n${fw.generation}\n${core}`;
    const build = this.store.diffBuilds.get(buildKey);
    const now = this.store.now();
    if (!build) return { kind: 'wait', buildKey, start: { startedAt: now, readyAt: now + this.buildTime(buildKey) } };
    if (now < build.readyAt) return { kind: 'wait', buildKey, start: undefined };
    return { kind: 'file', fw, diffCore: core };
  }

  /** Seeded build time of a diff package, uniform in diffBuildMs. */
  private buildTime(key: string): number {
    const { min, max } = this.store.catalog.luat.diffBuildMs;
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = mix32(h ^ key.charCodeAt(i));
    return Math.round(min + (max - min) * hashUniform(this.store.seed, DIFF_BUILD_STREAM, h));
  }
}

const short = (s: string | undefined): string => (s === undefined ? '-' : s.length > 40 ? `${s.slice(0, 40)}…` : s);
