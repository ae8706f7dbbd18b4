/** The LwM2M exchanges as verdict evidence: the server's calls, Object 5 when they came, blocks, and every server retransmission seen. */
import type { ExchangeFacts } from '../../verdicts/evidence.js';
import type { SeenMessage } from '../coap.js';
import type { Lwm2mAnswer, Lwm2mRequest } from '../../device/lwm2m/types.js';
import { callText } from '../../device/lwm2m/machine.js';

const seenFact = (s: SeenMessage): NonNullable<ExchangeFacts['seen']>[number] => ({ at: [...s.at], answered: s.answered, ...(s.asleep === true ? { asleep: true } : {}), ...(s.cut === true ? { cut: true } : {}) });

export function lwm2mFactsOf(request: Lwm2mRequest, _result: unknown, answer: Lwm2mAnswer): ExchangeFacts {
  const f: ExchangeFacts = {};
  switch (request.op) {
    case 'register':
      if (request.version !== undefined) f.version = request.version;
      if (request.fwResult !== undefined) f.fwResult = request.fwResult;
      f.binding = request.binding;
      break;
    case 'reply':
      f.coapCode = request.code;
      if (request.call !== undefined) f.call = request.call;
      if (request.fwState !== undefined) f.fwState = request.fwState;
      if (request.fwResult !== undefined) f.fwResult = request.fwResult;
      if (request.drop === true) f.dropped = true;
      break;
    case 'block':
      f.block = request.block.num;
      break;
    case 'sleep':
      if (request.release === true) f.released = true;
      break;
    case 'notify':
      // What the server was told unasked: the result-agreement rule needs the last Update Result it heard.
      if (request.path !== undefined) f.call = `notify ${request.path}`;
      if (request.path === '/5/0/5' && /^\d+$/.test(request.body)) f.fwResult = Number(request.body);
      break;
    default:
      break;
  }
  switch (answer.type) {
    case 'server':
      f.call = callText(answer.call);
      break;
    case 'block':
      f.coapCode = answer.code;
      f.bytes = answer.payloadBytes;
      f.held = answer.held;
      if (answer.md5 !== undefined) {
        f.md5 = answer.md5;
        // Which package the assembled bytes are of (the repository's /fw/{id}): the integrity rule compares with its md5.
        if (request.op === 'block') f.path = request.source.path;
      }
      break;
    case 'created':
      f.coapCode = '2.01';
      break;
    case 'ok':
    case 'refused':
      f.coapCode = answer.code;
      break;
    case 'net':
      f.net = answer.code;
      break;
    default:
      break;
  }
  if (answer.seen !== undefined && answer.seen.length > 0) f.seen = answer.seen.map(seenFact);
  return f;
}

export function describeLwm2m(op: string, outcome: string, f: ExchangeFacts): { request: string; answer: string } {
  const request =
    op === 'reply' ? `reply ${f.coapCode ?? ''} to ${f.call ?? 'a server request'}${f.dropped ? ' (ACK dropped)' : ''}`
    : op === 'block' ? `GET block ${f.block ?? '?'}`
    : op === 'register' ? `Register (version ${f.version ?? '?'}, Update Result ${f.fwResult ?? '?'})`
    : op;
  const seen = f.seen === undefined ? '' : `; saw ${f.seen.map((s) => `${s.at.length} transmission(s)${s.answered ? '' : ' unanswered'}`).join(', ')}`;
  const answer = (f.call !== undefined && op === 'listen' ? `server: ${f.call}` : f.held !== undefined ? `${outcome}, ${f.held} bytes held` : outcome) + seen;
  return { request, answer };
}

/** Server messages the device had seen and not reported when the run ended (the transport's leftover, cut short). */
export const lwm2mFactsOfLeftover = (leftover: { readonly seen?: readonly SeenMessage[] }): ExchangeFacts | undefined =>
  leftover.seen === undefined || leftover.seen.length === 0 ? undefined : { seen: leftover.seen.map(seenFact) };

export const lwm2mEvidence = { factsOf: lwm2mFactsOf, describe: describeLwm2m, factsOfLeftover: lwm2mFactsOfLeftover };
