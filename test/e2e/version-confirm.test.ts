/**
 * Luat confirmation without the reference server's conventions (issue 10 item 10): behind a proxy
 * that strips `X-Firmware-Version` and `Content-Disposition` from the reference server's answers,
 * the served version is named nowhere. By default (versionConfirm re-ask) a device that cannot tell
 * the new version ends succeeded labelled unconfirmed, and the report counts them; told the version
 * (`--profile luat.firmwareVersion`) it asks again and a 27 confirms it; told the server names it in
 * a header that never comes, every upgrade fails with the reason and the server is flagged.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, readOnlyReport, tempDir } from './helpers.js';
import { DEFAULT_LUAT_PROJECT_KEY } from '../../src/catalog/default.js';
import { startServer, type RunningServer } from '../../src/server/index.js';

const STRIPPED = new Set(['x-firmware-version', 'content-disposition']);

let upstream: RunningServer;
let proxy: Server;
let proxyUrl: string;

beforeAll(async () => {
  upstream = await startServer({ quiet: true, timeScale: 1 });
  const target = new URL(upstream.url);
  proxy = createServer((req, res) => {
    const out = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const headers = Object.fromEntries(Object.entries(answer.headers).filter(([k]) => !STRIPPED.has(k.toLowerCase())));
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((r) => proxy.close(r));
  await upstream.close();
});

/** 20 modules asking for full files (no diff build), each device range fresh per run. */
function scenario(range: string): string {
  const file = join(tempDir(), 'unlabelled.yaml');
  writeFileSync(
    file,
    `name: unlabelled
dialect: luat
timeScale: 20
target:
  luat: { firmwareName: luat_IoT_SERVER_UPDATE_Luat_RDA8910_TTS_NOVOLTE_FLOAT }
  profile: { luat: { dfota: false } }
fleet:
  cohorts:
    - { name: m, count: 20, ids: "${range}", version: 1.3.1, core: "3032" }
arrival: { pattern: spread, over: 2s }
stop: { after: 50s }
`,
  );
  return file;
}

async function runWith(range: string, flags: string[]) {
  const out = tempDir();
  const r = await cli(['run', scenario(range), '--target', proxyUrl, '--allow-clock-skew', '--quiet', '--out', out, ...flags], {
    env: { OTA_SWARM_LUAT_PROJECT_KEY: DEFAULT_LUAT_PROJECT_KEY, OTA_SWARM_ADMIN_TOKEN: '' },
  });
  expect(r.stderr).toBe('');
  const report = readOnlyReport(out);
  return { code: r.code, report, rule: report.verdicts?.find((v) => v.rule === 'version-confirm') };
}

describe('a Luat server that names no version', () => {
  it('re-ask without a version to ask with: succeeded, labelled unconfirmed and counted', async () => {
    const { code, report, rule } = await runWith('86671404{0005000..0005099}', []);
    expect(code).toBe(0);
    expect(report.devices.byFinalState).toEqual({ succeeded: 20 });
    expect(rule).toMatchObject({ checked: 20, violations: 0, counts: { unconfirmed: 20 } });
    expect(rule?.note).toMatch(/without luat\.firmwareVersion in the profile ends unconfirmed/);
  });

  it('re-ask told the version: asks again with it and the 27 confirms every upgrade', async () => {
    const { code, report, rule } = await runWith('86671404{0005100..0005199}', ['--profile', 'luat.firmwareVersion=1.3.2']);
    expect(code).toBe(0);
    expect(report.devices.byFinalState).toEqual({ succeeded: 20 });
    expect(report.operations['luat']?.byOutcome).toMatchObject({ file: 20, 'code:27': 20 });
    expect(rule).toMatchObject({ checked: 20, violations: 0, counts: { confirmed: 20 } });
  });

  it('header promised but never sent: every upgrade failed with the reason, and the server flagged', async () => {
    const { code, report, rule } = await runWith('86671404{0005200..0005299}', ['--profile', 'luat.versionConfirm=header']);
    expect(code).toBe(1);
    expect(report.devices.byFinalState).toEqual({ failed: 20 });
    expect(rule).toMatchObject({ checked: 20, violations: 20 });
    expect(rule?.samples[0]?.detail).toMatch(/named no version in X-Firmware-Version/);
  });
});
