/**
 * `ota-swarm serve --aiot ...`: the AIOT open API of the reference server (north-bound calls and
 * pushes, docs/application-side.md), from flags and the environment. Keys come from the
 * environment (never from a flag, never printed unless --print-keys); absent, random ones are
 * drawn and the banner says where to read them.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../config/load.js';
import { ENV_AIOT_ACCESS_TOKEN, ENV_AIOT_APP_KEY } from '../engine/application.js';
import { isLoopbackUrl } from '../engine/target.js';
import { HUAWEI_PUSH_POLICY, type PushRetryPolicy } from '../protocol/aiot.js';
import { parseProfileValue } from '../protocol/profile.js';
import type { AiotServerOptions } from '../server/aiot/side.js';

export interface ServeAiotArgs {
  aiot?: boolean;
  'aiot-push-url'?: string;
  'aiot-app-id'?: string;
  'aiot-product'?: string;
  'aiot-push'?: string[];
  'allow-remote': boolean;
}

const POLICY_FIELDS = { answerWithin: 'push.answerWithin', cacheFor: 'push.cacheFor', maxFailures: 'push.maxFailures', retryEvery: 'push.retryEvery' } as const;

/** The push policy from `--aiot-push key=value` flags over the documented one. */
export function pushPolicyFromFlags(flags: readonly string[]): PushRetryPolicy {
  const policy = { ...HUAWEI_PUSH_POLICY };
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq < 0 ? flag : flag.slice(0, eq);
    if (eq < 0 || !(name in POLICY_FIELDS)) throw new ConfigError(`--aiot-push ${flag}: expected KEY=VALUE, KEY one of ${Object.keys(POLICY_FIELDS).join(', ')}`);
    const key = POLICY_FIELDS[name as keyof typeof POLICY_FIELDS];
    const parsed = parseProfileValue(key, flag.slice(eq + 1));
    if ('error' in parsed) throw new ConfigError(`--aiot-push ${flag}: ${parsed.error}`);
    const v = parsed.value as number;
    if (name === 'answerWithin') policy.answerWithinMs = v;
    else if (name === 'cacheFor') policy.cacheMs = v;
    else if (name === 'maxFailures') policy.maxFailures = v;
    else policy.retryEveryMs = v;
  }
  return policy;
}

/** The server's AIOT options, or undefined without --aiot; `keysFrom` says where the keys came from. */
export function aiotFromArgs(a: ServeAiotArgs, env: NodeJS.ProcessEnv): { aiot: AiotServerOptions; keysFrom: 'env' | 'random' } | undefined {
  const any = a['aiot-push-url'] !== undefined || a['aiot-app-id'] !== undefined || a['aiot-product'] !== undefined || (a['aiot-push'] ?? []).length > 0;
  if (!a.aiot) {
    if (any) throw new ConfigError('--aiot-push-url, --aiot-app-id, --aiot-product and --aiot-push need --aiot');
    return undefined;
  }
  const url = a['aiot-push-url'];
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(`--aiot-push-url: "${url}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`--aiot-push-url: ${url}: only http and https`);
    if (!isLoopbackUrl(url) && !a['allow-remote']) throw new ConfigError(`--aiot-push-url: ${parsed.host} is not a loopback address; pass --allow-remote to push to it`);
  }
  const appKey = env[ENV_AIOT_APP_KEY]?.trim();
  const accessToken = env[ENV_AIOT_ACCESS_TOKEN]?.trim();
  if ((appKey === undefined || appKey === '') !== (accessToken === undefined || accessToken === '')) {
    throw new ConfigError(`--aiot: set both ${ENV_AIOT_APP_KEY} and ${ENV_AIOT_ACCESS_TOKEN}, or neither (random ones are drawn)`);
  }
  const random = (): string => randomBytes(18).toString('base64url');
  return {
    aiot: {
      appId: a['aiot-app-id'] ?? 'ota-swarm',
      appKey: appKey || random(),
      accessToken: accessToken || random(),
      ...(url !== undefined ? { pushUrl: url } : {}),
      ...(a['aiot-product'] !== undefined ? { productId: a['aiot-product'] } : {}),
      policy: pushPolicyFromFlags((a['aiot-push'] ?? []).map(String)),
    },
    keysFrom: appKey ? 'env' : 'random',
  };
}

/** Banner lines; keys only with --print-keys. */
export function aiotBanner(aiot: AiotServerOptions, keysFrom: 'env' | 'random', printKeys: boolean): string[] {
  const p = aiot.policy ?? HUAWEI_PUSH_POLICY;
  const keys = printKeys ? `Appkey ${aiot.appKey} · Access-Token ${aiot.accessToken}` : keysFrom === 'env' ? `keys from ${ENV_AIOT_APP_KEY} and ${ENV_AIOT_ACCESS_TOKEN}` : 'keys random (--print-keys shows them; fix them with the environment)';
  return [
    `AIOT open API: POST /open/ota/{query,upgrade}/firmware[/selected] · Appid ${aiot.appId} · ${keys}`,
    aiot.pushUrl ? `  pushes to ${aiot.pushUrl}: a 200 within ${p.answerWithinMs} ms, retried every ${p.retryEveryMs} ms, given up after ${p.maxFailures} failed retries or ${p.cacheMs} ms` : '  no --aiot-push-url: no pushes',
  ];
}
