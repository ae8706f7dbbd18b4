/**
 * Where a worker's firmware bytes go: each device's image is assembled in order, digested as it
 * grows and never stored. The device decides what to ask for; this only tells it what it holds.
 */
import { createHash, type Hash } from 'node:crypto';

interface Assembly {
  hash: Hash;
  /** The digest the request asked for besides md5 (a declared dialect's sha256, ...). */
  asked?: { algorithm: DigestAlgorithm; hash: Hash };
  held: number;
}

export type DigestAlgorithm = 'md5' | 'sha1' | 'sha256';

export interface Held {
  held: number;
  /** md5 (hex) of the bytes held, once they reach the expected total. */
  md5?: string;
  /** The asked algorithm's digest (hex), once they reach the expected total; only when one was asked. */
  digest?: string;
}

const CONTENT_RANGE = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i;

export class DownloadSink {
  private readonly assemblies = new Map<number, Assembly>();
  /** Bytes received in all, including those thrown away on a restart. */
  bytesReceived = 0;

  /**
   * Takes one answer to a download request. `total` is the size the device expects; 0 means
   * "unknown, the body is the whole file" (Luat).
   */
  accept(slot: number, status: number, contentRange: string | undefined, body: Uint8Array, total: number, algorithm?: DigestAlgorithm): Held {
    this.bytesReceived += body.length;
    if (total === 0) {
      this.assemblies.delete(slot);
      const md5 = createHash('md5').update(body).digest('hex');
      return algorithm === undefined ? { held: body.length, md5 } : { held: body.length, md5, digest: algorithm === 'md5' ? md5 : createHash(algorithm).update(body).digest('hex') };
    }
    let start: number;
    if (status === 206) {
      const m = contentRange ? CONTENT_RANGE.exec(contentRange.trim()) : null;
      if (!m) return this.current(slot, total, algorithm);
      start = Number(m[1]);
    } else if (status === 200) {
      start = 0;
    } else {
      return this.current(slot, total, algorithm);
    }
    let a = this.assemblies.get(slot);
    if (start === 0 || !a) {
      if (start !== 0) return this.current(slot, total, algorithm);
      a = { hash: createHash('md5'), held: 0, ...(algorithm !== undefined && algorithm !== 'md5' ? { asked: { algorithm, hash: createHash(algorithm) } } : {}) };
      this.assemblies.set(slot, a);
    }
    if (start > a.held) return this.current(slot, total, algorithm);
    // Overlap with what is held already: keep only the new tail.
    const skip = a.held - start;
    if (skip < body.length) {
      const fresh = skip > 0 ? body.subarray(skip) : body;
      const room = total - a.held;
      const take = fresh.length > room ? fresh.subarray(0, Math.max(room, 0)) : fresh;
      a.hash.update(take);
      a.asked?.hash.update(take);
      a.held += take.length;
    }
    return this.current(slot, total, algorithm);
  }

  private current(slot: number, total: number, algorithm?: DigestAlgorithm): Held {
    const a = this.assemblies.get(slot);
    if (!a) return { held: 0 };
    if (a.held !== total) return { held: a.held };
    const md5 = a.hash.copy().digest('hex');
    if (algorithm === undefined) return { held: a.held, md5 };
    return { held: a.held, md5, digest: algorithm === 'md5' ? md5 : (a.asked?.hash.copy().digest('hex') ?? '') };
  }

  /** Forgets a device's bytes (it finished, or starts over). */
  release(slot: number): void {
    this.assemblies.delete(slot);
  }

  get active(): number {
    return this.assemblies.size;
  }
}
