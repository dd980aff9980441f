/**
 * The live training lab: two networks from the same initial weights on the same mini-batches,
 * one without dropout and one with, trained one epoch per call (one animation frame).
 *
 * Streams as in `dropout_figs.lab.training` (`default_rng(seed).spawn(3)`: initial weights,
 * batch order, masks), and drawn as the package's engine draws them: each epoch a
 * `permutation` of the training points, then 16-bit mask levels for every (epoch position,
 * hidden unit), a unit kept when its level is at most round(q 65536) - 1. Only the initial
 * weights differ (Box-Muller here, NumPy's ziggurat there), so a run differs from the command
 * line's in its numbers, not in its behaviour.
 */
import type { Dataset } from "./data";
import { GridEvaluator } from "./grid";
import { MLP, Optimizer, Workspace } from "./mlp";
import { Generator } from "./random";
import { checkCount, checkFinite, checkKeepProb } from "./validate";

export interface TrainOptions {
  hiddenLayers: number;
  width: number;
  /** keep probability of the dropout net's hidden units (the plain net keeps all). */
  keepProb: number;
  batchSize?: number;
  optimizer?: "adam" | "sgd";
  lr?: number;
  momentum?: number;
  seed?: number;
  /**
   * The training stream is `Generator(seed, spawnKey)`, split into initial weights, batch order
   * and masks. `dropout-figs train --seed S` trains from `default_rng(S).spawn(2)[1]`: pass [1]
   * (and draw the data from `new Generator(S, [0])`) to run exactly what the command line runs.
   */
  spawnKey?: number[];
  /** start from these weights (flat: each layer's W row-major, then its b) instead of He's. */
  initParams?: Float64Array | null;
}

export interface Curves {
  trainLoss: number[];
  valLoss: number[];
  trainAcc: number[];
  valAcc: number[];
}

type Which = "plain" | "dropout";

/** The package engine's 16-bit level t: a unit is kept when its level <= t, P = (t + 1) / 65536 ~ q. */
export function maskThreshold(keepProb: number): number {
  return Math.min(Math.max(Math.round(keepProb * 65536) - 1, 0), 65535);
}

function checkOptions(o: TrainOptions): Required<TrainOptions> {
  const full: Required<TrainOptions> = {
    batchSize: 32, optimizer: "adam", lr: 1e-3, momentum: 0.9, seed: 0, spawnKey: [], initParams: null, ...o,
  };
  checkCount(full.hiddenLayers, "hiddenLayers", 0, 16);
  checkCount(full.width, "width", 1, 4096);
  checkKeepProb(full.keepProb);
  checkCount(full.batchSize, "batchSize", 1, 1_000_000);
  if (full.optimizer !== "adam" && full.optimizer !== "sgd") {
    throw new RangeError(`optimizer must be "adam" or "sgd"; got ${full.optimizer}`);
  }
  checkFinite(full.lr, "lr", 0, 10, true);
  checkFinite(full.momentum, "momentum", 0, 0.999999);
  checkCount(full.seed, "seed", 0);
  return full;
}

/** One net with its optimiser, gradient buffer and curves. */
class Runner {
  readonly grads: Float64Array;
  readonly opt: Optimizer;
  readonly curves: Curves = { trainLoss: [], valLoss: [], trainAcc: [], valAcc: [] };

  constructor(
    readonly net: MLP,
    readonly keepProb: number,
    o: Required<TrainOptions>,
  ) {
    this.grads = new Float64Array(net.lay.nParams);
    this.opt = new Optimizer(o.optimizer, o.lr, o.momentum, net.lay.nParams);
  }
}

export class LabPair {
  private o!: Required<TrainOptions>;
  private runners!: Record<Which, Runner>;
  private both!: Runner[];
  private orderRng!: Generator;
  private maskRng!: Generator;
  private order!: Int32Array;
  private masks!: Uint8Array[][]; // per batch size, one per hidden layer
  private bits!: Uint16Array; // this epoch's mask levels, (nTrain, hidden units) row-major
  private threshold = 0;
  private epochs = 0;
  private evalSpace!: Workspace;
  private gridSpace: Workspace | null = null;
  private gridEval: GridEvaluator | null = null;
  private readonly ext: [number, number, number, number];

