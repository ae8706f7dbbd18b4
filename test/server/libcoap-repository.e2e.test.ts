/**
 * libcoap's coap-client (libcoap3-bin, installed by .ci/run) fetches a package from serve's CoAP
 * repository with Block2: the file's md5 must be the catalog's, and with the `block2-off-by-one`
 * bug it must not be (so the check can fail). Skipped only on a machine without the binary
 * outside CI; in CI (CI set) a missing binary fails the test.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/index.js';

const COAP_CLIENT = '/usr/bin/coap-client-notls';
const SKIP = !existsSync(COAP_CLIENT) && !process.env['CI'];
const dir = mkdtempSync(join(tmpdir(), 'ota-swarm-libcoap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs coap-client; its own timers bound it (RFC 7252: about 93 s per unanswered block at worst), ours too. */
function fetchWithCoapClient(uri: string, out: string, blockSize: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(COAP_CLIENT, ['-m', 'get', '-b', String(blockSize), '-o', out, uri], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const md5Of = (file: string): string => createHash('md5').update(readFileSync(file)).digest('hex');

describe.skipIf(SKIP)("libcoap's coap-client against serve's CoAP repository", () => {
  it('fetches the package block-wise (Block2, 512-byte blocks) and its md5 matches the catalog', async () => {
    const server = await startServer({ coapPort: 0, quiet: true, catalog: { seed: 1, onenet: { products: [] }, luat: { banLimitPerDay: 10, banCountsWaits: true, diffBuildMs: { min: 0, max: 0 }, projects: [] }, lwm2m: { schedule: 'huawei', commandTtlSec: 3600, packages: [{ id: 'big', version: '2.0.0', size: 256 * 1024, seed: 5, kind: 'full' }], campaigns: [] } } });
    try {
      const out = join(dir, 'ok.bin');
      const r = await fetchWithCoapClient(`${server.coapUrl}/fw/big`, out, 512);
      expect(r.code, r.stderr).toBe(0);
      const summary = (await (await fetch(`${server.url}/admin/lwm2m`, { headers: { authorization: `Bearer ${server.adminToken}` } })).json()) as { packages: { id: string; md5: string; size: number }[]; counters: { blocksServed: number } };
      const pkg = summary.packages.find((p) => p.id === 'big');
      expect(readFileSync(out).length).toBe(256 * 1024);
      expect(md5Of(out)).toBe(pkg?.md5);
      expect(summary.counters.blocksServed).toBeGreaterThanOrEqual(512);
    } finally {
      await server.close();
    }
  });

  it('with bug block2-off-by-one the fetched file does not match (the md5 check can fail)', async () => {
    const server = await startServer({ coapPort: 0, quiet: true, bugs: ['block2-off-by-one'] });
    try {
      const out = join(dir, 'bad.bin');
      const r = await fetchWithCoapClient(`${server.coapUrl}/fw/lwm2m-fw-2`, out, 1024);
      expect(r.code, r.stderr).toBe(0);
      const summary = (await (await fetch(`${server.url}/admin/lwm2m`, { headers: { authorization: `Bearer ${server.adminToken}` } })).json()) as { packages: { md5: string }[] };
      expect(md5Of(out)).not.toBe(summary.packages[0]?.md5);
    } finally {
      await server.close();
    }
  });
});
