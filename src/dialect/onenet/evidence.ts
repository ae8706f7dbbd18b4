/**
 * OneNET exchanges as verdict evidence: the facts of each call (./../../verdicts/evidence.ts) and
 * the words a trace shows for them. Pure; never throws on a hostile answer (facts are optional).
 */
import type { HttpResult } from '../types.js';
import type { OnenetAnswer, OnenetRequest } from '../../device/onenet/types.js';
import type { EvidenceCodec, ExchangeFacts } from '../../verdicts/evidence.js';
import { headerOf } from '../decode.js';

const RANGE_START = /^bytes\s+(\d{1,15})-/i;

function requestFacts(req: OnenetRequest, sentVirtual: number, authTtlSec: number | undefined): ExchangeFacts {
  const f: ExchangeFacts = {};
  if (req.fault?.loseAnswer) f.lost = true;
  if (req.fault?.cutAfterBytes !== undefined) f.cutAfter = req.fault.cutAfterBytes;
  if (req.op !== 'download' && authTtlSec !== undefined) {
    // The header's et is the signing second plus the lifetime (dialect/onenet/wire.ts).
    const et = Math.floor((req.authAt ?? sentVirtual) / 1000) + authTtlSec;
    if (et * 1000 < sentVirtual) f.authExpired = true;
  }
  switch (req.op) {
    case 'reportVersion':
      f.version = req.version;
      break;
    case 'check':
      Object.assign(f, { manuf: req.manuf, model: req.model, version: req.version, signal: req.signal, battery: req.battery });
      break;
    case 'tokenCheck':
      f.token = req.token;
      break;
    case 'download':
      Object.assign(f, { token: req.token, start: req.start, end: req.end });
      break;
    case 'progress':
    case 'result':
      Object.assign(f, { token: req.token, step: req.step });
      break;
  }
  return f;
}

function answerFacts(f: ExchangeFacts, result: HttpResult, answer: OnenetAnswer): void {
  if (result.kind === 'response') {
    f.status = result.status;
    if (result.body.length > 0 && (answer.type === 'file' || answer.type === 'download-error')) f.bytes = result.body.length;
    const range = headerOf(result.headers, 'content-range');
    const m = range !== undefined ? RANGE_START.exec(range.trim()) : null;
    if (m) f.rangeStart = Number(m[1]);
    else if (result.status === 200 && answer.type === 'file') f.rangeStart = 0;
  }
  switch (answer.type) {
    case 'json':
      f.errno = answer.errno;
      if (answer.offer) {
        const o = answer.offer;
        Object.assign(f, { offerToken: o.token, offerMd5: o.md5.toLowerCase(), offerSize: o.size, offerTarget: o.target });
        if (o.signal !== undefined) f.offerSignal = o.signal;
        if (o.power !== undefined) f.offerPower = o.power;
      }
      break;
    case 'file':
      f.held = answer.held;
      if (answer.md5 !== undefined) f.md5 = answer.md5;
      if (answer.cut) f.cut = true;
      break;
    case 'download-error':
      f.code = answer.code;
      break;
    case 'net':
      f.net = answer.code;
      if (answer.held !== undefined && result.kind === 'error' && result.partial) {
        // Broken off mid-body: like a dropped link, the bytes that arrived are held and the next
        // request must start after them.
        const p = result.partial;
        Object.assign(f, { status: p.status, bytes: p.body.length, held: answer.held, cut: true });
        const m = RANGE_START.exec(headerOf(p.headers, 'content-range')?.trim() ?? '');
        if (m) f.rangeStart = Number(m[1]);
        else if (p.status === 200) f.rangeStart = 0;
        if (answer.md5 !== undefined) f.md5 = answer.md5;
      }
      break;
    case 'http':
    case 'garbage':
    case 'protocol':
      break;
  }
}

const tokenPart = (f: ExchangeFacts, name: (t: string) => string): string => (f.token !== undefined ? ` ${name(f.token)}` : '');

export const onenetEvidence: EvidenceCodec<OnenetRequest, OnenetAnswer> = {
  factsOf(req, result, answer, { sentVirtual, authTtlSec }) {
    const f = requestFacts(req, sentVirtual, authTtlSec);
    answerFacts(f, result, answer);
    return f;
  },

  describe(op, outcome, f, name) {
    const fault = `${f.lost ? ' [answer lost]' : ''}${f.cutAfter !== undefined ? ` [link cut after ${f.cutAfter} B]` : ''}${f.authExpired ? ' [expired Authorization]' : ''}`;
    let request: string;
    switch (op) {
      case 'reportVersion':
        request = `version ${f.version ?? '?'}`;
        break;
      case 'check':
        request = `check version=${f.version ?? '?'} manuf=${f.manuf ?? '?'} model=${f.model ?? '?'} signal=${f.signal ?? '?'} battery=${f.battery ?? '?'}`;
        break;
      case 'tokenCheck':
        request = `token check${tokenPart(f, name)}`;
        break;
      case 'download':
        request = `download${tokenPart(f, name)} bytes=${f.start ?? '?'}-${f.end ?? '?'}`;
        break;
      default:
        request = `${op} step=${f.step ?? '?'}${tokenPart(f, name)}`;
    }
    let answer = outcome;
    if (f.offerToken !== undefined) {
      answer += ` ${name(f.offerToken)} target=${f.offerTarget ?? '?'} size=${f.offerSize ?? '?'} md5=${(f.offerMd5 ?? '?').slice(0, 8)}… signal>${f.offerSignal ?? '?'} power>${f.offerPower ?? '?'}`;
    }
    if (f.status !== undefined && op === 'download') answer += ` http:${f.status}${f.rangeStart !== undefined ? ` from ${f.rangeStart}` : ''}`;
    if (f.bytes !== undefined) answer += ` ${f.bytes} B`;
    if (f.held !== undefined) answer += ` held=${f.held}`;
    if (f.md5 !== undefined) answer += ` md5=${f.md5.slice(0, 8)}…`;
    if (f.cut) answer += ' (cut)';
    return { request: request + fault, answer };
  },
};
