/**
 * The AIOT application side of `serve`: the north-bound calls (./northbound.ts) and, for the
 * tasks they started, a push per accepted progress step (`ota_upgrade_progress`) and one when the
 * task ends (`ota_upgrade_result`: "1" on success, "0" with the cause on failure), sent by
 * ./pusher.ts to the configured URL.
 */
import type { PushRetryPolicy } from '../../protocol/aiot.js';
import { ResultCode, type TaskState } from '../../protocol/onenet.js';
import type { OnenetTask, Store, TaskObserver } from '../state/store.js';
import { AiotNorthbound, type AiotKeys } from './northbound.js';
import type { PushSink } from './pusher-thread.js';

/** `ServerOptions.aiot`: plain data (it crosses into the server's thread). */
export interface AiotServerOptions extends AiotKeys {
  /** Where pushes go; absent: no pushes. */
  pushUrl?: string;
  /** The OneNET product the API speaks for; default the catalog's first. */
  productId?: string;
  /** Default HUAWEI_PUSH_POLICY. */
  policy?: PushRetryPolicy;
}

export class AiotSide {
  readonly calls: AiotNorthbound;
  private readonly observer: TaskObserver;

  constructor(
    store: Store,
    private readonly options: AiotServerOptions,
    private readonly pusher: PushSink | undefined,
  ) {
    this.calls = new AiotNorthbound(store, options, options.productId);
    const ours = (task: OnenetTask): boolean => task.templateId !== undefined && this.calls.templates.has(task.templateId);
    this.observer = {
      progress: (task, step) => {
        if (ours(task)) this.pusher?.push({ msgType: 'ota_upgrade_progress', did: task.device.id, firmwareVersion: task.target, progress: step });
      },
      state: (task, next, cause) => {
        if (ours(task) && isEnd(next)) {
          this.pusher?.push({
            msgType: 'ota_upgrade_result',
            did: task.device.id,
            firmwareVersion: task.target,
            upgradeResult: next === 'succeeded' ? '1' : '0',
            cause: next === 'succeeded' ? '' : causeText(cause),
          });
        }
      },
    };
    store.observer = this.observer;
  }

  /** The same side on a fresh store (admin reset): the pusher and its cache carry over. */
  rebind(store: Store): AiotSide {
    return new AiotSide(store, this.options, this.pusher);
  }

  /** `sink`: where pushes go (./pusher-thread.ts), absent without a push URL. */
  static create(store: Store, options: AiotServerOptions, sink: PushSink | undefined): AiotSide {
    return new AiotSide(store, options, sink);
  }

  close(): Promise<void> | void {
    return this.pusher?.close();
  }
}

const isEnd = (s: TaskState): boolean => s === 'succeeded' || s === 'failed';
const CODE_NAMES = new Map<number, string>(Object.entries(ResultCode).map(([name, code]) => [code, name.toLowerCase().replace(/_/g, ' ')]));
/** The failure cause as words and the device's code (`md5 failed (205)`); a task failed by check says only failed. */
const causeText = (code: number | undefined): string => {
  const name = code === undefined ? undefined : CODE_NAMES.get(code);
  return name === undefined ? 'failed' : `${name} (${code})`;
};
