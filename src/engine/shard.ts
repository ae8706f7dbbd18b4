/**
 * One worker's share of the fleet, driven from one timer heap. The runner owns scheduling and
 * bookkeeping only: what a device does is its machine's business, how bytes travel is the
 * network's (injected as `send`), what is measured goes to the recorders.
 */
import pLimit from 'p-limit';
import type { DialectPlugin } from '../dialect/types.js';
import type { DeviceProfile, DeviceSettings, Step } from '../device/types.js';
import type { FleetPlan } from '../scenario/fleet.js';
import type { Clock } from '../time/clock.js';
import type { OperationRecorder, LagRecorder, SendInstant } from '../metrics/recorder.js';
import type { CrashState, TransitionLog } from '../metrics/transitions.js';
import { isBuiltInDialect } from '../dialect/registry.js';
import type { SeriesRecorder } from '../metrics/series.js';
import type { Exchanged, OnWritten, Transport } from './transport.js';
import { TimerHeap } from './timer-heap.js';
import { uplinkStart } from '../radio/gate.js';
import type { DeviceRadio } from './radio.js';
import { ProgressField } from './progress.js';
import type { EvidenceCollector } from '../verdicts/collect.js';
import type { Frontier } from '../time/frontier.js';

type AnyState = { readonly kind: string };

/**
 * What moves virtual time: a clock that runs `scale` times faster than the wall (timers wait in
 * real time), or, under `--time-scale max`, the frontier shared with the other workers (nothing
 * waits; an event runs as soon as the slowest worker is close enough behind).
 */
export type ShardTiming = { kind: 'clock'; clock: Clock } | { kind: 'frontier'; frontier: Frontier; index: number };

/** An answer measured on arrival, handed to its device at the virtual instant it completes. */
interface Delivery {
  request: unknown;
  result: unknown;
  answer: unknown;
  outcome: string;
  isError: boolean;
  at: { decided: number; sent: number };
}

/** Work a device has waiting in the heap: a request its radio holds back, or an answer not yet due. */
type Held = { kind: 'request'; request: unknown } | { kind: 'answer'; delivery: Delivery };

export interface ShardDeps {
  plugin: DialectPlugin<AnyState, unknown, unknown>;
  plan: FleetPlan;
  /** The dialect's target settings (its target spec made them; opaque here). */
  target: unknown;
  timing: ShardTiming;
  /** Virtual instant the run started at; device arrivals are offsets from it. */
  runStartVirtual: number;
  /** Virtual offset from the start after which no device is woken any more. */
  maxVirtualMs: number | undefined;
  /** How many devices this shard drives, and the fleet-wide index of each slot. */
  count: number;
  globalIndex(slot: number): number;
  arrivalOffset(globalIndex: number): number;
  /** How the dialect's messages travel (the one its plugin declares; ./transports.ts). */
  transport: Transport;
  /** The device's radio, when its cohort models one (PSM / DRX / eDRX, RRC set-up, link rate). */
  radioOf?(globalIndex: number): DeviceRadio | undefined;
  maxInFlight: number;
  recorder: OperationRecorder;
  lag: LagRecorder;
  log: TransitionLog;
  series: SeriesRecorder;
  /** Shared stop flag (index 0) set by the main thread. */
  stopFlag: Int32Array;
  /** Shared live counters for this worker (PROGRESS_FIELDS wide). */
  progress: Int32Array;
  /** Where each exchange and each device's end go, for the verdicts (absent: nowhere). */
  evidence?: EvidenceCollector;
  /** Each exchange as it was sent and answered (the transport's message and result), for the exchange log (absent: none kept). */
  exchanges?: (slot: number, message: unknown, result: unknown, sentVirtual: number) => void;
}

export type ShardEnd = 'completed' | 'stopped' | 'virtual-limit';

