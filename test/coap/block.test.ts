import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { nextBlock1, nextBlock2, onBlock1, onBlock2, startBlock1, startBlock2, type Block2State } from '../../src/coap/block.js';
import type { CoapMessage, CoapOption } from '../../src/coap/message.js';
import { uintOption } from '../../src/coap/message.js';
import { blockRange, blockSize, COAP_OPTION, decodeBlock, encodeBlock, szxOf } from '../../src/protocol/coap.js';

const answer = (code: string, options: CoapOption[], payload: Buffer): CoapMessage => ({ type: 'ACK', code, messageId: 1, token: Buffer.alloc(0), options, payload });
const block2 = (num: number, more: boolean, szx: number): CoapOption => ({ number: COAP_OPTION.BLOCK2, value: encodeBlock({ num, more, szx }) });
const etag = (v: string): CoapOption => ({ number: COAP_OPTION.ETAG, value: Buffer.from(v) });

/** A server's answer for block `num` of `body` at size `szx`. */
function serve(body: Buffer, num: number, szx: number, extra: CoapOption[] = []): CoapMessage {
  const { start, end } = blockRange(num, szx);
  const more = end < body.length;
  return answer('2.05', [...extra, block2(num, more, szx), { number: COAP_OPTION.SIZE2, value: uintOption(body.length) }], body.subarray(start, Math.min(end, body.length)));
}

