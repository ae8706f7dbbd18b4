/**
 * The server in a worker thread (compiled JS from dist/: `npm run build` first), and the serve
 * command as a user runs it (flags, banner with ready-to-paste requests, signals, errors).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { originNow } from '../../src/time/clock.js';
import { startServerThread, workerFileUrl } from '../../src/server/thread.js';
import { send } from './helpers.js';
import { DEFAULT_LUAT_PROJECT_KEY } from '../../src/catalog/default.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('startServerThread', () => {
  it('maps the worker file from src/*.ts to dist/*.js', () => {
    expect(workerFileUrl('file:///p/src/server/thread.ts').href).toBe('file:///p/dist/server/thread-worker.js');
    expect(workerFileUrl('file:///p/dist/server/thread.js').href).toBe('file:///p/dist/server/thread-worker.js');
  });

  it('runs the same server in its own thread, on the given clock origin', async () => {
    const origin = originNow(10, Date.UTC(2030, 0, 1));
    const s = await startServerThread({ clock: origin, adminToken: 'thread-token-123', quiet: true, bugs: ['ignore-range'] });
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const clock = await send(`${s.url}/admin/clock`, 'GET', { authorization: 'Bearer thread-token-123' });
      expect(clock.json.scale).toBe(10);
      expect(clock.json.virtualNow).toBeGreaterThanOrEqual(Date.UTC(2030, 0, 1));
      const bugs = await send(`${s.url}/admin/bugs`, 'GET', { authorization: 'Bearer thread-token-123' });
      expect(bugs.json.bugs).toEqual(['ignore-range']);
    } finally {
      await s.close();
    }
  });

  it('forwards a startup failure (port in use) as a one-line rejection', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startServerThread({ clock: originNow(1), port, quiet: true }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toBe(`cannot listen on 127.0.0.1:${port}: address in use (EADDRINUSE)`);
    } finally {
      blocker.close();
    }
  });

  it('forwards a bad option (unknown bug) as a one-line rejection', async () => {
    const err = await startServerThread({ clock: originNow(1), bugs: ['nope' as never], quiet: true }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^bugs\.0: unknown bug "nope"/);
  });
});

/** Runs `serve` from dist/ through yargs, as main.ts does; resolves on the first lines or exit. */
function serve(args: string[], env: Record<string, string> = {}) {
  const script = `
    import yargs from 'yargs';
    import { serveCommand } from './dist/cli/serve.js';
    await yargs(process.argv.slice(1)).command(serveCommand).strict().fail((m, e) => { throw e ?? new Error(m); }).parseAsync();
    process.exit(process.exitCode ?? 0);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, 'serve', ...args], { cwd: ROOT, env: { ...process.env, OTA_SWARM_ADMIN_TOKEN: '', ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const banner = async (): Promise<string> => {
    for (let i = 0; i < 200 && !out.includes('Admin catalog') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25));
    return out;
  };
  return { child, banner, exited, stderr: () => err, stdout: () => out };
}

describe('ota-swarm serve', () => {
  it('prints where it listens, the admin token and working example requests; SIGTERM exits 0', async () => {
    const p = serve(['--port', '0']);
    const out = await p.banner();
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(url).toBeDefined();
    const token = /admin token: (\S+)/.exec(out)?.[1] as string;
    expect(token.length).toBeGreaterThanOrEqual(16);
    // The printed OneNET curl works as printed.
    const check = /curl -s -H 'Authorization: ([^']+)' '([^']+)'/.exec(out);
    expect(check).not.toBeNull();
    const r = await send(check?.[2] as string, 'GET', { authorization: check?.[1] as string });
    expect(r.json.errno).toBe(0);
    // The Luat line names the project key's variable; with it set, it downloads as printed.
    const luat = /curl -s -D - -o firmware.bin "([^"]+)"/.exec(out)?.[1] as string;
    expect(luat).toContain('project_key=$OTA_SWARM_LUAT_PROJECT_KEY&');
    expect((await send(luat.replace('$OTA_SWARM_LUAT_PROJECT_KEY', DEFAULT_LUAT_PROJECT_KEY), 'GET')).status).toBe(200);
    expect((await send(`${url}/admin/catalog`, 'GET', { authorization: `Bearer ${token}` })).status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('takes the admin token from the environment without printing it; flags reach the server', async () => {
    const p = serve(['--port', '0', '--time-scale', '60', '--seed', '9', '--bug', 'skip-loop-ban', '--fault', 'check.latency=fixed:1ms', '--ban-limit', '4'], { OTA_SWARM_ADMIN_TOKEN: 'env-token-abcdef' });
    const out = await p.banner();
    expect(out).not.toContain('env-token-abcdef');
    expect(out).toContain('admin token: from OTA_SWARM_ADMIN_TOKEN');
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] as string;
    const h = { authorization: 'Bearer env-token-abcdef' };
    expect((await send(`${url}/admin/clock`, 'GET', h)).json.scale).toBe(60);
    expect((await send(`${url}/admin/faults`, 'GET', h)).json).toEqual({ faults: { check: { latency: { dist: 'fixed', value: 1 } } }, bugs: ['skip-loop-ban'] });
    expect((await send(`${url}/admin/catalog`, 'GET', h)).json.luat.banLimitPerDay).toBe(4);
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
  });

  it.each([
    [['--host', '10.1.2.3'], /^ota-swarm serve: --host: 10\.1\.2\.3 is not a loopback address; pass --allow-remote to listen on it\n$/],
    [['--admin-remote'], /^ota-swarm serve: --admin-remote: only with --allow-remote and a non-loopback --host/],
    [['--fault', 'check.nope=1'], /^ota-swarm serve: --fault check.nope: unknown knob/],
    [['--bug', 'nope'], /^ota-swarm serve: --bug.0: unknown bug "nope"/],
    [['--catalog', '/nonexistent/catalog.yaml'], /^ota-swarm serve: \/nonexistent\/catalog.yaml: cannot read \(ENOENT\)\n$/],
    [['--time-scale', '0'], /^ota-swarm serve: --time-scale: expected a number > 0/],
    [['--time-scale', 'soon'], /^ota-swarm serve: --time-scale: expected a number > 0 \(at most 1000000\) or max, got soon\n$/],
  ])('refuses %j in one line, exit 2', async (args, message) => {
    const p = serve(['--port', '0', ...args]);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(message);
    expect(p.stderr().trim().split('\n')).toHaveLength(1);
  });

  it('a port in use: one line, exit 2', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = serve(['--port', String(port)]);
      expect(await p.exited).toBe(2);
      expect(p.stderr()).toBe(`ota-swarm serve: cannot listen on 127.0.0.1:${port}: address in use (EADDRINUSE)\n`);
    } finally {
      blocker.close();
    }
  });
});
