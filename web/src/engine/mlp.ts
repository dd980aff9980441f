/**
 * A small MLP with inverted dropout for the live training lab, on flat Float64Arrays.
 *
 * The same network as `dropout_figs.lab.mlp` (read that file first: this one is its fast
 * twin): ReLU hidden layers, each followed by inverted dropout, a softmax output, mean
 * cross-entropy. Forward and backward of each step sit side by side. Parameters,
 * gradients and optimiser state are one flat buffer each; activations are preallocated
 * per batch size, so the epoch loop allocates nothing.
 */
import { Generator } from "./random";

/** Layer l's weights W (fanIn x fanOut, row-major) then its bias b, for every layer. */
export interface Layout {
  sizes: number[];
  wOff: number[];
  bOff: number[];
  nParams: number;
}

export function layout(sizes: number[]): Layout {
  if (sizes.length < 2 || !sizes.every((s) => Number.isInteger(s) && s >= 1 && s <= 4096)) {
    throw new RangeError(`layer sizes must be at least 2 whole numbers in 1..4096; got [${sizes}]`);
  }
  const wOff: number[] = [];
  const bOff: number[] = [];
  let off = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    wOff.push(off);
    off += sizes[l] * sizes[l + 1];
    bOff.push(off);
    off += sizes[l + 1];
  }
  return { sizes: sizes.slice(), wOff, bOff, nParams: off };
}

/** Per-batch-size buffers: each layer's input h, its dropout-and-ReLU factor, dz and dh. */
export class Workspace {
  readonly h: Float64Array[]; // h[0] = x, h[l] = input of layer l (n x sizes[l])
  readonly factor: Float64Array[]; // factor[l - 1]: relu'(z) * mask / q of hidden layer l
  readonly logits: Float64Array;
  readonly dz: Float64Array;
  readonly dh: Float64Array;

  constructor(
    readonly lay: Layout,
    readonly n: number,
  ) {
    const s = lay.sizes;
    this.h = s.slice(0, -1).map((w) => new Float64Array(n * w));
    this.factor = s.slice(1, -1).map((w) => new Float64Array(n * w));
    this.logits = new Float64Array(n * s[s.length - 1]);
    const widest = Math.max(...s);
    this.dz = new Float64Array(n * widest);
    this.dh = new Float64Array(n * widest);
  }
}

// ---- affine: z = h W + b ------------------------------------------------------------------
// Scratch for one row's nonzero inputs (ReLU and dropout zero about half of them).
let nzIndex = new Int32Array(64);
let nzValue = new Float64Array(64);

export function affineForward(h: Float64Array, n: number, fanIn: number, fanOut: number,
  p: Float64Array, wOff: number, bOff: number, z: Float64Array): void {
  if (fanOut === 2) {
    affineForward2(h, n, fanIn, p, wOff, bOff, z);
    return;
  }
  if (nzIndex.length < fanIn) {
    nzIndex = new Int32Array(fanIn);
    nzValue = new Float64Array(fanIn);
  }
  const idx = nzIndex;
  const val = nzValue;
  for (let r = 0; r < n; r++) {
    const hr = r * fanIn;
    const zr = r * fanOut;
    // branch-free: always write, advance only past a nonzero (which of them are is a coin flip)
    let k = 0;
    for (let i = 0; i < fanIn; i++) {
      const hv = h[hr + i];
      idx[k] = wOff + i * fanOut;
      val[k] = hv;
      k += +(hv !== 0);
    }
    // Eight outputs at a time in registers: one load per multiply-add, no stores in the loop.
    // Each z still sums b + h_0 W_0 + h_1 W_1 + ... in that order.
    let o = 0;
    for (; o + 8 <= fanOut; o += 8) {
      const b = bOff + o;
      let a0 = p[b], a1 = p[b + 1], a2 = p[b + 2], a3 = p[b + 3];
      let a4 = p[b + 4], a5 = p[b + 5], a6 = p[b + 6], a7 = p[b + 7];
      for (let j = 0; j < k; j++) {
        const hv = val[j];
        const w = idx[j] + o;
        a0 += hv * p[w]; a1 += hv * p[w + 1]; a2 += hv * p[w + 2]; a3 += hv * p[w + 3];
        a4 += hv * p[w + 4]; a5 += hv * p[w + 5]; a6 += hv * p[w + 6]; a7 += hv * p[w + 7];
      }
      z[zr + o] = a0; z[zr + o + 1] = a1; z[zr + o + 2] = a2; z[zr + o + 3] = a3;
      z[zr + o + 4] = a4; z[zr + o + 5] = a5; z[zr + o + 6] = a6; z[zr + o + 7] = a7;
    }
    // the rest (the 2-unit output layer): two at a time, then one
    for (; o + 2 <= fanOut; o += 2) {
      let a0 = p[bOff + o], a1 = p[bOff + o + 1];
      for (let j = 0; j < k; j++) {
        const hv = val[j];
        const w = idx[j] + o;
        a0 += hv * p[w]; a1 += hv * p[w + 1];
      }
      z[zr + o] = a0; z[zr + o + 1] = a1;
    }
    for (; o < fanOut; o++) {
      let acc = p[bOff + o];
      for (let j = 0; j < k; j++) acc += val[j] * p[idx[j] + o];
      z[zr + o] = acc;
    }
  }
}

