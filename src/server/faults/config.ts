/**
 * Fault knobs: what each endpoint of the reference server does wrong, on purpose. Set at start
 * (`--fault`, a scenario's `server.faults`, ServerOptions.faults) and changed at run time through
 * the admin API. Pure parsing and merging; the draws live in ./dice.ts.
 *
 * Flag syntax, one knob per `--fault`: `ENDPOINT.KNOB=VALUE`, ENDPOINT one of ENDPOINT_NAMES or `*`
 * (every endpoint; an endpoint's own setting wins knob by knob):
 *   latency=50ms | fixed:50ms | uniform:10ms..80ms | normal:MEAN,STDDEV | lognormal:MEDIAN,P99 |
 *           pareto:SCALE,SHAPE   (durations in ms unless suffixed; real time, not virtual)
 *   error=0.05 | 5%      share of requests answered with an error instead of being processed
 *   errorStatus=503      that error as an HTTP status (default 503 when no errorCode is given)
 *   errorCode=7          or as a documented errno / Luat code / one-byte download code
 *   resetAfter=4096 | 4KiB   the connection is reset after this many body bytes of an answer
 *   stall=0.01           share of requests never answered (the socket stays open)
 *   bps=16KiB            bodies are sent at this many bytes per second
 *   drop=0.1             share of requests processed but never answered (a lost ACK)
 * Endpoint `coap` (the UDP side: LwM2M registration, firmware repository, the server's CONs) has
 * datagram knobs of its own; the HTTP knobs above do not apply to it:
 *   loss=0.05            share of datagrams lost, each way (inbound before processing, outbound)
 *   duplicate=0.05       share of outbound datagrams sent twice
 *   reorder=0.05         share of outbound datagrams held back 1–50 real ms (later ones overtake)
 *   lateAck=3s | DIST    the server's ACKs (piggybacked answers included) go out this late (virtual)
 *   separate=0.2         share of CON requests answered separately: an empty ACK at once, the
 *                        response later (after lateAck, if set) as a CON, retransmitted (RFC 7252)
 */
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../../config/load.js';
import { parseDuration, parseShare, parseSize } from '../../config/units.js';
import { DistributionSchema, type Distribution } from '../../random/distribution.js';
import { CheckErrno, DownloadError, ReportErrno, TokenErrno } from '../../protocol/onenet.js';
import { LuatCode } from '../../protocol/luat.js';
import { DDI_ENDPOINTS } from '../hawkbit/endpoints.js';

export const ENDPOINT_NAMES = ['check', 'tokenCheck', 'download', 'progress', 'report', 'reportVersion', 'queryVersion', 'luat', ...DDI_ENDPOINTS, 'aiot', 'coap', 'lwm2mDownload'] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];
export type FaultTarget = EndpointName | '*';

export interface EndpointFaults {
  /** Added before the answer, real ms. */
  latency?: Distribution;
  /** Share of requests answered with an injected error (not processed). */
  errorRate?: number;
  /** HTTP status of an injected error. */
  errorStatus?: number;
  /** Or a documented code of the endpoint, answered the way the endpoint answers codes. */
  errorCode?: number;
  /** Reset the connection after this many bytes of the answer's body. */
  resetAfterBytes?: number;
  /** Share of requests never answered. */
  stallRate?: number;
  /** Pace of answer bodies. */
  bytesPerSecond?: number;
  /** Share of requests processed whose answer is never sent. */
  dropRate?: number;
  /** coap: share of datagrams lost each way. */
  lossRate?: number;
  /** coap: share of outbound datagrams sent twice. */
  duplicateRate?: number;
  /** coap: share of outbound datagrams held back 1–50 real ms. */
  reorderRate?: number;
  /** coap: delay of the server's ACKs, virtual ms. */
  lateAck?: Distribution;
  /** coap: share of CON requests answered by a separate response. */
  separateRate?: number;
}

export type FaultConfig = Partial<Record<FaultTarget, EndpointFaults>>;

const KNOBS = ['latency', 'errorRate', 'errorStatus', 'errorCode', 'resetAfterBytes', 'stallRate', 'bytesPerSecond', 'dropRate', 'lossRate', 'duplicateRate', 'reorderRate', 'lateAck', 'separateRate'] as const;
type Knob = (typeof KNOBS)[number];

/** Short names accepted in flags. */
const KNOB_ALIASES: Readonly<Record<string, Knob>> = {
  latency: 'latency',
  error: 'errorRate',
  errorRate: 'errorRate',
  errorStatus: 'errorStatus',
  status: 'errorStatus',
  errorCode: 'errorCode',
  code: 'errorCode',
  resetAfter: 'resetAfterBytes',
  resetAfterBytes: 'resetAfterBytes',
  stall: 'stallRate',
  stallRate: 'stallRate',
  bps: 'bytesPerSecond',
  bytesPerSecond: 'bytesPerSecond',
  drop: 'dropRate',
  dropRate: 'dropRate',
  loss: 'lossRate',
  lossRate: 'lossRate',
  duplicate: 'duplicateRate',
  duplicateRate: 'duplicateRate',
  reorder: 'reorderRate',
  reorderRate: 'reorderRate',
  lateAck: 'lateAck',
  separate: 'separateRate',
  separateRate: 'separateRate',
};

