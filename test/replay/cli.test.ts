/** `ota-swarm replay` in-process, without running: what it writes, and a bad line as one line, exit 2. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

function capture(): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  return { out: () => out, err: () => err };
}

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

describe('ota-swarm replay --no-run', () => {
  it('reads a HAR, writes the log in the documented columns (anonymised) and the emitted scenario', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-cli-'));
    const io = capture();
    process.env['OTA_SWARM_REPLAY_SALT'] = 'salt-for-the-cli-test';
    try {
      const code = await main(['replay', join(FIXTURES, 'onenet-field.har'), '--no-run', '--anonymise', '--write-log', join(dir, 'log.csv'), '--emit-scenario', join(dir, 's.yaml')]);
      expect(code).toBe(0);
    } finally {
      delete process.env['OTA_SWARM_REPLAY_SALT'];
    }
    expect(io.out()).toMatch(/onenet-field\.har: har, 10 line\(s\): 1 device script\(s\), 9 calls \(not run: --no-run\)/);
    const csv = readFileSync(join(dir, 'log.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('t,device,dialect,op,method,path,range,body,status,net,errno,code,task,version,bytes,cut');
    expect(csv).not.toContain('522700042');
    expect(readFileSync(join(dir, 's.yaml'), 'utf8')).toMatch(/disconnect:\n\s+count: 1\n\s+at: 95536/);
  });

  it('refuses a bad line in one line naming file:line, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-cli-'));
    const log = join(dir, 'bad.jsonl');
    writeFileSync(log, '{"t":1,"method":"GET","path":"/x"}\n{"t":1,"method":"GET","path":"x"}\n');
    const io = capture();
    expect(await main(['replay', log, '--no-run'])).toBe(2);
    expect(io.err()).toBe(`ota-swarm: ${log}:2: path: "x" does not start with /\n`);
  });

  it('refuses a log with no OneNET or Luat call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-cli-'));
    const log = join(dir, 'other.jsonl');
    writeFileSync(log, '{"t":1,"method":"GET","path":"/healthz","status":200}\n');
    const io = capture();
    expect(await main(['replay', log])).toBe(2);
    expect(io.err()).toBe(`ota-swarm: ${log}: no OneNET or Luat call with a device in it (1 line(s) read, 1 not OTA calls)\n`);
  });
});

describe('ota-swarm replay --target', () => {
  it('loads loopback only unless --allow-remote, and needs the key from the environment', async () => {
    const io = capture();
    expect(await main(['replay', join(FIXTURES, 'onenet-field.har'), '--target', 'http://192.0.2.1:8080'])).toBe(2);
    expect(io.err()).toBe('ota-swarm: --target: 192.0.2.1:8080 is not a loopback address; pass --allow-remote to load a remote server\n');
    const key = process.env['OTA_SWARM_ONENET_ACCESS_KEY'];
    delete process.env['OTA_SWARM_ONENET_ACCESS_KEY'];
    try {
      expect(await main(['replay', join(FIXTURES, 'onenet-field.har'), '--target', 'http://127.0.0.1:9'])).toBe(2);
    } finally {
      if (key !== undefined) process.env['OTA_SWARM_ONENET_ACCESS_KEY'] = key;
    }
    // The OneNET dialect's target spec says which key it lacks and where it reads it from.
    expect(io.err()).toMatch(/ota-swarm: --target: target\.onenet\.accessKey: needed with --target \(e\.g\. accessKey: \{ env: OTA_SWARM_ONENET_ACCESS_KEY \}\)\n$/);
  });
});

describe('ota-swarm run --exchange-log', () => {
  it('refuses a log file it cannot write before the fleet starts, naming the flag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-cli-'));
    const io = capture();
    const scenario = new URL('../../scenarios/rollout-onenet.yaml', import.meta.url).pathname;
    const code = await main(['run', scenario, '--out', dir, '--quiet', '--exchange-log', join(dir, 'missing', 'x.jsonl')]);
    expect(code).toBe(2);
    expect(io.err()).toBe(`ota-swarm: --exchange-log: cannot write ${join(dir, 'missing', 'x.jsonl')} (ENOENT)\n`);
  });
});
