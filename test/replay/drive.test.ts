/**
 * Replay scripts driven on a fake clock against a fake server: the gaps of a HAR and an nginx
 * log honoured (sleeps as sleeps), cuts and lost answers enacted, tasks taken from the new
 * answers, and the first differing answer found.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HttpRequest, HttpResult } from '../../src/dialect/types.js';
import { OperationRecorder, operationsReport } from '../../src/metrics/recorder.js';
import { driveReplay, type ReplayClock, type ReplayedCall } from '../../src/replay/drive.js';
import { readLog } from '../../src/exchanges/read-log.js';
import { buildScripts, cloneScript, idRange, SLEEP_GAP_MS, type DeviceScript } from '../../src/replay/script.js';
import { differences } from '../../src/replay/compare.js';
import { parseNginx } from '../../src/exchanges/formats/nginx.js';
import { ReplayEvidence, REPLAY_NOT_JUDGED } from '../../src/replay/verdicts.js';
import { HttpTransport } from '../../src/engine/http-transport.js';
import type { RawResult } from '../../src/engine/network.js';
import { rulesOf } from '../../src/verdicts/registry.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { DEFAULT_ONENET_ACCESS_KEY } from '../../src/catalog/default.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const TARGET = {
  onenet: { productId: '198290', accessKey: DEFAULT_ONENET_ACCESS_KEY, signMethod: 'sha1' as const, tokenTtlSec: 3600 },
  luat: { projectKey: 'testProjectKey', firmwareName: 'fw' },
};

/** A clock that jumps to each instant slept until; it records every sleep. */
function fakeClock(start: number): ReplayClock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    realAt: (v) => v - start,
    sleepUntil: async (v) => {
      sleeps.push(v);
      if (v > now) now = v;
    },
  };
}

const json = (status: number, body: unknown): HttpResult => ({ kind: 'response', status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) });
const bytes = (status: number, n: number, cut = false, from?: number): HttpResult => ({
  kind: 'response',
  status,
  headers: from !== undefined ? { 'content-range': `bytes ${from}-${from + n - 1}/196608` } : {},
  body: new Uint8Array(n),
  ...(cut ? { cut: true } : {}),
});
const RANGE = /bytes=(\d+)-(\d+)/;
/** The fake's file is 196608 zero bytes: its md5, as the check offers it. */
const FILE_MD5 = createHash('md5').update(new Uint8Array(196608)).digest('hex');

/** A OneNET server that hands out `token` and serves ranges of a 196608-byte file; it records what it was sent. */
function fakeOnenet(token: string, opts: { ignoreRange?: boolean } = {}) {
  const sent: HttpRequest[] = [];
  const send = async (req: HttpRequest): Promise<HttpResult> => {
    sent.push(req);
    if (req.fault?.loseAnswer) return { kind: 'error', code: 'ANSWER_LOST' };
    if (req.path.startsWith('/ota/south/check')) return json(200, { errno: 0, error: 'succ', data: { target: 'V2.0', token, size: 196608, md5: FILE_MD5 } });
    if (req.path.startsWith('/ota/south/download/') && !req.path.includes('/check')) {
      const m = RANGE.exec(req.headers['Range'] ?? '');
      if (opts.ignoreRange || !m) return bytes(200, 196608);
      const n = Number(m[2]) - Number(m[1]) + 1;
      const cut = req.fault?.cutAfterBytes;
      return cut !== undefined && cut < n ? bytes(206, cut, true, Number(m[1])) : bytes(206, n, false, Number(m[1]));
    }
    return json(200, { errno: 0, error: 'succ' });
  };
  return { sent, send };
}

