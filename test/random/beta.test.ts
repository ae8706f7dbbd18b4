import { describe, expect, it } from 'vitest';
import { betaCdf, betaQuantile, logGamma } from '../../src/random/beta.js';

/** Beta(3, 4)'s CDF in closed form: I_x(3, 4) = Σ_{j=3}^{6} C(6, j) x^j (1-x)^(6-j). */
function beta34Cdf(x: number): number {
  const c = [1, 6, 15, 20, 15, 6, 1];
  let s = 0;
  for (let j = 3; j <= 6; j++) s += c[j]! * x ** j * (1 - x) ** (6 - j);
  return s;
}

describe('Beta distribution by inversion', () => {
  it('ln Γ matches factorials', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
  });

  it('CDF agrees with the closed form of Beta(3, 4) across [0, 1]', () => {
    for (let x = 0; x <= 1.0001; x += 0.01) expect(betaCdf(x, 3, 4)).toBeCloseTo(beta34Cdf(Math.min(x, 1)), 12);
    // Beta(1, 1) is uniform.
    expect(betaCdf(0.3, 1, 1)).toBeCloseTo(0.3, 12);
  });

  it('the quantile inverts the CDF, for the TR 37.868 shape and for skewed and U-shaped ones', () => {
    for (const [a, b] of [
      [3, 4],
      [0.5, 0.5],
      [2, 30],
      [30, 2],
      [1, 1],
    ] as const) {
      for (let u = 0.001; u < 1; u += 0.037) expect(betaCdf(betaQuantile(u, a, b), a, b)).toBeCloseTo(u, 9);
    }
    expect(betaQuantile(0, 3, 4)).toBe(0);
    expect(betaQuantile(1, 3, 4)).toBe(1);
    expect(betaQuantile(0.5, 1, 1)).toBeCloseTo(0.5, 12);
    expect(() => betaQuantile(0.5, 0, 4)).toThrow(RangeError);
  });
});
