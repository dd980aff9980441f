/**
 * Eval-mode P(class 1) of a net over a regular grid (the training lab's decision boundary).
 *
 * The same function as `MLP.forward` then a softmax on every grid point, to rounding (the
 * package's `predict_proba` is matched to 1e-12 in web/test), with the grid doing most of
 * the work. A 100 x 100 boundary of a 2-32-32-2 net is 10,000 x 1,100 multiply-adds done
 * point by point; here it is about a tenth of that:
 *
 * - Layer 1 is separable on the grid: z1 = (b + x W[0]) + y W[1], a column term made once
 *   per call plus a row term (the same sum, in the same order, as the affine pass).
 * - Along a row y is fixed, so z1 is linear in x and each layer-1 unit switches on or off at
 *   most once. While the set A of active layer-1 units stays the same, layer 2's
 *   pre-activation is linear in x too:
 *       z2 = c_A + x s_A,  c_A = b2 + sum_{k in A} (b1_k + y W1[1,k]) W2[k],
 *                          s_A = sum_{k in A} W1[0,k] W2[k].
 *   c and s change by one unit's row of W2 when that unit switches, so a point costs one
 *   multiply-add per layer-2 unit instead of one per (layer-1 unit, layer-2 unit) pair.
 * - Later layers run a row at a time through the ordinary affine pass (zero inputs skipped).
 * - The two logits only matter through their difference, p1 = 1 / (1 + exp(z0 - z1)), so the
 *   output layer is one column, W[:, 0] - W[:, 1] (and b0 - b1).
 *
 * Every buffer is made once per net shape; a frame allocates nothing.
 */
import { affineForward, type MLP } from "./mlp";

interface Buffers {
  key: string;
  /** the reduced net: layers 1.. with the output layer as one difference column */
  params: Float64Array;
  wOff: number[];
  bOff: number[];
  sizes: number[]; // [2, h1, ..., hL, 1]
  colTerm: Float64Array; // (nx, h1): b1 + x_c W1[0]
  first: Int32Array; // per column: the first unit event queued there, or -1
  next: Int32Array; // per event (k: unit k switches on; h1 + k: off): the next one, or -1
  c: Float64Array; // fanOut of layer 2
  s: Float64Array;
  rows: Float64Array[]; // one row of the grid through layers 2..: (nx, sizes[l])
}

export class GridEvaluator {
  private buf: Buffers | null = null;

  /** Column x coordinates `xs` (left to right) and row y coordinates `ys` (row 0 first). */
  constructor(
    readonly xs: Float64Array,
    readonly ys: Float64Array,
  ) {}

  private buffers(net: MLP): Buffers {
    const sizes = net.lay.sizes;
    const key = sizes.join(",");
    if (this.buf?.key === key) return this.buf;
    const nx = this.xs.length;
    const red = [...sizes.slice(0, -1), 1];
    const wOff: number[] = [];
    const bOff: number[] = [];
    let off = 0;
    for (let l = 0; l + 1 < red.length; l++) {
      wOff.push(off);
      off += red[l] * red[l + 1];
      bOff.push(off);
      off += red[l + 1];
    }
    const h1 = red[1];
    const n2 = red.length > 2 ? red[2] : 0;
    this.buf = {
      key, params: new Float64Array(off), wOff, bOff, sizes: red,
      colTerm: new Float64Array(nx * h1),
      first: new Int32Array(nx), next: new Int32Array(2 * h1),
      c: new Float64Array(n2), s: new Float64Array(n2),
      rows: red.slice(2).map((w) => new Float64Array(nx * w)),
    };
    return this.buf;
  }

  /** The net's parameters with its output layer reduced to the logit difference z0 - z1. */
  private reduce(net: MLP, b: Buffers): void {
    const { wOff, bOff, sizes } = net.lay;
    const p = net.params;
    const last = sizes.length - 2;
    b.params.set(p.subarray(0, wOff[last])); // every layer before the output, as it is
    const fanIn = sizes[last];
    const k = sizes[last + 1];
    for (let i = 0; i < fanIn; i++) {
      b.params[b.wOff[last] + i] = p[wOff[last] + i * k] - p[wOff[last] + i * k + 1];
    }
    b.params[b.bOff[last]] = p[bOff[last]] - p[bOff[last] + 1];
  }

