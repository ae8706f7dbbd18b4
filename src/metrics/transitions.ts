/**
 * The transition log of one worker's devices, and its check against a dialect's rules.
 *
 * Entries live in parallel typed arrays (device Int32, time Float64, state and cause as Uint16
 * indexes into interning tables): 16 bytes an entry, so a million transitions take 16 MB and no
 * object per entry. Entries are appended in the order the worker saw them, which for any one
 * device is the order things happened to it.
 */
import type { TransitionRules } from '../device/types.js';
import type { TransitionStep, TransitionViolation, TransitionsReport } from '../report/types.js';
import { formatMs } from '../config/units.js';

export type TransitionRule = 'initial-state' | 'illegal-transition' | 'final-state' | 'repeat' | CrashState;

/**
 * The states of a device whose code threw (engine/shard.ts): a dialect plugin's (`plugin-error`) or
 * ota-swarm's own, built-in dialects included (`harness-error`). Entering one is a breach of the
 * rule of that name, not an illegal transition of the dialect: the protocol was not broken.
 */
export const CRASH_STATES = ['plugin-error', 'harness-error'] as const;
export type CrashState = (typeof CRASH_STATES)[number];
const isCrash = (name: string): name is CrashState => (CRASH_STATES as readonly string[]).includes(name);

export interface TransitionCheck {
  /** Devices with at least one entry (devices that never started are not checked). */
  checked: number;
  /** Violations found, each rule breach counted once (a device can have several). */
  violations: number;
  byRule: Partial<Record<TransitionRule, number>>;
  /** The first violating devices (in the order their first violation was met), with full traces. */
  samples: TransitionViolation[];
  /** Checked devices by their last state. */
  finalStates: Record<string, number>;
  /** Checked devices whose last state is not final (a violation only when unfinished is not allowed). */
  unfinished: number;
}

export interface CheckOptions {
  /** Violating devices to keep with their traces. */
  maxSamples: number;
  /** The run was cut short (by its duration), so a device may end in any state. */
  allowUnfinished: boolean;
}

export const BYTES_PER_ENTRY = 4 + 8 + 2 + 2;
export const INITIAL_CAPACITY = 1024;
/** Marks "no state yet" in per-device state arrays; so at most 0xffff names can be interned. */
const NO_STATE = 0xffff;
const MAX_NAMES = NO_STATE;
/** Where names go once a table is full, so a peer sending endless new codes cannot break the log. */
export const OVERFLOW_NAME = '(other)';

/** Interns strings as Uint16 indexes; past its capacity everything maps to OVERFLOW_NAME. */
class Interner {
  readonly names: string[] = [];
  private readonly index = new Map<string, number>();

  constructor(private readonly capacity: number = MAX_NAMES) {}

  indexOf(name: string): number {
    const known = this.index.get(name);
    if (known !== undefined) return known;
    const key = this.names.length < this.capacity - 1 ? name : OVERFLOW_NAME;
    const again = this.index.get(key);
    if (again !== undefined) return again;
    const i = this.names.length;
    this.names.push(key);
    this.index.set(key, i);
    return i;
  }

  find(name: string): number | undefined {
    return this.index.get(name);
  }
}

export class TransitionLog {
  private length_ = 0;
  private capacity_ = INITIAL_CAPACITY;
  private device = new Int32Array(INITIAL_CAPACITY);
  private time = new Float64Array(INITIAL_CAPACITY);
  private stateIx = new Uint16Array(INITIAL_CAPACITY);
  private causeIx = new Uint16Array(INITIAL_CAPACITY);
  private readonly states: Interner;
  private readonly causes: Interner;
  /** Each device's last state index (NO_STATE before its first entry): 2 bytes a device. */
  private readonly last: Uint16Array;

  /**
   * @param devices slots 0..devices-1 this log covers
   * @param originMs virtual ms of the run's origin; traces give times relative to it
   * @param nameCapacity most distinct states (and, separately, causes) kept by name
   */
  constructor(
    readonly devices: number,
    private readonly originMs: number = 0,
    nameCapacity: number = MAX_NAMES,
  ) {
    if (!Number.isInteger(devices) || devices < 0) throw new RangeError(`devices must be a non-negative integer, got ${devices}`);
    this.states = new Interner(Math.min(nameCapacity, MAX_NAMES));
    this.causes = new Interner(Math.min(nameCapacity, MAX_NAMES));
    this.last = new Uint16Array(devices).fill(NO_STATE);
  }

