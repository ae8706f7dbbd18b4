/**
 * Virtual time under `--time-scale max`, where no wall clock paces anything: virtual time moves as
 * fast as the devices' logic and the server's answers allow, and stands still while a request is
 * in flight.
 *
 * The workers keep it together through shared memory, without a round trip per event (a bounded-
 * lag window, as in conservative parallel discrete-event simulation):
 * - each worker publishes its floor: the earliest virtual instant at which it may still act (its
 *   next timer, or a request in flight). Infinity once it has nothing left;
 * - a worker acts on an event at `t` only while `t < min(all floors) + lookahead`, so no worker
 *   runs more than `lookahead` ahead of the slowest. Devices interact only through the server,
 *   and two devices on different workers reach it out of order by at most that much;
 * - the barrier (the next server event, which the main thread does) is never passed: a worker
 *   acts only before it, and the main thread does the event once every floor has reached it.
 * Every request carries its own virtual instant (VIRTUAL_TIME_HEADER) and the reference server
 * judges it then, so a day window or a token expiry is exact whatever the lookahead.
 *
 * Instants are whole ms in shared memory (floors rounded down, which only ever holds a worker back).
 */

/** Stands for Infinity in the shared Int64 slots. */
const NEVER = 2n ** 62n;
/** epoch (Int32, bumped on every change, what waiters wait on), then a pad to 8 bytes. */
const HEADER_BYTES = 8;
/** How long a wait lasts at most: waiters re-check, so a lost wake-up costs this, never a hang. */
const WAIT_CAP_MS = 200;

type WaitAsync = (a: Int32Array, index: number, value: number, timeoutMs?: number) => { async: false; value: string } | { async: true; value: Promise<string> };
// Node 20 has Atomics.waitAsync; the ES2022 lib this project compiles against does not declare it.
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

const toSlot = (ms: number): bigint => (ms === Infinity ? NEVER : BigInt(Math.floor(ms)));
const fromSlot = (v: bigint): number => (v >= NEVER ? Infinity : Number(v));

export interface FrontierShare {
  buffer: SharedArrayBuffer;
  lookaheadMs: number;
}

export class Frontier {
  private readonly epoch: Int32Array;
  /** floors[0..workers-1], then the barrier. */
  private readonly slots: BigInt64Array;
  private readonly workers: number;
  readonly lookaheadMs: number;

  /** Shared memory for `workers` workers, every floor at the run's start, no barrier yet. */
  static share(workers: number, startVirtual: number, lookaheadMs: number): FrontierShare {
    if (!(lookaheadMs >= 1)) throw new RangeError(`lookahead must be at least 1 ms, got ${lookaheadMs}`);
    const buffer = new SharedArrayBuffer(HEADER_BYTES + 8 * (workers + 1));
    const slots = new BigInt64Array(buffer, HEADER_BYTES, workers + 1);
    slots.fill(toSlot(startVirtual));
    slots[workers] = NEVER;
    return { buffer, lookaheadMs };
  }

  constructor(share: FrontierShare) {
    this.epoch = new Int32Array(share.buffer, 0, 1);
    this.workers = (share.buffer.byteLength - HEADER_BYTES) / 8 - 1;
    this.slots = new BigInt64Array(share.buffer, HEADER_BYTES, this.workers + 1);
    this.lookaheadMs = share.lookaheadMs;
  }

  /** The epoch now: pass it to `changed` to wait for anything published after this read. */
  version(): number {
    return Atomics.load(this.epoch, 0);
  }

  /** Worker `index` may next act at `floor` (Infinity: never again). Wakes the waiters if it moved. */
  publish(index: number, floor: number): void {
    const v = toSlot(floor);
    if (Atomics.load(this.slots, index) === v) return;
    Atomics.store(this.slots, index, v);
    this.bump();
  }

  /** The main thread's next event: no worker acts at or after it until it is moved. */
  setBarrier(at: number): void {
    Atomics.store(this.slots, this.workers, toSlot(at));
    this.bump();
  }

  /** The lowest floor of all workers (Infinity when every one is done). */
  lowestFloor(): number {
    let low = NEVER;
    for (let i = 0; i < this.workers; i++) {
      const v = Atomics.load(this.slots, i);
      if (v < low) low = v;
    }
    return fromSlot(low);
  }

  /** Events strictly before this instant may be acted on now. */
  limit(): number {
    return Math.min(this.lowestFloor() + this.lookaheadMs, fromSlot(Atomics.load(this.slots, this.workers)));
  }

  /** Resolves once something is published after `version` was read (or after a short cap). */
  changed(version: number): Promise<void> {
    const r = waitAsync(this.epoch, 0, version, WAIT_CAP_MS);
    return r.async ? r.value.then(() => undefined) : Promise.resolve();
  }

  private bump(): void {
    Atomics.add(this.epoch, 0, 1);
    Atomics.notify(this.epoch, 0);
  }
}
