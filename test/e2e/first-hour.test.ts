/**
 * A new user's first hour: the launcher builds dist/ only when it is missing or older than src/,
 * announcing it in one line (a first run was silent for 19–34 s), and `run --help` agrees with
 * the README on --time-scale max against a --target.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, cli, tempDir } from './helpers.js';

/** A tiny project with the real launcher and a one-line CLI, so a build takes seconds. */
function tinyProject(): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'src', 'cli'), { recursive: true });
  for (const f of ['ota-swarm.js', 'dist-freshness.js']) copyFileSync(join(ROOT, 'bin', f), join(dir, 'bin', f));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'], types: ['node'], rootDir: 'src', outDir: 'dist', strict: true, skipLibCheck: true }, include: ['src/**/*.ts'] }),
  );
  writeFileSync(join(dir, 'src', 'cli', 'main.ts'), "export async function main(): Promise<number> {\n  console.log('ran');\n  return 0;\n}\n");
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

const launch = (dir: string) => spawnSync(process.execPath, [join(dir, 'bin', 'ota-swarm.js')], { cwd: dir, encoding: 'utf8', timeout: 120_000 });

describe('the launcher', () => {
  it('builds a missing dist/ saying so in one line, then runs without building while dist/ is current', () => {
    const dir = tinyProject();
    const first = launch(dir);
    expect(first.stderr).toBe('ota-swarm: building dist/ (first run) ...\n');
    expect(first.stdout).toBe('ran\n');
    expect(first.status).toBe(0);
    const second = launch(dir);
    expect(second.stderr).toBe('');
    expect(second.stdout).toBe('ran\n');
  });

  it('rebuilds when a source is newer than its compiled module', () => {
    const dir = tinyProject();
    launch(dir);
    // As after an edit or a pull: the compiled module is older than its source.
    const earlier = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'dist', 'cli', 'main.js'), earlier, earlier);
    const r = launch(dir);
    expect(r.stderr).toBe('ota-swarm: building dist/ (src/ changed since the last build) ...\n');
    expect(r.stdout).toBe('ran\n');
    expect(launch(dir).stderr).toBe('');
  });
});

describe('run --help', () => {
  it('says --time-scale max also works against a --target whose clock says max', async () => {
    const r = await cli(['run', '--help']);
    const text = r.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('a --target whose /admin/clock says max');
    expect(text).not.toContain('embedded server only');
  });
});