  /** Records that device `slot` entered `state` at virtual time `tVirtualMs`, because of `cause`. */
  append(device: number, tVirtualMs: number, state: string, cause: string): void {
    if (!(device >= 0 && device < this.devices && Number.isInteger(device))) {
      throw new RangeError(`transition log: device slot ${device} outside 0..${this.devices - 1}`);
    }
    if (!Number.isFinite(tVirtualMs)) throw new RangeError(`transition log: time ${tVirtualMs} is not finite`);
    if (this.length_ === this.capacity_) this.grow();
    const i = this.length_++;
    const s = this.states.indexOf(state);
    this.device[i] = device;
    this.time[i] = tVirtualMs;
    this.stateIx[i] = s;
    this.causeIx[i] = this.causes.indexOf(cause);
    this.last[device] = s;
  }

  /** Entries appended. */
  get length(): number {
    return this.length_;
  }

  /** Entries the arrays can hold before they grow (doubling). */
  get capacity(): number {
    return this.capacity_;
  }

  /** Bytes held by the entry arrays (the per-device array and name tables come on top). */
  get byteLength(): number {
    return this.device.byteLength + this.time.byteLength + this.stateIx.byteLength + this.causeIx.byteLength;
  }

  /** The state a device is in now (its last entry), or undefined if it has none. */
  finalStateOf(slot: number): string | undefined {
    const s = this.last[slot];
    return s === undefined || s === NO_STATE ? undefined : this.states.names[s];
  }

  /** Every entry in append order. */
  forEach(fn: (slot: number, step: TransitionStep) => void): void {
    for (let i = 0; i < this.length_; i++) fn(this.device[i]!, this.stepAt(i));
  }

  /** One device's trace (scans the whole log: for a few devices, use tracesOf for many). */
  traceOf(slot: number): TransitionStep[] {
    return this.tracesOf([slot]).get(slot) ?? [];
  }

  /** Traces of several devices in one pass over the log. */
  tracesOf(slots: Iterable<number>): Map<number, TransitionStep[]> {
    const traces = new Map<number, TransitionStep[]>();
    for (const slot of slots) traces.set(slot, []);
    for (let i = 0; i < this.length_; i++) traces.get(this.device[i]!)?.push(this.stepAt(i));
    return traces;
  }

  /** Checks every device's sequence against `rules`; see TransitionRule for what is checked. */
  check(rules: TransitionRules, idOf: (slot: number) => string, options: CheckOptions): TransitionCheck {
    const table = new RuleTable(rules, this.states);
    const violations = new ViolationTally(options.maxSamples);
    const prev = new Uint16Array(this.devices).fill(NO_STATE);
    for (let i = 0; i < this.length_; i++) {
      const d = this.device[i]!;
      const s = this.stateIx[i]!;
      const p = prev[d]!;
      const name = this.nameOf(s);
      if (isCrash(name)) {
        const whose = name === 'plugin-error' ? 'the dialect plugin' : "ota-swarm's own code";
        const where = p === NO_STATE ? '' : ` in ${this.nameOf(p)}`;
        violations.add(d, name, `${whose} threw${where} at ${formatMs(this.tAt(i))}: ${this.causes.names[this.causeIx[i]!] ?? OVERFLOW_NAME}`);
      } else if (p === NO_STATE) {
        if (!table.isInitial(s)) violations.add(d, 'initial-state', `starts in ${this.nameOf(s)} at ${this.tAt(i)}ms; initial: ${rules.initial.join(', ')}`);
      } else if (p === s) {
        violations.add(d, 'repeat', `${this.nameOf(s)} entered twice in a row at ${this.tAt(i)}ms`);
      } else if (!table.allows(p, s)) {
        violations.add(d, 'illegal-transition', `${this.nameOf(p)} → ${this.nameOf(s)} at ${this.tAt(i)}ms; allowed after ${this.nameOf(p)}: ${successors(rules, this.nameOf(p)).join(', ') || 'nothing'}`);
      }
      prev[d] = s;
    }

    let checked = 0;
    let unfinished = 0;
    const finalStates = new Map<string, number>();
    for (let d = 0; d < this.devices; d++) {
      const s = prev[d]!;
      if (s === NO_STATE) continue;
      checked++;
      const name = this.nameOf(s);
      finalStates.set(name, (finalStates.get(name) ?? 0) + 1);
      if (table.isFinal(s) || isCrash(name)) continue;
      unfinished++;
      if (!options.allowUnfinished) violations.add(d, 'final-state', `ends in ${name}; final: ${rules.final.join(', ')}`);
    }

    const traces = this.tracesOf(violations.sampled.map((v) => v.slot));
    const samples = violations.sampled.map((v) => ({ device: idOf(v.slot), rule: v.rule, detail: v.detail + (v.more > 0 ? ` (+${v.more} more)` : ''), trace: traces.get(v.slot) ?? [] }));
    return { checked, violations: violations.total, byRule: violations.byRule, samples, finalStates: Object.fromEntries(finalStates), unfinished };
  }

