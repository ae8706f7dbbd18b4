/**
 * The 3GPP timer values a network can give an NB-IoT device, so scenarios only use values a real
 * network could send (spec §3.1; the values are 3GPP's, not the seeds').
 *
 * - `T3412_UNITS`, `T3412`: extended periodic TAU timer, TS 24.008 §10.5.7.4a "GPRS Timer 3":
 *   3 unit bits (10 min, 1 h, 10 h, 2 s, 30 s, 1 min, 320 h; 111 = deactivated) and a 5-bit value.
 * - `T3324_UNITS`, `T3324`: PSM active timer, TS 24.008 §10.5.7.4 "GPRS Timer 2": 2 s, 1 min,
 *   decihour (6 min) units, 5-bit value, so 0 s … 186 min (111 = deactivated).
 * - `isValidT3412`, `isValidT3324`: is this many ms exactly encodable? `nearestT3412`,
 *   `nearestT3324`: the closest encodable value (a tie goes to the smaller).
 * - `encodeT3412`/`decodeT3412`, `encodeT3324`/`decodeT3324`: the octet (unit << 5 | value).
 * - `DRX_CYCLES_MS`: NB-IoT DRX paging cycles. `EDRX_CYCLES_MS`: NB-S1 eDRX cycles (24.008
 *   §10.5.5.32): 20.48 s × 2^k up to 10485.76 s. `PTW_MS`: NB-S1 paging time windows,
 *   2.56 s × (n + 1) for n = 0…15.
 * - `assertT3412`, `assertT3324`, `assertDrxCycle`, `assertEdrxCycle`, `assertPtw`: throw a
 *   one-line RangeError naming `field` for a value a network could not send.
 *
 * Choices where 3GPP leaves room: a T3412 of 0 is rejected (a zero value stops periodic updates,
 * which this model does not simulate); a T3324 of 0 is valid (PSM right after release).
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** One unit of a GPRS timer IE: its 3 bits (8–6 of the octet) and its length. */
export interface TimerUnit {
  readonly bits: number;
  readonly unitMs: number;
  readonly label: string;
}

/** The largest 5-bit timer value. */
export const TIMER_VALUE_MAX = 31;

/** GPRS Timer 3 units in bit order (24.008 table 10.5.163a); 0b111 means deactivated. */
export const T3412_UNITS: readonly TimerUnit[] = Object.freeze([
  { bits: 0b000, unitMs: 10 * MINUTE, label: '10 min' },
  { bits: 0b001, unitMs: HOUR, label: '1 h' },
  { bits: 0b010, unitMs: 10 * HOUR, label: '10 h' },
  { bits: 0b011, unitMs: 2 * SECOND, label: '2 s' },
  { bits: 0b100, unitMs: 30 * SECOND, label: '30 s' },
  { bits: 0b101, unitMs: MINUTE, label: '1 min' },
  { bits: 0b110, unitMs: 320 * HOUR, label: '320 h' },
]);

/** GPRS Timer 2 units in bit order (24.008 table 10.5.163); 0b111 means deactivated. */
export const T3324_UNITS: readonly TimerUnit[] = Object.freeze([
  { bits: 0b000, unitMs: 2 * SECOND, label: '2 s' },
  { bits: 0b001, unitMs: MINUTE, label: '1 min' },
  { bits: 0b010, unitMs: 6 * MINUTE, label: 'decihour' },
]);

const DEACTIVATED_BITS = 0b111;

/** Every encodable value of a timer, ascending and without duplicates. */
function valuesOf(units: readonly TimerUnit[], allowZero: boolean): readonly number[] {
  const set = new Set<number>();
  for (const u of units) for (let v = allowZero ? 0 : 1; v <= TIMER_VALUE_MAX; v++) set.add(v * u.unitMs);
  return Object.freeze([...set].sort((a, b) => a - b));
}

export interface TimerSpec {
  readonly name: 'T3412' | 'T3324';
  readonly ie: string;
  readonly units: readonly TimerUnit[];
  /** Every valid value in ms, ascending. */
  readonly valuesMs: readonly number[];
  readonly minMs: number;
  readonly maxMs: number;
}

function spec(name: 'T3412' | 'T3324', ie: string, units: readonly TimerUnit[], allowZero: boolean): TimerSpec {
  const valuesMs = valuesOf(units, allowZero);
  return Object.freeze({ name, ie, units, valuesMs, minMs: valuesMs[0] as number, maxMs: valuesMs[valuesMs.length - 1] as number });
}

/** Extended periodic TAU timer: 2 s … 9920 h (31 × 320 h), 0 excluded. */
export const T3412: TimerSpec = spec('T3412', 'GPRS Timer 3', T3412_UNITS, false);
/** PSM active timer: 0 … 186 min (31 decihours). */
export const T3324: TimerSpec = spec('T3324', 'GPRS Timer 2', T3324_UNITS, true);

const T3412_SET = new Set(T3412.valuesMs);
const T3324_SET = new Set(T3324.valuesMs);

export function isValidT3412(ms: number): boolean {
  return T3412_SET.has(ms);
}

export function isValidT3324(ms: number): boolean {
  return T3324_SET.has(ms);
}