/**
 * The two-unit output layer: too narrow to block over outputs, so two examples at a time share
 * each weight load (four sums in flight), over every input, zeros included. A zero input adds
 * +-0, which leaves each sum's value as the sparse loop's (only the sign of an exact zero may
 * differ, and that never reaches a loss, a probability or a gradient).
 */
function affineForward2(h: Float64Array, n: number, fanIn: number, p: Float64Array, wOff: number,
  bOff: number, z: Float64Array): void {
  const b0 = p[bOff], b1 = p[bOff + 1];
  let r = 0;
  for (; r + 2 <= n; r += 2) {
    const hr = r * fanIn;
    const hs = hr + fanIn;
    let a0 = b0, a1 = b1, c0 = b0, c1 = b1;
    for (let i = 0; i < fanIn; i++) {
      const hv = h[hr + i], hu = h[hs + i];
      const w = wOff + 2 * i;
      const w0 = p[w], w1 = p[w + 1];
      a0 += hv * w0; a1 += hv * w1; c0 += hu * w0; c1 += hu * w1;
    }
    z[2 * r] = a0; z[2 * r + 1] = a1; z[2 * r + 2] = c0; z[2 * r + 3] = c1;
  }
  if (r < n) {
    const hr = r * fanIn;
    let a0 = b0, a1 = b1;
    for (let i = 0; i < fanIn; i++) {
      const hv = h[hr + i];
      a0 += hv * p[wOff + 2 * i]; a1 += hv * p[wOff + 2 * i + 1];
    }
    z[2 * r] = a0; z[2 * r + 1] = a1;
  }
}

// Scratch for one column's nonzero inputs in the backward pass (rows, not units).
let colRow = new Int32Array(64);
let colValue = new Float64Array(64);
// ... and one example's units with a nonzero factor
let units = new Int32Array(64);
let unitFactor = new Float64Array(64);

/**
 * dW += h^T dz and db += the sum of dz over the batch; then, unless this is the first layer,
 * dzIn = (dz W^T) * factor, the gradient at the pre-activation of the layer below.
 *
 * Every sum runs in the order of the plain loops (rows ascending for dW and db, outputs
 * ascending for dz W^T) and starts from the same value, so the results are those of the
 * naive triple loop, bit for bit. A zero input (ReLU off or dropped) has factor 0: it adds
 * nothing to dW and its dzIn is 0, so it is skipped.
 */
