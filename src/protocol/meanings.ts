/**
 * What each answer code means, in the protocol digest's words, so a report can say
 * `errno:1 auth failed / no such device` instead of a bare number. OneNET's errno tables differ
 * per call (1 on a check is not 1 on a report), so a meaning is looked up by operation. Pure data:
 * the labels in histograms stay the short ones (`errno:1`); the meaning is added where shown.
 */
import { LUAT_MESSAGES, type LuatCode } from './luat.js';
import { DDI_STATUS_MEANINGS } from './hawkbit.js';

type Table = Readonly<Record<number, string>>;

const AUTH = 'auth failed / no such device';

/** Check (and report version, which shares its identification). */
const CHECK: Table = {
  0: 'task offered',
  1: AUTH,
  2: 'bad parameters',
  7: 'internal error',
  8: 'manuf/model differ: task failed',
  9: 'version differs from the diff package: task failed',
  11: 'no task',
  27: 'bad version format',
};

const REPORT_VERSION: Table = { 0: 'ok', 1: AUTH, 2: 'bad parameters', 7: 'internal error' };

const TOKEN_CHECK: Table = {
  0: 'token valid',
  1: AUTH,
  2: 'bad parameters',
  4: 'token and device differ',
  7: 'internal error',
  12: 'token expired',
  17: 'invalid state',
  20: 'task finished',
  21: 'invalid operation',
  22: 'task cancelled',
};

/** Progress and result steps (call 5, and the older report call's table). */
const STEP: Table = {
  0: 'accepted',
  1: 'token auth failed',
  2: 'unknown code',
  4: 'token and device differ',
  7: 'internal error',
  12: 'token expired',
  17: 'invalid state',
  20: 'task finished',
  21: 'invalid operation',
  22: 'task cancelled',
  24: 'bad result',
};

const DOWNLOAD_ERROR: Table = { 1: 'resource not found', 2: 'size mismatch', 3: 'invalid token' };

const ONENET_ERRNO: Readonly<Record<string, Table>> = {
  reportVersion: REPORT_VERSION,
  check: CHECK,
  tokenCheck: TOKEN_CHECK,
  progress: STEP,
  result: STEP,
};

const LUAT_SHORT: Readonly<Record<LuatCode, string>> = { ...LUAT_MESSAGES, 40: 'loop ban', 43: 'please wait (diff being built)' };

const LABEL = /^(errno|code|download-error):(\d{1,3})$/;

/** The spec's meaning of an outcome label of `op`, or undefined when it has none (transport, http, bytes). */
export function outcomeMeaning(dialect: string, op: string, label: string): string | undefined {
  if (dialect === 'hawkbit') {
    const h = /^http:(\d{3})$/.exec(label);
    return h !== null && h[1] !== '200' ? DDI_STATUS_MEANINGS[Number(h[1])] : undefined;
  }
  const m = LABEL.exec(label);
  if (m === null) return undefined;
  const n = Number(m[2]);
  if (dialect === 'onenet') {
    if (m[1] === 'download-error') return DOWNLOAD_ERROR[n];
    if (m[1] === 'errno') return ONENET_ERRNO[op]?.[n];
    return undefined;
  }
  if (dialect === 'luat' && m[1] === 'code') return (LUAT_SHORT as Table)[n];
  return undefined;
}

/** `label meaning` when the label has one, else the label. */
export function withMeaning(dialect: string, op: string, label: string): string {
  const meaning = outcomeMeaning(dialect, op, label);
  return meaning === undefined ? label : `${label} ${meaning}`;
}
