/**
 * One layer under one dropout mask: the numbers of `dropout-figs numbers --json`, bit for bit.
 *
 * Same draws as `dropout_figs.maths.layer_summary` for n <= 2**24: the mask
 * `rng.random(n) < q`, then activations `mean * (u + u')` from the next 2n draws, then
 * NumPy's pairwise sums of the kept and of all activations.
 */
import { checkSeed, Generator } from "./random";
import { checkCount, checkFinite, checkKeepProb } from "./validate";
import { MASK_MAX } from "./masks";

export interface LayerSummary {
  n_units: number;
  keep_prob: number;
  drop_rate: number;
  seed: number;
  mean_activation: number;
  kept: number;
  dropped: number;
  scale_factor: number;
  expected_active: number;
  log10_subnetworks: number;
  output_scale_ratio: number;
  /** 2^n_units as the package prints it ("1,048,576", "1.84 × 10^19"). */
  subnetworks: string;
}

/** `1 - keep_prob` rounded to 15 decimals, like the package's drop_rate_of (0.3, not 0.30000000000000004). */
export function dropRateOf(keepProb: number): number {
  return Number((1 - keepProb).toFixed(15));
}

// log10(2) as an unevaluated sum hi + lo (double-double), so n log10(2) keeps its
// fractional part exact to ~1e-16 even for n in the millions.
const LOG10_2_HI = 0.3010299956639812;
const LOG10_2_LO = -2.8037281277851704e-18;
const SPLIT = 134217729; // 2**27 + 1, Dekker's splitter

/** n log10(2) as [integer part, fractional part, value rounded to a double]. */
function log10Pow2(n: number): [number, number, number] {
  // exact product n * LOG10_2_HI = p + err (Dekker's two-product without FMA)
  const p = n * LOG10_2_HI;
  const split = (x: number): [number, number] => {
    const c = SPLIT * x;
    const h = c - (c - x);
    return [h, x - h];
  };
  const [nh, nl] = split(n);
  const [lh, ll] = split(LOG10_2_HI);
  const err = nh * lh - p + nh * ll + nl * lh + nl * ll;
  const tail = err + n * LOG10_2_LO;
  const e = Math.floor(p + tail);
  const frac = p - e + tail; // p - e is exact (Sterbenz) for the sizes that matter
  return [e, frac, p + tail];
}

/** `log10(2 ** n)`, the digits of the number of sub-networks. */
export function log10Subnetworks(nUnits: number): number {
  checkCount(nUnits, "nUnits", 1);
  return log10Pow2(nUnits)[2];
}

/** `dropout_figs.format_subnetworks(n)`: all digits below 10**7, else 3 significant figures. */
export function formatSubnetworks(nUnits: number): string {
  checkCount(nUnits, "nUnits", 1);
  if (nUnits < 24) return String(2 ** nUnits).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let [e, frac] = log10Pow2(nUnits);
  if (frac < 0) {
    frac += 1;
    e -= 1;
  }
  let mant = (10 ** frac).toFixed(2);
  if (Number(mant) >= 10) {
    mant = "1.00";
    e += 1;
  }
  return `${mant} × 10^${e}`;
}

/**
 * NumPy's pairwise summation of `a[lo, lo + n)` (numpy/_core/src/umath/loops_utils.h):
 * blocks of up to 128 summed with 8 accumulators, larger ranges split in two at a
 * multiple of 8. Reproducing it makes the sums, not just their values, equal.
 */
export function pairwiseSum(a: Float64Array, lo = 0, n = a.length - lo): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[lo + i];
    return res;
  }
  if (n <= 128) {
    let r0 = a[lo], r1 = a[lo + 1], r2 = a[lo + 2], r3 = a[lo + 3];
    let r4 = a[lo + 4], r5 = a[lo + 5], r6 = a[lo + 6], r7 = a[lo + 7];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const k = lo + i;
      r0 += a[k]; r1 += a[k + 1]; r2 += a[k + 2]; r3 += a[k + 3];
      r4 += a[k + 4]; r5 += a[k + 5]; r6 += a[k + 6]; r7 += a[k + 7];
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[lo + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, lo, n2) + pairwiseSum(a, lo + n2, n - n2);
}

/**
 * `dropout_figs.layer_summary(n, keep_prob=q, seed=seed, mean_activation=a).to_dict()`.
 *
 * @param nUnits units in the layer, 1 .. 2**24 (the engine draws every unit)
 * @param keepProb probability a unit is kept, in (0, 1]
 * @param seed seed of default_rng, 0 .. 2**53 - 1 (or a bigint up to 2**63 - 1)
 * @param meanActivation mean of the example activations, > 0
 */
export function layerSummary(
  nUnits: number,
  keepProb: number,
  seed: number | bigint = 0,
  meanActivation = 1,
): LayerSummary {
  checkCount(nUnits, "nUnits", 1, MASK_MAX);
  checkKeepProb(keepProb);
  const seedBig = checkSeed(seed);
  if (seedBig > (1n << 63n) - 1n) throw new RangeError(`seed must be at most 2**63 - 1; got ${seed}`);
  checkFinite(meanActivation, "meanActivation", 0, Number.MAX_VALUE, true);
  const n = nUnits;
  const rng = new Generator(seedBig);
  const mask = new Uint8Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const k = rng.random() < keepProb ? 1 : 0;
    mask[i] = k;
    kept += k;
  }
  const a = new Float64Array(n);
  const keptA = new Float64Array(kept);
  for (let i = 0, j = 0; i < n; i++) {
    const u = rng.random();
    a[i] = meanActivation * (u + rng.random());
    if (mask[i]) keptA[j++] = a[i];
  }
  const total = pairwiseSum(a);
  const keptSum = pairwiseSum(keptA);
  return {
    n_units: n,
    keep_prob: keepProb,
    drop_rate: dropRateOf(keepProb),
    seed: Number(seedBig),
    mean_activation: meanActivation,
    kept,
    dropped: n - kept,
    scale_factor: 1 / keepProb,
    expected_active: n * keepProb,
    log10_subnetworks: log10Pow2(n)[2],
    output_scale_ratio: keptSum / keepProb / total,
    subnetworks: formatSubnetworks(n),
  };
}