export interface ShardOutcome {
  end: ShardEnd;
  /** The furthest virtual instant the shard reached. */
  virtualEnd: number;
  started: number;
  stopped: number;
  requests: number;
  bytesReceived: number;
  /** Times the runner held back waking devices because its send queue was full. */
  backpressureWaits: number;
  /** Sends that found every in-flight slot taken and queued. */
  queuedSends: number;
  /** What the transport counted on the wire (Transport.wireCounts), when it counts anything. */
  wire?: Readonly<Record<string, number>>;
}

const STOP_POLL_MS = 50;

export class ShardRunner {
  private readonly heap: TimerHeap;
  private readonly states: (AnyState | undefined)[];
  private readonly limit;
  private readonly profiles = new Map<number, DeviceProfile>();
  private readonly radios = new Map<number, DeviceRadio | undefined>();
  /** Virtual instant of each device's last radio activity (-Infinity: none yet). */
  private readonly lastActivity: Float64Array;
  /** Work a device has waiting in the heap (see Held), by slot. */
  private readonly held = new Map<number, Held>();
  /** Under a frontier: the virtual instant each device's request in flight was sent at. */
  private readonly inFlightAt: TimerHeap | undefined;
  /** Under a frontier: the furthest virtual instant acted on. */
  private reached: number;
  private kickPending = false;
  private waitingForFrontier = false;
  private stoppedDevices = 0;
  private startedDevices = 0;
  private requests = 0;
  private inFlight = 0;
  private backpressureWaits = 0;
  private queuedSends = 0;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private poll: NodeJS.Timeout | undefined;
  private resolveDone: ((end: ShardEnd) => void) | undefined;
  private end: ShardEnd | undefined;

  constructor(private readonly d: ShardDeps) {
    this.heap = new TimerHeap(d.count);
    this.states = new Array(d.count);
    this.lastActivity = new Float64Array(d.radioOf ? d.count : 0).fill(-Infinity);
    this.limit = pLimit(d.maxInFlight);
    this.inFlightAt = d.timing.kind === 'frontier' ? new TimerHeap(d.count) : undefined;
    this.reached = d.runStartVirtual;
  }

  /** The virtual instant now: the clock's, or under a frontier the furthest one acted on. */
  private virtualNow(): number {
    return this.d.timing.kind === 'clock' ? this.d.timing.clock.now() : this.reached;
  }

  async run(): Promise<ShardOutcome> {
    const { count, runStartVirtual } = this.d;
    for (let slot = 0; slot < count; slot++) {
      this.heap.schedule(slot, runStartVirtual + this.d.arrivalOffset(this.d.globalIndex(slot)));
    }
    const done = new Promise<ShardEnd>((resolve) => (this.resolveDone = resolve));
    this.poll = setInterval(() => this.checkStop(), STOP_POLL_MS);
    if (count === 0) this.finish('completed');
    else this.pump();
    const end = await done;
    return {
      end,
      virtualEnd: this.virtualNow(),
      started: this.startedDevices,
      stopped: this.stoppedDevices,
      requests: this.requests,
      bytesReceived: this.d.transport.bytesReceived,
      backpressureWaits: this.backpressureWaits,
      queuedSends: this.queuedSends,
      ...(this.d.transport.wireCounts === undefined ? {} : { wire: this.d.transport.wireCounts() }),
    };
  }

  get startedCount(): number {
    return this.startedDevices;
  }

  /** Final state kind of every slot (undefined: never woke). */
  finalKind(slot: number): string | undefined {
    return this.states[slot]?.kind;
  }

  /** The state a slot is in (undefined: never woke). */
  stateOf(slot: number): AnyState | undefined {
    return this.states[slot];
  }

