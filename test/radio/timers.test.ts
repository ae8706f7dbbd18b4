import { describe, expect, it } from 'vitest';
import {
  assertDrxCycle,
  assertEdrxCycle,
  assertPtw,
  assertT3324,
  assertT3412,
  decodeT3324,
  decodeT3412,
  DRX_CYCLES_MS,
  EDRX_CYCLES_MS,
  encodeT3324,
  encodeT3412,
  isValidT3324,
  isValidT3412,
  nearestT3324,
  nearestT3412,
  PTW_MS,
  T3324,
  T3324_UNITS,
  T3412,
  T3412_UNITS,
} from '../../src/radio/timers.js';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

describe('T3412 (GPRS Timer 3)', () => {
  it('has the 24.008 units in bit order', () => {
    expect(T3412_UNITS.map((u) => [u.bits, u.unitMs])).toEqual([
      [0b000, 10 * MIN],
      [0b001, H],
      [0b010, 10 * H],
      [0b011, 2 * S],
      [0b100, 30 * S],
      [0b101, MIN],
      [0b110, 320 * H],
    ]);
    expect(T3412.minMs).toBe(2 * S);
    expect(T3412.maxMs).toBe(31 * 320 * H);
  });

  it('accepts every unit × value 1..31 and encodes it to an octet that decodes back', () => {
    for (const u of T3412_UNITS) {
      for (let v = 1; v <= 31; v++) {
        const ms = v * u.unitMs;
        expect(isValidT3412(ms)).toBe(true);
        expect(nearestT3412(ms)).toBe(ms);
        expect(() => assertT3412(ms)).not.toThrow();
        const octet = encodeT3412(ms);
        expect(octet).toBeGreaterThanOrEqual(0);
        expect(octet).toBeLessThan(256);
        expect(decodeT3412(octet)).toBe(ms);
      }
    }
  });

  it('decodes every octet: unit 111 is deactivated, the rest are value × unit', () => {
    for (let octet = 0; octet < 256; octet++) {
      const bits = octet >>> 5;
      const v = octet & 31;
      const ms = decodeT3412(octet);
      if (bits === 0b111) {
        expect(ms).toBeUndefined();
        continue;
      }
      const unit = T3412_UNITS.find((u) => u.bits === bits)!;
      expect(ms).toBe(v * unit.unitMs);
      if (v > 0) expect(isValidT3412(ms!)).toBe(true);
    }
    // Worked example from a module AT manual: "01000111" = 70 hours.
    expect(decodeT3412(0b01000111)).toBe(70 * H);
  });

  it('rejects values no octet holds, and zero', () => {
    for (const ms of [0, 1000, 3000, 61 * MIN, 32 * H, 31 * 320 * H + 10 * MIN, -2 * S, 2 * S + 0.5, NaN, Infinity]) {
      expect(isValidT3412(ms)).toBe(false);
      expect(() => assertT3412(ms, 'fleet.cohorts.0.radio.t3412')).toThrow(RangeError);
    }
  });

  it('snaps to the nearest encodable value (ties to the smaller) and clamps at the ends', () => {
    expect(nearestT3412(61 * MIN)).toBe(60 * MIN);
    expect(nearestT3412(65 * MIN)).toBe(60 * MIN);
    expect(nearestT3412(66 * MIN)).toBe(70 * MIN);
    expect(nearestT3412(3 * S)).toBe(2 * S);
    expect(nearestT3412(0)).toBe(2 * S);
    expect(nearestT3412(-5)).toBe(2 * S);
    expect(nearestT3412(1e15)).toBe(31 * 320 * H);
    expect(nearestT3412(25 * H)).toBe(25 * H);
    expect(nearestT3412(32 * H)).toBe(31 * H); // between 31 × 1 h and 4 × 10 h
    expect(nearestT3412(36 * H)).toBe(40 * H);
    expect(() => nearestT3412(NaN)).toThrow(RangeError);
  });
});

