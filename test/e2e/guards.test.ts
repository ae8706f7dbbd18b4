/**
 * What the CLI refuses or bounds before a fleet starts: more worker threads than cores, a fleet
 * the machine's memory cannot hold, an --out it could not write at the end, oversized or
 * alias-bomb YAML. Each refusal is one line, exit 2, and nothing runs.
 */
import { availableParallelism } from 'node:os';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ONENET_ACCESS_KEY } from '../../src/catalog/default.js';
import { cli, fixture, readOnlyReport, tempDir } from './helpers.js';

const KEY_ENV = { OTA_SWARM_ONENET_ACCESS_KEY: DEFAULT_ONENET_ACCESS_KEY };

describe('bounded resources', () => {
  it('--workers 1000 is capped at the cores, with a one-line warning', async () => {
    const out = tempDir();
    const r = await cli(['run', fixture('onenet-small.yaml'), '--workers', '1000', '--quiet', '--out', out], { env: KEY_ENV });
    expect(r.stderr).toContain(`ota-swarm: --workers 1000 is more than the ${availableParallelism()} core`);
    expect(readOnlyReport(out).harness.workers).toBeLessThanOrEqual(availableParallelism());
  });

  it('a fleet over the machine memory is refused before it starts: one line, exit 2, no report', async () => {
    const out = join(tempDir(), 'reports');
    const r = await cli(['run', fixture('huge-fleet.yaml'), '--out', out], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ota-swarm: \S+huge-fleet\.yaml: fleet\.devices: 100000000 devices need about [\d.]+ GiB \(.*\), more than the [\d.]+ [GM]iB this machine allows \(.*\); run fewer devices or split the fleet over machines\n$/);
    expect(existsSync(out)).toBe(false);
  });

  it('an alias bomb is refused by validate with the file named, exit 2', async () => {
    const file = join(tempDir(), 'bomb.yaml');
    writeFileSync(file, ['a: &a [x,x,x,x,x,x,x,x,x]', ...'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`)].join('\n'));
    const r = await cli(['validate', file], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ota-swarm: ${file}: YAML: Excessive alias count indicates a resource exhaustion attack (at most 100 alias expansions)\n`);
  });
});

describe('--out is checked before the fleet starts', () => {
  it('a file as --out: one line naming --out, exit 2, nothing run', async () => {
    const file = join(tempDir(), 'not-a-folder');
    writeFileSync(file, 'x');
    const r = await cli(['run', fixture('onenet-small.yaml'), '--out', file], { env: KEY_ENV, timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ota-swarm: --out: ${file}: a file is in the way (not a folder)\n`);
  });

  it.runIf(process.platform === 'linux' && existsSync('/proc/self'))('under /proc: refused at once instead of spinning at the end', async () => {
    const r = await cli(['run', fixture('onenet-small.yaml'), '--out', '/proc/ota-swarm-e2e'], { env: KEY_ENV, timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ota-swarm: --out: /proc/ota-swarm-e2e: cannot create or write a folder there (ENOENT)\n');
  });

  it('a writable --out gets the run folder and no probe file', async () => {
    const out = tempDir();
    const r = await cli(['run', fixture('onenet-small.yaml'), '--quiet', '--out', out], { env: KEY_ENV });
    expect(r.code).toBe(0);
    const [dir] = readdirSync(out);
    expect(readdirSync(out)).toHaveLength(1);
    expect(readdirSync(join(out, dir as string)).sort()).toEqual(['junit.xml', 'report.html', 'report.json']);
  });

  it('when --out cannot be written at the end, the reports go to the fallback folder the error line names, exit 1', async () => {
    const base = tempDir();
    const out = join(base, 'reports');
    const tmp = join(base, 'tmp');
    let blocked = false;
    const r = await cli(['run', fixture('onenet-small.yaml'), '--out', out], {
      env: { ...KEY_ENV, TMPDIR: tmp },
      // Once the run has started (the probe passed), a file takes the folder's place.
      onStderr: (text) => {
        if (blocked || !text.includes('e2e-onenet-small: 50 onenet devices')) return;
        blocked = true;
        rmSync(out, { recursive: true, force: true });
        writeFileSync(out, 'in the way');
      },
    });
    expect(blocked).toBe(true);
    expect(r.code).toBe(1);
    const line = /^ota-swarm: --out: cannot write (\S+) \(ENOTDIR\); the reports are in (\S+) instead$/m.exec(r.stderr);
    expect(line?.[1]?.startsWith(out)).toBe(true);
    const fallback = line?.[2] as string;
    expect(fallback.startsWith(join(tmp, 'ota-swarm-'))).toBe(true);
    expect(readdirSync(fallback).sort()).toEqual(['junit.xml', 'report.html', 'report.json']);
    expect(r.stdout).toContain(`report: ${join(fallback, 'report.json')}`);
  });
});