  private pump = (): void => {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    if (this.stopping || this.end !== undefined) return;
    const { timing, maxVirtualMs, runStartVirtual } = this.d;
    const horizon = maxVirtualMs === undefined ? Infinity : runStartVirtual + maxVirtualMs;
    const version = timing.kind === 'frontier' ? timing.frontier.version() : 0;
    // Due now: up to the clock's instant, or (frontier) strictly before its limit.
    const upTo = timing.kind === 'clock' ? timing.clock.now() : timing.frontier.limit();
    const isDue = timing.kind === 'clock' ? (due: number) => due <= upTo : (due: number) => due < upTo;
    // Back-pressure: while the send queue is deep, devices wait in the heap; their due time is
    // kept, so the wait shows in the latency measured from it.
    const queueCap = this.d.maxInFlight * 2;
    while (isDue(this.heap.peekDue())) {
      if (this.limit.pendingCount > queueCap) {
        this.backpressureWaits++;
        this.publishFloor(horizon);
        this.arm(performance.now() + 5);
        return;
      }
      const due = this.heap.peekDue();
      if (due > horizon) break;
      const slot = this.heap.pop();
      let dueReal: number;
      if (timing.kind === 'clock') {
        dueReal = timing.clock.realAt(due);
        this.d.lag.recordScheduleLag(Math.max(0, performance.now() - dueReal));
      } else {
        // No wall-clock schedule to be late for: the device means to act as it is taken.
        dueReal = performance.now();
        if (due > this.reached) this.reached = due;
      }
      this.wake(slot, due, dueReal);
    }
    if (this.heap.peekDue() > horizon && this.inFlight === 0) {
      this.finish(this.stoppedDevices === this.d.count ? 'completed' : 'virtual-limit');
      return;
    }
    if (timing.kind === 'clock') {
      this.arm(timing.clock.realAt(this.heap.peekDue()));
      return;
    }
    this.publishFloor(horizon);
    if (this.heap.peekDue() <= horizon) this.awaitFrontier(timing.frontier, version);
  };

  /** Frontier: the earliest instant this shard may still act at, for the other workers to see. */
  private publishFloor(horizon: number): void {
    const { timing } = this.d;
    if (timing.kind !== 'frontier') return;
    const next = this.heap.peekDue();
    timing.frontier.publish(timing.index, Math.min(next > horizon ? Infinity : next, this.inFlightAt?.peekDue() ?? Infinity));
  }

  /** Frontier: pump again once another worker (or the main thread) has moved it. */
  private awaitFrontier(frontier: Frontier, version: number): void {
    if (this.waitingForFrontier) return;
    this.waitingForFrontier = true;
    void frontier.changed(version).then(() => {
      this.waitingForFrontier = false;
      this.kick();
    });
  }

  /** Pumps soon, once however often it is asked before then. */
  private kick(): void {
    if (this.kickPending || this.end !== undefined) return;
    this.kickPending = true;
    setImmediate(() => {
      this.kickPending = false;
      this.pump();
    });
  }

  /** The device's next event is due at virtual `at`: make sure a pump comes by then. */
  private wakeBy(at: number): void {
    const { timing } = this.d;
    if (timing.kind === 'frontier') {
      this.kick();
      return;
    }
    const atReal = timing.clock.realAt(at);
    if (atReal < this.armedFor) this.arm(atReal);
  }

  private wake(slot: number, due: number, dueReal: number): void {
    const held = this.held.get(slot);
    if (held !== undefined) {
      this.held.delete(slot);
      if (held.kind === 'request') this.dispatch(slot, held.request, dueReal, due);
      else this.deliver(slot, held.delivery, dueReal, due);
      return;
    }
    const { plugin } = this.d;
    const profile = this.profileOf(slot);
    const settings = this.settingsOf(slot);
    const state = this.states[slot];
    let step: Step<AnyState, unknown>;
    if (state === undefined) {
      this.startedDevices++;
      Atomics.add(this.d.progress, ProgressField.started, 1);
      this.d.series.arrival(due);
      step = plugin.machine.start(profile, settings, due);
    } else {
      step = plugin.machine.onTimer(state, profile, settings, due);
    }
    this.apply(slot, step, dueReal, state === undefined ? 'start' : 'timer', due);
  }

