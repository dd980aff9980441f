/**
 * The training lab's toy data sets, point for point as `dropout_figs.lab.make_dataset` draws them.
 *
 * Same draws in the same order from the same generator: uniforms as `low + (high - low) * u`,
 * the xor signs by NumPy's bounded integers, the jitter by Box-Muller, the shuffle by NumPy's
 * Fisher-Yates. Only Math.cos/sin/log1p/sqrt may differ from C's in the last bit.
 */
import { Generator } from "./random";
import { checkCount, checkFinite } from "./validate";

export type DatasetName = "blobs" | "circles" | "xor" | "moons" | "spiral";
export const DATASETS: DatasetName[] = ["blobs", "circles", "xor", "moons", "spiral"];
export const DEFAULT_NOISE: Record<DatasetName, number> = {
  blobs: 0.6,
  circles: 0.1,
  xor: 0.15,
  moons: 0.2,
  spiral: 0.1,
};

export interface Dataset {
  name: DatasetName;
  noise: number;
  nTrain: number;
  nVal: number;
  /** (nTrain, 2) row-major: point i is (xTrain[2i], xTrain[2i + 1]). */
  xTrain: Float64Array;
  yTrain: Int32Array;
  xVal: Float64Array;
  yVal: Int32Array;
}

export interface DatasetOptions {
  nSamples?: number;
  noise?: number | null;
  valFraction?: number;
  seed: number | bigint | Generator;
}

const uniform = (rng: Generator, low: number, high: number): number => low + (high - low) * rng.random();

// Each generator fills x (n, 2) and y class by class: n0 points of class 0, then n1 of class 1.
type Fill = (x: Float64Array, n0: number, n1: number, rng: Generator) => void;

const blobs: Fill = (x, n0, n1) => {
  for (let i = 0; i < n0 + n1; i++) x[2 * i] = x[2 * i + 1] = i < n0 ? -1 : 1;
};

const circles: Fill = (x, n0, n1, rng) => {
  // make_circles(factor=0.5): outer radius 1 (class 0), inner 0.5 (class 1); all angles first
  const t = new Float64Array(n0 + n1);
  for (let i = 0; i < n0 + n1; i++) t[i] = uniform(rng, 0, 2 * Math.PI);
  for (let i = 0; i < n0 + n1; i++) {
    const r = i < n0 ? 1 : 0.5;
    x[2 * i] = r * Math.cos(t[i]);
    x[2 * i + 1] = r * Math.sin(t[i]);
  }
};

const xor: Fill = (x, n0, n1, rng) => {
  // class 1 where x0 * x1 > 0; magnitudes in [0.1, 1), then one random sign per point
  const quadrants = (start: number, n: number, sameSign: boolean) => {
    for (let i = start; i < start + n; i++) {
      x[2 * i] = uniform(rng, 0.1, 1.0);
      x[2 * i + 1] = uniform(rng, 0.1, 1.0);
    }
    for (let i = start; i < start + n; i++) {
      const s0 = rng.integers(2) === 0 ? -1 : 1; // rng.choice([-1.0, 1.0])
      x[2 * i] *= s0;
      x[2 * i + 1] *= sameSign ? s0 : -s0;
    }
  };
  quadrants(0, n0, false);
  quadrants(n0, n1, true);
};

const moons: Fill = (x, n0, n1, rng) => {
  const t = new Float64Array(n0 + n1);
  for (let i = 0; i < n0 + n1; i++) t[i] = uniform(rng, 0, Math.PI);
  for (let i = 0; i < n0 + n1; i++) {
    if (i < n0) {
      x[2 * i] = Math.cos(t[i]);
      x[2 * i + 1] = Math.sin(t[i]);
    } else {
      x[2 * i] = 1 - Math.cos(t[i]);
      x[2 * i + 1] = 0.5 - Math.sin(t[i]);
    }
  }
};