async function drive(scripts: DeviceScript[], send: (req: HttpRequest) => Promise<HttpResult>, start = 1_000_000) {
  const clock = fakeClock(start);
  const calls: ReplayedCall[] = [];
  const recorder = new OperationRecorder();
  // The fake server behind the engine's HTTP transport (each device a slot): downloads are assembled as a run's are.
  const transport = new HttpTransport({ send: async (req) => (await send(req)) as RawResult, abortAll: () => {}, close: async () => {} });
  const result = await driveReplay({ scripts, target: TARGET, clock, startVirtual: start, transport, timeoutMs: 1000, recorder, onCall: (c) => calls.push(c) });
  return { result, calls, clock, recorder };
}

describe('a HAR capture replayed on a fake clock', () => {
  const log = readLog(join(FIXTURES, 'onenet-field.har'));
  const set = buildScripts(log.exchanges);

  it('makes one script of the device: its calls in order, the two-hour gap a sleep, the cut, the lost answer and its retransmission', () => {
    expect(set.notCalls).toBe(1); // the favicon
    expect(set.scripts).toHaveLength(1);
    const s = set.scripts[0]!;
    expect(s.device).toBe('522700042');
    expect(s.steps.map((x) => x.op)).toEqual(['reportVersion', 'check', 'tokenCheck', 'download', 'download', 'download', 'download', 'result', 'result']);
    expect(s.steps.map((x) => x.gapMs)).toEqual([0, 2500, 500, 1000, 1000, 7_200_000, 1000, 1000, 2000]);
    expect(s.steps.map((x) => x.sleep)).toEqual([false, false, false, false, false, true, false, false, false]);
    expect(s.steps[4]?.cutAfterBytes).toBe(30000);
    expect(s.steps.filter((x) => x.cutAfterBytes !== undefined)).toHaveLength(1);
    expect(s.steps[7]?.loseAnswer).toBe(true);
    expect(s.steps[8]?.retransmission).toBe(true);
    expect(s.steps.filter((x) => x.retransmission)).toHaveLength(1);
  });

  it('sends each call at its logged offset (the sleep included), with the new task in every later path', async () => {
    const server = fakeOnenet('ota_newTaskFromTheServer01');
    const { result, calls, clock } = await drive(set.scripts, server.send);
    const t0 = log.exchanges[0]!.t;
    const logged = log.exchanges.filter((e) => !e.path.startsWith('/favicon')).map((e) => e.t - t0);
    expect(calls.map((c) => c.decidedAt - 1_000_000)).toEqual(logged);
    expect(calls.map((c) => c.sentAt - 1_000_000)).toEqual(logged);
    expect(clock.sleeps.map((v) => v - 1_000_000)).toEqual(logged);
    // Dependent values: the token of the replay's own check, never the logged one.
    const later = server.sent.slice(2);
    expect(later.every((r) => r.path.includes('ota_newTaskFromTheServer01') && !r.path.includes('ota_fieldTok3n'))).toBe(true);
    // Same Range offsets, the same cut, the same lost answer; JSON calls signed for the target.
    expect(server.sent.slice(3, 7).map((r) => r.headers['Range'])).toEqual(['bytes=0-65535', 'bytes=65536-131071', 'bytes=95536-131071', 'bytes=131072-196607']);
    expect(server.sent[4]?.fault).toEqual({ cutAfterBytes: 30000 });
    expect(server.sent[7]?.fault).toEqual({ loseAnswer: true });
    expect(server.sent[8]?.fault).toBeUndefined();
    expect(server.sent[1]?.headers['Authorization']).toMatch(/^version=2018-10-31&res=products%2F198290/);
    expect(result).toEqual([{ device: '522700042', dialect: 'onenet', calls: 9, replayed: 9, differing: 0 }]);
  });

  it('names the first call a changed server answers differently, with both answers', async () => {
    const { result, recorder } = await drive(set.scripts, fakeOnenet('t', { ignoreRange: true }).send);
    const first = result[0]?.first;
    expect(first).toMatchObject({ index: 3, op: 'download', fields: ['status', 'bytes'], logged: { status: 206, bytes: 65536 }, now: { status: 200, bytes: 196608 } });
    expect(first?.where).toMatch(/log\.entries\[3\]$/);
    // A task token is a download's credential: the report names it TASK.
    expect(first?.request).toBe('GET /ota/south/download/TASK (Range bytes=0-65535)');
    expect(result[0]?.differing).toBe(4);
    // Two histograms per operation, as in a run.
    const ops = operationsReport(recorder.snapshot());
    expect(ops['download']?.count).toBe(4);
    expect(ops['download']?.serviceMs).toBeDefined();
  });
});