/** Closest value of an ascending list; a tie goes to the smaller. */
function nearestIn(values: readonly number[], ms: number): number {
  let lo = 0;
  let hi = values.length - 1;
  if (ms <= (values[lo] as number)) return values[lo] as number;
  if (ms >= (values[hi] as number)) return values[hi] as number;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) <= ms) lo = mid;
    else hi = mid;
  }
  const below = values[lo] as number;
  const above = values[hi] as number;
  return ms - below <= above - ms ? below : above;
}

function finite(ms: number, what: string): void {
  if (!Number.isFinite(ms)) throw new RangeError(`${what} must be a finite number of ms, got ${ms}`);
}

/** The encodable T3412 closest to `ms` (values below 2 s give 2 s, above 9920 h give 9920 h). */
export function nearestT3412(ms: number): number {
  finite(ms, 'T3412');
  return nearestIn(T3412.valuesMs, ms);
}

/** The encodable T3324 closest to `ms` (negative values give 0, above 186 min give 186 min). */
export function nearestT3324(ms: number): number {
  finite(ms, 'T3324');
  return nearestIn(T3324.valuesMs, ms);
}

/** The octet for an encodable value, in the finest unit that holds it. */
function encode(s: TimerSpec, ms: number): number {
  const byFineness = [...s.units].sort((a, b) => a.unitMs - b.unitMs);
  if (s.valuesMs.includes(ms)) {
    for (const u of byFineness) {
      if (ms % u.unitMs === 0 && ms / u.unitMs <= TIMER_VALUE_MAX) return (u.bits << 5) | (ms / u.unitMs);
    }
  }
  throw new RangeError(`${s.name}: ${describeMs(ms)} cannot be encoded in a ${s.ie} octet`);
}

export function encodeT3412(ms: number): number {
  return encode(T3412, ms);
}

export function encodeT3324(ms: number): number {
  return encode(T3324, ms);
}

/** ms of a GPRS Timer 3 octet; undefined when the unit is "deactivated". */
export function decodeT3412(octet: number): number | undefined {
  const bits = (octet >>> 5) & 0b111;
  if (bits === DEACTIVATED_BITS) return undefined;
  const unit = T3412_UNITS.find((u) => u.bits === bits) as TimerUnit;
  return (octet & 0b11111) * unit.unitMs;
}

/** ms of a GPRS Timer 2 octet; undefined when deactivated. 24.008: other units read as 1 min. */
export function decodeT3324(octet: number): number | undefined {
  const bits = (octet >>> 5) & 0b111;
  if (bits === DEACTIVATED_BITS) return undefined;
  const unit = T3324_UNITS.find((u) => u.bits === bits) ?? { unitMs: MINUTE };
  return (octet & 0b11111) * unit.unitMs;
}

/** NB-IoT DRX paging cycles (rf128 … rf1024). */
export const DRX_CYCLES_MS: readonly number[] = Object.freeze([1280, 2560, 5120, 10240]);

/** NB-S1 eDRX cycles: 20.48 s × 2^k, k = 0…9, up to 10485.76 s (about 2.9 h). */
export const EDRX_CYCLES_MS: readonly number[] = Object.freeze(Array.from({ length: 10 }, (_, k) => 20480 * 2 ** k));

/** NB-S1 paging time windows: 2.56 s × (n + 1), n = 0…15, up to 40.96 s. */
export const PTW_MS: readonly number[] = Object.freeze(Array.from({ length: 16 }, (_, n) => 2560 * (n + 1)));

/** A duration for a message: `3600000 ms (1h)`. */
export function describeMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const abs = Math.abs(ms);
  let text: string;
  if (abs !== 0 && abs % HOUR === 0) text = `${ms / HOUR}h`;
  else if (abs !== 0 && abs % MINUTE === 0) text = `${ms / MINUTE}min`;
  else text = `${ms / SECOND}s`;
  return `${ms} ms (${text})`;
}

function assertTimer(s: TimerSpec, ms: number, field: string): void {
  if (!Number.isFinite(ms)) throw new RangeError(`${field}: ${s.name} must be a finite number of ms, got ${ms}`);
  if (s.valuesMs.includes(ms)) return;
  const nearest = nearestIn(s.valuesMs, ms);
  throw new RangeError(
    `${field}: ${describeMs(ms)} is not a ${s.name} value (3GPP 24.008 ${s.ie}, ${describeMs(s.minMs)} … ${describeMs(s.maxMs)}); nearest is ${describeMs(nearest)}`,
  );
}

export function assertT3412(ms: number, field = 'T3412'): void {
  assertTimer(T3412, ms, field);
}

export function assertT3324(ms: number, field = 'T3324'): void {
  assertTimer(T3324, ms, field);
}

function assertOneOf(values: readonly number[], what: string, ms: number, field: string): void {
  if (values.includes(ms)) return;
  throw new RangeError(`${field}: ${describeMs(ms)} is not ${what}; use one of ${values.map((v) => `${v / SECOND}s`).join(', ')}`);
}

export function assertDrxCycle(ms: number, field = 'DRX cycle'): void {
  assertOneOf(DRX_CYCLES_MS, 'an NB-IoT DRX cycle', ms, field);
}

export function assertEdrxCycle(ms: number, field = 'eDRX cycle'): void {
  assertOneOf(EDRX_CYCLES_MS, 'an NB-IoT eDRX cycle', ms, field);
}

export function assertPtw(ms: number, field = 'paging time window'): void {
  assertOneOf(PTW_MS, 'an NB-IoT paging time window', ms, field);
}
