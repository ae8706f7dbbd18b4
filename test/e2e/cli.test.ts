/**
 * The command line as a user meets it: exit statuses, one-line errors, broken targets, and an
 * interrupted run that still writes its report.
 */
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, type Server } from 'node:net';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, fixture, readOnlyReport, tempDir } from './helpers.js';
import { DEFAULT_ONENET_ACCESS_KEY } from '../../src/catalog/default.js';
import { startServer } from '../../src/server/index.js';
import { rulesOf } from '../../src/verdicts/registry.js';

const KEY_ENV = { OTA_SWARM_ONENET_ACCESS_KEY: DEFAULT_ONENET_ACCESS_KEY };
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A loopback TCP server that answers every request with `reply`, then closes. */
async function rawServer(reply: string): Promise<string> {
  const server = createNetServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(reply));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return `http://127.0.0.1:${addr.port}`;
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

describe('ota-swarm validate', () => {
  it('says ok and exits 0 on a good scenario', async () => {
    const r = await cli(['validate', 'scenarios/rollout-onenet.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('scenarios/rollout-onenet.yaml: ok: rollout-onenet, onenet, 3000 devices');
  });

  it('names file, line and field in one line and exits 2 on a bad one', async () => {
    const r = await cli(['validate', 'test/scenario/fixtures/bad-unknown-field.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ota-swarm: test\/scenario\/fixtures\/bad-unknown-field\.yaml:\d+:\d+: /);
  });

  it('exits 2 with a one-line error for a missing file and for a bad flag', async () => {
    const missing = await cli(['validate', 'nowhere.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('ota-swarm: nowhere.yaml: cannot read (ENOENT)\n');
    const flag = await cli(['run', 'scenarios/rollout-onenet.yaml', '--duration', 'soon']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe('ota-swarm: --duration: "soon" is not a duration (e.g. 90s, 5m)\n');
    const scale = await cli(['run', 'scenarios/rollout-onenet.yaml', '--time-scale', 'soon']);
    expect(scale.code).toBe(2);
    expect(scale.stderr).toBe('ota-swarm: --time-scale: "soon" is not a number above 0 (at most 1000000) nor max\n');
    const negative = await cli(['run', 'scenarios/rollout-onenet.yaml', '--duration', '-5s']);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toBe('ota-swarm: --duration: must be a positive duration (e.g. 90s, 5m), got -5s\n');
    const empty = await cli(['run', 'scenarios/rollout-onenet.yaml', '--devices']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe('ota-swarm: --devices: needs a value\n');
    const unknown = await cli(['run', 'scenarios/rollout-onenet.yaml', '--devcies', '3']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^ota-swarm: Unknown argument: devcies\n$/);
  });
});

describe('ota-swarm --version', () => {
  it('prints package.json\'s version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });
});

describe('ota-swarm run against a broken target', () => {
  it('a target that refuses connections: a clear report of the errors and exit 1', async () => {
    const out = tempDir();
    const target = await closedPort();
    const r = await cli(['run', fixture('onenet-small.yaml'), '--target', target, '--out', out, '--quiet'], { env: KEY_ENV });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    const report = readOnlyReport(out);
    expect(report.target).toBe(target);
    expect(report.operations['reportVersion']?.byOutcome['net:ECONNREFUSED']).toBeGreaterThan(0);
    expect(report.operations['reportVersion']?.errors).toBe(report.operations['reportVersion']?.count);
    expect(report.devices.byFinalState).toEqual({ 'gave-up': 50 });
    expect(report.passed).toBe(false);
    expect(r.stdout).toContain('FAILED');
    expect(r.stdout).toContain('net:ECONNREFUSED');
  });

  it('a target that answers garbage: counted as bad answers, exit 1, no crash', async () => {
    for (const reply of ['this is not http\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{"errno":']) {
      const out = tempDir();
      const target = await rawServer(reply);
      const r = await cli(['run', fixture('onenet-small.yaml'), '--target', target, '--out', out, '--quiet'], { env: KEY_ENV });
      expect(r.code).toBe(1);
      const report = readOnlyReport(out);
      const outcomes = Object.keys(report.operations['reportVersion']?.byOutcome ?? {});
      expect(outcomes.length).toBeGreaterThan(0);
      // The raw server closes each connection after its reply, so a reused socket may also see a reset.
      expect(outcomes.filter((o) => !['net:BAD_RESPONSE', 'garbage', 'net:ECONNRESET'].includes(o))).toEqual([]);
      expect(report.devices.byFinalState['succeeded']).toBeUndefined();
      expect(report.transitions.violations).toBe(0);
    }
  });

  it('refuses a non-loopback target unless --allow-remote is given', async () => {
    const r = await cli(['run', fixture('onenet-small.yaml'), '--target', 'http://192.0.2.1:8080', '--quiet'], { env: KEY_ENV });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ota-swarm: --target: 192.0.2.1:8080 is not a loopback address; pass --allow-remote to load a remote server\n');
  });

  it('without an access key for a --target, names the field and exits 2', async () => {
    const r = await cli(['run', fixture('onenet-small.yaml'), '--target', 'http://127.0.0.1:9', '--quiet'], { env: { OTA_SWARM_ONENET_ACCESS_KEY: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('target.onenet.accessKey');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('an interrupted run', () => {
  it('SIGINT stops the run, writes the partial report marked interrupted, and exits 130', async () => {
    const out = tempDir();
    let sent = false;
    const r = await cli(['run', fixture('onenet-10k.yaml'), '--out', out], {
      onStderr: (text, kill) => {
        // Interrupt once the run is well under way (the first progress line).
        if (!sent && /done \d+\/\d+/.test(text)) {
          sent = true;
          kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    const report = readOnlyReport(out);
    expect(report.interrupted).toBe(true);
    expect(report.endedBy).toBe('interrupted');
    expect(report.passed).toBe(false);
    expect(report.devices.started).toBeGreaterThan(0);
    expect(Object.values(report.operations).reduce((n, o) => n + o.count, 0)).toBeGreaterThan(0);
    expect(report.transitions.violations).toBe(0);
    expect(r.stdout).toContain('INTERRUPTED');
    // What stopped was judged, every rule with its status, and the violations file is there.
    expect(report.verdicts?.map((v) => v.status).every((s) => ['judged', 'partly-judged', 'not-judged'].includes(s))).toBe(true);
    expect(report.verdicts?.map((v) => v.rule)).toEqual(rulesOf('onenet').map((r) => r.name));
    expect(report.transitions.serverAgreement).toMatchObject({ status: 'not-judged', reason: expect.stringMatching(/interrupted/) });
    expect(report.violationsFile).toBe('violations.jsonl');
    expect(existsSync(join(out, readdirSync(out)[0] as string, 'violations.jsonl'))).toBe(true);
  });
});

describe('ota-swarm run --time-scale max against a --target', () => {
  const ADMIN = 'cli-test-admin-token';

  it('runs against a reference server that judges each request at its own instant (serve --time-scale max)', async () => {
    const server = await startServer({ quiet: true, adminToken: ADMIN, clock: { virtualMs: Date.now(), wallMs: Date.now(), scale: 'max' } });
    try {
      const out = tempDir();
      const r = await cli(['run', fixture('onenet-small.yaml'), '--target', server.url, '--time-scale', 'max', '--out', out, '--quiet'], {
        env: { ...KEY_ENV, OTA_SWARM_ADMIN_TOKEN: ADMIN },
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const report = readOnlyReport(out);
      expect(report.timeScale).toBe('max');
      expect(report.transitions.violations).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('refuses, in one line, a target that keeps its own time or whose clock it cannot check', async () => {
    const server = await startServer({ quiet: true, adminToken: ADMIN, timeScale: 1 });
    try {
      const args = ['run', fixture('onenet-small.yaml'), '--target', server.url, '--time-scale', 'max', '--out', tempDir(), '--quiet'];
      const own = await cli(args, { env: { ...KEY_ENV, OTA_SWARM_ADMIN_TOKEN: ADMIN } });
      expect(own.code).toBe(2);
      expect(own.stderr).toBe(`ota-swarm: --time-scale max: ${server.url} must be a reference server started with \`ota-swarm serve --time-scale max\`; its /admin/clock says scale 1\n`);
      const unchecked = await cli(args, { env: { ...KEY_ENV, OTA_SWARM_ADMIN_TOKEN: '' } });
      expect(unchecked.code).toBe(2);
      expect(unchecked.stderr).toMatch(/^ota-swarm: --time-scale max: .* and OTA_SWARM_ADMIN_TOKEN must be set so its clock can be checked\n$/);
    } finally {
      await server.close();
    }
  });
});
