/**
 * Rules every dialect shares: the final states agree with the server's, and a lost answer is
 * retransmitted the way RFC 7252 §4.2 says (which checks the harness's own devices: a rule about
 * the device is worth as much as one about the server when a field bug hides between them).
 */
import { UNANSWERED_CODES } from '../../device/retransmit.js';
import type { Exchange } from '../evidence.js';
import { agreementOf } from '../server-agreement.js';
import { at, hasServerView, NO_SERVER_VIEW_AT_ALL, perDevice, type Rule } from '../rule.js';

export const finalStateAgreement: Rule = {
  name: 'final-state-agreement',
  description: "every device's final state is one the server's own view of it agrees with (succeeded ↔ task succeeded, failed/gated ↔ task failed, banned ↔ banned, ...)",
  dialects: ['onenet', 'luat', 'hawkbit'],
  evaluate: (devices, ctx) => {
    // Only the server can say what it recorded: without its view there is nothing to compare.
    if (!hasServerView(ctx)) return { checked: 0, violations: [], notJudged: NO_SERVER_VIEW_AT_ALL };
    return perDevice(
      (d, c) => d.final !== undefined && c.views.has(d.id) && agreementOf(c.dialect, d.final.kind, c.views.get(d.id)!) !== undefined,
      (d, c) => {
        const a = agreementOf(c.dialect, d.final!.kind, c.views.get(d.id)!)!;
        return a.holds ? undefined : `the device ended ${d.final!.kind}; the server shows ${a.server} (expected ${a.expected})`;
      },
    )(devices, ctx);
  },
};

/** No answer came (a download broken off mid-body brought bytes, `held`: answered in part, resumed by the device). */
const isUnanswered = (e: Exchange): boolean => e.facts.net !== undefined && UNANSWERED_CODES.has(e.facts.net) && e.facts.held === undefined;

/** The same request sent again: same operation and the same call parameters. */
const sameRequest = (a: Exchange, b: Exchange): boolean =>
  a.op === b.op &&
  a.facts.start === b.facts.start &&
  a.facts.end === b.facts.end &&
  a.facts.step === b.facts.step &&
  a.facts.token === b.facts.token &&
  a.facts.version === b.facts.version &&
  a.facts.action === b.facts.action &&
  a.facts.execution === b.facts.execution &&
  a.facts.finished === b.facts.finished;

/** Relative slack for comparing virtual instants computed in floating point. */
const EPS = 1e-6;

export const coapRetransmit: Rule = {
  name: 'coap-retransmit',
  description:
    'an unanswered request (answer lost, timeout, reset) is sent again after its timeout, uniform in [ACK_TIMEOUT, ACK_TIMEOUT × ACK_RANDOM_FACTOR] and doubled each time, at most MAX_RETRANSMIT times (RFC 7252 §4.2)',
  dialects: ['onenet', 'luat', 'hawkbit'],
  evaluate: perDevice(
    (d) => d.exchanges.some(isUnanswered),
    (d, ctx, count) => {
      const { ackTimeoutMs, randomFactor, maxRetransmit } = ctx.retransmitOf(d.cohort);
      const radio = ctx.radioModelled(d.cohort);
      const xs = d.exchanges;
      let k = 0;
      for (let i = 0; i < xs.length; i++) {
        const e = xs[i] as Exchange;
        if (!isUnanswered(e)) {
          k = 0;
          continue;
        }
        const next = xs[i + 1];
        if (next === undefined) break;
        if (k >= maxRetransmit) {
          // The budget is spent: the machine's own retry logic takes over.
          k = 0;
          continue;
        }
        if (!sameRequest(e, next)) return `after ${k} of ${maxRetransmit} retransmissions of an unanswered ${e.op} (${e.outcome}) it sent a ${next.op} instead of retransmitting`;
        const low = e.decided + ackTimeoutMs * 2 ** k;
        const high = Math.max(e.answered, e.decided + ackTimeoutMs * randomFactor * 2 ** k);
        const tol = EPS * Math.max(1, Math.abs(high));
        // A modelled radio may hold a transmission back (PSM sleep, RRC set-up): only the count is judged then.
        if (!radio && (next.decided < low - tol || next.decided > high + tol)) {
          return `retransmission ${k + 1} of ${e.op} came ${at(next.decided - e.decided)} after the previous transmission; expected ${at(low - e.decided)}–${at(high - e.decided)}`;
        }
        count('retransmissions');
        k++;
      }
      return undefined;
    },
  ),
};