describe('an nginx access log replayed on a fake clock', () => {
  const log = readLog(join(FIXTURES, 'luat-access.log'));
  const set = buildScripts(log.exchanges);

  it('keeps the Luat device\'s gaps (two sleeps) and replays its asks with the target\'s project key', async () => {
    expect(set.notCalls).toBe(1); // the health check
    const s = set.scripts[0]!;
    expect(s.device).toBe('866714040000123');
    expect(s.steps.map((x) => [x.gapMs, x.sleep])).toEqual([[0, false], [90_000, true], [180_000, true]]);
    const sent: HttpRequest[] = [];
    const answers = [json(400, { code: 43, msg: 'wait' }), json(400, { code: 43, msg: 'wait' }), bytes(200, 20480)];
    const { calls, result } = await drive(set.scripts, async (req) => {
      sent.push(req);
      return answers[sent.length - 1]!;
    });
    expect(calls.map((c) => c.decidedAt - 1_000_000)).toEqual([0, 90_000, 270_000]);
    expect(sent.every((r) => r.path.includes('project_key=testProjectKey') && !r.path.includes('REALKEY'))).toBe(true);
    expect(result[0]).toMatchObject({ replayed: 3, differing: 0 });
  });

  it('finds a server that now sends the file at once (no 43): the first ask differs, and diff-wait names the device', async () => {
    const { result, calls } = await drive(set.scripts, async () => bytes(200, 20480));
    expect(result[0]?.first).toMatchObject({ index: 0, fields: ['status'], logged: { status: 400 }, now: { status: 200, bytes: 20480 } });
    const v = await judged(set.scripts, calls);
    expect(v.rules.map((x) => x.rule).sort()).toEqual(rulesOf('luat').map((r) => r.name).sort());
    expect(v.rules.find((x) => x.rule === 'diff-wait')).toMatchObject({ violations: 1, samples: [{ device: '866714040000123', detail: expect.stringMatching(/should have been 43/) }] });
  });

  it('fails stale-task when the file sent is of the version the device asks with (the Luat wire reads its X-Firmware-Version)', async () => {
    const stale: HttpResult = { kind: 'response', status: 200, headers: { 'x-firmware-version': '1.3.1' }, body: new Uint8Array(20480) };
    const answers = [json(400, { code: 43, msg: 'wait' }), json(400, { code: 43, msg: 'wait' }), stale];
    let n = 0;
    const { calls } = await drive(set.scripts, async () => answers[n++]!);
    const v = await judged(set.scripts, calls);
    expect(v.rules.find((x) => x.rule === 'stale-task')).toMatchObject({ violations: 1, samples: [{ device: '866714040000123', detail: expect.stringMatching(/was sent a file of version 1\.3\.1, the version it already runs/) }] });
    expect(v.rules.find((x) => x.rule === 'diff-wait')).toMatchObject({ violations: 0 });
  });

  it('ties a download with no device in its path to the device that checked its token, and rebuilds its Range', () => {
    const lines = [
      '1.1.1.1 - - [20/Nov/2026:08:00:00 +0000] "GET /ota/south/download/tokA/check?dev_id=522700001 HTTP/1.1" 200 30 "-" "-"',
      '1.1.1.1 - - [20/Nov/2026:08:00:01 +0000] "GET /ota/south/download/tokA HTTP/1.1" 206 16384 "-" "-"',
      '1.1.1.1 - - [20/Nov/2026:08:00:02 +0000] "GET /ota/south/download/tokA HTTP/1.1" 206 16384 "-" "-"',
      '1.1.1.1 - - [20/Nov/2026:08:00:03 +0000] "GET /ota/south/download/tokB HTTP/1.1" 206 16384 "-" "-"',
    ].join('\n');
    const s = buildScripts(parseNginx(lines, 'a.log'));
    expect(s.noDevice).toBe(1);
    expect(s.scripts[0]?.steps.map((x) => x.range)).toEqual([undefined, 'bytes=0-16383', 'bytes=16384-32767']);
  });
});

