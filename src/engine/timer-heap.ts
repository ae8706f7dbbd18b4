/**
 * One timer queue for all the devices of a worker: a binary min-heap of (due, slot) in typed
 * arrays, so a hundred thousand sleeping devices cost 12 bytes each here and no closures.
 * A device has at most one pending timer; scheduling it again moves it.
 */
export class TimerHeap {
  private due: Float64Array;
  private slots: Int32Array;
  /** Position of each slot in the heap, or -1. */
  private readonly pos: Int32Array;
  private n = 0;

  constructor(devices: number) {
    const cap = Math.max(16, devices);
    this.due = new Float64Array(cap);
    this.slots = new Int32Array(cap);
    this.pos = new Int32Array(devices).fill(-1);
  }

  get size(): number {
    return this.n;
  }

  /** Due time of the earliest timer, or Infinity. */
  peekDue(): number {
    return this.n > 0 ? (this.due[0] as number) : Infinity;
  }

  peekSlot(): number {
    return this.n > 0 ? (this.slots[0] as number) : -1;
  }

  /** Sets (or moves) the timer of `slot` to `due`. */
  schedule(slot: number, due: number): void {
    const at = this.pos[slot] as number;
    if (at >= 0) {
      const old = this.due[at] as number;
      this.due[at] = due;
      if (due < old) this.up(at);
      else this.down(at);
      return;
    }
    const i = this.n++;
    this.due[i] = due;
    this.slots[i] = slot;
    this.pos[slot] = i;
    this.up(i);
  }

  /** Removes the timer of `slot`, if any. */
  cancel(slot: number): void {
    const at = this.pos[slot] as number;
    if (at < 0) return;
    this.removeAt(at);
  }

  /** Removes and returns the earliest slot; -1 when empty. */
  pop(): number {
    if (this.n === 0) return -1;
    const slot = this.slots[0] as number;
    this.removeAt(0);
    return slot;
  }

  private removeAt(i: number): void {
    const slot = this.slots[i] as number;
    this.pos[slot] = -1;
    const last = --this.n;
    if (i === last) return;
    this.due[i] = this.due[last] as number;
    this.slots[i] = this.slots[last] as number;
    this.pos[this.slots[i] as number] = i;
    this.down(i);
    this.up(i);
  }

  private up(i: number): void {
    const d = this.due[i] as number;
    const s = this.slots[i] as number;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((this.due[p] as number) <= d) break;
      this.move(p, i);
      i = p;
    }
    this.place(i, d, s);
  }

  private down(i: number): void {
    const d = this.due[i] as number;
    const s = this.slots[i] as number;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.n) break;
      const r = l + 1;
      const c = r < this.n && (this.due[r] as number) < (this.due[l] as number) ? r : l;
      if ((this.due[c] as number) >= d) break;
      this.move(c, i);
      i = c;
    }
    this.place(i, d, s);
  }

  private move(from: number, to: number): void {
    this.due[to] = this.due[from] as number;
    const s = this.slots[from] as number;
    this.slots[to] = s;
    this.pos[s] = to;
  }

  private place(i: number, d: number, s: number): void {
    this.due[i] = d;
    this.slots[i] = s;
    this.pos[s] = i;
  }
}
