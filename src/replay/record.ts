/** One exchange of a run as its exchange-log record (the documented columns). Pure. */
import type { HttpRequest, HttpResult } from '../dialect/types.js';
import { answerFields, withoutSecrets } from './exchange.js';
import { recogniseCall } from './dialects.js';

export function exchangeRecord(device: string, dialect: string, http: HttpRequest, result: HttpResult, sentVirtual: number): Record<string, unknown> {
  const path = withoutSecrets(http.path);
  const range = http.headers['Range'] ?? http.headers['range'];
  const call = recogniseCall(http.method, path, http.body);
  const out: Record<string, unknown> = { t: new Date(Math.round(sentVirtual)).toISOString(), device, dialect };
  if (call !== undefined) out['op'] = call.op;
  out['method'] = http.method;
  out['path'] = path;
  if (range !== undefined) out['range'] = range;
  if (http.body !== undefined) out['body'] = http.body;
  Object.assign(out, answerFields(result));
  return out;
}