  private apply(slot: number, step: Step<AnyState, unknown>, intendedReal: number, cause: string, tVirtual: number): void {
    const before = this.states[slot]?.kind;
    this.states[slot] = step.state;
    if (step.state.kind !== before) {
      this.d.log.append(slot, tVirtual - this.d.runStartVirtual, step.state.kind, cause);
      this.d.series.moved(before, step.state.kind);
    }
    const action = step.action;
    switch (action.type) {
      case 'send':
        this.send(slot, action.request, intendedReal, tVirtual);
        break;
      case 'sleep':
        this.heap.schedule(slot, action.until);
        this.wakeBy(action.until);
        break;
      case 'stop':
        this.d.evidence?.stop(slot, step.state);
        this.stoppedDevices++;
        this.d.transport.release(slot);
        this.profiles.delete(slot);
        this.radios.delete(slot);
        Atomics.add(this.d.progress, ProgressField.stopped, 1);
        if (this.stoppedDevices === this.d.count) this.finish('completed');
        break;
    }
  }

  /** A device wants to send at `tVirtual`: now, or when its radio lets it. */
  private send(slot: number, request: unknown, intendedReal: number, tVirtual: number): void {
    const radio = this.radioOf(slot);
    if (radio) {
      const at = uplinkStart(radio.config, tVirtual, this.lastActivity[slot] as number);
      if (at > tVirtual) {
        // Not harness lateness: the device itself cannot talk before `at`; it means to act then.
        this.held.set(slot, { kind: 'request', request });
        this.heap.schedule(slot, at);
        this.wakeBy(at);
        return;
      }
    }
    this.dispatch(slot, request, intendedReal, tVirtual);
  }

  private dispatch(slot: number, request: unknown, intendedReal: number, tVirtual: number): void {
    const { plugin, target, timing, transport } = this.d;
    const radio = this.radioOf(slot);
    if (radio) this.lastActivity[slot] = tVirtual;
    this.inFlightAt?.schedule(slot, tVirtual);
    this.inFlight++;
    // Queued until written to a socket, then in flight until answered (the live view shows both).
    Atomics.add(this.d.progress, ProgressField.queued, 1);
    const timeoutMs = this.settingsOf(slot).requestTimeoutMs;
    // A wait (a listen window, a sleep) sends nothing: it takes no in-flight slot (Wire.waits).
    const waits = plugin.wire.waits?.(request) === true;
    if (!waits && this.limit.activeCount >= this.d.maxInFlight) this.queuedSends++;
    let writtenAt: number | undefined;
    const onWritten: OnWritten = (at) => {
      if (writtenAt !== undefined) return;
      writtenAt = at;
      Atomics.sub(this.d.progress, ProgressField.queued, 1);
      Atomics.add(this.d.progress, ProgressField.inFlight, 1);
    };
    let landed = false;
    const land = (): void => {
      // Exactly once per send, whether its answer is handled or handling it failed.
      if (landed) return;
      landed = true;
      this.inFlightAt?.cancel(slot);
      this.inFlight--;
      Atomics.sub(this.d.progress, writtenAt === undefined ? ProgressField.queued : ProgressField.inFlight, 1);
    };
    const exchange = async () => {
      // Under a frontier, time stands still while a request waits or travels.
      const sentVirtual = timing.kind === 'clock' ? timing.clock.now() : tVirtual;
      let message = plugin.wire.encode(request, target, sentVirtual);
      if (timing.kind === 'frontier') message = transport.withVirtualTime(message, sentVirtual);
      // The link's transfer time: waited for in real time under a clock, added to virtual time under a frontier.
      const transferMs = radio?.link ? transport.linkTimeMs(message, radio.link) : 0;
      const paceMs = timing.kind === 'clock' ? transferMs / timing.clock.scale : 0;
      // Handed to the transport: the send instant of a request that is never written (refused).
      const handedReal = performance.now();
      const exchanged: Exchanged<unknown> =
        this.stopping ? { result: transport.failure('ABORTED'), aborted: true }
        : transferMs === Infinity ? { result: transport.failure('NO_SIGNAL'), aborted: false }
        : await transport.exchange(slot, message, { timeoutMs, paceMs, onWritten });
      const sent: SendInstant = writtenAt !== undefined ? { atMs: writtenAt, written: true } : { atMs: handedReal, written: false };
      return { message, exchanged, sent, paced: paceMs > 0, transferMs, at: { decided: tVirtual, sent: sentVirtual } };
    };
    void (waits ? exchange() : this.limit(exchange))
      .then(({ message, exchanged, sent, paced, transferMs, at }) => {
        land();
        this.onResult(slot, request, message, exchanged, intendedReal, sent, paced, transferMs, at);
      })
      .catch((err: unknown) => {
        // A bug in a machine or codec must not hang the shard: the device is counted as crashed.
        land();
        this.crash(slot, err);
      });
  }

