/**
 * A fake world for device machines: a clock that is just a number, no network. A test feeds
 * answers and fires timers by hand; the driver records every kind the device enters.
 */
import { DEFAULT_DEVICE_SETTINGS, NO_FAULTS, type Action, type DeviceMachine, type DeviceProfile, type DeviceSettings, type TransitionRules } from '../../src/device/types.js';

export function makeProfile(over: Partial<DeviceProfile> = {}): DeviceProfile {
  return {
    index: 0,
    id: '522700001',
    cohort: 'test',
    version: '1.0.0',
    manuf: '101',
    model: '10101',
    core: 'V4001',
    taskType: 2,
    battery: 80,
    signal: 20,
    seed: 7,
    behaviour: NO_FAULTS,
    ...over,
  };
}

export const SETTINGS: DeviceSettings = {
  ...DEFAULT_DEVICE_SETTINGS,
  chunkSize: 100,
  progressEvery: 25,
  rebootMs: 5_000,
  maxAttempts: 2,
  retryDelayMs: 1_000,
  waitBackoffMs: 90_000,
};

export class Driver<S extends { readonly kind: string }, R, A> {
  state!: S;
  action!: Action<R>;
  now: number;
  /** Every kind entered, in order, a kind entered again right after itself counted once (as the engine logs). */
  readonly kinds: string[] = [];
  /** Every request sent, in order. */
  readonly sent: R[] = [];
  steps = 0;

  constructor(
    readonly machine: DeviceMachine<S, R, A>,
    readonly profile: DeviceProfile = makeProfile(),
    readonly settings: DeviceSettings = SETTINGS,
    start = 1_000_000,
  ) {
    this.now = start;
  }

  private take(step: { state: S; action: Action<R> }): this {
    this.steps++;
    this.state = step.state;
    this.action = step.action;
    if (this.kinds[this.kinds.length - 1] !== step.state.kind) this.kinds.push(step.state.kind);
    if (step.action.type === 'send') this.sent.push(step.action.request);
    return this;
  }

  start(): this {
    return this.take(this.machine.start(this.profile, this.settings, this.now));
  }

  /** The request in flight; fails the test when the device is not sending. */
  get request(): R {
    if (this.action.type !== 'send') throw new Error(`expected a send, got ${JSON.stringify(this.action)} in ${this.state.kind}`);
    return this.action.request;
  }

  answer(a: A): this {
    if (this.action.type !== 'send') throw new Error(`answer while ${this.action.type} in ${this.state.kind}`);
    return this.take(this.machine.onAnswer(this.state, a, this.profile, this.settings, this.now));
  }

  /** Moves the clock to the end of the sleep and fires the timer. */
  wake(): this {
    if (this.action.type !== 'sleep') throw new Error(`wake while ${this.action.type} in ${this.state.kind}`);
    this.now = this.action.until;
    return this.take(this.machine.onTimer(this.state, this.profile, this.settings, this.now));
  }

  /** Virtual ms the device asked to sleep. */
  get sleepMs(): number {
    if (this.action.type !== 'sleep') throw new Error(`not sleeping in ${this.state.kind}`);
    return this.action.until - this.now;
  }

  get stopped(): boolean {
    return this.action.type === 'stop';
  }

  /** Runs to the end with `next` choosing each answer; bounded by `maxSteps`. */
  run(next: (req: R, d: this) => A, maxSteps = 100_000): this {
    while (!this.stopped && this.steps < maxSteps) {
      if (this.action.type === 'sleep') this.wake();
      else this.answer(next(this.request, this));
    }
    return this;
  }
}

/** Kind changes that the rules do not allow, as `from → to` texts. */
export function illegalTransitions(kinds: readonly string[], rules: TransitionRules): string[] {
  const bad: string[] = [];
  if (kinds.length > 0 && !rules.initial.includes(kinds[0] as string)) bad.push(`start → ${kinds[0]}`);
  for (let i = 1; i < kinds.length; i++) {
    const from = kinds[i - 1] as string;
    const to = kinds[i] as string;
    if (!(rules.next[from] ?? []).includes(to)) bad.push(`${from} → ${to}`);
  }
  return bad;
}

export const edgesOf = (kinds: readonly string[]): string[] => kinds.slice(1).map((to, i) => `${kinds[i]} → ${to}`);

export const allEdges = (rules: TransitionRules): string[] =>
  Object.entries(rules.next).flatMap(([from, tos]) => tos.map((to) => `${from} → ${to}`));