/** Codes each endpoint documents, for `errorCode`. */
export const DOCUMENTED_CODES: Readonly<Record<EndpointName, ReadonlySet<number>>> = {
  check: new Set(Object.values(CheckErrno)),
  tokenCheck: new Set(Object.values(TokenErrno)),
  download: new Set(Object.values(DownloadError)),
  progress: new Set(Object.values(TokenErrno)),
  report: new Set(Object.values(ReportErrno)),
  reportVersion: new Set([0, 1, 2, 7, 27]),
  queryVersion: new Set([0, 1, 2, 7]),
  luat: new Set(Object.values(LuatCode).filter((c) => c !== 0)),
  // DDI answers codes as HTTP statuses: use errorStatus.
  ddiPoll: new Set(),
  ddiDeployment: new Set(),
  ddiFeedback: new Set(),
  ddiCancel: new Set(),
  ddiConfig: new Set(),
  ddiDownload: new Set(),
  // AIOT answers its codes inside a 200; a fault there is an HTTP status (errorStatus).
  aiot: new Set(),
  coap: new Set<number>(),
  lwm2mDownload: new Set<number>(),
};

const isTarget = (s: string): s is FaultTarget => s === '*' || (ENDPOINT_NAMES as readonly string[]).includes(s);

/** `fixed:50ms`, `uniform:10ms..80ms`, … (see the module comment); undefined when malformed. */
export function parseDistributionText(text: string): Distribution | undefined {
  const t = text.trim();
  const plain = parseDuration(t);
  if (plain !== undefined) return { dist: 'fixed', value: plain };
  const m = /^(fixed|uniform|normal|lognormal|pareto)\s*:\s*(.+)$/i.exec(t);
  if (!m) return undefined;
  const kind = (m[1] ?? '').toLowerCase();
  const args = (m[2] ?? '').split(/\s*(?:,|\.\.)\s*/);
  const ms = args.map((a) => parseDuration(a));
  const num = (i: number): number | undefined => {
    const v = Number(args[i]);
    return args[i] !== undefined && args[i] !== '' && Number.isFinite(v) ? v : undefined;
  };
  const opt = (i: number): number | undefined | null => (args[i] === undefined ? undefined : (ms[i] ?? null));
  switch (kind) {
    case 'fixed':
      return args.length === 1 && ms[0] !== undefined ? { dist: 'fixed', value: ms[0] } : undefined;
    case 'uniform': {
      const [a, b] = ms;
      return args.length === 2 && a !== undefined && b !== undefined && a <= b ? { dist: 'uniform', min: a, max: b } : undefined;
    }
    case 'normal': {
      const [mean, stddev] = ms;
      const min = opt(2);
      const max = opt(3);
      if (args.length > 4 || mean === undefined || stddev === undefined || min === null || max === null) return undefined;
      return { dist: 'normal', mean, stddev, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
    }
    case 'lognormal': {
      const [median, p99] = ms;
      const max = opt(2);
      if (args.length > 3 || !median || !p99 || max === null) return undefined;
      return { dist: 'lognormal', median, p99, ...(max !== undefined ? { max } : {}) };
    }
    case 'pareto': {
      const scale = ms[0];
      const shape = num(1);
      const max = opt(2);
      if (args.length > 3 || !scale || !shape || shape <= 0 || max === null) return undefined;
      return { dist: 'pareto', scale, shape, ...(max !== undefined ? { max } : {}) };
    }
    default:
      return undefined;
  }
}

function parseKnob(knob: Knob, raw: unknown, where: string): EndpointFaults[Knob] {
  const bad = (what: string): never => {
    throw new ConfigError(`${where}: ${what}, got ${JSON.stringify(raw)}`);
  };
  switch (knob) {
    case 'lateAck':
    case 'latency': {
      if (typeof raw === 'string') return parseDistributionText(raw) ?? bad('expected a duration or DIST:ARGS (fixed:50ms, uniform:10ms..80ms, normal:50ms,10ms, lognormal:20ms,200ms, pareto:10ms,1.5)');
      if (typeof raw === 'number') return raw >= 0 && Number.isFinite(raw) ? { dist: 'fixed', value: raw } : bad('expected a latency ≥ 0 ms');
      if (Value.Check(DistributionSchema, raw)) return raw;
      return bad('expected a distribution');
    }
    case 'errorRate':
    case 'stallRate':
    case 'dropRate':
    case 'lossRate':
    case 'duplicateRate':
    case 'reorderRate':
    case 'separateRate':
      return parseShare(typeof raw === 'string' && !raw.includes('%') ? Number(raw) : raw) ?? bad('expected a share between 0 and 1 (or 0%–100%)');
    case 'errorStatus': {
      const n = Number(raw);
      return Number.isInteger(n) && n >= 300 && n <= 599 ? n : bad('expected an HTTP status 300–599');
    }
    case 'errorCode': {
      const n = Number(raw);
      return Number.isInteger(n) && n >= 0 && n <= 999 ? n : bad('expected a documented code (integer)');
    }
    case 'resetAfterBytes':
      return parseSize(raw) ?? bad('expected a byte count (4096, 4KiB)');
    case 'bytesPerSecond': {
      const n = parseSize(raw);
      return n !== undefined && n > 0 ? n : bad('expected bytes per second > 0 (16KiB)');
    }
  }
}

/** Validates a FaultConfig given as data (YAML, JSON, an object); `where` names it in errors. */
export function parseFaultConfig(value: unknown, where = 'faults'): FaultConfig {
  if (value === undefined || value === null) return {};
  const at = (path: string): string => (where ? `${where}.${path}` : path);
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${where}: expected an object keyed by endpoint (${ENDPOINT_NAMES.join(', ')}, *)`);
  const out: FaultConfig = {};
  for (const [target, knobs] of Object.entries(value as Record<string, unknown>)) {
    if (!isTarget(target)) throw new ConfigError(`${at(target)}: unknown endpoint (expected ${ENDPOINT_NAMES.join(', ')} or *)`);
    if (knobs === null || knobs === undefined) continue;
    if (typeof knobs !== 'object' || Array.isArray(knobs)) throw new ConfigError(`${at(target)}: expected an object of knobs`);
    const parsed: EndpointFaults = {};
    for (const [name, raw] of Object.entries(knobs as Record<string, unknown>)) {
      const knob = KNOB_ALIASES[name];
      if (!knob) throw new ConfigError(`${at(`${target}.${name}`)}: unknown knob (expected ${KNOBS.join(', ')})`);
      if (raw === null || raw === undefined) continue;
      (parsed as Record<string, unknown>)[knob] = parseKnob(knob, raw, at(`${target}.${name}`));
    }
    checkCode(target, parsed, at(target));
    out[target] = parsed;
  }
  return out;
}

function checkCode(target: FaultTarget, f: EndpointFaults, where: string): void {
  if (f.errorCode === undefined || target === '*') return;
  if (!DOCUMENTED_CODES[target].has(f.errorCode)) {
    throw new ConfigError(`${where}.errorCode: ${f.errorCode} is not a documented code of ${target} (${[...DOCUMENTED_CODES[target]].join(', ')})`);
  }
}

/** One `--fault ENDPOINT.KNOB=VALUE` flag as a FaultConfig of one knob. */
export function parseFaultFlag(text: string): FaultConfig {
  const m = /^\s*([A-Za-z*]+)\.([A-Za-z]+)\s*=\s*(.+?)\s*$/.exec(text);
  if (!m) throw new ConfigError(`--fault ${text}: expected ENDPOINT.KNOB=VALUE, e.g. check.latency=fixed:50ms`);
  const [, target = '', knob = '', value = ''] = m;
  try {
    return parseFaultConfig({ [target]: { [knob]: value } }, '');
  } catch (err) {
    throw new ConfigError(`--fault ${(err as Error).message}`);
  }
}

/**
 * Merges `patch` into `base`, knob by knob; a null knob or endpoint in the patch removes it
 * (PATCH /admin/faults). The patch must already be validated, except for its nulls.
 */
export function mergeFaults(base: FaultConfig, patch: Record<string, Record<string, unknown> | null>): FaultConfig {
  const out: FaultConfig = structuredClone(base);
  for (const [target, knobs] of Object.entries(patch)) {
    if (!isTarget(target)) continue;
    if (knobs === null) {
      delete out[target];
      continue;
    }
    const merged: Record<string, unknown> = { ...(out[target] ?? {}) };
    for (const [k, v] of Object.entries(knobs)) {
      const knob = KNOB_ALIASES[k] ?? k;
      if (v === null) delete merged[knob];
      else merged[knob] = v;
    }
    out[target] = merged as EndpointFaults;
  }
  return out;
}

/** Each endpoint's effective knobs (`*` under its own), or undefined when it has none. */
export function resolveFaults(config: FaultConfig): Readonly<Record<EndpointName, EndpointFaults | undefined>> {
  const all = config['*'] ?? {};
  const out = {} as Record<EndpointName, EndpointFaults | undefined>;
  for (const name of ENDPOINT_NAMES) {
    const merged: EndpointFaults = { ...all, ...(config[name] ?? {}) };
    if (merged.errorCode !== undefined && config[name]?.errorCode === undefined && !DOCUMENTED_CODES[name].has(merged.errorCode)) {
      // A `*` code that this endpoint does not document falls back to an HTTP error.
      delete merged.errorCode;
    }
    out[name] = Object.keys(merged).length > 0 ? merged : undefined;
  }
  return out;
}
