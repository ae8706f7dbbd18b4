/**
 * The CoAP firmware repository: `GET /fw/{packageId}` answered block-wise (RFC 7959) with Block2,
 * Size2 and an ETag on every block, so a client can resume at any block and notice a republish.
 * Pure: bytes in, answer parts out.
 *
 * Choices:
 * - No Block2 in the request: block 0 of 1024 bytes (the largest size; a client may ask smaller).
 * - A block number past the end: 4.02 Bad Option (RFC 7959 §2.2 leaves it to the server).
 * - ETag: the first 8 bytes of the package's md5, so it changes with every republication.
 * - Bug `block2-off-by-one`: every block after the first starts one byte early, so the client's
 *   image is wrong (its md5 check fails) while every block looks well-formed.
 */
import { COAP_CODE, COAP_OPTION, CONTENT_FORMAT, blockSize, encodeBlock, type BlockValue } from '../../protocol/coap.js';
import type { PackageImage } from '../../catalog/package-bytes.js';
import { uintBytes, type ResponseParts } from '../coap/packet.js';

export const REPOSITORY_PATH = 'fw';
const DEFAULT_SZX = 6;

export function etagOf(md5: string): Buffer {
  return Buffer.from(md5.slice(0, 16), 'hex');
}

export function blockAnswer(image: PackageImage, requested: BlockValue | undefined, offByOne: boolean): ResponseParts {
  const szx = requested?.szx ?? DEFAULT_SZX;
  if (szx > 6) return { code: COAP_CODE.BAD_OPTION, payload: Buffer.from('Block2 SZX 7 (BERT) is for CoAP over TCP') };
  const num = requested?.num ?? 0;
  const size = blockSize(szx);
  const total = image.bytes.length;
  const start = num * size;
  if (start >= total && !(total === 0 && num === 0)) return { code: COAP_CODE.BAD_OPTION, payload: Buffer.from(`block ${num} of ${size} bytes is past the end (${total} bytes)`) };
  const from = offByOne && num > 0 ? start - 1 : start;
  const end = Math.min(from + size, total);
  const more = start + size < total;
  return {
    code: COAP_CODE.CONTENT,
    options: [
      { name: COAP_OPTION.ETAG, value: etagOf(image.md5) },
      { name: COAP_OPTION.CONTENT_FORMAT, value: uintBytes(CONTENT_FORMAT.OCTET_STREAM) },
      { name: COAP_OPTION.BLOCK2, value: encodeBlock({ num, more, szx }) },
      { name: COAP_OPTION.SIZE2, value: uintBytes(total) },
    ],
    payload: Buffer.from(image.bytes.buffer, image.bytes.byteOffset + from, end - from),
  };
}
