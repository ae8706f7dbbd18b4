/** What a device asked and was answered, newest last; bounded per device. */

export interface HistoryEntry {
  /** Virtual ms. */
  t: number;
  call: string;
  /** Short form of the request, e.g. `type=2 version=V1.0`. */
  request: string;
  /** Short form of the answer, e.g. `errno:0`, `http:206 bytes 0-16383`, `code:43`. */
  answer: string;
}

export const HISTORY_LIMIT = 200;

/** A ring of the last HISTORY_LIMIT entries. */
export class History {
  private readonly entries: HistoryEntry[] = [];
  private next = 0;

  push(entry: HistoryEntry): void {
    if (this.entries.length < HISTORY_LIMIT) {
      this.entries.push(entry);
      return;
    }
    this.entries[this.next] = entry;
    this.next = (this.next + 1) % HISTORY_LIMIT;
  }

  /** Oldest first. */
  list(): HistoryEntry[] {
    if (this.entries.length < HISTORY_LIMIT) return this.entries.slice();
    return [...this.entries.slice(this.next), ...this.entries.slice(0, this.next)];
  }
}