function affineBackward(dz: Float64Array, h: Float64Array, n: number, fanIn: number, fanOut: number,
  p: Float64Array, g: Float64Array, wOff: number, bOff: number, dzIn: Float64Array | null,
  factor: Float64Array | null): void {
  for (let o = 0; o < fanOut; o++) {
    let acc = g[bOff + o];
    for (let r = 0; r < n; r++) acc += dz[r * fanOut + o];
    g[bOff + o] = acc;
  }
  if (fanOut === 2) {
    affineBackward2(dz, h, n, fanIn, p, g, wOff, dzIn, factor);
    return;
  }
  if (colRow.length < n) {
    colRow = new Int32Array(n);
    colValue = new Float64Array(n);
  }
  const rows = colRow;
  const val = colValue;
  // dW, one input unit (one row of W) at a time, over the rows where that input is nonzero
  for (let i = 0; i < fanIn; i++) {
    let k = 0;
    for (let r = 0; r < n; r++) {
      const hv = h[r * fanIn + i];
      rows[k] = r * fanOut;
      val[k] = hv;
      k += +(hv !== 0);
    }
    if (k === 0) continue;
    const wr = wOff + i * fanOut;
    let o = 0;
    for (; o + 8 <= fanOut; o += 8) {
      const w = wr + o;
      let a0 = g[w], a1 = g[w + 1], a2 = g[w + 2], a3 = g[w + 3];
      let a4 = g[w + 4], a5 = g[w + 5], a6 = g[w + 6], a7 = g[w + 7];
      for (let j = 0; j < k; j++) {
        const hv = val[j];
        const d = rows[j] + o;
        a0 += hv * dz[d]; a1 += hv * dz[d + 1]; a2 += hv * dz[d + 2]; a3 += hv * dz[d + 3];
        a4 += hv * dz[d + 4]; a5 += hv * dz[d + 5]; a6 += hv * dz[d + 6]; a7 += hv * dz[d + 7];
      }
      g[w] = a0; g[w + 1] = a1; g[w + 2] = a2; g[w + 3] = a3;
      g[w + 4] = a4; g[w + 5] = a5; g[w + 6] = a6; g[w + 7] = a7;
    }
    for (; o + 2 <= fanOut; o += 2) {
      const w = wr + o;
      let a0 = g[w], a1 = g[w + 1];
      for (let j = 0; j < k; j++) {
        const hv = val[j];
        const d = rows[j] + o;
        a0 += hv * dz[d]; a1 += hv * dz[d + 1];
      }
      g[w] = a0; g[w + 1] = a1;
    }
    for (; o < fanOut; o++) {
      let acc = g[wr + o];
      for (let j = 0; j < k; j++) acc += val[j] * dz[rows[j] + o];
      g[wr + o] = acc;
    }
  }
  if (!dzIn || !factor) return;
  // dzIn, one example at a time: the units with a nonzero factor, four at a time sharing each
  // load of dz; the others get exactly 0, as in the plain loop
  if (units.length < fanIn) {
    units = new Int32Array(fanIn);
    unitFactor = new Float64Array(fanIn);
  }
  const us = units;
  const uf = unitFactor;
  for (let r = 0; r < n; r++) {
    const zr = r * fanOut;
    const hr = r * fanIn;
    let k = 0;
    for (let i = 0; i < fanIn; i++) {
      const f = factor[hr + i];
      dzIn[hr + i] = 0;
      us[k] = i;
      uf[k] = f;
      k += +(f !== 0);
    }
    let j = 0;
    for (; j + 4 <= k; j += 4) {
      const w0 = wOff + us[j] * fanOut, w1 = wOff + us[j + 1] * fanOut;
      const w2 = wOff + us[j + 2] * fanOut, w3 = wOff + us[j + 3] * fanOut;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let o = 0; o < fanOut; o++) {
        const d = dz[zr + o];
        a0 += d * p[w0 + o]; a1 += d * p[w1 + o]; a2 += d * p[w2 + o]; a3 += d * p[w3 + o];
      }
      dzIn[hr + us[j]] = a0 * uf[j];
      dzIn[hr + us[j + 1]] = a1 * uf[j + 1];
      dzIn[hr + us[j + 2]] = a2 * uf[j + 2];
      dzIn[hr + us[j + 3]] = a3 * uf[j + 3];
    }
    for (; j < k; j++) {
      const w = wOff + us[j] * fanOut;
      let acc = 0;
      for (let o = 0; o < fanOut; o++) acc += dz[zr + o] * p[w + o];
      dzIn[hr + us[j]] = acc * uf[j];
    }
  }
}

/**
 * affineBackward's weights and dzIn for the two-unit output layer (db is done): dense, two
 * inputs at a time for dW, zeros included (they add +-0, as in affineForward2).
 */
function affineBackward2(dz: Float64Array, h: Float64Array, n: number, fanIn: number, p: Float64Array,
  g: Float64Array, wOff: number, dzIn: Float64Array | null, factor: Float64Array | null): void {
  let i = 0;
  for (; i + 2 <= fanIn; i += 2) {
    const w = wOff + 2 * i;
    let a0 = g[w], a1 = g[w + 1], c0 = g[w + 2], c1 = g[w + 3];
    for (let r = 0; r < n; r++) {
      const hv = h[r * fanIn + i], hu = h[r * fanIn + i + 1];
      const d0 = dz[2 * r], d1 = dz[2 * r + 1];
      a0 += hv * d0; a1 += hv * d1; c0 += hu * d0; c1 += hu * d1;
    }
    g[w] = a0; g[w + 1] = a1; g[w + 2] = c0; g[w + 3] = c1;
  }
  if (i < fanIn) {
    const w = wOff + 2 * i;
    let a0 = g[w], a1 = g[w + 1];
    for (let r = 0; r < n; r++) {
      const hv = h[r * fanIn + i];
      a0 += hv * dz[2 * r]; a1 += hv * dz[2 * r + 1];
    }
    g[w] = a0; g[w + 1] = a1;
  }
  if (!dzIn || !factor) return;
  for (let r = 0; r < n; r++) {
    const d0 = dz[2 * r], d1 = dz[2 * r + 1];
    const hr = r * fanIn;
    for (let k = 0; k < fanIn; k++) {
      const w = wOff + 2 * k;
      dzIn[hr + k] = (d0 * p[w] + d1 * p[w + 1]) * factor[hr + k];
    }
  }
}