describe('T3324 (GPRS Timer 2)', () => {
  it('has the 24.008 units and range 0 … 186 min', () => {
    expect(T3324_UNITS.map((u) => [u.bits, u.unitMs])).toEqual([
      [0b000, 2 * S],
      [0b001, MIN],
      [0b010, 6 * MIN],
    ]);
    expect(T3324.minMs).toBe(0);
    expect(T3324.maxMs).toBe(186 * MIN);
  });

  it('accepts every unit × value 0..31 and round-trips its octet', () => {
    for (const u of T3324_UNITS) {
      for (let v = 0; v <= 31; v++) {
        const ms = v * u.unitMs;
        expect(isValidT3324(ms)).toBe(true);
        expect(nearestT3324(ms)).toBe(ms);
        expect(decodeT3324(encodeT3324(ms))).toBe(ms);
      }
    }
    expect(decodeT3324(0b00100100)).toBe(4 * MIN); // AT manual example: "00100100" = 4 minutes
    expect(decodeT3324(0b11100000)).toBeUndefined();
    expect(decodeT3324(0b01100011)).toBe(3 * MIN); // unused unit bits read as 1 min (24.008)
  });

  it('rejects values no octet holds', () => {
    for (const ms of [1000, 63 * S, 64 * S, 32 * MIN, 187 * MIN, 192 * MIN, -2 * S, NaN]) {
      expect(isValidT3324(ms)).toBe(false);
      expect(() => assertT3324(ms)).toThrow(RangeError);
    }
    expect(() => encodeT3324(64 * S)).toThrow(RangeError);
  });

  it('snaps and clamps', () => {
    expect(nearestT3324(-1)).toBe(0);
    expect(nearestT3324(3 * S)).toBe(2 * S);
    expect(nearestT3324(63 * S)).toBe(62 * S);
    expect(nearestT3324(32 * MIN)).toBe(31 * MIN);
    expect(nearestT3324(34 * MIN)).toBe(36 * MIN);
    expect(nearestT3324(1e9)).toBe(186 * MIN);
  });
});

describe('DRX, eDRX and PTW values', () => {
  it('are the NB-IoT sets', () => {
    expect(DRX_CYCLES_MS).toEqual([1280, 2560, 5120, 10240]);
    expect(EDRX_CYCLES_MS).toEqual([20480, 40960, 81920, 163840, 327680, 655360, 1310720, 2621440, 5242880, 10485760]);
    expect(PTW_MS).toEqual([2560, 5120, 7680, 10240, 12800, 15360, 17920, 20480, 23040, 25600, 28160, 30720, 33280, 35840, 38400, 40960]);
  });

  it('accept their members and reject the rest with one line naming the field', () => {
    for (const v of DRX_CYCLES_MS) expect(() => assertDrxCycle(v)).not.toThrow();
    for (const v of EDRX_CYCLES_MS) expect(() => assertEdrxCycle(v)).not.toThrow();
    for (const v of PTW_MS) expect(() => assertPtw(v)).not.toThrow();
    const cases: [() => void, string][] = [
      [() => assertDrxCycle(2000, 'fleet.cohorts.1.radio.cycle'), 'fleet.cohorts.1.radio.cycle'],
      [() => assertEdrxCycle(10240, 'c.radio.cycle'), 'c.radio.cycle'],
      [() => assertEdrxCycle(20971520, 'c.radio.cycle'), 'c.radio.cycle'],
      [() => assertPtw(43520, 'c.radio.ptw'), 'c.radio.ptw'],
      [() => assertPtw(1280, 'c.radio.ptw'), 'c.radio.ptw'],
    ];
    for (const [fn, field] of cases) {
      let message = '';
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(RangeError);
        message = (e as Error).message;
      }
      expect(message.startsWith(`${field}: `)).toBe(true);
      expect(message).not.toContain('\n');
    }
  });

  it('a timer error names the field, says why and suggests the nearest value, on one line', () => {
    let message = '';
    try {
      assertT3412(65 * MIN, 'fleet.cohorts.2.radio.t3412');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(
      'fleet.cohorts.2.radio.t3412: 3900000 ms (65min) is not a T3412 value (3GPP 24.008 GPRS Timer 3, 2000 ms (2s) … 35712000000 ms (9920h)); nearest is 3600000 ms (1h)',
    );
  });
});
