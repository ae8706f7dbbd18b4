/**
 * The run's north-bound phase: the calls an application backend makes to start and watch a
 * rollout (AIOT open API, spec §4), before the fleet starts. Each call's latency (real ms, from
 * the send to the whole answer) goes into a histogram per operation (`aiot.query`,
 * `aiot.upgrade`), reported beside the devices' operations. A refused upgrade, an answer that is
 * not the API's, or a wait that times out stops the run with one line naming the step.
 */
import { LatencyHistogram } from '../metrics/histogram.js';
import type { OperationReport } from '../report/types.js';
import type { StepResult } from '../report/application-types.js';
import { AIOT_PATHS, AiotCode, type FirmwareEntry } from '../protocol/aiot.js';
import type { NorthboundStep } from '../scenario/application.js';

export interface NorthboundKeys {
  appId: string;
  appKey: string;
  accessToken: string;
  openId: string;
}

export type NorthboundOp = 'aiot.query' | 'aiot.upgrade';

export interface CallRecord {
  op: NorthboundOp;
  outcome: string;
  ms: number;
}


/** The answer's `{code, result}`, or what was wrong. */
type Answer = { code: number; result: unknown } | { error: string; outcome: string };

const CALL_TIMEOUT_MS = 30_000;

export class NorthboundClient {
  readonly calls: CallRecord[] = [];

  constructor(
    private readonly baseUrl: string,
    private readonly keys: NorthboundKeys,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  private async call(op: NorthboundOp, path: string, did: string | undefined): Promise<Answer> {
    const body = JSON.stringify(did === undefined ? { openId: this.keys.openId } : { openId: this.keys.openId, did });
    const headers = { 'content-type': 'application/json', Appid: this.keys.appId, Appkey: this.keys.appKey, Openid: this.keys.openId, 'Access-Token': this.keys.accessToken };
    const t0 = performance.now();
    let answer: Answer;
    try {
      const res = await this.fetchImpl(new URL(path, this.baseUrl), { method: 'POST', headers, body, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
      const text = await res.text();
      if (res.status !== 200) answer = { error: `HTTP ${res.status}`, outcome: `http:${res.status}` };
      else answer = readAnswer(text);
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      answer = { error: `no answer (${code})`, outcome: `net:${code}` };
    }
    this.calls.push({ op, outcome: 'code' in answer ? `code:${answer.code}` : answer.outcome, ms: performance.now() - t0 });
    return answer;
  }

  query(did: string): Promise<Answer> {
    return did === 'all' ? this.call('aiot.query', AIOT_PATHS.queryAll, undefined) : this.call('aiot.query', AIOT_PATHS.querySelected, did);
  }

  upgrade(did: string): Promise<Answer> {
    return did === 'all' ? this.call('aiot.upgrade', AIOT_PATHS.upgradeAll, undefined) : this.call('aiot.upgrade', AIOT_PATHS.upgradeSelected, did);
  }

  /** Runs the steps in order; stops at the first that fails (its result says why). */
  async run(steps: readonly NorthboundStep[], signal?: AbortSignal): Promise<StepResult[]> {
    const out: StepResult[] = [];
    for (const [i, s] of steps.entries()) {
      if (signal?.aborted) break;
      const name = `application.northbound.${i} (${s.kind}${s.kind === 'wait' ? ` until ${s.until}` : ` ${s.did}`})`;
      const r = await this.step(s, signal);
      out.push({ step: name, ...r });
      if (!r.ok) break;
    }
    return out;
  }

  private async step(s: NorthboundStep, signal?: AbortSignal): Promise<{ ok: boolean; detail: string }> {
    if (s.kind === 'upgrade') {
      const a = await this.upgrade(s.did);
      if ('error' in a) return { ok: false, detail: a.error };
      return a.code === AiotCode.OK ? { ok: true, detail: String(a.result) } : { ok: false, detail: `refused: code ${a.code} (${String(a.result)})` };
    }
    if (s.kind === 'query') {
      const a = await this.query(s.did);
      if ('error' in a) return { ok: false, detail: a.error };
      const list = firmwareList(a.result);
      if (a.code !== AiotCode.OK || list === undefined) return { ok: false, detail: `code ${a.code}${list === undefined ? ', result is not a firmware list' : ''}` };
      return { ok: true, detail: `${list.length} device(s) upgradable${list[0] ? ` (e.g. ${list[0].did}: ${list[0].firmwareVersion} → ${list[0].upgradeFirmware?.firmwareVersion ?? '?'})` : ''}` };
    }
    const deadline = performance.now() + s.timeoutMs;
    let last = '';
    for (;;) {
      const a = await this.query('all');
      const list = 'error' in a ? undefined : firmwareList(a.result);
      if (list !== undefined && 'code' in a && a.code === AiotCode.OK) {
        last = `${list.length} device(s) upgradable`;
        if ((s.until === 'none-upgradable') === (list.length === 0)) return { ok: true, detail: last };
      } else last = 'error' in a ? a.error : `code ${a.code}`;
      if (performance.now() + s.everyMs > deadline || signal?.aborted) return { ok: false, detail: `timed out after ${s.timeoutMs} ms (last: ${last})` };
      await new Promise((r) => setTimeout(r, s.everyMs));
    }
  }

  /** The calls as report operations, one per op (latency from intent and from send are one here: calls go one at a time, at once). */
  operations(): Record<string, OperationReport> {
    const out: Record<string, OperationReport> = {};
    for (const op of ['aiot.query', 'aiot.upgrade'] as const) {
      const mine = this.calls.filter((c) => c.op === op);
      if (mine.length === 0) continue;
      const h = new LatencyHistogram();
      const byOutcome: Record<string, number> = {};
      let errors = 0;
      for (const c of mine) {
        h.record(c.ms);
        byOutcome[c.outcome] = (byOutcome[c.outcome] ?? 0) + 1;
        if (!c.outcome.startsWith('code:')) errors++;
      }
      const encoded = h.encode();
      out[op] = { count: mine.length, errors, byOutcome, latencyMs: h.summary(), serviceMs: h.summary(), histogram: encoded, serviceHistogram: encoded };
    }
    return out;
  }
}

function readAnswer(text: string): Answer {
  try {
    const v = JSON.parse(text) as { code?: unknown; result?: unknown };
    if (typeof v === 'object' && v !== null && typeof v.code === 'number') return { code: v.code, result: v.result };
  } catch {
    // fall through
  }
  return { error: 'the answer is not {code, result}', outcome: 'bad-answer' };
}

function firmwareList(result: unknown): FirmwareEntry[] | undefined {
  if (!Array.isArray(result)) return undefined;
  return result.every((e) => typeof e === 'object' && e !== null && typeof (e as FirmwareEntry).did === 'string') ? (result as FirmwareEntry[]) : undefined;
}
