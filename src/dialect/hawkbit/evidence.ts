/**
 * hawkBit DDI exchanges as verdict evidence: the facts of each call and the words a trace shows for
 * them. Pure; never throws on a hostile answer (facts are optional).
 */
import type { HttpResult } from '../types.js';
import type { HawkbitAnswer, HawkbitRequest } from '../../device/hawkbit/types.js';
import type { EvidenceCodec, ExchangeFacts } from '../../verdicts/evidence.js';
import { headerOf } from '../decode.js';

const RANGE_START = /^bytes\s+(\d{1,15})-/i;

function requestFacts(req: HawkbitRequest): ExchangeFacts {
  const f: ExchangeFacts = {};
  if (req.fault?.loseAnswer) f.lost = true;
  if (req.fault?.cutAfterBytes !== undefined) f.cutAfter = req.fault.cutAfterBytes;
  switch (req.op) {
    case 'deployment':
    case 'cancel':
      f.action = req.action;
      break;
    case 'download':
      Object.assign(f, { action: req.action, start: req.start, end: req.end });
      break;
    case 'feedback':
    case 'cancelFeedback':
      Object.assign(f, { action: req.action, execution: req.report.execution, finished: req.report.finished });
      if (req.report.progress !== undefined) f.step = req.report.progress.cnt;
      break;
    case 'poll':
    case 'config':
      break;
  }
  return f;
}

function answerFacts(f: ExchangeFacts, result: HttpResult, a: HawkbitAnswer): void {
  if (result.kind === 'response') {
    f.status = result.status;
    if (a.type === 'file') {
      f.bytes = result.body.length;
      const m = RANGE_START.exec(headerOf(result.headers, 'content-range')?.trim() ?? '');
      f.rangeStart = m ? Number(m[1]) : 0;
    }
  }
  switch (a.type) {
    case 'poll':
      if (a.cancel !== undefined) Object.assign(f, { offerAction: a.cancel.action, offerLink: 'cancelAction' });
      else if (a.deployment !== undefined) Object.assign(f, { offerAction: a.deployment.action, offerLink: 'deploymentBase' });
      break;
    case 'deployment':
      Object.assign(f, { offerAction: a.action, offerMd5: a.artifact.md5, offerSize: a.artifact.size, offerTarget: a.version });
      break;
    case 'file':
      f.held = a.held;
      if (a.md5 !== undefined) f.md5 = a.md5;
      if (a.cut) f.cut = true;
      break;
    case 'net':
      f.net = a.code;
      if (a.held !== undefined && result.kind === 'error' && result.partial) {
        const p = result.partial;
        Object.assign(f, { status: p.status, bytes: p.body.length, held: a.held, cut: true });
        const m = RANGE_START.exec(headerOf(p.headers, 'content-range')?.trim() ?? '');
        f.rangeStart = m ? Number(m[1]) : 0;
        if (a.md5 !== undefined) f.md5 = a.md5;
      }
      break;
    default:
      break;
  }
}

export const hawkbitEvidence: EvidenceCodec<HawkbitRequest, HawkbitAnswer> = {
  factsOf(req, result, answer) {
    const f = requestFacts(req);
    answerFacts(f, result, answer);
    return f;
  },

  describe(op, outcome, f) {
    const fault = `${f.lost ? ' [answer lost]' : ''}${f.cutAfter !== undefined ? ` [link cut after ${f.cutAfter} B]` : ''}`;
    const action = f.action !== undefined ? ` action ${f.action}` : '';
    let request: string;
    switch (op) {
      case 'download':
        request = `download${action} bytes=${f.start ?? '?'}-${f.end ?? '?'}`;
        break;
      case 'feedback':
      case 'cancelFeedback':
        request = `${op}${action} ${f.execution ?? '?'}/${f.finished ?? '?'}${f.step !== undefined ? ` progress ${f.step}%` : ''}`;
        break;
      default:
        request = `${op}${action}`;
    }
    let answer = outcome;
    if (f.offerLink !== undefined) answer += ` action ${f.offerAction ?? '?'}`;
    else if (f.offerMd5 !== undefined) answer += ` action ${f.offerAction ?? '?'} version=${f.offerTarget ?? '?'} size=${f.offerSize ?? '?'} md5=${f.offerMd5.slice(0, 8)}…`;
    if (op === 'download' && f.rangeStart !== undefined) answer += ` from ${f.rangeStart}`;
    if (f.bytes !== undefined) answer += ` ${f.bytes} B`;
    if (f.held !== undefined) answer += ` held=${f.held}`;
    if (f.md5 !== undefined) answer += ` md5=${f.md5.slice(0, 8)}…`;
    if (f.cut) answer += ' (cut)';
    return { request: request + fault, answer };
  },
};
