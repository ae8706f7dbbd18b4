/**
 * The AIOT open API's north-bound calls (spec §4, seed 004) as decisions on the store, for the
 * OneNET devices of one product: AIOT is the application side of a platform whose devices report
 * progress and results, and of the two device dialects only OneNET's devices do (progress steps,
 * 201 / 2xx results); a Luat device only asks for a file, so its platform never learns a progress
 * or a result to push (docs/application-side.md).
 *
 * Choices where the seed is silent (also in docs/application-side.md):
 * - Every call is a POST with a JSON body (`openId`, and `did` for the selected calls); `Appid`,
 *   `Appkey` and `Access-Token` must match the server's; `Openid` is not checked.
 * - `code`: 0 ok, 1 bad request (no JSON, no did), 2 auth failed, 3 unknown device, 4 nothing to
 *   upgrade. The HTTP status is always 200.
 * - The release is the product's last full package in the catalog. A device is upgradable when
 *   its version (sVersion, else fVersion) differs from the release's and it has no active task of
 *   the release's type.
 * - Upgrade all creates a task template over each device range of the product that is upgradable
 *   (devices seen later get the task when they show up); upgrade selected over one device.
 * - Query all lists at most QUERY_LIMIT devices (a range of a million would be a 100 MB answer).
 */
import { idAt, rangeSize } from '../../catalog/id-range.js';
import { AIOT_HEADERS, AiotCode, type FirmwareEntry } from '../../protocol/aiot.js';
import type { TaskType } from '../../protocol/onenet.js';
import { json, type Answer, type Outcome, type RequestContext } from '../http/answer.js';
import { parseJsonObject } from '../http/body.js';
import type { PackageRuntime, ProductRuntime, DeviceRangeRuntime } from '../state/catalog-runtime.js';
import type { Store } from '../state/store.js';

export const QUERY_LIMIT = 10_000;

export interface AiotKeys {
  appId: string;
  appKey: string;
  accessToken: string;
}

const answer = (code: number, result: unknown): Answer => json(200, { code, result }, `code:${code}`);

