import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { packageImage } from '../../../src/catalog/package-bytes.js';
import { decodeBlock } from '../../../src/protocol/coap.js';
import { blockAnswer, etagOf } from '../../../src/server/lwm2m/repository.js';

const image = packageImage(7, 2_500);
const opt = (a: ReturnType<typeof blockAnswer>, n: number): Buffer | undefined => a.options?.find((o) => o.name === n)?.value as Buffer | undefined;

/** Fetches every block from `from` on, as a client resuming there would. */
function fetchFrom(first: number, szx: number, offByOne = false): Buffer[] {
  const parts: Buffer[] = [];
  for (let num = first; ; num++) {
    const a = blockAnswer(image, { num, more: false, szx }, offByOne);
    expect(a.code).toBe('2.05');
    parts.push(a.payload as Buffer);
    if (!decodeBlock(opt(a, 23) as Buffer).more) return parts;
  }
}

describe('the CoAP firmware repository', () => {
  it('answers each block with Block2 (num, more, szx), Size2 and the ETag of the md5', () => {
    const a = blockAnswer(image, { num: 1, more: false, szx: 6 }, false);
    expect(decodeBlock(opt(a, 23) as Buffer)).toEqual({ num: 1, more: true, szx: 6 });
    expect((opt(a, 28) as Buffer).readUIntBE(0, 2)).toBe(2_500);
    expect(opt(a, 4)).toEqual(etagOf(image.md5));
    expect(a.payload).toEqual(image.bytes.subarray(1024, 2048));
    const last = blockAnswer(image, { num: 2, more: false, szx: 6 }, false);
    expect(decodeBlock(opt(last, 23) as Buffer).more).toBe(false);
    expect(last.payload?.length).toBe(2_500 - 2048);
  });

  it('reassembles the image at any block size, and resumes at any block', () => {
    for (const szx of [0, 2, 4, 6]) expect(Buffer.concat(fetchFrom(0, szx))).toEqual(image.bytes);
    const head = fetchFrom(0, 4).slice(0, 3);
    const tail = fetchFrom(3, 4);
    expect(createHash('md5').update(Buffer.concat([...head, ...tail])).digest('hex')).toBe(image.md5);
  });

  it('answers 2.05 block 0 of 1024 bytes without Block2, and 4.02 past the end', () => {
    const a = blockAnswer(image, undefined, false);
    expect(decodeBlock(opt(a, 23) as Buffer)).toEqual({ num: 0, more: true, szx: 6 });
    expect(blockAnswer(image, { num: 3, more: false, szx: 6 }, false).code).toBe('4.02');
  });

  it('bug block2-off-by-one: blocks after the first start a byte early, so the md5 is wrong', () => {
    const bad = Buffer.concat(fetchFrom(0, 6, true));
    expect(createHash('md5').update(bad).digest('hex')).not.toBe(image.md5);
    expect(blockAnswer(image, { num: 0, more: false, szx: 6 }, true).payload).toEqual(image.bytes.subarray(0, 1024));
    expect(blockAnswer(image, { num: 1, more: false, szx: 6 }, true).payload).toEqual(image.bytes.subarray(1023, 2047));
  });
});
