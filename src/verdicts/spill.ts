/**
 * Evidence on disk: each stopped device's evidence leaves the worker as one JSON line appended to
 * the worker's spill file, so a worker holds only the devices still running, whatever the fleet's
 * size; the main thread reads the file back in batches to judge every device.
 *
 * Writes are buffered and flushed synchronously past a fixed size: the buffer is the only memory
 * the spill takes, and a worker's event loop blocks for one page-cache write (about a millisecond
 * per MiB) now and then rather than holding a queue of writes that could grow without bound.
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { DeviceEvidence } from './evidence.js';

/** Bytes buffered before a write. */
const FLUSH_BYTES = 1 << 20;

export class EvidenceSpill {
  private fd: number | undefined;
  private buffer: string[] = [];
  private buffered = 0;
  /** Devices written. */
  count = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'a');
  }

  append(d: DeviceEvidence): void {
    if (this.fd === undefined) throw new Error(`evidence spill ${this.file}: written after it was closed`);
    const line = JSON.stringify(d) + '\n';
    this.buffer.push(line);
    this.buffered += line.length;
    this.count++;
    if (this.buffered >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    if (this.fd === undefined || this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join(''));
    this.buffer = [];
    this.buffered = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The devices of a spill file, in the order they were written. A line that does not parse (the
 * last one of a worker that died mid-write) is skipped and told to `onTorn`, to be counted.
 */
export async function* readSpill(file: string, onTorn: () => void = () => {}): AsyncGenerator<DeviceEvidence> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') continue;
    let d: DeviceEvidence;
    try {
      d = JSON.parse(line) as DeviceEvidence;
    } catch {
      onTorn();
      continue;
    }
    yield d;
  }
}
