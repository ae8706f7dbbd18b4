/**
 * A checked dialect file made ready to run: every template compiled, every call a flow names
 * known, every event given what it needs. `fail(path, message)` names the field (./load.ts turns
 * it into file:line); the same compile runs in each worker on data already checked.
 */
import { parseDuration } from '../../config/units.js';
import { compileTemplate, type Template } from './template.js';
import type { AnswerFile, CallFile, DeclaredDialectFile, DeclaredEvent, HashAlgorithm } from './schema.js';

export type Fail = (path: string, message: string) => never;

export interface CompiledAnswer {
  readonly when: AnswerFile['when'];
  readonly event: DeclaredEvent;
  readonly outcome?: Template;
  readonly offer?: { readonly version: Template; readonly size: Template; readonly hash: Template; readonly url?: Template; readonly extra: ReadonlyMap<string, Template> };
  readonly wait?: Template;
  readonly reason?: Template;
}

export interface CompiledCall {
  readonly name: string;
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly url: Template;
  readonly headers: ReadonlyMap<string, Template>;
  readonly body?: Template;
  readonly auth: boolean;
  readonly outcome?: Template;
  readonly answers: readonly CompiledAnswer[];
}

export interface CompiledAuth {
  readonly header?: { readonly name: string; readonly value: Template };
  readonly hmac?: {
    readonly header: string;
    readonly algorithm: HashAlgorithm;
    readonly key: Template;
    readonly keyEncoding: 'utf8' | 'base64' | 'hex';
    readonly over: Template;
    readonly encoding: 'hex' | 'base64';
    readonly value?: Template;
    readonly expiresInSec: number;
  };
}

export interface CompiledDialect {
  readonly name: string;
  readonly calls: ReadonlyMap<string, CompiledCall>;
  readonly auth: CompiledAuth;
  readonly flow: {
    readonly start: readonly string[];
    readonly check: string;
    readonly accept: readonly string[];
    readonly download: { readonly url: Template; readonly operation: string; readonly range: boolean; readonly hash: HashAlgorithm; readonly headers: ReadonlyMap<string, Template>; readonly auth: boolean; readonly outcome: string };
    readonly progress?: string;
    readonly downloaded: readonly string[];
    readonly installed: readonly string[];
    readonly failure?: string;
    readonly failureCodes: Readonly<Record<string, string | number>>;
  };
  /** Histogram names, in first use. */
  readonly operations: readonly string[];
}

const ROOTS = new Set(['device', 'settings', 'offer', 'progress', 'failure', 'download', 'auth', 'now', 'json', 'status', 'headers']);

function template(source: string, path: string, fail: Fail): Template {
  const t = compileTemplate(source);
  if (typeof t === 'string') return fail(path, t);
  const bad = t.paths.find((p) => !ROOTS.has(p.split('.')[0] ?? ''));
  if (bad !== undefined) fail(path, `{{${bad}}}: a template reads ${[...ROOTS].join(', ')}`);
  return t;
}

function headersOf(h: Readonly<Record<string, string>> | undefined, path: string, fail: Fail): ReadonlyMap<string, Template> {
  return new Map(Object.entries(h ?? {}).map(([k, v]) => [k, template(v, `${path}.${k}`, fail)]));
}

