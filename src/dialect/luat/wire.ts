/**
 * Luat on the wire (spec §2): one GET, answered with the file (200/206) or a JSON code (≥ 300).
 *
 * Choices where the documents are silent:
 * - Requests set `download: { total: 0 }`: the size is unknown, the engine digests whatever body
 *   arrives and reports `held` (its length) and `md5`.
 * - `core_version` is sent only when the device has one; `dfota=1` unless the target profile says
 *   the devices do not ask for diffs (luat.dfota: false).
 * - The versions a file's labels name are read from an `X-Firmware-Version` header and from a
 *   Content-Disposition file name ending in `_x.y.z` (before any extension), separately: the
 *   documents name neither, so which one counts (or whether the device asks again instead) is the
 *   profile's versionConfirm (see device/luat/machine.ts).
 * - An `X-Firmware-Md5` header (32 hex digits) is the md5 the device checks the bytes against.
 * - A 200 served as JSON with an integer `code` is read as a code (a misbehaving server), a 200
 *   with an empty body is unreadable; a ≥ 300 whose body is no JSON object is an `http` answer, one
 *   whose JSON is not `{code (integer), msg (text)?}` is `protocol:bad-luat-answer` (an error).
 */
import type { HttpRequest, HttpResult, Wire } from '../types.js';
import type { LuatSettings } from './target.js';
import { LUAT_OPERATION, type LuatAnswer, type LuatRequest } from '../../device/luat/types.js';
import { LUAT_PATH } from '../../protocol/luat.js';
import { LUAT_FILE_MAX_BYTES } from '../answer-limits.js';
import { badAnswer, codeLabel, headerOf, intField, isJsonType, isTransportError, jsonObject, transportOutcome } from '../decode.js';

const enc = encodeURIComponent;
const VERSION = /^\d{1,9}(?:\.\d{1,9}){0,5}$/;
const MAX_VERSION_CHARS = 20;
const MD5_HEX = /^[0-9a-fA-F]{32}$/;
const FILE_NAME = /filename\s*=\s*"?([^";]*)"?/i;
const VERSION_IN_NAME = /[_\-\s][vV]?(\d+(?:\.\d+)+?)(?:\.[A-Za-z][A-Za-z0-9]*)?$/;

function encode(req: LuatRequest, t: LuatSettings): HttpRequest {
  if (typeof t?.projectKey !== 'string') throw new Error('dialect luat: the target has no luat settings (target.luat: projectKey, firmwareName)');
  const core = req.core === '' ? '' : `&core_version=${enc(req.core)}`;
  const path =
    `${LUAT_PATH}?project_key=${enc(t.projectKey)}&imei=${enc(req.imei)}&firmware_name=${enc(t.firmwareName)}` +
    `&version=${enc(req.version)}${core}${t.dfota === false ? '' : '&dfota=1'}`;
  const http: HttpRequest = { method: 'GET', path, headers: {}, download: { total: 0 }, maxAnswerBytes: LUAT_FILE_MAX_BYTES };
  return req.fault === undefined ? http : { ...http, fault: req.fault };
}

const usableVersion = (v: string | undefined): string | undefined => {
  const t = v?.trim();
  return t !== undefined && t.length <= MAX_VERSION_CHARS && VERSION.test(t) ? t : undefined;
};

/** The version an `X-Firmware-Version` header names. */
export const headerVersionOf = (headers: Readonly<Record<string, string | undefined>>): string | undefined => usableVersion(headerOf(headers, 'x-firmware-version'));

/** The version a Content-Disposition file name ends in (`_x.y.z`, before any extension). */
export function nameVersionOf(headers: Readonly<Record<string, string | undefined>>): string | undefined {
  const disposition = headerOf(headers, 'content-disposition');
  const name = disposition !== undefined && disposition.length <= 512 ? FILE_NAME.exec(disposition)?.[1] : undefined;
  return usableVersion(name !== undefined ? VERSION_IN_NAME.exec(name.trim())?.[1] : undefined);
}

/** The version a file answer upgrades to, when its headers say (the header first). */
export const fileVersionOf = (headers: Readonly<Record<string, string | undefined>>): string | undefined => headerVersionOf(headers) ?? nameVersionOf(headers);

/** A `{code, msg}` body (spec §2); undefined when the body is no JSON object, a protocol error when it is one of another shape. */
function codeAnswer(body: Uint8Array): LuatAnswer | undefined {
  const o = jsonObject(body);
  if (o === undefined) return undefined;
  const code = intField(o, 'code');
  if (code === undefined) return badAnswer(LUAT_OPERATION, 'no integer code');
  if (Object.hasOwn(o, 'msg') && o['msg'] !== null && typeof o['msg'] !== 'string') return badAnswer(LUAT_OPERATION, 'msg is not text');
  return { type: 'code', code };
}

function decode(_req: LuatRequest, result: HttpResult): LuatAnswer {
  if (result.kind === 'error') return { type: 'net', code: result.code };
  const { status, headers, body } = result;
  if (status === 200 || status === 206) {
    if (body.length === 0) return { type: 'garbage' };
    if (isJsonType(headerOf(headers, 'content-type'))) {
      const coded = codeAnswer(body);
      if (coded !== undefined && coded.type === 'code') return coded;
    }
    const held = typeof result.held === 'number' && Number.isFinite(result.held) ? result.held : body.length;
    const answer: { type: 'file'; held: number; md5?: string; version?: string; nameVersion?: string; expectedMd5?: string } = { type: 'file', held };
    if (typeof result.md5 === 'string') answer.md5 = result.md5;
    const version = headerVersionOf(headers);
    if (version !== undefined) answer.version = version;
    const nameVersion = nameVersionOf(headers);
    if (nameVersion !== undefined) answer.nameVersion = nameVersion;
    const expected = headerOf(headers, 'x-firmware-md5')?.trim();
    if (expected !== undefined && MD5_HEX.test(expected)) answer.expectedMd5 = expected.toLowerCase();
    return answer;
  }
  if (status >= 300) return codeAnswer(body) ?? { type: 'http', status };
  return { type: 'http', status };
}

function outcomeOf(a: LuatAnswer): string {
  switch (a.type) {
    case 'file':
      return 'file';
    case 'code':
      return `code:${codeLabel(a.code)}`;
    default:
      return transportOutcome(a);
  }
}


export const luatWire: Wire<LuatRequest, LuatAnswer, LuatSettings> = {
  encode,
  decode,
  operationOf: () => LUAT_OPERATION,
  outcomeOf,
  isError: isTransportError,
};