  private nameOf(stateIndex: number): string {
    return this.states.names[stateIndex] ?? OVERFLOW_NAME;
  }

  private tAt(i: number): number {
    return this.time[i]! - this.originMs;
  }

  private stepAt(i: number): TransitionStep {
    return { t: this.tAt(i), state: this.nameOf(this.stateIx[i]!), cause: this.causes.names[this.causeIx[i]!] ?? OVERFLOW_NAME };
  }

  private grow(): void {
    const capacity = this.capacity_ * 2;
    this.device = grown(this.device, new Int32Array(capacity));
    this.time = grown(this.time, new Float64Array(capacity));
    this.stateIx = grown(this.stateIx, new Uint16Array(capacity));
    this.causeIx = grown(this.causeIx, new Uint16Array(capacity));
    this.capacity_ = capacity;
  }
}

function grown<T extends Int32Array | Float64Array | Uint16Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

/** Successors the rules allow after `state` (own keys only: a state name is never a prototype key). */
function successors(rules: TransitionRules, state: string): readonly string[] {
  return Object.hasOwn(rules.next, state) ? (rules.next[state] ?? []) : [];
}

/** The rules as lookups over the log's own state indexes. */
class RuleTable {
  private readonly n: number;
  private readonly allowed: Uint8Array;
  private readonly initial: Uint8Array;
  private readonly final: Uint8Array;

  constructor(rules: TransitionRules, states: Interner) {
    this.n = states.names.length;
    this.allowed = new Uint8Array(this.n * this.n);
    this.initial = flags(this.n, rules.initial, states);
    this.final = flags(this.n, rules.final, states);
    for (const [from, tos] of Object.entries(rules.next)) {
      if (!Array.isArray(tos)) continue;
      const a = states.find(from);
      if (a === undefined) continue;
      for (const to of tos) {
        const b = states.find(to);
        if (b !== undefined) this.allowed[a * this.n + b] = 1;
      }
    }
  }

  isInitial(s: number): boolean {
    return this.initial[s] === 1;
  }

  isFinal(s: number): boolean {
    return this.final[s] === 1;
  }

  allows(from: number, to: number): boolean {
    return this.allowed[from * this.n + to] === 1;
  }
}

function flags(n: number, names: readonly string[], states: Interner): Uint8Array {
  const out = new Uint8Array(n);
  for (const name of names) {
    const i = states.find(name);
    if (i !== undefined) out[i] = 1;
  }
  return out;
}

interface SampledViolation {
  slot: number;
  rule: TransitionRule;
  detail: string;
  /** Further violations of the same device. */
  more: number;
}

/** Counts violations; keeps the first violation of the first `maxSamples` devices. */
class ViolationTally {
  total = 0;
  readonly byRule: Partial<Record<TransitionRule, number>> = {};
  readonly sampled: SampledViolation[] = [];
  private readonly bySlot = new Map<number, SampledViolation>();

  constructor(private readonly maxSamples: number) {}

  add(slot: number, rule: TransitionRule, detail: string): void {
    this.total++;
    this.byRule[rule] = (this.byRule[rule] ?? 0) + 1;
    const known = this.bySlot.get(slot);
    if (known !== undefined) {
      known.more++;
      return;
    }
    if (this.sampled.length >= this.maxSamples) return;
    const v = { slot, rule, detail, more: 0 };
    this.sampled.push(v);
    this.bySlot.set(slot, v);
  }
}

/** Sums the checks of several workers; samples in list order, the first `maxSamples` kept. */
export function mergeTransitionChecks(list: readonly TransitionCheck[], maxSamples: number): TransitionCheck {
  const out: TransitionCheck = { checked: 0, violations: 0, byRule: {}, samples: [], finalStates: {}, unfinished: 0 };
  const finalStates = new Map<string, number>();
  for (const c of list) {
    out.checked += c.checked;
    out.violations += c.violations;
    out.unfinished += c.unfinished;
    for (const [rule, n] of Object.entries(c.byRule) as [TransitionRule, number][]) out.byRule[rule] = (out.byRule[rule] ?? 0) + n;
    for (const [state, n] of Object.entries(c.finalStates)) finalStates.set(state, (finalStates.get(state) ?? 0) + n);
    for (const s of c.samples) if (out.samples.length < maxSamples) out.samples.push(s);
  }
  out.finalStates = Object.fromEntries(finalStates);
  return out;
}

/** The report's view of a check (final states go to `devices.byFinalState`). */
export function transitionsReport(check: TransitionCheck): TransitionsReport {
  return { checked: check.checked, violations: check.violations, byRule: { ...check.byRule }, unfinished: check.unfinished, samples: check.samples };
}