describe('comparison', () => {
  const step = (logged: object, extra: object = {}) => ({ where: 'f:1', atMs: 0, gapMs: 0, sleep: false, op: 'check', file: false, method: 'GET', path: '/', retransmission: false, logged, ...extra });
  it('compares what the log says, and reads a lost answer and a timeout alike', () => {
    expect(differences(step({ status: 200, errno: 0, task: 'a', version: 'V2' }), { status: 200, errno: 0, task: 'b', version: 'V2' })).toEqual([]);
    expect(differences(step({ status: 200, errno: 0, task: 'a' }), { status: 200, errno: 11 })).toEqual(['errno', 'task']);
    expect(differences(step({ status: 200, errno: 0, version: 'V2' }), { status: 200, errno: 0, version: 'V3' })).toEqual(['version']);
    expect(differences(step({ net: 'TIMEOUT' }), { net: 'ANSWER_LOST' })).toEqual([]);
    expect(differences(step({ net: 'TIMEOUT' }), { status: 200, errno: 0 })).toEqual(['status']);
    expect(differences(step({ status: 200 }), { net: 'ECONNREFUSED' })).toEqual(['status', 'net']);
    // An access log knows no JSON: a task cannot be compared.
    expect(differences(step({ status: 200, bytes: 80 }), { status: 200, errno: 0, task: 'x' })).toEqual([]);
    // A file's bytes; a cut the replay enacts compares status and bytes only.
    expect(differences(step({ status: 206, bytes: 10, cut: true }, { file: true, cutAfterBytes: 10 }), { status: 206, bytes: 10, cut: true })).toEqual([]);
    expect(differences(step({ status: 206, bytes: 10 }, { file: true }), { status: 206, bytes: 9 })).toEqual(['bytes']);
  });
});

describe('clones', () => {
  it('puts one device\'s log on N ids spread over the window', () => {
    const set = buildScripts(readLog(join(FIXTURES, 'luat-access.log')).exchanges);
    const clones = cloneScript(set.scripts[0]!, 4, 600_000);
    expect(clones.map((c) => c.device)).toEqual(['866714040000123', '866714040000124', '866714040000125', '866714040000126']);
    expect(clones.map((c) => c.steps[0]?.atMs)).toEqual([0, 150_000, 300_000, 450_000]);
    expect(clones[2]?.steps.map((s) => s.atMs)).toEqual([300_000, 390_000, 570_000]);
    expect(clones[3]?.steps[0]?.path).toContain('imei=866714040000126');
    expect(idRange('0007', 3)).toEqual(['0007', '0008', '0009']);
    expect(idRange('dev-a', 2)).toEqual(['dev-a', 'dev-a-1']);
    expect(SLEEP_GAP_MS).toBe(60_000);
  });
});

/** The replayed calls judged by the run's verdict pipeline. */
async function judged(scripts: DeviceScript[], calls: readonly ReplayedCall[], violationsFile?: string) {
  const evidence = new ReplayEvidence(scripts, 1_000_000, TARGET);
  for (const c of calls) evidence.add(c);
  return evidence.judge({ log: () => {}, ...(violationsFile !== undefined ? { violationsFile } : {}) });
}

