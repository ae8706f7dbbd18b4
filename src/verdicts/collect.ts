/**
 * A worker's evidence: each device's exchanges while it runs, handed to the sink (the worker's
 * spill file, ./spill.ts) the moment it stops, so every device is judged and a worker's memory is
 * bounded by the devices still running (at most MAX_EXCHANGES exchanges each) plus a constant.
 * Without a sink (tests, the programmatic collector) stopped devices are kept in memory.
 */
import type { DialectPlugin } from '../dialect/types.js';
import type { DeviceProfile } from '../device/types.js';
import { innerState } from '../device/retransmit.js';
import type { DeviceEvidence, EvidenceBatch, EvidenceCodec, Exchange, FinalState } from './evidence.js';

/** Exchanges kept per device (the rest counted in `truncated`). */
export const MAX_EXCHANGES = 400;

export interface CollectorOptions {
  codec: EvidenceCodec<unknown, unknown, unknown>;
  /** The operation (histogram name) of a request. */
  operationOf(request: unknown): string;
  /** Virtual instant exchange times are measured from (the run's start). */
  originVirtual: number;
  /** Lifetime of the Authorization the dialect signs, s (its target spec's authTtlSec), to tell an expired one. */
  authTtlSec: number | undefined;
  profileOf(slot: number): DeviceProfile;
  /** Where each stopped device's evidence goes (absent: kept in memory and returned by `finish`). */
  sink?: EvidenceSink;
}

/** Takes a stopped device's evidence out of the collector (e.g. ./spill.ts). */
export interface EvidenceSink {
  append(d: DeviceEvidence): void;
  /** Everything appended is stored; nothing is appended after. */
  close(): void;
  /** The file the evidence went to. */
  readonly file: string;
}

interface Live {
  exchanges: Exchange[];
  truncated: number;
}

export class EvidenceCollector {
  private readonly live = new Map<number, Live>();
  private readonly kept: DeviceEvidence[] = [];
  private readonly names = new Map<string, string>();
  private seen = 0;
  private stopped = 0;

  constructor(private readonly o: CollectorOptions) {}

  /** The evidence collector for a dialect, or undefined when the dialect keeps none. */
  static for(plugin: DialectPlugin<{ readonly kind: string }, unknown, unknown>, options: Omit<CollectorOptions, 'codec' | 'operationOf'>): EvidenceCollector | undefined {
    return plugin.evidence ? new EvidenceCollector({ ...options, codec: plugin.evidence, operationOf: (r) => plugin.wire.operationOf(r) }) : undefined;
  }

  /** One request and its answer; `state` is the state the device went to on it. */
  exchange(
    slot: number,
    request: unknown,
    result: unknown,
    answer: unknown,
    outcome: string,
    state: { readonly kind: string },
    times: { decided: number; sent: number; answered: number },
  ): void {
    let dev = this.live.get(slot);
    if (dev === undefined) {
      dev = { exchanges: [], truncated: 0 };
      this.live.set(slot, dev);
      this.seen++;
    }
    if (dev.exchanges.length >= MAX_EXCHANGES) {
      dev.truncated++;
      return;
    }
    const facts = this.o.codec.factsOf(request, result, answer, { sentVirtual: times.sent, authTtlSec: this.o.authTtlSec });
    const origin = this.o.originVirtual;
    dev.exchanges.push({
      decided: times.decided - origin,
      sent: times.sent - origin,
      answered: times.answered - origin,
      op: this.intern(this.o.operationOf(request)),
      outcome: this.intern(outcome),
      state: this.intern(state.kind),
      facts,
    });
  }

  /**
   * What the device's transport still held when the run ended (e.g. server messages it had seen
   * and not yet reported): one more exchange, `run-end`, on a device that has evidence already.
   */
  leftover(slot: number, leftover: unknown, state: { readonly kind: string }, atVirtual: number): void {
    const dev = this.live.get(slot);
    const facts = this.o.codec.factsOfLeftover?.(leftover);
    if (dev === undefined || facts === undefined || dev.exchanges.length >= MAX_EXCHANGES) return;
    const t = atVirtual - this.o.originVirtual;
    dev.exchanges.push({ decided: t, sent: t, answered: t, op: this.intern('run-end'), outcome: this.intern('run-end'), state: this.intern(state.kind), facts });
  }

  /** The device stopped in `state`: its evidence leaves for the sink. */
  stop(slot: number, state: { readonly kind: string }): void {
    const dev = this.live.get(slot);
    this.live.delete(slot);
    if (dev === undefined) return;
    this.out(evidenceOf(this.o.profileOf(slot), dev, finalOf(state)));
  }

  private out(d: DeviceEvidence): void {
    this.stopped++;
    if (this.o.sink) this.o.sink.append(d);
    else this.kept.push(d);
  }

  /** Everything collected; devices still running are kept without a final state. */
  finish(stateOf: (slot: number) => { readonly kind: string } | undefined, finished: (state: { readonly kind: string }) => boolean): EvidenceBatch {
    for (const slot of [...this.live.keys()]) {
      const state = stateOf(slot);
      if (state !== undefined && finished(state)) {
        this.stop(slot, state);
        continue;
      }
      const dev = this.live.get(slot) as Live;
      this.live.delete(slot);
      this.out(evidenceOf(this.o.profileOf(slot), dev, undefined));
    }
    this.o.sink?.close();
    return {
      ...(this.o.sink ? { file: this.o.sink.file } : { devices: this.kept }),
      seen: this.seen,
      stored: this.stopped,
      originVirtual: this.o.originVirtual,
    };
  }

  private intern(s: string): string {
    const known = this.names.get(s);
    if (known !== undefined) return known;
    if (this.names.size < 10_000) this.names.set(s, s);
    return s;
  }
}

function evidenceOf(p: DeviceProfile, dev: Live, final: FinalState | undefined): DeviceEvidence {
  return {
    id: p.id,
    index: p.index,
    cohort: p.cohort,
    profile: { version: p.version, manuf: p.manuf, model: p.model, core: p.core, signal: p.signal, battery: p.battery, taskType: p.taskType },
    behaviour: p.behaviour,
    ...(final !== undefined ? { final } : {}),
    exchanges: dev.exchanges,
    truncated: dev.truncated,
  };
}

/** The device's final state as the rules read it (from inside the transmission layer). */
export function finalOf(state: { readonly kind: string }): FinalState {
  const s = innerState(state) as { kind: string; code?: unknown; version?: unknown; duplicateResult?: unknown };
  const out: FinalState = { kind: s.kind };
  if (typeof s.code === 'number') out.code = s.code;
  if (typeof s.version === 'string') out.version = s.version;
  if (s.duplicateResult === true) out.duplicateResult = true;
  if ((s as { unconfirmed?: unknown }).unconfirmed === true) out.unconfirmed = true;
  return out;
}

