/**
 * Every device judged at scale: 10,000 devices on one worker against a reference server with a
 * named bug, and the devices flagged are exactly the devices the server's own history shows it
 * broke: none dropped (evidence used to be capped near 6,000 devices a worker, and the devices
 * showing these bugs were dropped first), none added. violations.jsonl lists every one of them.
 *
 * A small share of the fleet exercises the bug; the rest are already on the target version and
 * only check. Needs `npm run build` (workers run compiled code).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type BugName, type RunningServer } from '../../src/server/index.js';
import { DEFAULT_ONENET_ACCESS_KEY } from '../../src/catalog/default.js';
import type { Report } from '../../src/report/types.js';
import { cli, readOnlyReport, tempDir } from './helpers.js';

const ADMIN = 'scale-test-admin-token';
/**
 * 1: 10,000 devices (the suite). 10: 100,000 devices, run by hand (`VERDICTS_AT_SCALE=10 npx vitest
 * run --project e2e test/e2e/verdicts-at-scale.test.ts`, a few minutes): the whole OneNET V1.0 range.
 */
const K = process.env['VERDICTS_AT_SCALE'] === '10' ? 10 : 1;
const n = (x: number): number => x * K;
const TIMEOUT = K === 1 ? 170_000 : 900_000;
const KEY_ENV = { OTA_SWARM_ONENET_ACCESS_KEY: DEFAULT_ONENET_ACCESS_KEY, OTA_SWARM_ADMIN_TOKEN: ADMIN };

interface HistoryEntry {
  /** Virtual ms. */
  t: number;
  call: string;
  request: string;
  answer: string;
}

/** The server's own history of each device, from its admin API. */
async function histories(server: RunningServer, ids: readonly string[]): Promise<Map<string, HistoryEntry[]>> {
  const out = new Map<string, HistoryEntry[]>();
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map(async (id) => {
        const res = await fetch(`${server.url}/admin/devices/${id}?dialect=onenet`, { headers: { authorization: `Bearer ${ADMIN}` } });
        const view = (await res.json()) as { history?: HistoryEntry[] };
        out.set(id, view.history ?? []);
      }),
    );
  }
  return out;
}

const range = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => String(from + i));