const spiral: Fill = (x, n0, n1, rng) => {
  // two arms, each turning 1.5 times: radius t in [0.05, 1), angle 3 pi t + phase
  const arm = (start: number, n: number, phase: number) => {
    const t = new Float64Array(n);
    for (let i = 0; i < n; i++) t[i] = Math.sqrt(uniform(rng, 0, 1)) * 0.95 + 0.05;
    for (let i = 0; i < n; i++) {
      const angle = 3 * Math.PI * t[i] + phase;
      x[2 * (start + i)] = t[i] * Math.cos(angle);
      x[2 * (start + i) + 1] = t[i] * Math.sin(angle);
    }
  };
  arm(0, n0, 0);
  arm(n0, n1, Math.PI);
};

const FILLS: Record<DatasetName, Fill> = { blobs, circles, xor, moons, spiral };

/** Column mean and population standard deviation the way NumPy reduces a (n, 2) array. */
function meanStd(x: Float64Array, n: number, col: number): [number, number] {
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = x[2 * i + col];
  // x.mean(axis=0) sums down a column of a C-ordered array: plain left-to-right
  let s = 0;
  for (let i = 0; i < n; i++) s += c[i];
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (c[i] - mean) * (c[i] - mean);
  return [mean, Math.sqrt(ss / n)];
}

/**
 * `make_dataset(name, n_samples=, noise=, val_fraction=, rng=default_rng(seed))`.
 *
 * @param name one of DATASETS
 * @param opts nSamples (4 .. 1e6, default 200), noise (0 .. 10, default DEFAULT_NOISE[name]),
 *   valFraction in (0, 1) (default 0.5), seed (or a Generator to draw from)
 */
export function makeDataset(name: DatasetName, opts: DatasetOptions): Dataset {
  if (!DATASETS.includes(name)) {
    throw new RangeError(`dataset must be one of ${DATASETS.join(", ")}; got ${name}`);
  }
  const nSamples = checkCount(opts.nSamples ?? 200, "nSamples", 4, 1_000_000);
  const noise = checkFinite(opts.noise ?? DEFAULT_NOISE[name], "noise", 0, 10);
  const valFraction = opts.valFraction ?? 0.5;
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new RangeError(`valFraction must be in (0, 1); got ${valFraction}`);
  }
  const nVal = roundHalfEven(nSamples * valFraction);
  if (!(nVal >= 2 && nVal <= nSamples - 2)) {
    throw new RangeError(
      `valFraction must leave at least 2 training and 2 validation points; got ${valFraction} with nSamples=${nSamples}`,
    );
  }
  const rng = opts.seed instanceof Generator ? opts.seed : new Generator(opts.seed);
  const n = nSamples;
  const n0 = Math.floor(n / 2);
  const x = new Float64Array(2 * n);
  const y = new Int32Array(n);
  for (let i = n0; i < n; i++) y[i] = 1;
  FILLS[name](x, n0, n - n0, rng);
  for (let i = 0; i < n; i++) {
    const [a, b] = rng.normalPair();
    x[2 * i] += noise * a;
    x[2 * i + 1] += noise * b;
  }
  for (let col = 0; col < 2; col++) {
    const [mean, std] = meanStd(x, n, col);
    for (let i = 0; i < n; i++) x[2 * i + col] = (x[2 * i + col] - mean) / std;
  }
  const order = rng.permutation(n);
  const nTrain = n - nVal;
  const xs = new Float64Array(2 * n);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    xs[2 * i] = x[2 * order[i]];
    xs[2 * i + 1] = x[2 * order[i] + 1];
    ys[i] = y[order[i]];
  }
  return {
    name,
    noise,
    nTrain,
    nVal,
    xTrain: xs.slice(0, 2 * nTrain),
    yTrain: ys.slice(0, nTrain),
    xVal: xs.slice(2 * nTrain),
    yVal: ys.slice(nTrain),
  };
}

/** Python's round() for a non-negative float: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
