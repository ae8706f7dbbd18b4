/**
 * A second declared dialect, for a made-up in-house server (test/fixtures/inhouse/server.ts):
 * a rollout (offers, a busy server's wait, refusals, devices already current) and links cut
 * mid-download that resume from the byte held, checked against what the server saw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/api.js';
import { loadScenario } from '../../src/scenario/load.js';
import { startAcme, type AcmeServer } from '../fixtures/inhouse/server.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/inhouse/${name}`, import.meta.url));
const KEYS = { apiKey: 'acme-key-1', secret: 'acme-hmac-secret' };

describe('a declared dialect for an in-house server', () => {
  let acme: AcmeServer;
  beforeAll(async () => {
    acme = await startAcme({ ...KEYS, latest: '2.1.0', imageBytes: 96 * 1024 });
    process.env['ACME_API_KEY'] = KEYS.apiKey;
    process.env['ACME_SECRET'] = KEYS.secret;
  });
  afterAll(async () => {
    await acme.close();
    delete process.env['ACME_API_KEY'];
    delete process.env['ACME_SECRET'];
  });

  it('runs a rollout: every event of the answers mapped, the server sees each install', async () => {
    const report = await run(loadScenario(fixture('rollout.yaml'), { targetUrl: acme.url, allowClockSkew: true }), { workers: 1 });
    expect(report.devices.byFinalState).toEqual({ succeeded: 60, rejected: 10, 'up-to-date': 10 });
    expect(report.transitions.violations).toBe(0);
    // Devices whose id ends in 0 (6 of the fleet, 1 flat battery) are told to wait once: the
    // probe device (7000) was told before the fleet started, outside the histograms.
    expect(report.operations['update']?.byOutcome).toEqual({ busy: 6, refused: 10, 'up-to-date': 10, offered: 60 });
    expect(acme.log.busy).toBe(7);
    expect(acme.log.unauthorized).toBe(0);
    expect(acme.log.installed.size).toBe(60);
    expect([...acme.log.installed.values()].every((v) => v === '2.1.0')).toBe(true);
    // 96 KiB in 16 KiB chunks: progress at 25, 50, 75 (never 100), each once per device.
    expect([...acme.log.progress.values()].every((steps) => steps.join(',') === '25,50,75')).toBe(true);
    expect(report.passed).toBe(true);
  });

  it('wrong credentials: the probe meets the answer marked authFailed and stops the run in one line, the key not in it', async () => {
    process.env['ACME_API_KEY'] = 'not-the-key';
    try {
      const err = await run(loadScenario(fixture('rollout.yaml'), { targetUrl: acme.url, allowClockSkew: true }), { workers: 1 }).then(() => undefined, (e: unknown) => e as Error);
      expect(err?.name).toBe('ConfigError');
      expect(err?.message).toMatch(/^probe: the target refused device 7000 \(cohort fleet\): update unauthorized: the server refused the credentials \(.*acme\.yaml marks this answer authFailed\)\. Key: ACME_API_KEY \(environment, named by target\.acme\.apiKey\)$/);
      expect(err?.message).not.toContain('not-the-key');
    } finally {
      process.env['ACME_API_KEY'] = KEYS.apiKey;
    }
  });

  it('a link cut mid-download resumes with Range from the byte held, and the sha256 matches', async () => {
    const before = acme.log.blobStarts.length;
    const report = await run(loadScenario(fixture('disconnect-resume.yaml'), { targetUrl: acme.url, allowClockSkew: true }), { workers: 1 });
    expect(report.devices.byFinalState).toEqual({ succeeded: 20 });
    expect(report.transitions.violations).toBe(0);
    const starts = acme.log.blobStarts.slice(before);
    // A resume asks from where the cut left the device, which is no chunk boundary.
    const offBoundary = starts.filter((s) => s % (16 * 1024) !== 0);
    expect(offBoundary.length).toBeGreaterThanOrEqual(15);
    expect(report.operations['download']?.byOutcome['bytes']).toBeGreaterThan(20 * 6);
    expect([...acme.log.failed.keys()]).toEqual([]);
    expect(report.passed).toBe(true);
  });
});
