/**
 * What `serve` exposes: off loopback the admin API (which hands out every key) stays loopback-only
 * unless --admin-remote, which warns; the banner prints no key unless --print-keys, its example
 * Authorization lives one hour, and its admin curl line works when pasted into a shell.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG, DEFAULT_LUAT_PROJECT_KEY, DEFAULT_ONENET_ACCESS_KEY } from '../../src/catalog/default.js';
import { prepareCatalog } from '../../src/catalog/load.js';
import { ConfigError } from '../../src/config/load.js';
import { exampleAuthSeconds, serveOptionsFromArgs, startBanner, type ServeArgs } from '../../src/cli/serve.js';
import { startServer } from '../../src/server/index.js';

const args = (o: Partial<ServeArgs> = {}): ServeArgs => ({ port: 0, host: '127.0.0.1', quiet: true, 'allow-remote': false, ...o });
const NOW = Date.UTC(2030, 0, 1);

function banner(o: { printKeys?: boolean; tokenSource?: 'random' | 'env'; scale?: number | 'max'; url?: string } = {}): string[] {
  return startBanner({
    url: o.url ?? 'http://127.0.0.1:8080',
    adminToken: 'RandomToken_123-abc',
    tokenSource: o.tokenSource ?? 'random',
    catalogLabel: 'built-in default',
    catalog: prepareCatalog(DEFAULT_CATALOG),
    scale: o.scale ?? 1,
    seed: 1,
    virtualNowMs: NOW,
    bugs: [],
    faults: {},
    ...(o.printKeys !== undefined ? { printKeys: o.printKeys } : {}),
  });
}

describe('serve off loopback', () => {
  it('--allow-remote alone: the admin API stays loopback-only, and a note says so', () => {
    const r = serveOptionsFromArgs(args({ host: '0.0.0.0', 'allow-remote': true }), {});
    expect(r.options.allowRemoteAdmin).toBe(false);
    expect(r.warnings).toEqual(['ota-swarm serve: listening on 0.0.0.0 (--allow-remote): the OneNET and Luat APIs answer remote clients over plain HTTP; the admin API answers loopback clients only (--admin-remote opens it)']);
  });

  it('--admin-remote opens it, with a loud warning about keys over plain HTTP', () => {
    const r = serveOptionsFromArgs(args({ host: '0.0.0.0', 'allow-remote': true, 'admin-remote': true }), {});
    expect(r.options.allowRemoteAdmin).toBe(true);
    expect(r.warnings.join('\n')).toMatch(/WARNING: --admin-remote: the admin API answers remote clients on 0\.0\.0\.0 over plain HTTP/);
    expect(r.warnings.join('\n')).toMatch(/hands out every OneNET access key and Luat project key/);
  });

  it('--admin-remote without --allow-remote, or on loopback: refused', () => {
    expect(() => serveOptionsFromArgs(args({ 'admin-remote': true }), {})).toThrow(ConfigError);
    expect(() => serveOptionsFromArgs(args({ 'admin-remote': true, 'allow-remote': true }), {})).toThrow(/^--admin-remote: only with --allow-remote and a non-loopback --host/);
  });

  it('on loopback: no warning, admin loopback-only', () => {
    const r = serveOptionsFromArgs(args(), {});
    expect(r.warnings).toEqual([]);
    expect(r.options.allowRemoteAdmin).toBe(false);
  });
});

describe('the serve banner', () => {
  it('prints no key by default', () => {
    const text = banner().join('\n');
    expect(text).not.toContain(DEFAULT_LUAT_PROJECT_KEY);
    expect(text).not.toContain(DEFAULT_ONENET_ACCESS_KEY);
    expect(text).toContain('project_key=$OTA_SWARM_LUAT_PROJECT_KEY&');
  });

  it('prints the keys with --print-keys', () => {
    const text = banner({ printKeys: true }).join('\n');
    expect(text).toContain(`Luat project key: ${DEFAULT_LUAT_PROJECT_KEY}`);
    expect(text).toContain(`access key: ${DEFAULT_ONENET_ACCESS_KEY}`);
    expect(text).toContain(`project_key=${DEFAULT_LUAT_PROJECT_KEY}&`);
  });

  it("the example check's Authorization expires one real hour after start, whatever the time scale", () => {
    for (const scale of [1, 60] as const) {
      const et = Number(/et=(\d+)/.exec(banner({ scale }).join('\n'))?.[1]);
      expect(et - NOW / 1000).toBe(3600 * scale);
    }
    expect(exampleAuthSeconds('max')).toBe(3600);
  });

  it('the admin line double-quotes $OTA_SWARM_ADMIN_TOKEN (single quotes sent it literally)', () => {
    const line = banner({ tokenSource: 'env' }).at(-1) as string;
    expect(line).toBe('  curl -s -H "Authorization: Bearer $OTA_SWARM_ADMIN_TOKEN" http://127.0.0.1:8080/admin/catalog');
  });

  it('pasted into a shell with the variable set, the admin line gets 200', async () => {
    const server = await startServer({ port: 0, adminToken: 'pasted-token-123456', quiet: true });
    try {
      const line = (banner({ tokenSource: 'env', url: server.url }).at(-1) as string).trim().replace('curl -s ', 'curl -s -o /dev/null -w %{http_code} ');
      const { stdout } = await promisify(execFile)('sh', ['-c', line], { env: { ...process.env, OTA_SWARM_ADMIN_TOKEN: 'pasted-token-123456' }, timeout: 20_000 });
      expect(stdout).toBe('200');
    } finally {
      await server.close();
    }
  });
});
