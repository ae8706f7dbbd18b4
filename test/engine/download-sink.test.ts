import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DownloadSink } from '../../src/engine/download-sink.js';

const file = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));
const md5 = createHash('md5').update(file).digest('hex');
const part = (a: number, b: number) => ({ range: `bytes ${a}-${b}/${file.length}`, body: file.subarray(a, b + 1) });

describe('DownloadSink', () => {
  it('assembles ranged chunks in order and digests the whole', () => {
    const s = new DownloadSink();
    let p = part(0, 399);
    expect(s.accept(1, 206, p.range, p.body, file.length)).toEqual({ held: 400 });
    p = part(400, 999);
    expect(s.accept(1, 206, p.range, p.body, file.length)).toEqual({ held: 1000, md5 });
    expect(s.bytesReceived).toBe(1000);
  });

  it('keeps only the new tail of an overlapping chunk', () => {
    const s = new DownloadSink();
    let p = part(0, 499);
    s.accept(1, 206, p.range, p.body, file.length);
    p = part(300, 999);
    expect(s.accept(1, 206, p.range, p.body, file.length)).toEqual({ held: 1000, md5 });
  });

  it('ignores a chunk that would leave a gap', () => {
    const s = new DownloadSink();
    let p = part(0, 99);
    s.accept(1, 206, p.range, p.body, file.length);
    p = part(200, 299);
    expect(s.accept(1, 206, p.range, p.body, file.length)).toEqual({ held: 100 });
  });

  it('starts over on a 200 (the server ignored the Range) or a range from 0', () => {
    const s = new DownloadSink();
    const p = part(0, 99);
    s.accept(1, 206, p.range, p.body, file.length);
    expect(s.accept(1, 200, undefined, file, file.length)).toEqual({ held: 1000, md5 });
    const q = part(0, 9);
    expect(s.accept(1, 206, q.range, q.body, file.length)).toEqual({ held: 10 });
  });

  it('does not take a 206 without a readable Content-Range', () => {
    const s = new DownloadSink();
    expect(s.accept(1, 206, 'bytes x-y/z', file.subarray(0, 10), file.length)).toEqual({ held: 0 });
    expect(s.accept(1, 206, undefined, file.subarray(0, 10), file.length)).toEqual({ held: 0 });
  });

  it('digests a whole body when the size is not known in advance (Luat)', () => {
    const s = new DownloadSink();
    expect(s.accept(3, 200, undefined, file, 0)).toEqual({ held: 1000, md5 });
  });

  it('keeps devices apart and forgets a released one', () => {
    const s = new DownloadSink();
    const a = part(0, 99);
    s.accept(1, 206, a.range, a.body, file.length);
    s.accept(2, 206, a.range, a.body, file.length);
    expect(s.active).toBe(2);
    s.release(1);
    expect(s.active).toBe(1);
    const b = part(100, 199);
    expect(s.accept(1, 206, b.range, b.body, file.length)).toEqual({ held: 0 });
    expect(s.accept(2, 206, b.range, b.body, file.length)).toEqual({ held: 200 });
  });

  it('never holds more than the expected total', () => {
    const s = new DownloadSink();
    const big = Buffer.concat([file, Buffer.from('extra')]);
    expect(s.accept(1, 200, undefined, big, file.length)).toEqual({ held: 1000, md5 });
  });
});