  private onResult(
    slot: number,
    request: unknown,
    message: unknown,
    exchanged: Exchanged<unknown>,
    intendedReal: number,
    sent: SendInstant,
    paced: boolean,
    transferMs: number,
    at: { decided: number; sent: number },
  ): void {
    // A paced body takes as long as the simulated link makes it: the server's latency ends at its
    // first byte then, not at the last one.
    const doneReal = paced && exchanged.firstByteAt !== undefined ? exchanged.firstByteAt : performance.now();
    const { plugin, timing } = this.d;
    const op = plugin.wire.operationOf(request);
    if (this.stopping && exchanged.aborted) {
      // Caught by the end, not a measurement: counted as unfinished, and the device stays where it was.
      this.d.recorder.unfinished(op, sent.written);
      if (exchanged.evidence === true) this.keepAbortedEvidence(slot, request, exchanged.result, at);
      this.settleIfIdle();
      return;
    }
    this.requests++;
    Atomics.add(this.d.progress, ProgressField.requests, 1);
    const { result } = exchanged;
    this.d.exchanges?.(slot, message, result, at.sent);
    let answer: unknown;
    let outcome: string;
    let isError: boolean;
    try {
      answer = plugin.wire.decode(request, result);
      outcome = plugin.wire.outcomeOf(answer);
      isError = plugin.wire.isError(answer);
    } catch (err) {
      // The codec threw on this answer: the request happened and failed; the device cannot go on.
      Atomics.add(this.d.progress, ProgressField.errors, 1);
      this.d.recorder.record(op, `${this.crashState}:decode`, true, intendedReal, sent, doneReal);
      throw err;
    }
    if (isError) Atomics.add(this.d.progress, ProgressField.errors, 1);
    this.d.recorder.record(op, outcome, isError, intendedReal, sent, doneReal);
    if (this.stopping) {
      // Answered during the stop: measured, but the device stays where it was.
      this.settleIfIdle();
      return;
    }
    const delivery: Delivery = { request, result, answer, outcome, isError, at };
    if (timing.kind === 'clock') {
      this.deliver(slot, delivery, doneReal, timing.clock.now());
      return;
    }
    // Under a frontier the answer lands when the link has carried it, in turn with every other event.
    const answeredAt = at.sent + (Number.isFinite(transferMs) ? transferMs : 0);
    this.held.set(slot, { kind: 'answer', delivery });
    this.heap.schedule(slot, answeredAt);
    this.kick();
  }

  /** The device hears its answer at virtual `now`. */
  private deliver(slot: number, dl: Delivery, intendedReal: number, now: number): void {
    const { plugin } = this.d;
    if (this.d.radioOf) this.lastActivity[slot] = now;
    this.d.series.request(now, dl.isError);
    const state = this.states[slot] as AnyState;
    const step = plugin.machine.onAnswer(state, dl.answer, this.profileOf(slot), this.settingsOf(slot), now);
    this.d.evidence?.exchange(slot, dl.request, dl.result, dl.answer, dl.outcome, step.state, { ...dl.at, answered: now });
    this.apply(slot, step, intendedReal, dl.outcome, now);
    if (this.heap.size === 0 && this.inFlight === 0 && this.end === undefined && this.stoppedDevices < this.d.count) {
      // Every device is either stopped or waiting on nothing: nothing can happen any more.
      this.finish('completed');
    }
  }

