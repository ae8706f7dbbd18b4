/**
 * Block-wise transfers (RFC 7959) as pure arithmetic: what to ask for next and what an answer
 * means. The bytes go to whoever assembles them (a digest, a file); this only says which bytes
 * of an answer are new, when the held ones must be dropped, and when the transfer is done.
 *
 * Block2 (download): blocks are asked for in order from the last good one, so a download broken
 * off (a give-up, a sleep, a new source port) resumes where it stopped. A server may answer with
 * a smaller block size than asked (§2.4): the offset is what counts, and the next ask uses its
 * size. An ETag that changes mid-way means a different representation: the held blocks are
 * dropped and the download starts again from block 0.
 */
import { blockSize, COAP_OPTION, COAP_CODE, decodeBlock, encodeBlock, type BlockValue } from '../protocol/coap.js';
import { firstOption, readUint, type CoapMessage, type CoapOption } from './message.js';

export interface Block2State {
  /** Bytes held in order (the offset of the next block). */
  readonly held: number;
  /** Size exponent of the next ask. */
  readonly szx: number;
  /** ETag of the representation being assembled (hex), once one was seen. */
  readonly etag: string | undefined;
  /** Size2 the server announced, once it did. */
  readonly size: number | undefined;
  readonly done: boolean;
}

export const startBlock2 = (szx: number): Block2State => ({ held: 0, szx, etag: undefined, size: undefined, done: false });

/** The Block2 option of the next ask: the block holding the first byte not held. */
export function nextBlock2(s: Block2State): BlockValue {
  return { num: Math.floor(s.held / blockSize(s.szx)), more: false, szx: s.szx };
}

export const block2Option = (b: BlockValue): CoapOption => ({ number: COAP_OPTION.BLOCK2, value: encodeBlock(b) });

export type Block2Outcome =
  /** `fresh` is the part of the payload not held before (append it); `done` when it was the last block. */
  | { readonly kind: 'accepted'; readonly state: Block2State; readonly fresh: { readonly start: number; readonly end: number } }
  /** The representation changed (ETag): drop what is held; ask again from block 0. */
  | { readonly kind: 'restart'; readonly state: Block2State; readonly reason: string }
  /** An answer that adds nothing (a stale duplicate, a block past the one asked): ask again. */
  | { readonly kind: 'skipped'; readonly state: Block2State; readonly reason: string }
  /** The server refused, or broke the rules: the download cannot go on as is. */
  | { readonly kind: 'failed'; readonly state: Block2State; readonly reason: string };

/** What the block arithmetic needs of an answer to a Block2 ask (no bytes: whoever holds them appends `fresh`). */
export interface Block2Answer {
  readonly code: string;
  /** Its Block2 option, absent when the answer had none; `invalid` when it did not decode. */
  readonly block: BlockValue | undefined | 'invalid';
  /** ETag, hex. */
  readonly etag: string | undefined;
  readonly size: number | undefined;
  readonly payloadBytes: number;
}

export function block2AnswerOf(m: CoapMessage): Block2Answer {
  const raw = firstOption(m, COAP_OPTION.BLOCK2);
  let block: Block2Answer['block'];
  try {
    block = raw === undefined ? undefined : decodeBlock(raw);
  } catch {
    block = 'invalid';
  }
  return { code: m.code, block, etag: firstOption(m, COAP_OPTION.ETAG)?.toString('hex'), size: readUint(firstOption(m, COAP_OPTION.SIZE2)), payloadBytes: m.payload.length };
}

