/**
 * The kept count K ~ Binomial(n, q): pmf and cdf in log space, sound for n up to 1e6 and beyond.
 *
 * The pmf uses Loader's saddle-point form ("Fast and accurate computation of binomial
 * probabilities", 2000; also R's dbinom): Stirling-series remainders and the deviance
 * `bd0` instead of differences of huge log-gammas, so the relative error stays near 1e-14
 * even where lgamma(n + 1) is 1e7. The cdf sums pmf terms outward from k to the far tail
 * of the smaller side, scaled by the largest term, so it never underflows piecemeal.
 */
import { checkCount, checkKeepProb } from "./validate";

const LN_2PI = 1.8378770664093453; // log(2 pi)
const HALF_LN_2PI = 0.9189385332046728;

// Lanczos approximation (g = 607/128, 15 terms; Godfrey's coefficients), relative error ~1e-15.
const LANCZOS_G = 607 / 128;
const LANCZOS = [
  0.99999999999999709182, 57.156235665862923517, -59.597960355475491248, 14.136097974741747174,
  -0.49191381609762019978, 0.33994649984811888699e-4, 0.46523628927048575665e-4,
  -0.98374475304879564677e-4, 0.15808870322491248884e-3, -0.21026444172410488319e-3,
  0.2174396181152126432e-3, -0.16431810653676389022e-3, 0.84418223983852743293e-4,
  -0.2619083840158140867e-4, 0.36899182659531622704e-5,
];

/** log|Gamma(x)| for x > 0: Lanczos below 15, Stirling's series above (both ~1e-15 relative). */
export function lgamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lgamma needs x > 0; got ${x}`);
  if (x >= 15) return (x - 0.5) * Math.log(x) - x + HALF_LN_2PI + stirlerr(x);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LN_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

// stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n/e)^n) for whole n <= 15, from exact factorials.
const STIRLERR_SMALL: number[] = [];
for (let n = 1, fact = 1; n <= 15; n++) {
  fact *= n; // exact: 15! < 2**53
  STIRLERR_SMALL[n] = Math.log(fact) - (n + 0.5) * Math.log(n) + n - HALF_LN_2PI;
}

/** Stirling's remainder: log Gamma(n + 1) - (n + 1/2) log n + n - log sqrt(2 pi). */
function stirlerr(n: number): number {
  if (n <= 15 && Number.isInteger(n)) return STIRLERR_SMALL[n];
  const nn = n * n;
  const S0 = 1 / 12, S1 = 1 / 360, S2 = 1 / 1260, S3 = 1 / 1680, S4 = 1 / 1188;
  if (n > 500) return (S0 - S1 / nn) / n;
  if (n > 80) return (S0 - (S1 - S2 / nn) / nn) / n;
  if (n > 35) return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n;
  return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n;
}

/** The deviance term x log(x / m) + m - x, by a series when x is near m (no cancellation). */
function bd0(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let s = (x - m) * v;
    let ej = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / m) + m - x;
}

function check(n: number, keepProb: number): void {
  checkCount(n, "n", 0);
  checkKeepProb(keepProb);
}

/** log P(K = k) without validation (k whole). */
function logPmf(n: number, p: number, k: number): number {
  const q = 1 - p;
  if (k < 0 || k > n) return -Infinity;
  if (q === 0) return k === n ? 0 : -Infinity;
  if (k === 0) return p < 0.1 ? -bd0(n, n * q) - n * p : n * Math.log1p(-p);
  if (k === n) return q < 0.1 ? -bd0(n, n * p) - n * q : n * Math.log(p);
  const lc = stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(k, n * p) - bd0(n - k, n * q);
  const lf = LN_2PI + Math.log(k) + Math.log1p(-k / n);
  return lc - 0.5 * lf;
}

function checkK(k: number): void {
  if (!Number.isInteger(k)) throw new RangeError(`k must be a whole number; got ${k}`);
}

/** log P(K = k) (natural log), -Infinity outside 0..n. */
export function keptCountLogPmf(n: number, keepProb: number, k: number): number {
  check(n, keepProb);
  checkK(k);
  return logPmf(n, keepProb, k);
}

/** P(K = k). */
export function keptCountPmf(n: number, keepProb: number, k: number): number {
  return Math.exp(keptCountLogPmf(n, keepProb, k));
}

/** log of sum_{j in [from, to]} P(K = j), summed outward from `start` (the largest term). */
function logSumFrom(n: number, p: number, start: number, step: 1 | -1, end: number): number {
  const top = logPmf(n, p, start);
  if (top === -Infinity) return -Infinity;
  let sum = 0;
  let comp = 0; // Kahan compensation: the sum may run over tens of thousands of terms
  for (let j = start; step > 0 ? j <= end : j >= end; j += step) {
    const term = Math.exp(logPmf(n, p, j) - top);
    const y = term - comp;
    const t = sum + y;
    comp = t - sum - y;
    sum = t;
    if (term < 1e-18 * sum) break;
  }
  return top + Math.log(sum);
}

/** log P(K <= k). */
export function keptCountLogCdf(n: number, keepProb: number, k: number): number {
  check(n, keepProb);
  checkK(k);
  if (k < 0) return -Infinity;
  if (k >= n) return 0;
  const p = keepProb;
  if (k < n * p) return logSumFrom(n, p, k, -1, 0); // lower tail: terms shrink away from k
  // upper side: 1 - P(K > k), the complement summed from k + 1 upward
  const upper = logSumFrom(n, p, k + 1, 1, n);
  return Math.log1p(-Math.exp(upper));
}

/** P(K <= k). */
export function keptCountCdf(n: number, keepProb: number, k: number): number {
  return Math.exp(keptCountLogCdf(n, keepProb, k));
}

/**
 * The counts where the mass is, for drawing: k0 .. k0 + pmf.length - 1, the mean plus or
 * minus nStd standard deviations (clipped to 0..n), always including the most likely count.
 */
export function keptCountWindow(n: number, keepProb: number, nStd = 6): { k0: number; pmf: Float64Array } {
  check(n, keepProb);
  const mean = n * keepProb;
  const sd = Math.sqrt(mean * (1 - keepProb));
  const lo = Math.max(0, Math.min(Math.floor(mean - nStd * sd), Math.floor(mean)));
  const hi = Math.min(n, Math.max(Math.ceil(mean + nStd * sd), Math.ceil(mean)));
  const pmf = new Float64Array(hi - lo + 1);
  for (let k = lo; k <= hi; k++) pmf[k - lo] = Math.exp(logPmf(n, keepProb, k));
  return { k0: lo, pmf };
}