function answerOf(a: AnswerFile, path: string, fail: Fail): CompiledAnswer {
  if (a.event === 'offer' && a.offer === undefined) fail(`${path}.offer`, 'an offer event needs offer: { version, size, hash }');
  if (a.event === 'wait' && a.wait === undefined) fail(`${path}.wait`, 'a wait event needs wait: seconds');
  if (a.authFailed === true && (a.outcome === undefined || /\{\{/.test(a.outcome))) fail(`${path}.outcome`, 'an authFailed answer needs a fixed outcome (the probe recognises it by it)');
  let offer: CompiledAnswer['offer'];
  if (a.offer !== undefined) {
    const { version, size, hash, url, ...rest } = a.offer as Record<string, string> & { version: string; size: string; hash: string; url?: string };
    const at = `${path}.offer`;
    offer = {
      version: template(version, `${at}.version`, fail),
      size: template(size, `${at}.size`, fail),
      hash: template(hash, `${at}.hash`, fail),
      ...(url !== undefined ? { url: template(url, `${at}.url`, fail) } : {}),
      extra: new Map(Object.entries(rest).map(([k, v]) => [k, template(v, `${at}.${k}`, fail)])),
    };
  }
  return {
    when: a.when,
    event: a.event,
    ...(a.outcome !== undefined ? { outcome: template(a.outcome, `${path}.outcome`, fail) } : {}),
    ...(offer !== undefined ? { offer } : {}),
    ...(a.wait !== undefined ? { wait: template(a.wait, `${path}.wait`, fail) } : {}),
    ...(a.reason !== undefined ? { reason: template(a.reason, `${path}.reason`, fail) } : {}),
  };
}

function callOf(name: string, c: CallFile, fail: Fail): CompiledCall {
  const path = `calls.${name}`;
  return {
    name,
    operation: c.operation ?? name,
    method: c.method,
    url: template(c.url, `${path}.url`, fail),
    headers: headersOf(c.headers, `${path}.headers`, fail),
    ...(c.body !== undefined ? { body: template(c.body, `${path}.body`, fail) } : {}),
    auth: c.auth ?? true,
    ...(c.outcome !== undefined ? { outcome: template(c.outcome, `${path}.outcome`, fail) } : {}),
    answers: (c.answers ?? []).map((a, i) => answerOf(a, `${path}.answers.${i}`, fail)),
  };
}

export function compileDialect(d: DeclaredDialectFile, fail: Fail): CompiledDialect {
  const calls = new Map(Object.entries(d.calls).map(([name, c]) => [name, callOf(name, c, fail)]));
  const known = (name: string, path: string): string => {
    if (!calls.has(name)) fail(path, `no call named "${name}" (calls: ${[...calls.keys()].join(', ')})`);
    return name;
  };
  const list = (names: readonly string[] | undefined, path: string): string[] => (names ?? []).map((n, i) => known(n, `${path}.${i}`));
  const f = d.flow;
  const checkCall = calls.get(known(f.check, 'flow.check'));
  if (checkCall && !checkCall.answers.some((a) => a.event === 'offer')) fail('flow.check', `call "${f.check}" has no answer that is an offer`);
  const hmac = d.auth?.hmac;
  let expiresInSec = 0;
  if (hmac?.expiresIn !== undefined) {
    const ms = parseDuration(hmac.expiresIn);
    if (ms === undefined) fail('auth.hmac.expiresIn', `${JSON.stringify(hmac.expiresIn)} is not a duration`);
    expiresInSec = Math.round((ms as number) / 1000);
  }
  const downloadOp = f.download.operation ?? 'download';
  const operations = [...new Set([...[...calls.values()].map((c) => c.operation), downloadOp])];
  return {
    name: d.name,
    calls,
    auth: {
      ...(d.auth?.header !== undefined ? { header: { name: d.auth.header.name, value: template(d.auth.header.value, 'auth.header.value', fail) } } : {}),
      ...(hmac !== undefined
        ? {
            hmac: {
              header: hmac.header,
              algorithm: hmac.algorithm,
              key: template(hmac.key, 'auth.hmac.key', fail),
              keyEncoding: hmac.keyEncoding ?? 'utf8',
              over: template(hmac.over, 'auth.hmac.over', fail),
              encoding: hmac.encoding ?? 'hex',
              ...(hmac.value !== undefined ? { value: template(hmac.value, 'auth.hmac.value', fail) } : {}),
              expiresInSec,
            },
          }
        : {}),
    },
    flow: {
      start: list(f.start, 'flow.start'),
      check: f.check,
      accept: list(f.accept, 'flow.accept'),
      download: {
        url: template(f.download.url ?? '{{offer.url}}', 'flow.download.url', fail),
        operation: downloadOp,
        range: f.download.range ?? true,
        hash: f.download.hash,
        headers: headersOf(f.download.headers, 'flow.download.headers', fail),
        auth: f.download.auth ?? false,
        outcome: f.download.outcome ?? 'bytes',
      },
      ...(f.progress !== undefined ? { progress: known(f.progress, 'flow.progress') } : {}),
      downloaded: list(f.downloaded, 'flow.downloaded'),
      installed: list(f.installed, 'flow.installed'),
      ...(f.failure !== undefined ? { failure: known(f.failure, 'flow.failure') } : {}),
      failureCodes: f.failureCodes ?? {},
    },
    operations,
  };
}

/**
 * The answers that refuse the credentials, as `operation outcome` pairs: a probe that meets one
 * stops the run (engine/diagnosis.ts). Their outcomes are fixed text (checked above).
 */
export function authRefusals(d: DeclaredDialectFile): ReadonlySet<string> {
  const out = new Set<string>();
  for (const [name, c] of Object.entries(d.calls)) {
    for (const a of c.answers ?? []) if (a.authFailed === true && a.outcome !== undefined) out.add(`${c.operation ?? name} ${a.outcome}`);
  }
  return out;
}
