/**
 * Luat exchanges as verdict evidence: the facts of each ask and the words a trace shows for them.
 */
import type { LuatAnswer, LuatRequest } from '../../device/luat/types.js';
import type { EvidenceCodec, ExchangeFacts } from '../../verdicts/evidence.js';

export const luatEvidence: EvidenceCodec<LuatRequest, LuatAnswer> = {
  factsOf(req, result, answer) {
    const f: ExchangeFacts = { version: req.version, core: req.core };
    if (req.fault?.loseAnswer) f.lost = true;
    if (result.kind === 'response') f.status = result.status;
    switch (answer.type) {
      case 'file':
        f.held = answer.held;
        if (result.kind === 'response') f.bytes = result.body.length;
        if (answer.md5 !== undefined) f.md5 = answer.md5;
        if ((answer.version ?? answer.nameVersion) !== undefined) f.fileVersion = answer.version ?? answer.nameVersion;
        if (answer.version !== undefined || answer.nameVersion !== undefined) f.fileLabels = answer.version === undefined ? 'filename' : answer.nameVersion === undefined ? 'header' : 'both';
        if (answer.expectedMd5 !== undefined) f.expectedMd5 = answer.expectedMd5;
        break;
      case 'code':
        f.code = answer.code;
        break;
      case 'net':
        f.net = answer.code;
        break;
      case 'http':
      case 'garbage':
      case 'protocol':
        break;
    }
    return f;
  },

  describe(_op, outcome, f) {
    const request = `ask version=${f.version ?? '?'}${f.core ? ` core=${f.core}` : ''}${f.lost ? ' [answer lost]' : ''}`;
    const answer = f.fileVersion !== undefined || f.bytes !== undefined ? `${outcome} ${f.fileVersion ?? '?'} ${f.bytes ?? '?'} B` : outcome;
    return { request, answer };
  },
};
