/**
 * LwM2M packages over HTTP: `GET /lwm2m/fw/{package}` (Range as the OneNET download reads it,
 * ETag the md5), for a campaign whose Package URI is an HTTP one (`delivery: http`). 404 JSON for
 * an unknown package.
 */
import { resolveRange } from '../../protocol/range.js';
import { json, type Outcome, type RequestContext } from '../http/answer.js';
import { fileAnswer } from '../onenet/calls.js';
import type { Lwm2mServer } from './server.js';

export const LWM2M_HTTP_PREFIX = '/lwm2m/fw/';

export class Lwm2mHttpCalls {
  constructor(private readonly server: () => Lwm2mServer) {}

  download(ctx: RequestContext): Outcome {
    let id: string;
    try {
      id = decodeURIComponent(ctx.param);
    } catch {
      return { answer: json(400, { error: 'bad package id encoding' }) };
    }
    const pkg = this.server().packages.get(id);
    if (!pkg) return { answer: json(404, { error: `no LwM2M package ${id}` }) };
    const image = pkg.image;
    const answer = fileAnswer(image.bytes, resolveRange(ctx.headers.range, image.size), pkg.disposition, { etag: `"${image.md5}"` });
    this.server().counters.bytesServed += answer.kind === 'file' ? answer.bytes.length : 0;
    return { answer };
  }
}