describe('the verdicts a replay judges, through the run\'s pipeline', () => {
  const set = buildScripts(readLog(join(FIXTURES, 'onenet-field.har')).exchanges);

  it('fails one-success-per-task when the server accepts the device\'s second 201 for one task, naming the device in the report and in the violations file', async () => {
    const { calls } = await drive(set.scripts, fakeOnenet('tok').send);
    const file = join(mkdtempSync(join(tmpdir(), 'replay-verdicts-')), 'violations.jsonl');
    const v = await judged(set.scripts, calls, file);
    const one = v.rules.find((x) => x.rule === 'one-success-per-task');
    expect(one).toMatchObject({ status: 'partly-judged', checked: 1, violations: 1 });
    expect(one?.samples[0]).toMatchObject({ device: '522700042', detail: expect.stringMatching(/^result step 201 at .* was answered errno 0 \(expected 20, task finished\)$/) });
    // The trace is the dialect's own words for the replayed calls, the token never by its value.
    expect(one?.samples[0]?.trace.map((t) => t.request)).toContain('result step=201 token#1 [answer lost]');
    expect(v.violationsFiles).toEqual([file]);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { device: string; rule: string });
    expect(lines).toEqual([expect.objectContaining({ device: '522700042', rule: 'one-success-per-task' })]);
  });

  it('reports every rule of the dialect: judged from the exchanges, or not judged with the reason', async () => {
    const { calls } = await drive(set.scripts, fakeOnenet('tok').send);
    const v = await judged(set.scripts, calls);
    expect(v.rules.map((x) => x.rule).sort()).toEqual(rulesOf('onenet').map((r) => r.name).sort());
    for (const [rule, reason] of REPLAY_NOT_JUDGED) if (rulesOf('onenet').some((r) => r.name === rule)) expect(v.rules.find((x) => x.rule === rule)).toMatchObject({ status: 'not-judged', reason, checked: 0 });
    // The rules that read the exchanges are judged on them (the device's end is not there: partly).
    for (const rule of ['own-token', 'resume-from-held', 'stale-task']) expect(v.rules.find((x) => x.rule === rule)).toMatchObject({ status: 'partly-judged', checked: 1, violations: 0 });
    expect(v.rules.find((x) => x.rule === 'resume-from-held')?.counts).toEqual({ cuts: 1, resumed: 1 });
    expect(v.rules.find((x) => x.rule === 'restart-on-republish')).toMatchObject({ status: 'not-judged', reason: expect.stringMatching(/no republish happened/) });
  });

  it('fails resume-from-held when the server ignores the Range (the bytes the transport assembled, as in a run)', async () => {
    const { calls } = await drive(set.scripts, fakeOnenet('t', { ignoreRange: true }).send);
    const v = await judged(set.scripts, calls);
    expect(v.rules.find((x) => x.rule === 'resume-from-held')).toMatchObject({ violations: 1, samples: [{ device: '522700042', detail: expect.stringMatching(/the Range was ignored/) }] });
  });

  it('leaves out, and says so, the downloads of a log that starts after the check (the bytes held are unknown), never blaming the Range', async () => {
    const script = set.scripts[0]!;
    const fromDownloads = [{ ...script, steps: script.steps.filter((x) => x.op === 'download') }];
    const { calls } = await drive(fromDownloads, fakeOnenet('tok').send);
    const v = await judged(fromDownloads, calls);
    expect(v.rules.find((x) => x.rule === 'resume-from-held')).toMatchObject({ status: 'not-judged', checked: 0, violations: 0, reason: expect.stringContaining('4 download(s) made before any check of the log offered the file\'s size are not in the evidence') });
  });

  it('passes a server that answers the duplicate 201 with 20', async () => {
    const server = fakeOnenet('tok');
    let results = 0;
    const send = async (req: HttpRequest): Promise<HttpResult> => (req.body === '{"step":201}' && ++results > 1 ? json(200, { errno: 20, error: 'finished' }) : server.send(req));
    const { calls } = await drive(set.scripts, send);
    const v = await judged(set.scripts, calls);
    expect(v.error).toBeUndefined();
    expect(v.rules.every((x) => x.violations === 0)).toBe(true);
    expect(v.rules.find((x) => x.rule === 'one-success-per-task')).toMatchObject({ checked: 1, counts: { 'duplicates-answered-20': 1 } });
  });
});