/** What an answer to a Block2 ask means for the download. */
export function onBlock2(s: Block2State, answer: CoapMessage | Block2Answer): Block2Outcome {
  const a = 'payloadBytes' in answer ? answer : block2AnswerOf(answer);
  if (a.code !== COAP_CODE.CONTENT) return { kind: 'failed', state: s, reason: `answer ${a.code} to a block request (2.05 expected)` };
  if (a.block === 'invalid') return { kind: 'failed', state: s, reason: 'Block2 option of more than 3 bytes' };
  const block: BlockValue = a.block ?? { num: 0, more: false, szx: s.szx };
  const etag = a.etag;
  if (block.szx > 6) return { kind: 'failed', state: s, reason: `Block2 SZX ${block.szx}: reserved over UDP` };
  if (a.block === undefined && s.held > 0) return { kind: 'failed', state: s, reason: 'answer without Block2 to a request for a later block' };
  const size = a.size ?? s.size;
  if (s.etag !== undefined && etag !== undefined && etag !== s.etag) {
    return { kind: 'restart', state: { ...startBlock2(s.szx), size: undefined }, reason: `ETag changed from ${s.etag} to ${etag}: the held ${s.held} bytes are of another representation` };
  }
  const bytes = blockSize(block.szx);
  const start = block.num * bytes;
  const end = start + a.payloadBytes;
  if (block.more && a.payloadBytes !== bytes) {
    return { kind: 'failed', state: s, reason: `block ${block.num} of ${a.payloadBytes} bytes with more to come: must be ${bytes}` };
  }
  if (a.payloadBytes > bytes) return { kind: 'failed', state: s, reason: `block ${block.num} of ${a.payloadBytes} bytes: more than its size ${bytes}` };
  if (start > s.held) return { kind: 'skipped', state: s, reason: `block ${block.num} starts at byte ${start}, past the ${s.held} held` };
  if (end <= s.held && block.more) return { kind: 'skipped', state: s, reason: `block ${block.num} ends at byte ${end}: held already` };
  const done = !block.more;
  const held = Math.max(s.held, end);
  // A guard, not a cure: a last block that leaves fewer (or more) bytes than the Size2 the server
  // announced (RFC 7959 §4) cannot be the whole representation, so it is never reported as one.
  if (done && size !== undefined && held !== size) {
    return { kind: 'failed', state: s, reason: `last block ${block.num} ends at byte ${held}, but Size2 announced ${size}` };
  }
  const next: Block2State = { held, szx: Math.min(s.szx, block.szx), etag: etag ?? s.etag, size, done };
  return { kind: 'accepted', state: next, fresh: { start: s.held - start, end: end - start } };
}

/** Block1 (upload) of a body of `total` bytes. */
export interface Block1State {
  readonly total: number;
  /** Bytes the server has acknowledged, in order. */
  readonly sent: number;
  readonly szx: number;
  readonly done: boolean;
}

export const startBlock1 = (total: number, szx: number): Block1State => ({ total, sent: 0, szx, done: false });

/** The next block to send: its Block1 value and the byte range of the body it carries. */
export function nextBlock1(s: Block1State): { block: BlockValue; start: number; end: number } {
  const size = blockSize(s.szx);
  const num = Math.floor(s.sent / size);
  const start = num * size;
  const end = Math.min(start + size, s.total);
  return { block: { num, more: end < s.total, szx: s.szx }, start, end };
}

export const block1Option = (b: BlockValue): CoapOption => ({ number: COAP_OPTION.BLOCK1, value: encodeBlock(b) });

export type Block1Outcome =
  | { readonly kind: 'continue'; readonly state: Block1State }
  | { readonly kind: 'done'; readonly state: Block1State; readonly answer: CoapMessage }
  | { readonly kind: 'failed'; readonly state: Block1State; readonly reason: string };

/** What the answer to the block just sent means (§2.5: 2.31 Continue, a smaller size the server prefers). */
export function onBlock1(s: Block1State, answer: CoapMessage): Block1Outcome {
  const sentBlock = nextBlock1(s);
  const raw = firstOption(answer, COAP_OPTION.BLOCK1);
  let echoed: BlockValue | undefined;
  try {
    echoed = raw === undefined ? undefined : decodeBlock(raw);
  } catch (e) {
    return { kind: 'failed', state: s, reason: `Block1 option: ${(e as Error).message}` };
  }
  if (answer.code === COAP_CODE.REQUEST_ENTITY_TOO_LARGE && echoed !== undefined && echoed.szx < s.szx) {
    return { kind: 'continue', state: { ...s, sent: 0, szx: echoed.szx } };
  }
  if (answer.code === COAP_CODE.CONTINUE) {
    if (!sentBlock.block.more) return { kind: 'failed', state: s, reason: '2.31 Continue to the last block' };
    if (echoed !== undefined && echoed.num !== sentBlock.block.num) return { kind: 'failed', state: s, reason: `2.31 for block ${echoed.num}, block ${sentBlock.block.num} was sent` };
    const szx = echoed !== undefined && echoed.szx < s.szx ? echoed.szx : s.szx;
    return { kind: 'continue', state: { ...s, sent: sentBlock.end, szx } };
  }
  if (answer.code.startsWith('2.')) {
    if (sentBlock.block.more) return { kind: 'failed', state: s, reason: `${answer.code} to block ${sentBlock.block.num} with more to come (2.31 expected)` };
    return { kind: 'done', state: { ...s, sent: s.total, done: true }, answer };
  }
  return { kind: 'failed', state: s, reason: `answer ${answer.code} to block ${sentBlock.block.num}` };
}