  /** Where a throw from the dialect's machine or codec comes from: a plugin's code, or ota-swarm's (built-in dialects). */
  private get crashState(): CrashState {
    return isBuiltInDialect(this.d.plugin.name) ? 'harness-error' : 'plugin-error';
  }

  /** An exchange the stop broke off that still carries what the device saw: evidence only, no measurement, no step. */
  private keepAbortedEvidence(slot: number, request: unknown, result: unknown, at: { decided: number; sent: number }): void {
    const evidence = this.d.evidence;
    const state = this.states[slot];
    if (evidence === undefined || state === undefined) return;
    try {
      const answer = this.d.plugin.wire.decode(request, result);
      evidence.exchange(slot, request, result, answer, 'aborted', state, { ...at, answered: this.virtualNow() });
    } catch {
      // A codec that cannot read it: nothing to keep (the device's own exchanges are judged as they are).
    }
  }

  private crash(slot: number, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const kind = this.crashState;
    this.d.log.append(slot, this.virtualNow() - this.d.runStartVirtual, kind, message.slice(0, 80));
    this.d.series.moved(this.states[slot]?.kind, kind);
    this.states[slot] = { kind };
    this.d.evidence?.stop(slot, { kind });
    this.stoppedDevices++;
    Atomics.add(this.d.progress, ProgressField.stopped, 1);
    if (this.stoppedDevices === this.d.count) this.finish('completed');
    else this.settleIfIdle();
  }

  private arm(atReal: number): void {
    if (this.stopping || this.end !== undefined) return;
    if (this.timer !== undefined) {
      if (atReal >= this.armedFor) return;
      clearTimeout(this.timer);
    }
    if (atReal === Infinity) {
      this.timer = undefined;
      this.armedFor = Infinity;
      return;
    }
    this.armedFor = atReal;
    // Long sleeps are cut into short ones so the shard notices a stop and clock drift promptly.
    const delay = Math.min(Math.max(0, atReal - performance.now()), 1000);
    this.timer = setTimeout(this.pump, delay);
  }

  private checkStop(): void {
    if (this.end !== undefined) return;
    this.d.series.sampleStates(this.virtualNow(), this.d.count - this.startedDevices);
    if (Atomics.load(this.d.stopFlag, 0) !== 0 && !this.stopping) {
      this.stopping = true;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.d.transport.abortAll();
      this.settleIfIdle();
    }
  }

  private settleIfIdle(): void {
    if (this.stopping && this.inFlight === 0) this.finish('stopped');
  }

  private finish(end: ShardEnd): void {
    if (this.end !== undefined) return;
    this.d.series.sampleStates(this.virtualNow(), this.d.count - this.startedDevices);
    this.end = end;
    // Nothing more from this shard: the others must not wait for it.
    if (this.d.timing.kind === 'frontier') this.d.timing.frontier.publish(this.d.timing.index, Infinity);
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    this.timer = undefined;
    this.resolveDone?.(end);
  }

  private profileOf(slot: number): DeviceProfile {
    let p = this.profiles.get(slot);
    if (!p) {
      p = this.d.plan.profileOf(this.d.globalIndex(slot));
      this.profiles.set(slot, p);
    }
    return p;
  }

  private radioOf(slot: number): DeviceRadio | undefined {
    if (!this.d.radioOf) return undefined;
    if (!this.radios.has(slot)) this.radios.set(slot, this.d.radioOf(this.d.globalIndex(slot)));
    return this.radios.get(slot);
  }

  private settingsOf(slot: number): DeviceSettings {
    return this.d.plan.settingsOf(this.d.plan.cohortOf(this.d.globalIndex(slot)));
  }
}
