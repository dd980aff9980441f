/* The training lab: two networks from the same initial weights, on the same mini-batches,
 * without and with dropout, trained live (one epoch of each per animation frame); their
 * loss curves, both decision boundaries (a 100 x 100 canvas scaled by CSS, as in
 * TensorFlow Playground), an MC-dropout spread view, the package's presets by name and
 * the equivalent `dropout-figs train` command.
 */

import { DATASETS, DEFAULT_NOISE, type Dataset, type DatasetName, Generator, LabPair, makeDataset } from "../engine";
import { CommandBox, NumberField, Palette, Player, SelectField, fitCanvas, fmt, h, prefersReducedMotion, shellWord } from "./ui";
import { readState, writeState } from "./url";

/** One preset as the page embeds it (dropout_figs.explorables.lab_presets()). */
export interface PresetJson {
  name: string;
  title: string;
  description: string;
  dataset: DatasetName;
  n_samples: number;
  noise: number | null;
  val_fraction: number;
  hidden_layers: number;
  width: number;
  keep_prob: number;
  epochs: number;
  batch_size: number;
  lr: number;
  optimizer: "adam" | "sgd";
}

const GRID = 100;
const MC_GRID = 50;
const MC_PASSES = 30;
/** The dropout net's drop rate when a preset trains without dropout (the figures' default). */
const DEFAULT_DROP = 0.5;

function readPresets(root: HTMLElement): PresetJson[] {
  const blob =
    root.querySelector<HTMLScriptElement>("script[data-df-presets]") ??
    document.querySelector<HTMLScriptElement>("script[data-df-presets]");
  if (!blob) return [];
  try {
    // Only presets on a data set the browser can draw (a new package data set waits for its port).
    const all = JSON.parse(blob.textContent ?? "[]") as PresetJson[];
    return all.filter((p) => DATASETS.includes(p.dataset));
  } catch {
    return [];
  }
}

/** "#3f51b5", "rgb(...)", "hsla(...)" -> [r, g, b], through a canvas's own parser. */
function rgb(colour: string): [number, number, number] {
  const ctx = document.createElement("canvas").getContext("2d")!;
  ctx.fillStyle = "#000";
  ctx.fillStyle = colour;
  ctx.fillRect(0, 0, 1, 1);
  const d = ctx.getImageData(0, 0, 1, 1).data;
  return [d[0], d[1], d[2]];
}