function download(body: Buffer, szx: number, answerFor: (s: Block2State, ask: number) => CoapMessage | undefined): { bytes: Buffer; asks: number[] } {
  let s = startBlock2(szx);
  let held = Buffer.alloc(0);
  const asks: number[] = [];
  for (let i = 0; i < 10_000 && !s.done; i++) {
    const ask = nextBlock2(s);
    asks.push(ask.num);
    const a = answerFor(s, ask.num);
    if (a === undefined) continue; // lost: ask again (resume from the last good block)
    const out = onBlock2(s, a);
    if (out.kind === 'accepted') held = Buffer.concat([held, a.payload.subarray(out.fresh.start, out.fresh.end)]);
    if (out.kind === 'restart') held = Buffer.alloc(0);
    if (out.kind === 'failed') throw new Error(out.reason);
    s = out.state;
  }
  return { bytes: held, asks };
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const body = Buffer.from(Array.from({ length: 5_000 }, (_, i) => (i * 31 + 7) & 0xff));

describe('block option arithmetic (RFC 7959 §2.2)', () => {
  it('encodes NUM, M and SZX in the shortest integer and back', () => {
    expect(encodeBlock({ num: 0, more: false, szx: 0 }).length).toBe(0);
    expect([...encodeBlock({ num: 0, more: true, szx: 6 })]).toEqual([0x0e]);
    expect([...encodeBlock({ num: 15, more: false, szx: 6 })]).toEqual([0xf6]);
    expect([...encodeBlock({ num: 16, more: true, szx: 6 })]).toEqual([0x01, 0x0e]);
    for (const v of [{ num: 4095, more: true, szx: 2 }, { num: 0xfffff, more: false, szx: 6 }, { num: 256, more: false, szx: 0 }]) expect(decodeBlock(encodeBlock(v))).toEqual(v);
    expect(() => encodeBlock({ num: 0x100000, more: false, szx: 6 })).toThrow(RangeError);
    expect(szxOf(1024)).toBe(6);
    expect(blockSize(0)).toBe(16);
    expect(blockRange(3, 6)).toEqual({ start: 3072, end: 4096 });
  });
});

describe('Block2 download', () => {
  it('assembles a body in order; the last block is short and ends it', () => {
    const { bytes, asks } = download(body, 6, (_s, n) => serve(body, n, 6));
    expect(md5(bytes)).toBe(md5(body));
    expect(asks).toEqual([0, 1, 2, 3, 4]);
  });

  it('resumes from the last good block after lost answers (never from 0)', () => {
    let calls = 0;
    const { bytes, asks } = download(body, 6, (_s, n) => (++calls % 3 === 0 ? undefined : serve(body, n, 6)));
    expect(md5(bytes)).toBe(md5(body));
    // every ask is the block after the last good one: the sequence never goes back
    for (let i = 1; i < asks.length; i++) expect(asks[i]).toBeGreaterThanOrEqual(asks[i - 1]!);
  });

  it('follows a server that answers with smaller blocks (§2.4): offsets, not numbers, count', () => {
    const { bytes, asks } = download(body, 6, (s, n) => serve(body, (n * blockSize(s.szx)) / 512, 5)); // asked at 1024, answered 512
    expect(md5(bytes)).toBe(md5(body));
    expect(asks.slice(0, 3)).toEqual([0, 1, 2]); // at 512 after the first answer
  });

  it('an ETag change drops the held blocks and starts again from block 0', () => {
    const other = Buffer.from(body.map((b) => b ^ 0xff));
    let changed = false;
    const { bytes, asks } = download(body, 6, (s, n) => {
      if (!changed && s.held === 2048) {
        changed = true;
        return serve(other, n, 6, [etag('v2')]);
      }
      return changed ? serve(other, n, 6, [etag('v2')]) : serve(body, n, 6, [etag('v1')]);
    });
    expect(md5(bytes)).toBe(md5(other));
    expect(asks).toEqual([0, 1, 2, 0, 1, 2, 3, 4]);
  });

  it('a stale duplicate or a block past the one asked adds nothing (an off-by-one server is caught)', () => {
    const s: Block2State = { held: 2048, szx: 6, etag: undefined, size: body.length, done: false };
    expect(onBlock2(s, serve(body, 1, 6)).kind).toBe('skipped');
    const ahead = onBlock2(s, serve(body, 3, 6));
    expect(ahead.kind).toBe('skipped');
    expect(nextBlock2(ahead.state).num).toBe(2);
  });

  it('refuses a short block with more to come, an error code, a reserved SZX', () => {
    const s = startBlock2(6);
    expect(onBlock2(s, answer('2.05', [block2(0, true, 6)], Buffer.alloc(1000))).kind).toBe('failed');
    expect(onBlock2(s, answer('4.04', [], Buffer.alloc(0))).kind).toBe('failed');
    expect(onBlock2(s, answer('2.05', [{ number: COAP_OPTION.BLOCK2, value: Buffer.from([0x0f]) }], Buffer.alloc(0))).kind).toBe('failed');
  });
});

describe('Block2 download against Size2 (a guard: success never with the wrong byte count)', () => {
  const size2 = (n: number): CoapOption => ({ number: COAP_OPTION.SIZE2, value: uintOption(n) });

  it('refuses a last block that ends before the Size2 announced earlier', () => {
    const first = onBlock2(startBlock2(6), serve(body, 0, 6));
    expect(first.kind).toBe('accepted');
    expect(first.state.size).toBe(body.length);
    // Block 1 claiming to be the last (M=0), full-sized: 2048 bytes held of 5000 announced.
    const out = onBlock2(first.state, answer('2.05', [block2(1, false, 6)], body.subarray(1024, 2048)));
    expect(out.kind).toBe('failed');
    if (out.kind === 'failed') expect(out.reason).toBe('last block 1 ends at byte 2048, but Size2 announced 5000');
    expect(out.state.done).toBe(false);
  });

  it('refuses a single block whose own Size2 says there is more, and one that overshoots it', () => {
    expect(onBlock2(startBlock2(6), answer('2.05', [block2(0, false, 6), size2(262_144)], Buffer.alloc(1024))).kind).toBe('failed');
    expect(onBlock2(startBlock2(6), answer('2.05', [size2(262_144)], Buffer.alloc(1024))).kind).toBe('failed');
    expect(onBlock2(startBlock2(6), answer('2.05', [block2(0, false, 6), size2(10)], Buffer.alloc(20))).kind).toBe('failed');
  });

  it('accepts a last block that ends exactly at Size2, and a body when no Size2 was sent', () => {
    expect(onBlock2(startBlock2(6), answer('2.05', [block2(0, false, 6), size2(1024)], Buffer.alloc(1024))).state.done).toBe(true);
    expect(onBlock2(startBlock2(6), answer('2.05', [block2(0, false, 6)], Buffer.alloc(1024))).state.done).toBe(true);
    expect(md5(download(body, 6, (_s, n) => serve(body, n, 6)).bytes)).toBe(md5(body));
  });
});

describe('Block1 upload', () => {
  it('sends blocks in order on 2.31 and ends on the final 2.04', () => {
    let s = startBlock1(2_500, 6);
    const sent: string[] = [];
    for (;;) {
      const b = nextBlock1(s);
      sent.push(`${b.block.num}:${b.start}-${b.end}:${b.block.more ? 'M' : ''}`);
      const a = b.block.more ? answer('2.31', [{ number: COAP_OPTION.BLOCK1, value: encodeBlock(b.block) }], Buffer.alloc(0)) : answer('2.04', [], Buffer.alloc(0));
      const out = onBlock1(s, a);
      s = out.state;
      if (out.kind !== 'continue') break;
    }
    expect(s.done).toBe(true);
    expect(sent).toEqual(['0:0-1024:M', '1:1024-2048:M', '2:2048-2500:']);
  });

  it('takes the smaller size a server prefers, keeping the offset', () => {
    const s = startBlock1(2_500, 6);
    const out = onBlock1(s, answer('2.31', [{ number: COAP_OPTION.BLOCK1, value: encodeBlock({ num: 0, more: true, szx: 5 }) }], Buffer.alloc(0)));
    expect(out.kind).toBe('continue');
    expect(nextBlock1(out.state)).toMatchObject({ block: { num: 2, szx: 5 }, start: 1024, end: 1536 });
  });

  it('a 2.04 before the last block, or a 2.31 to it, is a server error', () => {
    expect(onBlock1(startBlock1(2_500, 6), answer('2.04', [], Buffer.alloc(0))).kind).toBe('failed');
    expect(onBlock1(startBlock1(100, 6), answer('2.31', [], Buffer.alloc(0))).kind).toBe('failed');
  });
});