  constructor(
    readonly data: Dataset,
    opts: TrainOptions,
  ) {
    const pts = [data.xTrain, data.xVal];
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const a of pts) {
      for (let i = 0; i < a.length; i += 2) {
        x0 = Math.min(x0, a[i]); x1 = Math.max(x1, a[i]);
        y0 = Math.min(y0, a[i + 1]); y1 = Math.max(y1, a[i + 1]);
      }
    }
    const margin = 0.6; // as the package's boundary figures (figures/training.py grid_for)
    this.ext = [x0 - margin, x1 + margin, y0 - margin, y1 + margin];
    this.reset(opts);
  }

  /** Back to epoch 0 with these options (or the current ones): same seed, same run. */
  reset(opts?: Partial<TrainOptions>): void {
    this.o = checkOptions({ ...(this.o ?? {}), ...(opts ?? {}) } as TrainOptions);
    const o = this.o;
    const [initRng, orderRng, maskRng] = new Generator(o.seed, o.spawnKey).spawn(3);
    this.orderRng = orderRng;
    this.maskRng = maskRng;
    const sizes = [2, ...Array<number>(o.hiddenLayers).fill(o.width), 2];
    const plain = new MLP(sizes, o.initParams ?? initRng);
    const dropout = new MLP(sizes, plain.params);
    this.runners = { plain: new Runner(plain, 1, o), dropout: new Runner(dropout, o.keepProb, o) };
    this.both = [this.runners.plain, this.runners.dropout];
    this.epochs = 0;
    const n = this.data.nTrain;
    const b = Math.min(o.batchSize, n);
    const last = n % b;
    const hiddenUnits = o.hiddenLayers * o.width;
    this.bits = new Uint16Array(n * hiddenUnits);
    this.threshold = maskThreshold(o.keepProb);
    this.masks = [];
    for (const size of new Set([b, last || b])) {
      this.masks[size] = sizes.slice(1, -1).map((w) => new Uint8Array(size * w));
    }
    this.evalSpace = plain.workspace(Math.max(n, this.data.nVal));
    dropout.workspace(b);
    if (last) dropout.workspace(last);
    this.gridSpace = null;
  }

  get options(): Required<TrainOptions> {
    return { ...this.o };
  }
  get plain(): MLP {
    return this.runners.plain.net;
  }
  get dropout(): MLP {
    return this.runners.dropout.net;
  }
  get epoch(): number {
    return this.epochs;
  }
  get curves(): Record<Which, Curves> {
    return { plain: this.runners.plain.curves, dropout: this.runners.dropout.curves };
  }

  /** One epoch for both nets: the same shuffled mini-batches, masks for the dropout net only. */
  step(): void {
    const { data } = this;
    const n = data.nTrain;
    const b = Math.min(this.o.batchSize, n);
    this.order = this.orderRng.permutation(n);
    const dropping = this.o.keepProb < 1;
    if (dropping) this.maskRng.fillUint16(this.bits);
    const width = this.o.width;
    const hiddenUnits = this.o.hiddenLayers * width;
    for (let lo = 0; lo < n; lo += b) {
      const size = Math.min(b, n - lo);
      const masks = this.masks[size];
      if (dropping) {
        const bits = this.bits;
        const t = this.threshold;
        for (let l = 0; l < masks.length; l++) {
          const m = masks[l];
          for (let r = 0; r < size; r++) {
            const row = (lo + r) * hiddenUnits + l * width;
            const mr = r * width;
            // branch-free: a kept unit is a q-weighted coin flip, a branch on it mispredicts
            for (let u = 0; u < width; u++) m[mr + u] = +(bits[row + u] <= t);
          }
        }
      }
      for (const r of this.both) {
        const ws = r.net.workspace(size);
        const x = ws.h[0];
        for (let i = 0; i < size; i++) {
          const j = this.order[lo + i];
          x[2 * i] = data.xTrain[2 * j];
          x[2 * i + 1] = data.xTrain[2 * j + 1];
        }
        const y = this.batchLabels(size, lo);
        r.grads.fill(0);
        const useMasks = r.keepProb < 1 ? masks : null;
        r.net.lossAndGrads(ws, size, y, 0, useMasks, r.keepProb, r.grads);
        r.opt.step(r.net.params, r.grads);
      }
    }
    this.epochs++;
    for (const r of this.both) {
      const [tl, ta] = this.evaluate(r.net, data.xTrain, data.yTrain, n);
      const [vl, va] = this.evaluate(r.net, data.xVal, data.yVal, data.nVal);
      r.curves.trainLoss.push(tl);
      r.curves.trainAcc.push(ta);
      r.curves.valLoss.push(vl);
      r.curves.valAcc.push(va);
    }
  }

  private labels = new Int32Array(0);
  private batchLabels(size: number, lo: number): Int32Array {
    if (this.labels.length < size) this.labels = new Int32Array(Math.max(size, this.o.batchSize));
    for (let i = 0; i < size; i++) this.labels[i] = this.data.yTrain[this.order[lo + i]];
    return this.labels;
  }

  /** Eval-mode mean cross-entropy and accuracy on a whole set. */
  private evaluate(net: MLP, x: Float64Array, y: Int32Array, n: number): [number, number] {
    const ws = this.evalSpace;
    ws.h[0].set(x.subarray(0, 2 * n));
    const logits = net.forward(ws, n, null, 1);
    let loss = 0;
    let right = 0;
    for (let r = 0; r < n; r++) {
      const a = logits[2 * r], b = logits[2 * r + 1];
      const max = Math.max(a, b);
      const logZ = max + Math.log(Math.exp(a - max) + Math.exp(b - max));
      loss += logZ - (y[r] === 1 ? b : a);
      if ((b > a ? 1 : 0) === y[r]) right++;
    }
    return [loss / n, right / n];
  }

  /** The boundary grid's [x0, x1, y0, y1]: every point plus a margin of 0.6. */
  extent(): [number, number, number, number] {
    return [...this.ext];
  }

  private grid(size: number): Workspace {
    if (!this.gridSpace || this.gridSpace.n !== size * size) {
      this.gridSpace = new Workspace(this.plain.lay, size * size);
      const x = this.gridSpace.h[0];
      const [x0, x1, y0, y1] = this.ext;
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          const k = r * size + c;
          x[2 * k] = x0 + ((x1 - x0) * c) / (size - 1);
          x[2 * k + 1] = y1 - ((y1 - y0) * r) / (size - 1); // row 0 at the top
        }
      }
    }
    return this.gridSpace;
  }

  /** Eval-mode P(class 1) on a size x size grid, row 0 = top, into `out` (see grid.ts). */
  boundary(which: Which, out?: Float64Array, size = 100): Float64Array {
    if (!this.gridEval || this.gridEval.xs.length !== size) {
      const [x0, x1, y0, y1] = this.ext;
      const xs = new Float64Array(size);
      const ys = new Float64Array(size);
      for (let i = 0; i < size; i++) {
        xs[i] = x0 + ((x1 - x0) * i) / (size - 1);
        ys[i] = y1 - ((y1 - y0) * i) / (size - 1); // row 0 at the top
      }
      this.gridEval = new GridEvaluator(xs, ys);
    }
    return this.gridEval.proba(this.runners[which].net, out ?? new Float64Array(size * size));
  }

  /**
   * MC dropout on the dropout net: nPasses forward passes with fresh per-example masks
   * (inverted scaling, as in training); mean and standard deviation (ddof 0) of P(class 1).
   */
  mcSpread(nPasses: number, out?: { mean: Float64Array; std: Float64Array }, size = 100,
    rng: Generator = new Generator(this.o.seed).spawn(4)[3]): { mean: Float64Array; std: Float64Array } {
    checkCount(nPasses, "nPasses", 1, 10_000);
    const ws = this.grid(size);
    const n = size * size;
    const mean = out?.mean ?? new Float64Array(n);
    const std = out?.std ?? new Float64Array(n);
    mean.fill(0);
    std.fill(0);
    const net = this.dropout;
    const q = this.o.keepProb;
    const masks = net.lay.sizes.slice(1, -1).map((w) => new Uint8Array(n * w));
    for (let t = 0; t < nPasses; t++) {
      for (const m of masks) for (let i = 0; i < m.length; i++) m[i] = rng.random() < q ? 1 : 0;
      const logits = net.forward(ws, n, masks, q);
      for (let k = 0; k < n; k++) {
        const p = 1 / (1 + Math.exp(logits[2 * k] - logits[2 * k + 1]));
        mean[k] += p;
        std[k] += p * p;
      }
    }
    for (let k = 0; k < n; k++) {
      const m = mean[k] / nPasses;
      mean[k] = m;
      std[k] = Math.sqrt(Math.max(std[k] / nPasses - m * m, 0));
    }
    return { mean, std };
  }
}

/** Train a pair for `epochs` epochs and return the curves (for the browser console). */
export function train(data: Dataset, opts: TrainOptions, epochs: number): Record<Which, Curves> {
  checkCount(epochs, "epochs", 1, 100_000);
  const pair = new LabPair(data, opts);
  for (let e = 0; e < epochs; e++) pair.step();
  return pair.curves;
}
