// The browser engine against the package's own numbers, written by tests/test_engine_parity.py
// (DROPOUT_FIGS_VALUES) for an engine bundled for node (DROPOUT_FIGS_ENGINE). Run through
// pytest; on its own, `node --test web/test/` skips every test and says why.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const enginePath = process.env.DROPOUT_FIGS_ENGINE;
const valuesPath = process.env.DROPOUT_FIGS_VALUES;
const skip = !enginePath || !valuesPath ? "run through pytest tests/test_engine_parity.py" : false;
const E = skip ? null : createRequire(import.meta.url)(enginePath);
const V = skip ? null : JSON.parse(readFileSync(valuesPath, "utf8"));

const bits = (mask) => Array.from(mask, (m) => (m ? "1" : "0")).join("");
const maskOf = (s) => Uint8Array.from(s, (c) => (c === "1" ? 1 : 0));

/** |got - want| <= rel * |want| (+ abs), element by element, with the index in the message. */
function close(got, want, rel, abs = 0, what = "") {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const tol = rel * Math.abs(want[i]) + abs;
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: got ${got[i]}, want ${want[i]} (tol ${tol})`);
  }
}

describe("random: NumPy's default_rng", { skip }, () => {
  test("doubles, bounded integers, permutation and spawn equal NumPy's, bit for bit", () => {
    for (const c of V.random) {
      const g = new E.Generator(BigInt(c.seed));
      assert.deepEqual(Array.from({ length: 8 }, () => g.random()), c.first, `seed ${c.seed}`);
      assert.deepEqual(Array.from({ length: 20 }, () => g.integers(7)), c.ints, `seed ${c.seed} integers`);
      assert.deepEqual(Array.from(g.permutation(53)), c.perm, `seed ${c.seed} permutation`);
      assert.deepEqual([g.random(), g.random(), g.random()], c.after, `seed ${c.seed} after`);
      assert.deepEqual(Array.from(g.fillUint16(new Uint16Array(37))), c.u16, `seed ${c.seed} uint16`);
      const kids = new E.Generator(BigInt(c.seed)).spawn(3);
      assert.deepEqual(kids.map((k) => [k.random(), k.random()]), c.spawn, `seed ${c.seed} spawn`);
    }
  });
  test("bad seeds are refused with the value", () => {
    assert.throws(() => new E.Generator(-1), /seed .*got -1/);
    assert.throws(() => new E.Generator(1.5), /seed .*got 1.5/);
  });
});

describe("masks: sample_keep_mask", { skip }, () => {
  test(`the same masks for every (n, q, seed) triple, and frame 1 of the stream`, () => {
    assert.ok(V.masks.length >= 50);
    for (const c of V.masks) {
      assert.equal(bits(E.sampleKeepMask(c.n, c.keep_prob, c.seed)), c.frames[0], `n=${c.n} q=${c.keep_prob} seed=${c.seed}`);
      const s = new E.MaskStream(c.n, c.keep_prob, c.seed);
      assert.equal(bits(s.next()), c.frames[0]);
      assert.equal(bits(s.next()), c.frames[1], `frame 1 of n=${c.n} seed=${c.seed}`);
      assert.equal(s.frame, 2);
    }
  });
  test("bad input names the parameter", () => {
    assert.throws(() => E.sampleKeepMask(10, 0, 1), /keepProb must be in \(0, 1\].*got 0/);
    assert.throws(() => E.sampleKeepMask(10, 1.7, 1), /got 1.7/);
    assert.throws(() => E.sampleKeepMask(10, NaN, 1), /got NaN/);
    assert.throws(() => E.sampleKeepMask(-1, 0.5, 1), /n must be/);
  });
});

describe("summary: layer_summary and numbers --json", { skip }, () => {
  test("every field equals the package's", () => {
    for (const c of V.summaries) {
      const got = E.layerSummary(...c.args);
      for (const [key, want] of Object.entries(c.want)) {
        assert.equal(got[key], want, `${key} for ${c.args}`);
      }
      assert.equal(got.subnetworks, c.subnetworks);
    }
  });
  test("2^n is formatted as the package formats it", () => {
    for (const [n, want] of Object.entries(V.subnetworks)) assert.equal(E.formatSubnetworks(Number(n)), want, `n=${n}`);
  });
  test("bad input is refused", () => {
    assert.throws(() => E.layerSummary(0, 0.5), /nUnits/);
    assert.throws(() => E.layerSummary(2 ** 24 + 1, 0.5), /nUnits/);
    assert.throws(() => E.layerSummary(10, 0.5, 0, 0), /meanActivation/);
  });
});

describe("binomial: the kept-count distribution", { skip }, () => {
  test("pmf and cdf equal scipy's to 1e-10 relative where pmf > 1e-300", () => {
    for (const c of V.binomial) {
      const pmf = c.k.map((k) => E.keptCountPmf(c.n, c.keep_prob, k));
      const cdf = c.k.map((k) => E.keptCountCdf(c.n, c.keep_prob, k));
      close(pmf, c.pmf, 1e-10, 0, `pmf n=${c.n} q=${c.keep_prob}`);
      close(cdf, c.cdf, 1e-10, 0, `cdf n=${c.n} q=${c.keep_prob}`);
    }
  });
  test("the window holds the mass and sums to 1", () => {
    const { k0, pmf } = E.keptCountWindow(10 ** 6, 0.37);
    const sum = pmf.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-8, `sum ${sum}`);
    assert.ok(k0 <= 370000 && k0 + pmf.length > 370000);
  });
});

describe("mlp: loss_and_grads", { skip }, () => {
  test("loss and every gradient equal the teaching MLP's to 1e-12 relative", () => {
    for (const c of V.mlp) {
      const masks = c.masks && c.masks.map(maskOf);
      const { loss, grads } = E.lossAndGrads(c.sizes, Float64Array.from(c.params),
        Float64Array.from(c.x), Int32Array.from(c.y), masks, c.keep_prob);
      close([loss], [c.loss], 1e-12, 0, `loss ${c.sizes}`);
      const scale = Math.max(...c.grads.map(Math.abs));
      close(grads, c.grads, 1e-12, 1e-14 * scale, `grads ${c.sizes}`);
    }
  });
});

describe("data: make_dataset", { skip }, () => {
  test("the same points (to 1e-12) and labels for every data set and seed", () => {
    for (const c of V.data) {
      const d = E.makeDataset(c.name, c.opts);
      const what = `${c.name} ${JSON.stringify(c.opts)}`;
      assert.equal(d.noise, c.noise);
      assert.deepEqual(Array.from(d.yTrain), c.y_train, `${what} y_train`);
      assert.deepEqual(Array.from(d.yVal), c.y_val, `${what} y_val`);
      close(d.xTrain, c.x_train, 1e-12, 1e-13, `${what} x_train`);
      close(d.xVal, c.x_val, 1e-12, 1e-13, `${what} x_val`);
    }
  });
});

describe("lab: the live training pair", { skip }, () => {
  test("mask levels are thresholded as the package's engine does", () => {
    for (const [q, t] of Object.entries(V.thresholds)) assert.equal(E.maskThreshold(Number(q)), t, `q=${q}`);
  });
  test("from the package's initial weights it trains as the package does (batches, masks, Adam, SGD)", () => {
    for (const c of V.lab) {
      const data = E.makeDataset(c.name, c.data);
      const pair = new E.LabPair(data, { ...c.opts, initParams: Float64Array.from(c.init) });
      const epochs = c.history.plain.train_loss.length;
      for (let e = 0; e < epochs; e++) pair.step();
      const got = pair.curves;
      for (const key of ["plain", "dropout"]) {
        const want = c.history[key];
        close(got[key].trainLoss, want.train_loss, 1e-9, 0, `${c.name} ${key} train loss`);
        close(got[key].valLoss, want.val_loss, 1e-9, 0, `${c.name} ${key} val loss`);
        assert.deepEqual(got[key].valAcc, want.val_acc, `${c.name} ${key} val accuracy`);
      }
    }
  });

  test("from a seed alone it starts from the package's weights and trains as the package does", () => {
    for (const c of V.lab) {
      const data = E.makeDataset(c.name, c.data);
      const pair = new E.LabPair(data, c.opts);
      close(Array.from(pair.plain.params), c.init, 1e-12, 1e-15, `${c.name} initial weights`);
      const epochs = c.history.plain.train_loss.length;
      for (let e = 0; e < epochs; e++) pair.step();
      const got = pair.curves;
      for (const key of ["plain", "dropout"]) {
        const want = c.history[key];
        close(got[key].trainLoss, want.train_loss, 1e-9, 0, `${c.name} ${key} train loss from the seed`);
        close(got[key].valLoss, want.val_loss, 1e-9, 0, `${c.name} ${key} val loss from the seed`);
        assert.deepEqual(got[key].valAcc, want.val_acc, `${c.name} ${key} val accuracy from the seed`);
      }
    }
  });

  test("the widget's run is `dropout-figs train --compare --seed S`'s: the same final numbers", () => {
    for (const c of V.cli) {
      const f = c.flags;
      const seed = Number(f.seed);
      const data = E.makeDataset(f.dataset, {
        nSamples: f["n-samples"], noise: f.noise, valFraction: 0.5, seed: new E.Generator(seed, [0]),
      });
      const pair = new E.LabPair(data, {
        hiddenLayers: f.layers, width: f.width, keepProb: 1 - f["drop-rate"], lr: f.lr,
        batchSize: f["batch-size"], optimizer: c.optimizer, seed, spawnKey: [1],
      });
      for (let e = 0; e < f.epochs; e++) pair.step();
      const got = pair.curves;
      for (const [key, run] of [["plain", "without_dropout"], ["dropout", "with_dropout"]]) {
        const want = c.json[run];
        close([got[key].trainLoss.at(-1), got[key].valLoss.at(-1)], [want.train_loss, want.val_loss], 1e-9, 0, `${f.dataset} ${key}`);
        assert.equal(got[key].valAcc.at(-1), want.val_acc, `${f.dataset} ${key} val accuracy`);
      }
    }
  });

  test("both nets start equal, the plain one never drops, training lowers the loss", () => {
    const data = E.makeDataset("moons", { nSamples: 200, seed: 0 });
    const pair = new E.LabPair(data, { hiddenLayers: 2, width: 32, keepProb: 0.7, seed: 3, lr: 0.01 });
    assert.deepEqual(Array.from(pair.plain.params), Array.from(pair.dropout.params));
    for (let e = 0; e < 30; e++) pair.step();
    const { plain, dropout } = pair.curves;
    assert.equal(plain.trainLoss.length, 30);
    assert.ok(plain.trainLoss[29] < plain.trainLoss[0] * 0.7, `plain ${plain.trainLoss[0]} -> ${plain.trainLoss[29]}`);
    assert.ok(dropout.trainLoss[29] < dropout.trainLoss[0]);
    const b = pair.boundary("plain");
    assert.equal(b.length, 10000);
    assert.ok(b.every((p) => p >= 0 && p <= 1));
    const again = new E.LabPair(data, { hiddenLayers: 2, width: 32, keepProb: 0.7, seed: 3, lr: 0.01 });
    for (let e = 0; e < 30; e++) again.step();
    assert.deepEqual(again.curves, pair.curves, "same seed, same run");
    const { std } = pair.mcSpread(5, undefined, 20);
    assert.ok(std.some((s) => s > 0) && std.every((s) => s >= 0));
  });
});

describe("lab: decision boundaries", { skip }, () => {
  test("LabPair.boundary equals the package's predict_proba on the grid to 1e-12", () => {
    assert.ok(V.boundary.length >= 3);
    for (const c of V.boundary) {
      const data = E.makeDataset(c.data.name, { nSamples: c.data.nSamples, seed: c.data.seed });
      const hidden = c.sizes.length - 2;
      const pair = new E.LabPair(data, {
        hiddenLayers: hidden, width: hidden ? c.sizes[1] : 1, keepProb: 0.5,
        initParams: Float64Array.from(c.params),
      });
      const what = `[${c.sizes}] on ${c.data.name}`;
      for (const which of ["plain", "dropout"]) close(pair.boundary(which), c.proba, 0, 1e-12, `${what} ${which}`);
      // and into a caller's buffer, again (buffers reused between calls)
      const out = new Float64Array(10000);
      assert.equal(pair.boundary("plain", out), out);
      close(out, c.proba, 0, 1e-12, `${what} again`);
    }
  });
});
