/**
 * One exchange of a run as its exchange-log record (the documented columns). Pure. A task token is
 * a credential of its download: the record holds a pseudonym of it instead (the same token, the
 * same pseudonym), which is all a replay needs to tie a task's calls together.
 */
import type { HttpRequest, HttpResult } from '../dialect/types.js';
import { answerFields, withoutSecrets } from './exchange.js';
import { recogniseCall, replayDialect } from './calls.js';

export function exchangeRecord(device: string, dialect: string, http: HttpRequest, result: HttpResult, sentVirtual: number, pseudonym: (task: string) => string): Record<string, unknown> {
  let path = withoutSecrets(http.path);
  const range = http.headers['Range'] ?? http.headers['range'];
  const call = recogniseCall(http.method, path, http.body);
  if (call?.task !== undefined) path = replayDialect(call.dialect)?.withTask(path, call.task, pseudonym(call.task)) ?? path;
  const out: Record<string, unknown> = { t: new Date(Math.round(sentVirtual)).toISOString(), device, dialect };
  if (call !== undefined) out['op'] = call.op;
  out['method'] = http.method;
  out['path'] = path;
  if (range !== undefined) out['range'] = range;
  if (http.body !== undefined) out['body'] = http.body;
  const answer = answerFields(result);
  Object.assign(out, answer.task !== undefined ? { ...answer, task: pseudonym(answer.task) } : answer);
  return out;
}