function violations(out: string): { device: string; rule: string; reason: string; trace: unknown[] }[] {
  const dir = join(out, readdirSync(out)[0] as string);
  return readFileSync(join(dir, 'violations.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { device: string; rule: string; reason: string; trace: unknown[] });
}

const scenario = (bug: BugName, cohorts: string, events = ''): string =>
  [
    `name: scale-${bug}`,
    'dialect: onenet',
    'seed: 5',
    'timeScale: max',
    'target:',
    '  onenet: { productId: "198290", accessKey: { env: OTA_SWARM_ONENET_ACCESS_KEY } }',
    events,
    'fleet:',
    '  cohorts:',
    cohorts,
    // Already on the target version: they check and stop, with nothing for the bug to break.
    `    - { name: current, count: ${n(9000)}, ids: "${522700000 + n(1000)}..${522700000 + n(10000) - 1}", version: V2.0, manuf: "101", model: "10101" }`,
    'arrival: { pattern: all-at-once }',
    `stop: { after: ${K === 1 ? '150s' : '800s'} }`,
  ].join('\n');

async function runAgainst(bug: BugName, yaml: string): Promise<{ server: RunningServer; out: string; report: Report; code: number | null; stderr: string }> {
  const server = await startServer({ quiet: true, adminToken: ADMIN, bugs: [bug], clock: { virtualMs: Date.now(), wallMs: Date.now(), scale: 'max' } });
  const dir = tempDir();
  const file = join(dir, `${bug}.yaml`);
  writeFileSync(file, yaml);
  const out = join(dir, 'out');
  const r = await cli(['run', file, '--target', server.url, '--time-scale', 'max', '--workers', '1', '--out', out, '--quiet'], { env: KEY_ENV, timeoutMs: TIMEOUT - 10_000 });
  return { server, out, report: readOnlyReport(out), code: r.code, stderr: r.stderr };
}

describe(`every device judged at ${n(10_000)} devices on one worker`, { timeout: TIMEOUT }, () => {
  it('ignore-range: the devices flagged by resume-from-held are exactly those the server answered 200 to a partial Range', async () => {
    const ranged = range(522700000, n(1000));
    const { server, out, report, code } = await runAgainst(
      'ignore-range',
      scenario('ignore-range', `    - { name: ranged, count: ${n(1000)}, ids: "522700000..${522700000 + n(1000) - 1}", version: V1.0, manuf: "101", model: "10101", settings: { chunkSize: 16KiB } }`),
    );
    try {
      expect(code).toBe(1);
      expect(report.devices.byFinalState).toMatchObject({ succeeded: n(1000), 'up-to-date': n(9000) });
      // What the server says it did: a download whose Range did not start a whole-file read, answered 200.
      const seen = await histories(server, [...ranged, ...range(522700000 + n(1000), n(9000))]);
      const broken = [...seen].filter(([, h]) => h.some((e) => e.call === 'download' && e.answer.startsWith('http:200') && !/bytes=0-(19660[7-9]|\d{7,})/.test(e.request))).map(([id]) => id);
      expect(broken.length, `a history entry: ${JSON.stringify(seen.get(ranged[0] as string)?.find((e) => e.call === 'download'))}`).toBe(n(1000));
      const v = report.verdicts?.find((x) => x.rule === 'resume-from-held');
      expect(v).toMatchObject({ status: 'judged', checked: n(1000), violations: n(1000) });
      expect(v?.samples).toHaveLength(20);
      const lines = violations(out).filter((l) => l.rule === 'resume-from-held');
      expect(lines.map((l) => l.device).sort()).toEqual(broken.sort());
      expect(lines[0]?.reason).toMatch(/answered 200 with 196608 bytes from byte 0 \(the Range was ignored\)$/);
      expect(report.violationsFile).toBe('violations.jsonl');
    } finally {
      await server.close();
    }
  });

  it('stale-md5: the devices flagged by restart-on-republish are exactly those the server offered the old md5 after the republish', async () => {
    const offline = range(522800000, n(500));
    const { server, out, report, code } = await runAgainst(
      'stale-md5',
      scenario(
        'stale-md5',
        // Cut halfway through the 48 KiB diff, back after the republish at 60 s.
        `    - { name: offline, count: ${n(500)}, ids: "522800000..${522800000 + n(500) - 1}", version: V1.5, manuf: "101", model: "10101", behaviours: { disconnect: { at: 50%, reconnect: 2m } } }`,
        'server:\n  events:\n    - { at: 60s, republish: app-v2-diff }',
      ),
    );
    try {
      expect(code).toBe(1);
      const seen = await histories(server, [...offline, ...range(522700000 + n(1000), n(9000))]);
      // With the bug on, every check offering the task after the republish offers the old md5.
      const republishedAt = report.virtualStartMs + 60_000;
      const broken = [...seen].filter(([, h]) => h.some((e) => e.call === 'check' && e.answer === 'errno:0' && e.t >= republishedAt)).map(([id]) => id);
      expect(broken.length).toBe(n(500));
      const v = report.verdicts?.find((x) => x.rule === 'restart-on-republish');
      expect(v).toMatchObject({ status: 'judged', checked: n(500), violations: n(500) });
      const lines = violations(out).filter((l) => l.rule === 'restart-on-republish');
      expect(lines.map((l) => l.device).sort()).toEqual(broken.sort());
      expect(lines[0]?.reason).toMatch(/after the republish done at 60\.0s, offered md5 .*: the package's md5 before the republish/);
    } finally {
      await server.close();
    }
  });
});