export function mountTrainingLab(root: HTMLElement): void {
  const prefix = "lab";
  const state = readState(prefix);
  const palette = new Palette(root);
  const presets = readPresets(root);
  const byName = new Map(presets.map((p) => [p.name, p]));

  // ----------------------------------------------------------------- controls
  const preset = new SelectField(
    "preset",
    "Preset",
    [["custom", "(your own settings)"], ...presets.map((p): [string, string] => [p.name, p.title])],
    presets.some((p) => p.name === "moons") ? "moons" : "custom",
  );
  const dataset = new SelectField(
    "data",
    "Data set",
    DATASETS.map((d): [string, string] => [d, d]),
    "moons",
  );
  const noise = new NumberField({ key: "noise", label: "Noise (sd of the jitter)", min: 0, max: 2, value: DEFAULT_NOISE.moons, slider: { min: 0, max: 1, step: 0.01 }, rule: "a number from 0 to 2" });
  const points = new NumberField({ key: "n", label: "Training points", min: 4, max: 1000, integer: true, value: 100, slider: { min: 10, max: 500, step: 10 }, rule: "a whole number from 4 to 1,000" });
  const layers = new NumberField({ key: "layers", label: "Hidden layers", min: 1, max: 6, integer: true, value: 3, slider: { min: 1, max: 6, step: 1 }, rule: "a whole number from 1 to 6" });
  const width = new NumberField({ key: "width", label: "Width (units per hidden layer)", min: 2, max: 256, integer: true, value: 64, slider: { min: 2, max: 128, step: 2 }, rule: "a whole number from 2 to 256" });
  const drop = new NumberField({
    key: "drop",
    label: "Drop rate of the dropout net",
    min: 0,
    max: 0.95,
    value: 0.4,
    slider: { min: 0, max: 0.9, step: 0.05 },
    aside: (r) => `keep probability ${+(1 - r).toFixed(12)}`,
    rule: "a number from 0 to 0.95",
  });
  const lr = new NumberField({ key: "lr", label: "Learning rate (Adam)", min: 0, minOpen: true, max: 1, value: 3e-3, rule: "a number above 0 and at most 1" });
  const epochs = new NumberField({ key: "epochs", label: "Epochs", min: 1, max: 5000, integer: true, value: 150, slider: { min: 10, max: 1000, step: 10 }, rule: "a whole number from 1 to 5,000" });
  const seed = new NumberField({ key: "seed", label: "Seed", min: 0, max: Number.MAX_SAFE_INTEGER, integer: true, value: 0, rule: "a whole number from 0 to 2⁵³ − 1" });
  const numbers = [noise, points, layers, width, drop, lr, epochs, seed];

  function applyPreset(p: PresetJson): void {
    dataset.set(p.dataset);
    noise.set(p.noise ?? DEFAULT_NOISE[p.dataset]);
    points.set(Math.round(p.n_samples * (1 - p.val_fraction)));
    layers.set(p.hidden_layers);
    width.set(p.width);
    drop.set(p.keep_prob < 1 ? +(1 - p.keep_prob).toFixed(12) : DEFAULT_DROP);
    lr.set(p.lr);
    epochs.set(p.epochs);
  }

  // A link with settings but no preset (or "custom") is the reader's own settings.
  if (state.preset && byName.has(state.preset)) preset.set(state.preset);
  else if (Object.keys(state).length) preset.set("custom");
  const start = byName.get(preset.value);
  if (start) applyPreset(start);
  if (dataset.set(state.data) && state.noise === undefined) {
    noise.set(DEFAULT_NOISE[dataset.value as DatasetName]);
  }
  for (const f of numbers) f.fromState(state[f.spec.key]);

  const description = h("p", { class: "df-lab__preset" });
  const status = h("span", { class: "df-lab__status", "aria-live": "polite", "data-field": "epoch" });
  const reset = h("button", { type: "button", class: "df-button", text: "Reset" });
  const player = new Player(() => tick(), 0, [reset]);
  player.el.append(status);

  const panels = (["plain", "dropout"] as const).map((which) => {
    const field = h("canvas", { class: "df-lab__field", width: GRID, height: GRID, "aria-hidden": "true" });
    const dots = h("canvas", { class: "df-lab__dots", role: "img" });
    const title = h("figcaption", {});
    const stats = h("p", { class: "df-lab__stats", "data-field": `${which}-metrics` });
    const fig = h("figure", { class: "df-panel df-lab__panel" }, h("div", { class: "df-lab__plane" }, field, dots), title, stats);
    return { which, field, dots, title, stats, fig, buffer: new Float64Array(GRID * GRID) };
  });
  const curves = h("canvas", { class: "df-canvas", role: "img" });
  const mcButton = h("button", { type: "button", class: "df-button", text: `Show the MC-dropout spread (${MC_PASSES} passes)` });
  const mcCanvas = h("canvas", { class: "df-lab__field", width: MC_GRID, height: MC_GRID, "aria-hidden": "true" });
  const mcDots = h("canvas", { class: "df-lab__dots", role: "img" });
  const mcCaption = h("figcaption", {
    text: "MC dropout: the dropout net with dropout left on, passed over the plane many times; darker = the passes disagree more (their standard deviation of P(class 1)).",
  });
  const mcFigure = h("figure", { class: "df-panel df-lab__panel", hidden: true }, h("div", { class: "df-lab__plane" }, mcCanvas, mcDots), mcCaption);
  const command = new CommandBox("The same run on the command line (NumPy: the same data, initial weights, batches and masks):");

  const form = h(
    "form",
    { class: "df-controls", "aria-label": "Training lab settings" },
    preset.el,
    dataset.el,
    ...numbers.map((f) => f.el),
  );
  form.addEventListener("submit", (e) => e.preventDefault());
  root.append(
    form,
    description,
    player.el,
    h("div", { class: "df-lab__panels" }, panels[0].fig, panels[1].fig, mcFigure),
    h("figure", { class: "df-panel" }, curves, h("figcaption", { text: "Loss per epoch in evaluation mode: solid = training points, dashed = validation points." })),
    h("div", { class: "df-player" }, mcButton),
    command.el,
  );

  // ----------------------------------------------------------------- state
  let data: Dataset;
  let pair: LabPair;

  function config() {
    return {
      hiddenLayers: layers.value,
      width: width.value,
      keepProb: +(1 - drop.value).toFixed(12),
      lr: lr.value,
      batchSize: 32,
      optimizer: "adam" as const,
      seed: seed.value,
      spawnKey: [1], // the training stream of `dropout-figs train --seed S`: default_rng(S).spawn(2)[1]
    };
  }

  function rebuild(): void {
    player.pause();
    const name = dataset.value as DatasetName;
    data = makeDataset(name, { nSamples: points.value * 2, noise: noise.value, valFraction: 0.5, seed: new Generator(seed.value, [0]) });
    pair = new LabPair(data, config());
    mcFigure.hidden = true;
    describe();
    drawAll();
  }

  /** The URL, the preset's words and the equivalent commands, for the current settings. */
  function describe(): void {
    const name = dataset.value as DatasetName;
    const p = byName.get(preset.value);
    description.textContent = p ? `${p.title}: ${p.description}` : "Your own settings.";
    writeState(prefix, {
      preset: preset.value,
      data: name,
      ...Object.fromEntries(numbers.map((f) => [f.spec.key, String(f.value)])),
    });
    const keepProb = config().keepProb;
    const args = [
      "dropout-figs train",
      `--dataset ${name}`,
      `--n-samples ${points.value * 2}`,
      `--noise ${noise.value}`,
      `--layers ${layers.value}`,
      `--width ${width.value}`,
      `--drop-rate ${drop.value}`,
      `--lr ${lr.value}`,
      `--epochs ${epochs.value}`,
      "--batch-size 32",
      `--seed ${seed.value}`,
      "--compare",
    ].join(" ");
    const lines = [args];
    if (p) {
      lines.push(
        `dropout-figs render decision-boundaries -o boundaries.png --preset ${shellWord(p.name)} ` +
          `--keep-prob ${keepProb} --n-epochs ${epochs.value} --width ${width.value} --size slide`,
        `dropout-figs render loss-curves -o loss-curves.png --preset ${shellWord(p.name)} ` +
          `--keep-prob ${keepProb} --n-epochs ${epochs.value} --width ${width.value} --size slide`,
      );
    }
    command.set(lines);
  }

  // One epoch per frame; the boundaries (two 100 x 100 grids of forward passes) are
  // redrawn as often as keeps them to about a quarter of the time, so a big network still
  // trains at frame rate and its boundaries follow a few times a second.
  let boundaryMs = 0;
  let lastBoundary = -Infinity;

  function tick(): void {
    if (pair.epoch >= epochs.value) {
      player.pause();
      return;
    }
    pair.step();
    const done = pair.epoch >= epochs.value;
    if (done || performance.now() - lastBoundary >= 3 * boundaryMs) drawAll();
    else drawNumbers();
    if (done) player.pause();
  }

  function drawAll(): void {
    const start = performance.now();
    drawBoundaries();
    boundaryMs = performance.now() - start;
    lastBoundary = performance.now();
    drawNumbers();
  }

  function drawNumbers(): void {
    status.textContent = `Epoch ${pair.epoch} of ${epochs.value}`;
    for (const panel of panels) {
      const c = pair.curves[panel.which];
      const last = c.valLoss.length - 1;
      panel.stats.textContent =
        last >= 0
          ? `training loss ${c.trainLoss[last].toFixed(3)} · validation loss ${c.valLoss[last].toFixed(3)} · validation accuracy ${(100 * c.valAcc[last]).toFixed(1)} %`
          : "not trained yet";
    }
    drawCurves();
  }

  function drawBoundaries(): void {
    const e = pair.epoch;
    for (const panel of panels) {
      pair.boundary(panel.which, panel.buffer, GRID);
      paintField(panel.field, panel.buffer, GRID, "proba");
      paintDots(panel.dots);
      panel.title.textContent =
        panel.which === "plain" ? "Without dropout" : `With dropout (drop rate ${drop.value}, keep probability ${config().keepProb})`;
      panel.dots.setAttribute(
        "aria-label",
        `Decision boundary ${panel.which === "plain" ? "without" : "with"} dropout after ${e} epochs on the ${data.name} data set`,
      );
    }
  }

  let colours = { a: rgb(palette.classA), b: rgb(palette.classB), bg: rgb(palette.bg), fg: rgb(palette.fg) };
  palette.onChange(() => {
    colours = { a: rgb(palette.classA), b: rgb(palette.classB), bg: rgb(palette.bg), fg: rgb(palette.fg) };
    if (pair) drawAll();
  });

  /** P(class 1) as a blend of the class colours; or a spread as a shade of the ink. */
  function paintField(canvas: HTMLCanvasElement, values: Float64Array, size: number, kind: "proba" | "spread"): void {
    const ctx = canvas.getContext("2d")!;
    const img = ctx.createImageData(size, size);
    const { a, b, bg, fg } = colours;
    for (let i = 0; i < size * size; i++) {
      const v = values[i];
      let r: number, g: number, bl: number;
      if (kind === "proba") {
        // Pale near 0.5, saturated where the net is sure.
        const t = Math.min(1, Math.abs(v - 0.5) * 2) * 0.6;
        const c = v >= 0.5 ? b : a;
        r = bg[0] + (c[0] - bg[0]) * t;
        g = bg[1] + (c[1] - bg[1]) * t;
        bl = bg[2] + (c[2] - bg[2]) * t;
      } else {
        const t = Math.min(1, v / 0.25);
        r = bg[0] + (fg[0] - bg[0]) * t;
        g = bg[1] + (fg[1] - bg[1]) * t;
        bl = bg[2] + (fg[2] - bg[2]) * t;
      }
      img.data[4 * i] = r;
      img.data[4 * i + 1] = g;
      img.data[4 * i + 2] = bl;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  function paintDots(canvas: HTMLCanvasElement): void {
    const size = canvas.clientWidth || 240;
    const ctx = fitCanvas(canvas, size);
    ctx.clearRect(0, 0, size, size);
    const [x0, x1, y0, y1] = pair.extent();
    const draw = (x: Float64Array, y: Int32Array, n: number, filled: boolean) => {
      for (let i = 0; i < n; i++) {
        const px = ((x[2 * i] - x0) / (x1 - x0)) * size;
        const py = (1 - (x[2 * i + 1] - y0) / (y1 - y0)) * size;
        ctx.beginPath();
        ctx.arc(px, py, filled ? 3.2 : 2.6, 0, 2 * Math.PI);
        const c = y[i] === 1 ? palette.classB : palette.classA;
        if (filled) {
          ctx.fillStyle = c;
          ctx.fill();
          ctx.strokeStyle = palette.bg;
          ctx.lineWidth = 1;
          ctx.stroke();
        } else {
          ctx.strokeStyle = c;
          ctx.lineWidth = 1.2;
          ctx.stroke();
        }
      }
    };
    draw(data.xVal, data.yVal, data.nVal, false);
    draw(data.xTrain, data.yTrain, data.nTrain, true);
  }

  function drawCurves(): void {
    const H = 220;
    const ctx = fitCanvas(curves, H);
    const W = curves.clientWidth;
    ctx.clearRect(0, 0, W, H);
    const left = 40;
    const right = W - 10;
    const top = 26;
    const base = H - 22;
    const c = pair.curves;
    let peak = 0;
    for (const s of [c.plain.trainLoss, c.plain.valLoss, c.dropout.trainLoss, c.dropout.valLoss]) {
      for (const v of s) if (Number.isFinite(v)) peak = Math.max(peak, v);
    }
    peak = Math.max(peak, 0.1);
    const n = Math.max(epochs.value, 2);
    const x = (i: number) => left + ((right - left) * (i + 1)) / n;
    const y = (v: number) => base - ((base - top) * Math.min(v, peak)) / peak;
    ctx.strokeStyle = palette.muted;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(left, top);
    ctx.lineTo(left, base);
    ctx.lineTo(right, base);
    ctx.stroke();
    const line = (s: number[], colour: string, dashed: boolean) => {
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2;
      ctx.setLineDash(dashed ? [6, 4] : []);
      ctx.beginPath();
      s.forEach((v, i) => ctx.lineTo(x(i), y(v)));
      ctx.stroke();
    };
    line(c.plain.trainLoss, palette.muted, false);
    line(c.plain.valLoss, palette.muted, true);
    line(c.dropout.trainLoss, palette.kept, false);
    line(c.dropout.valLoss, palette.kept, true);
    ctx.setLineDash([]);
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = palette.muted;
    ctx.fillText("without dropout", left + 4, 14);
    ctx.fillStyle = palette.kept;
    ctx.fillText(`with dropout (drop rate ${drop.value})`, left + 120, 14);
    ctx.fillStyle = palette.muted;
    ctx.textAlign = "right";
    ctx.fillText(fmt(peak, 2), left - 4, top + 8);
    ctx.fillText("0", left - 4, base);
    ctx.fillText(`epoch ${fmt(epochs.value)}`, right, H - 4);
    ctx.textAlign = "left";
    const lv = (s: number[]) => (s.length ? s[s.length - 1].toFixed(3) : "–");
    curves.setAttribute(
      "aria-label",
      `Loss curves after ${pair.epoch} epochs: without dropout training ${lv(c.plain.trainLoss)}, validation ${lv(c.plain.valLoss)}; with dropout training ${lv(c.dropout.trainLoss)}, validation ${lv(c.dropout.valLoss)}`,
    );
  }

  mcButton.addEventListener("click", () => {
    const { std } = pair.mcSpread(MC_PASSES, undefined, MC_GRID);
    paintField(mcCanvas, std, MC_GRID, "spread");
    mcFigure.hidden = false;
    paintDots(mcDots);
    let most = 0;
    for (const v of std) most = Math.max(most, v);
    mcDots.setAttribute("aria-label", `MC-dropout spread after ${pair.epoch} epochs: the largest standard deviation of P(class 1) is ${most.toFixed(3)}`);
  });

  preset.onChange = (name) => {
    const p = byName.get(name);
    if (p) applyPreset(p);
    rebuild();
  };
  const custom = () => {
    preset.set("custom");
    rebuild();
  };
  dataset.onChange = () => {
    noise.set(DEFAULT_NOISE[dataset.value as DatasetName]);
    custom();
  };
  for (const f of numbers) f.onChange = custom;
  // Epochs only moves the finish line: no need to start again.
  epochs.onChange = () => {
    preset.set("custom");
    describe();
    drawAll();
  };
  reset.addEventListener("click", () => rebuild());
  window.addEventListener("resize", () => drawAll());
  rebuild();

  // Start training when the lab first scrolls into view, unless motion is unwelcome.
  if (!prefersReducedMotion() && typeof IntersectionObserver === "function") {
    const seen = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        seen.disconnect();
        if (pair.epoch === 0) player.play();
      }
    });
    seen.observe(root);
  }
}