  /** P(class 1) at every grid point, row-major (row r, column c at r * nx + c), into `out`. */
  proba(net: MLP, out: Float64Array): Float64Array {
    if (net.lay.sizes[0] !== 2 || net.lay.sizes[net.lay.sizes.length - 1] !== 2) {
      throw new RangeError(`a boundary needs a net with 2 inputs and 2 outputs; got [${net.lay.sizes}]`);
    }
    const b = this.buffers(net);
    this.reduce(net, b);
    const { xs, ys } = this;
    const nx = xs.length;
    const p = b.params;
    const h1 = b.sizes[1];
    const w0x = b.wOff[0]; // W1[0, k] at w0x + k, W1[1, k] at w0x + h1 + k
    const w0y = w0x + h1;
    const b0 = b.bOff[0];
    const col = b.colTerm;
    for (let c = 0; c < nx; c++) {
      for (let k = 0; k < h1; k++) col[c * h1 + k] = p[b0 + k] + xs[c] * p[w0x + k];
    }
    if (b.sizes.length === 2) {
      // no hidden layer: the difference column is layer 1 itself
      for (let r = 0; r < ys.length; r++) {
        for (let c = 0; c < nx; c++) out[r * nx + c] = 1 / (1 + Math.exp(col[c] + ys[r] * p[w0y]));
      }
      return out;
    }
    const n2 = b.sizes[2];
    const w1 = b.wOff[1]; // W2[k, j] at w1 + k * n2 + j
    const b1 = b.bOff[1];
    const { c: cA, s: sA } = b;
    const row2 = b.rows[0];
    const hidden2 = b.sizes.length > 3; // layer 2 is hidden (ReLU) rather than the output
    const L = b.sizes.length - 1;
    const fused = L === 3; // layer 3 is the output column: d summed straight from c + x s
    const dW = fused ? b.wOff[2] : 0;
    const dB = fused ? p[b.bOff[2]] : 0;
    const { first, next } = b;
    for (let r = 0; r < ys.length; r++) {
      const y = ys[r];
      // Where each layer-1 unit switches along this row: z1 is linear in x, so compare the
      // row's two ends, then bisect for the first column on the other side (the same sum
      // as everywhere else decides the side). Units are queued on that column.
      first.fill(-1);
      for (let j = 0; j < n2; j++) {
        cA[j] = p[b1 + j];
        sA[j] = 0;
      }
      for (let k = 0; k < h1; k++) {
        const yk = y * p[w0y + k];
        const on0 = col[k] + yk > 0;
        let at = on0 ? 0 : -1;
        if (on0 !== col[(nx - 1) * h1 + k] + yk > 0) {
          let lo = 0; // on0's side
          let hi = nx - 1; // the other side
          while (hi - lo > 1) {
            const mid = (lo + hi) >> 1;
            if (col[mid * h1 + k] + yk > 0 === on0) lo = mid;
            else hi = mid;
          }
          at = on0 ? 0 : hi;
          if (on0) {
            next[h1 + k] = first[hi]; // switches off at hi: queued as event h1 + k
            first[hi] = h1 + k;
          }
        }
        if (at >= 0) {
          next[k] = first[at]; // switches on at column `at`: queued as event k
          first[at] = k;
        }
      }
      for (let c = 0; c < nx; c++) {
        // the units that switched here move c and s by their row of W2
        for (let e = first[c]; e >= 0; e = next[e]) {
          const on = e < h1;
          const k = on ? e : e - h1;
          const a = p[b0 + k] + y * p[w0y + k];
          const wx = p[w0x + k];
          const wk = w1 + k * n2;
          if (on) {
            for (let j = 0; j < n2; j++) {
              cA[j] += a * p[wk + j];
              sA[j] += wx * p[wk + j];
            }
          } else {
            for (let j = 0; j < n2; j++) {
              cA[j] -= a * p[wk + j];
              sA[j] -= wx * p[wk + j];
            }
          }
        }
        const x = xs[c];
        if (fused) {
          let d = dB;
          for (let j = 0; j < n2; j++) {
            const z = cA[j] + x * sA[j];
            if (z > 0) d += z * p[dW + j];
          }
          out[r * nx + c] = 1 / (1 + Math.exp(d));
          continue;
        }
        const o = c * n2;
        if (hidden2) {
          for (let j = 0; j < n2; j++) {
            const z = cA[j] + x * sA[j];
            row2[o + j] = z > 0 ? z : 0;
          }
        } else {
          row2[o] = cA[0] + x * sA[0];
        }
      }
      if (fused) continue;
      // layers 3.. on this row of points: ReLU between them, the difference column last
      for (let l = 2; l < L; l++) {
        const z = b.rows[l - 1];
        affineForward(b.rows[l - 2], nx, b.sizes[l], b.sizes[l + 1], p, b.wOff[l], b.bOff[l], z);
        if (l + 1 < L) for (let i = 0; i < z.length; i++) if (!(z[i] > 0)) z[i] = 0;
      }
      const d = b.rows[L - 2];
      for (let c = 0; c < nx; c++) out[r * nx + c] = 1 / (1 + Math.exp(d[c]));
    }
    return out;
  }
}