export class AiotNorthbound {
  /** Ids of the templates the north-bound calls made: their tasks are pushed for. */
  readonly templates = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly keys: AiotKeys,
    private readonly productId: string | undefined,
  ) {}

  private product(): ProductRuntime | undefined {
    const products = this.store.runtime.products;
    return this.productId !== undefined ? products.get(this.productId) : products.values().next().value;
  }

  /** The checked request body, or the answer refusing it. */
  private admit(ctx: RequestContext, needsDid: boolean): { body: Record<string, unknown>; product: ProductRuntime; release: PackageRuntime } | Answer {
    const h = ctx.headers;
    if (h[AIOT_HEADERS.appId] !== this.keys.appId || h[AIOT_HEADERS.appKey] !== this.keys.appKey || h[AIOT_HEADERS.accessToken] !== this.keys.accessToken) {
      return answer(AiotCode.AUTH_FAILED, 'Appid, Appkey or Access-Token refused');
    }
    const body = parseJsonObject(ctx.body);
    if (!body) return answer(AiotCode.BAD_REQUEST, 'body: expected a JSON object');
    if (needsDid && (typeof body['did'] !== 'string' || body['did'].length === 0 || body['did'].length > 64)) return answer(AiotCode.BAD_REQUEST, 'did: expected a device id');
    const product = this.product();
    const release = product ? releaseOf(product) : undefined;
    if (!product || !release) return answer(AiotCode.NOTHING_TO_UPGRADE, 'no product with a full package');
    return { body, product, release };
  }

  queryAll(ctx: RequestContext): Outcome {
    const a = this.admit(ctx, false);
    if ('kind' in a) return { answer: a };
    const result: FirmwareEntry[] = [];
    for (const range of a.product.ranges) {
      const n = rangeSize(range.range);
      for (let i = 0; i < n && result.length < QUERY_LIMIT; i++) {
        const entry = this.entry(idAt(range.range, i), a.release);
        if (entry) result.push(entry);
      }
    }
    return { answer: answer(AiotCode.OK, result) };
  }

  querySelected(ctx: RequestContext): Outcome {
    const a = this.admit(ctx, true);
    if ('kind' in a) return { answer: a };
    const did = a.body['did'] as string;
    if (!this.store.findOnenetRange(did)) return { answer: answer(AiotCode.NO_DEVICE, `no device ${did}`) };
    const entry = this.entry(did, a.release);
    return { answer: answer(AiotCode.OK, entry ? [entry] : []) };
  }

  upgradeAll(ctx: RequestContext): Outcome {
    const a = this.admit(ctx, false);
    if ('kind' in a) return { answer: a };
    let ranges = 0;
    for (const range of a.product.ranges) {
      if (versionOf(range) === a.release.version) continue;
      this.startTemplate(a.product, range, a.release, undefined);
      ranges++;
    }
    if (ranges === 0) return { answer: answer(AiotCode.NOTHING_TO_UPGRADE, 'every device range is on the release') };
    return { answer: answer(AiotCode.OK, `upgrade to ${a.release.version} started on ${ranges} device range(s)`) };
  }

  upgradeSelected(ctx: RequestContext): Outcome {
    const a = this.admit(ctx, true);
    if ('kind' in a) return { answer: a };
    const did = a.body['did'] as string;
    const found = this.store.findOnenetRange(did);
    if (!found || found.product !== a.product) return { answer: answer(AiotCode.NO_DEVICE, `no device ${did}`) };
    if (!this.entry(did, a.release)) return { answer: answer(AiotCode.NOTHING_TO_UPGRADE, `device ${did} has nothing to upgrade`) };
    this.startTemplate(a.product, found.range, a.release, did);
    return { answer: answer(AiotCode.OK, `upgrade of ${did} to ${a.release.version} started`) };
  }

  private startTemplate(product: ProductRuntime, range: DeviceRangeRuntime, release: PackageRuntime, did: string | undefined): void {
    const spec = range.spec;
    const type: TaskType = spec.sVersion !== undefined ? 2 : 1;
    const params = { pkg: release, type, signal: 0, power: 0, retry: 3, interval: 60, manuf: spec.manuf, model: spec.model };
    const text = did ?? rangeText(range);
    const tpl = this.store.addTemplate(product, text, params, 'pending', 'admin', did === undefined ? range.range : undefined);
    this.templates.add(tpl.id);
    if (did !== undefined) {
      const device = this.store.onenetDevice(did, product);
      if (device) this.store.applyTemplate(tpl, device, true);
      return;
    }
    for (const device of this.store.onenetDevices.values()) if (device.range === range) this.store.applyTemplate(tpl, device, true);
  }

  /** The firmware entry of an upgradable device, or undefined. */
  private entry(did: string, release: PackageRuntime): FirmwareEntry | undefined {
    const device = this.store.onenetDevices.get(did) ?? this.store.previewOnenetDevice(did);
    if (!device) return undefined;
    const version = device.sVersion ?? device.fVersion ?? '';
    const type: TaskType = device.range.spec.sVersion !== undefined ? 2 : 1;
    if (version === release.version || this.store.activeTask(device, type)) return undefined;
    return {
      did,
      name: device.product.name ?? device.product.id,
      deviceModel: device.model,
      firmwareVersion: version,
      upgradeFirmware: { firmwareVersion: release.version, fileSize: String(release.size), updateLog: `${release.fileName}`, releaseDate: '' },
    };
  }
}

const versionOf = (range: DeviceRangeRuntime): string | undefined => range.spec.sVersion ?? range.spec.fVersion;

function releaseOf(product: ProductRuntime): PackageRuntime | undefined {
  let last: PackageRuntime | undefined;
  for (const p of product.packages.values()) if (p.kind === 1) last = p;
  return last;
}

function rangeText(range: DeviceRangeRuntime): string {
  return range.spec.ids;
}
