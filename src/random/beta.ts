/**
 * The Beta distribution by inversion: one uniform in, one Beta(α, β) quantile out. Inversion (not
 * a gamma-ratio sampler) keeps a device's draw a pure function of one hashUniform, so a worker
 * places its own devices without a shared schedule, and a quantile u maps monotonically onto time.
 *
 * 3GPP TR 37.868 traffic model 2 (synchronised access, e.g. after a power outage) spreads arrivals
 * over an activation time T with density p(t) = t^(α-1)(T-t)^(β-1) / (T^(α+β-1) B(α, β)), α = 3,
 * β = 4: that is T × Beta(3, 4).
 */

/** TR 37.868 traffic model 2's shape parameters and activation time. */
export const SYNCHRONISED_ALPHA = 3;
export const SYNCHRONISED_BETA = 4;
export const SYNCHRONISED_WINDOW_MS = 10_000;

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9): about 15 significant digits. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0]!;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** Continued fraction of the incomplete beta (modified Lentz); converges for x < (a+1)/(a+b+2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta I_x(a, b): Beta(a, b)'s CDF at x. */
export function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(a * Math.log(x) + b * Math.log(1 - x) - logBeta(a, b));
  // Use the side where the continued fraction converges fast.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Beta(a, b)'s density at x. */
export function betaPdf(x: number, a: number, b: number): number {
  if (x <= 0 || x >= 1) return 0;
  return Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log(1 - x) - logBeta(a, b));
}

/**
 * The u-quantile of Beta(a, b), in [0, 1]. Newton steps kept inside a shrinking bracket (bisection
 * when a step would leave it), so it converges for every a, b > 0 and u in [0, 1].
 */
export function betaQuantile(u: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`beta shape parameters must be > 0, got ${a}, ${b}`);
  if (u <= 0) return 0;
  if (u >= 1) return 1;
  let lo = 0;
  let hi = 1;
  let x = a / (a + b);
  for (let i = 0; i < 100; i++) {
    const f = betaCdf(x, a, b) - u;
    if (Math.abs(f) < 1e-13) return x;
    if (f < 0) lo = x;
    else hi = x;
    const p = betaPdf(x, a, b);
    let next = p > 0 ? x - f / p : NaN;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - x) < 1e-15) return next;
    x = next;
  }
  return x;
}
