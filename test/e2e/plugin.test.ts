/** A dialect brought by a plugin module runs like a built-in one: in the main thread and the workers. */
import { expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { cli, fixture } from './helpers.js';

it('runs devices of a plugin dialect, from the API and from the CLI', async () => {
  const report = await run(fixture('hello.yaml'), { workers: 2, plugins: [fixture('plugins/hello-dialect.mjs')] });
  expect(report.dialect).toBe('hello');
  expect(report.devices.byFinalState).toEqual({ 'told-off': 50 });
  expect(report.operations['hello']?.byOutcome).toEqual({ 'code:3': 50 });
  expect(report.transitions.violations).toBe(0);
  expect(report.passed).toBe(true);

  const ok = await cli(['validate', fixture('hello.yaml'), '--plugin', fixture('plugins/hello-dialect.mjs')]);
  expect(ok.code).toBe(0);
  const without = await cli(['validate', fixture('hello.yaml')]);
  expect(without.code).toBe(2);
  expect(without.stderr).toContain('dialect: unknown dialect "hello"');
  const broken = await cli(['validate', fixture('hello.yaml'), '--plugin', fixture('hello.yaml')]);
  expect(broken.code).toBe(2);
  expect(broken.stderr.trim().split('\n')).toHaveLength(1);
  expect(broken.stderr).toContain('--plugin');
});

it('a plugin whose decode throws: each request counted as an error, each device a plugin error with a formatted time', async () => {
  const report = await run(fixture('throwing.yaml'), { workers: 1, plugins: [fixture('plugins/throwing-dialect.mjs')] });
  expect(report.operations['ask']).toMatchObject({ count: 20, errors: 20, byOutcome: { 'plugin-error:decode': 20 } });
  expect(report.devices.byFinalState).toEqual({ 'plugin-error': 20 });
  expect(report.transitions.byRule).toEqual({ 'plugin-error': 20 });
  expect(report.transitions.samples[0]?.detail).toMatch(/^the dialect plugin threw in asking at \d+(\.\d+)?(ms|s): cannot read properties of undefined/);
  expect(report.passed).toBe(false);
});