// ---- ReLU then inverted dropout, folded into one factor -------------------------------------
/**
 * h = relu(z) * mask / q in place, and factor = [z > 0] * mask / q (all the backward pass
 * needs); without a factor buffer (eval), h = relu(z) only. Branch-free: whether z > 0 is a
 * coin flip, and a mispredicted branch per unit cost more than the arithmetic.
 */
function reluDropoutForward(z: Float64Array, len: number, factor: Float64Array | null,
  mask: Uint8Array | null, scale: number): void {
  if (!factor) {
    for (let i = 0; i < len; i++) {
      const v = z[i];
      z[i] = v * +(v > 0);
    }
  } else if (!mask) {
    for (let i = 0; i < len; i++) {
      const v = z[i];
      const f = +(v > 0);
      factor[i] = f;
      z[i] = v * f;
    }
  } else {
    for (let i = 0; i < len; i++) {
      const v = z[i];
      const f = +(v > 0) * mask[i] * scale; // 0, or exactly 1 * scale
      factor[i] = f;
      z[i] = v * f;
    }
  }
}

// ---- softmax cross-entropy -----------------------------------------------------------------
/** Mean cross-entropy of softmax(logits) against y; dlogits = (softmax - onehot) / n into dz. */
function softmaxXent(logits: Float64Array, y: Int32Array, yOff: number, n: number, k: number,
  dz: Float64Array | null): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    const row = r * k;
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, logits[row + c]);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(logits[row + c] - max);
    const logZ = Math.log(sum);
    const label = y[yOff + r];
    total += logZ - (logits[row + label] - max);
    if (dz) {
      for (let c = 0; c < k; c++) {
        dz[row + c] = (Math.exp(logits[row + c] - max - logZ) - (c === label ? 1 : 0)) / n;
      }
    }
  }
  return total / n;
}

/**
 * One network: sizes (2, width, ..., width, 2), parameters in one flat buffer.
 * Hidden layers: ReLU then inverted dropout; the output layer never drops.
 */
export class MLP {
  readonly lay: Layout;
  readonly params: Float64Array;
  private readonly spaces = new Map<number, Workspace>();

  /** He-initialised weights N(0, 2 / fanIn) (Box-Muller from `rng`), zero biases; or copies `params`. */
  constructor(sizes: number[], init: Generator | Float64Array) {
    this.lay = layout(sizes);
    if (init instanceof Float64Array) {
      if (init.length !== this.lay.nParams) {
        throw new RangeError(`params must hold ${this.lay.nParams} numbers for sizes [${sizes}]; got ${init.length}`);
      }
      this.params = init.slice();
      return;
    }
    this.params = new Float64Array(this.lay.nParams);
    for (let l = 0; l + 1 < sizes.length; l++) {
      const sd = Math.sqrt(2 / sizes[l]);
      const end = this.lay.bOff[l];
      for (let i = this.lay.wOff[l]; i < end; i += 2) {
        const [a, b] = init.normalPair();
        this.params[i] = a * sd;
        if (i + 1 < end) this.params[i + 1] = b * sd;
      }
    }
  }

  get sizes(): number[] {
    return this.lay.sizes;
  }

  /** The buffers for batches of n (made once per size, then reused). */
  workspace(n: number): Workspace {
    let ws = this.spaces.get(n);
    if (!ws) {
      ws = new Workspace(this.lay, n);
      this.spaces.set(n, ws);
    }
    return ws;
  }

