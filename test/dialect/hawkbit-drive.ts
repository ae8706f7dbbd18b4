/**
 * One hawkBit device, driven to its end against a real reference server with the dialect's own
 * machine (inside the transmission layer), wire and evidence codec: what the engine does, without
 * workers or timers. Virtual time jumps from one action to the next; every request carries it in
 * the x-ota-swarm-virtual-ms header, so a server at `--time-scale max` judges each at its instant.
 * Field faults are enacted here as the engine does: a lost answer (the server processes the
 * request, the device hears nothing) and a link cut after N bytes.
 */
import { request } from 'undici';
import { hawkbitPlugin } from '../../src/dialect/registry.js';
import type { HttpResult } from '../../src/dialect/types.js';
import type { HawkbitAnswer, HawkbitRequest } from '../../src/device/hawkbit/types.js';
import type { HawkbitSettings } from '../../src/dialect/hawkbit/wire.js';
import { DownloadSink } from '../../src/engine/download-sink.js';
import type { Action, DeviceProfile, DeviceSettings } from '../../src/device/types.js';
import type { DeviceEvidence, Exchange } from '../../src/verdicts/evidence.js';

export interface Drive {
  evidence: DeviceEvidence;
  kinds: string[];
  final: { kind: string; [k: string]: unknown };
}

type State = { readonly kind: string; readonly inner?: { readonly kind: string } };

/** Drives `profile` to its end (bounded by `maxSteps`); `onKind` is told each kind entered. */
export async function drive(
  url: string,
  profile: DeviceProfile,
  settings: DeviceSettings,
  o: {
    start?: number;
    maxSteps?: number;
    target?: HawkbitSettings;
    onKind?: (kind: string, state: State) => Promise<void> | void;
    /** The radio loses this request's answer (the server processed it). */
    lose?: (req: HawkbitRequest) => boolean;
  } = {},
): Promise<Drive> {
  const { machine, wire, evidence } = hawkbitPlugin;
  const sink = new DownloadSink();
  let now = o.start ?? 1_000_000_000_000;
  const origin = now;
  let step = machine.start(profile, settings, now);
  const kinds: string[] = [];
  const exchanges: Exchange[] = [];
  const enter = async (st: State): Promise<void> => {
    if (kinds[kinds.length - 1] !== st.kind) {
      kinds.push(st.kind);
      await o.onKind?.(st.kind, st);
    }
  };
  await enter(step.state as State);
  for (let i = 0; i < (o.maxSteps ?? 5000); i++) {
    const action = step.action as Action<HawkbitRequest>;
    if (action.type === 'stop') break;
    if (action.type === 'sleep') {
      now = Math.max(now, action.until);
      step = machine.onTimer(step.state, profile, settings, now);
      await enter(step.state as State);
      continue;
    }
    const req = action.request;
    const lost = o.lose?.(req) === true;
    const encoded = wire.encode(req, o.target, now);
    const http = lost ? { ...encoded, fault: { ...encoded.fault, loseAnswer: true } } : encoded;
    const result = await exchange(url, http, now, sink);
    const answer = wire.decode(req, result) as HawkbitAnswer;
    const facts = { ...evidence.factsOf(req, result, answer, { sentVirtual: now, authTtlSec: undefined }), ...(lost ? { lost: true } : {}) };
    step = machine.onAnswer(step.state, answer, profile, settings, now);
    exchanges.push({ decided: now - origin, sent: now - origin, answered: now - origin, op: wire.operationOf(req), outcome: wire.outcomeOf(answer), state: step.state.kind, facts });
    await enter(step.state as State);
  }
  const inner = ((step.state as State).inner ?? step.state) as Drive['final'];
  const b = profile.behaviour;
  return {
    kinds,
    final: inner,
    evidence: {
      id: profile.id,
      index: profile.index,
      cohort: profile.cohort,
      profile: { version: profile.version, manuf: profile.manuf, model: profile.model, core: profile.core, signal: profile.signal, battery: profile.battery, taskType: profile.taskType },
      behaviour: b,
      final: { kind: inner.kind },
      exchanges,
      truncated: 0,
    },
  };
}

async function exchange(url: string, http: ReturnType<typeof hawkbitPlugin.wire.encode>, now: number, sink: DownloadSink): Promise<HttpResult> {
  const res = await request(url + http.path, {
    method: http.method,
    headers: { ...http.headers, 'x-ota-swarm-virtual-ms': String(now) },
    body: http.body ?? null,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  let body = Buffer.from(await res.body.arrayBuffer());
  if (http.fault?.loseAnswer) return { kind: 'error', code: 'ANSWER_LOST' };
  const headers = res.headers as Record<string, string | undefined>;
  let cut = false;
  if (http.fault?.cutAfterBytes !== undefined && http.fault.cutAfterBytes < body.length) {
    body = body.subarray(0, http.fault.cutAfterBytes);
    cut = true;
  }
  if (http.download !== undefined && (res.statusCode === 200 || res.statusCode === 206)) {
    const held = sink.accept(0, res.statusCode, headers['content-range'], body, http.download.total);
    return { kind: 'response', status: res.statusCode, headers, body, held: held.held, ...(held.md5 !== undefined ? { md5: held.md5 } : {}), ...(cut ? { cut } : {}) };
  }
  return { kind: 'response', status: res.statusCode, headers, body };
}
