/**
 * The scenario's `application` section resolved (./application-schema.ts is its file format):
 * the north-bound steps of the run's first phase and the push receiver's behaviour.
 */
import type { SecretRef } from '../catalog/schema.js';
import { parseDuration, parseShare } from '../config/units.js';
import type { ReceiverBehaviour } from '../receiver/behaviour.js';
import type { NORTHBOUND_WAITS } from './application-schema.js';

export type NorthboundStep =
  | { readonly kind: 'query'; readonly did: 'all' | string }
  | { readonly kind: 'upgrade'; readonly did: 'all' | string }
  | { readonly kind: 'wait'; readonly until: (typeof NORTHBOUND_WAITS)[number]; readonly everyMs: number; readonly timeoutMs: number };

export interface ApplicationSpec {
  readonly platform: 'aiot';
  readonly appId: string;
  readonly appKey?: SecretRef;
  readonly accessToken?: SecretRef;
  readonly openId: string;
  readonly northbound: readonly NorthboundStep[];
  readonly receiver: { readonly host: string; readonly port: number; readonly behaviour: ReceiverBehaviour };
  /** Virtual ms pushes may still arrive after the fleet; absent: from the push policy. */
  readonly settleMs?: number;
}

type Fail = (path: string, message: string) => never;

interface RawApplication {
  platform?: string;
  appId: string;
  appKey?: SecretRef;
  accessToken?: SecretRef;
  openId?: string;
  northbound?: { query?: string; upgrade?: string; wait?: { until: string; every?: string | number; timeout?: string | number } }[];
  receiver?: { host?: string; port?: number; answerAfter?: string | number; errorRate?: string | number; errorStatus?: number; neverAnswer?: boolean; down?: { from: string | number; to: string | number }[] };
  settle?: string | number;
}

export function resolveApplication(raw: RawApplication, fail: Fail): ApplicationSpec {
  const ms = (v: string | number, path: string): number => {
    const d = parseDuration(v);
    if (d === undefined || d < 0) return fail(path, `${JSON.stringify(v)} is not a duration (e.g. 500ms, 30s, 5m)`);
    return d;
  };
  const northbound = (raw.northbound ?? []).map((s, i): NorthboundStep => {
    const path = `application.northbound.${i}`;
    const given = (['query', 'upgrade', 'wait'] as const).filter((k) => s[k] !== undefined);
    if (given.length !== 1) return fail(path, 'give exactly one of query, upgrade, wait');
    if (s.query !== undefined) return { kind: 'query', did: s.query };
    if (s.upgrade !== undefined) return { kind: 'upgrade', did: s.upgrade };
    const w = s.wait as NonNullable<typeof s.wait>;
    const everyMs = w.every === undefined ? 1000 : ms(w.every, `${path}.wait.every`);
    const timeoutMs = w.timeout === undefined ? 30_000 : ms(w.timeout, `${path}.wait.timeout`);
    if (everyMs < 10) fail(`${path}.wait.every`, 'must be at least 10ms');
    return { kind: 'wait', until: w.until as 'none-upgradable', everyMs, timeoutMs };
  });
  const r = raw.receiver ?? {};
  const host = r.host ?? '127.0.0.1';
  const errorRate = r.errorRate === undefined ? 0 : parseShare(r.errorRate);
  if (errorRate === undefined || errorRate < 0 || errorRate > 1) return fail('application.receiver.errorRate', `${JSON.stringify(r.errorRate)} is not a share 0–100%`);
  const down = (r.down ?? []).map((w, i) => {
    const fromMs = ms(w.from, `application.receiver.down.${i}.from`);
    const toMs = ms(w.to, `application.receiver.down.${i}.to`);
    if (toMs <= fromMs) fail(`application.receiver.down.${i}.to`, 'must be after from');
    return { fromMs, toMs };
  });
  return {
    platform: 'aiot',
    appId: raw.appId,
    ...(raw.appKey !== undefined ? { appKey: raw.appKey } : {}),
    ...(raw.accessToken !== undefined ? { accessToken: raw.accessToken } : {}),
    openId: raw.openId ?? 'ota-swarm',
    northbound,
    receiver: {
      host,
      port: r.port ?? 0,
      behaviour: {
        answerAfterMs: r.answerAfter === undefined ? 0 : ms(r.answerAfter, 'application.receiver.answerAfter'),
        errorRate,
        errorStatus: r.errorStatus ?? 503,
        neverAnswer: r.neverAnswer ?? false,
        down,
      },
    },
    ...(raw.settle !== undefined ? { settleMs: ms(raw.settle, 'application.settle') } : {}),
  };
}