  /**
   * Forward pass of n examples already in ws.h[0]; logits into ws.logits.
   * masks: one per hidden layer (n x width, 1 = kept), or null for eval mode.
   * keepFactors: also fill ws.factor for the backward pass (always done with masks).
   */
  forward(ws: Workspace, n: number, masks: Uint8Array[] | null, keepProb: number, keepFactors = false): Float64Array {
    const { sizes, wOff, bOff } = this.lay;
    const last = sizes.length - 2;
    for (let l = 0; l <= last; l++) {
      const out = l < last ? ws.h[l + 1] : ws.logits;
      affineForward(ws.h[l], n, sizes[l], sizes[l + 1], this.params, wOff[l], bOff[l], out);
      if (l < last) {
        const factor = masks || keepFactors ? ws.factor[l] : null;
        reluDropoutForward(out, n * sizes[l + 1], factor, masks ? masks[l] : null, 1 / keepProb);
      }
    }
    return ws.logits;
  }

  /**
   * Mean cross-entropy of the n examples in ws.h[0] with labels y[yOff ..], and its gradient
   * ADDED to `grads` (zero it first). Same maths as `dropout_figs.lab.mlp.loss_and_grads`.
   */
  lossAndGrads(ws: Workspace, n: number, y: Int32Array, yOff: number, masks: Uint8Array[] | null,
    keepProb: number, grads: Float64Array): number {
    const { sizes, wOff, bOff } = this.lay;
    this.forward(ws, n, masks, keepProb, true);
    const L = sizes.length - 1;
    const loss = softmaxXent(ws.logits, y, yOff, n, sizes[L], ws.dz);
    // h = z * factor, so the layer below's dz is (dz W^T) * factor: the two buffers take turns
    let dz = ws.dz;
    let dzIn = ws.dh;
    for (let l = L - 1; l >= 0; l--) {
      const below = l > 0;
      affineBackward(dz, ws.h[l], n, sizes[l], sizes[l + 1], this.params, grads, wOff[l], bOff[l],
        below ? dzIn : null, below ? ws.factor[l - 1] : null);
      const t = dz;
      dz = dzIn;
      dzIn = t;
    }
    return loss;
  }

  /** Eval-mode P(class 1) for one point (no masks, no scaling). */
  predictProba1(x0: number, x1: number): number {
    const ws = this.workspace(1);
    ws.h[0][0] = x0;
    ws.h[0][1] = x1;
    const z = this.forward(ws, 1, null, 1);
    return 1 / (1 + Math.exp(z[0] - z[1]));
  }
}

/** A pure-function form for tests: loss and flat gradient of `params` on x (n x 2), y, masks. */
export function lossAndGrads(sizes: number[], params: Float64Array, x: Float64Array, y: Int32Array,
  masks: Uint8Array[] | null, keepProb: number): { loss: number; grads: Float64Array } {
  const net = new MLP(sizes, params);
  const n = y.length;
  const ws = net.workspace(n);
  ws.h[0].set(x.subarray(0, n * sizes[0]));
  const grads = new Float64Array(net.lay.nParams);
  const loss = net.lossAndGrads(ws, n, y, 0, masks, keepProb, grads);
  return { loss, grads };
}

// ---- optimisers on the flat buffers (the package's formulas, engine.py) -----------------------
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

export class Optimizer {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;

  constructor(
    readonly kind: "adam" | "sgd",
    readonly lr: number,
    readonly momentum: number,
    nParams: number,
  ) {
    this.m = new Float64Array(nParams); // Adam's first moment, or SGD's velocity
    this.v = new Float64Array(kind === "adam" ? nParams : 0);
  }

  step(theta: Float64Array, g: Float64Array): void {
    this.t++;
    const { m, v } = this;
    if (this.kind === "adam") {
      // PyTorch's step, lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps), rearranged as in the package
      const rootBc2 = Math.sqrt(1 - BETA2 ** this.t);
      const stepSize = this.lr * (rootBc2 / (1 - BETA1 ** this.t));
      const eps = EPS * rootBc2;
      const n = theta.length;
      for (let i = 0; i < n; i++) {
        const gi = g[i];
        const mi = m[i] + (gi - m[i]) * (1 - BETA1);
        const vi = v[i] + (gi * gi - v[i]) * (1 - BETA2);
        m[i] = mi;
        v[i] = vi;
        theta[i] -= (mi / (Math.sqrt(vi) + eps)) * stepSize;
      }
    } else {
      for (let i = 0; i < theta.length; i++) {
        m[i] = m[i] * this.momentum + g[i];
        theta[i] -= m[i] * this.lr;
      }
    }
  }
}
