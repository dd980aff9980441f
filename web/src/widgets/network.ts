/* The network playground: a 4-w-w-2 ReLU network whose hidden units flicker under
 * dropout, a train/eval switch, live counts per layer, and the "forgot eval mode"
 * demonstration: with dropout left on, the same input gets a different prediction at
 * every call.
 *
 * The weights and the input come from the seed's generator (uniform draws with the mean
 * and spread of the network-flicker figure's), then every mask from the same stream:
 * a mask is `random() < q` per hidden unit, as in sample_keep_mask.
 */

import { Generator } from "../engine";
import { CommandBox, NumberField, Palette, Player, SelectField, Toggle, fmt, h, prefersReducedMotion } from "./ui";
import { readState, writeState } from "./url";

const N_INPUTS = 4;
const N_OUTPUTS = 2;
const FRAME_MS = 900;
const HISTORY = 40;
const SVG = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

interface Net {
  x: Float64Array;
  weights: Float64Array[]; // (fan_in, fan_out) row-major, one per layer
  sizes: number[];
}

function makeNet(width: number, rng: Generator): Net {
  const sizes = [N_INPUTS, width, width, N_OUTPUTS];
  const x = new Float64Array(N_INPUTS);
  for (let i = 0; i < N_INPUTS; i++) x[i] = 0.2 + 0.8 * rng.random();
  const weights: Float64Array[] = [];
  for (let j = 0; j < 3; j++) {
    const w = new Float64Array(sizes[j] * sizes[j + 1]);
    // Mean 0.35, sd 0.5 (a uniform of that spread), over sqrt(fan-in): mostly positive
    // weights keep the ReLUs on, so the values show.
    for (let i = 0; i < w.length; i++) {
      w[i] = (0.35 + 0.5 * Math.sqrt(3) * (2 * rng.random() - 1)) / Math.sqrt(sizes[j]);
    }
    weights.push(w);
  }
  return { x, weights, sizes };
}

/** Activations of every layer; `masks` null = evaluation (all on, nothing rescaled). */
function forward(net: Net, masks: Uint8Array[] | null, q: number): Float64Array[] {
  const acts = [net.x];
  let a = net.x;
  for (let j = 0; j < 3; j++) {
    const fanIn = net.sizes[j];
    const fanOut = net.sizes[j + 1];
    const out = new Float64Array(fanOut);
    const w = net.weights[j];
    for (let o = 0; o < fanOut; o++) {
      let s = 0;
      for (let i = 0; i < fanIn; i++) s += a[i] * w[i * fanOut + o];
      if (j < 2) {
        s = Math.max(0, s);
        if (masks) s = masks[j][o] ? s / q : 0;
      }
      out[o] = s;
    }
    acts.push(out);
    a = out;
  }
  return acts;
}

/** P(class 1) = softmax of the two outputs. */
function prob1(out: Float64Array): number {
  return 1 / (1 + Math.exp(out[0] - out[1]));
}

export function mountNetwork(root: HTMLElement): void {
  const prefix = "net";
  const state = readState(prefix);
  const palette = new Palette(root);

  const keep = new NumberField({
    key: "q",
    label: "Keep probability q of the hidden units",
    min: 0,
    minOpen: true,
    max: 1,
    value: 0.5,
    slider: { min: 0.05, max: 1, step: 0.05 },
    aside: (q) => `drop rate ${+(1 - q).toFixed(12)}`,
    rule: "a number above 0 and at most 1",
  });
  const width = new NumberField({
    key: "w",
    label: "Width of each hidden layer",
    min: 2,
    max: 12,
    integer: true,
    value: 6,
    slider: { min: 2, max: 12, step: 1 },
    rule: "a whole number from 2 to 12",
  });
  const seed = new NumberField({
    key: "seed",
    label: "Seed",
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    integer: true,
    value: 1,
    rule: "a whole number from 0 to 2⁵³ − 1",
  });
  const mode = new SelectField(
    "mode",
    "Mode",
    [
      ["train", "Training: dropout on, kept units × 1/q"],
      ["eval", "Evaluation: all units on, nothing rescaled"],
    ],
    "train",
  );
  const auto = new Toggle("auto", "Auto-resample a new mask", true);
  keep.fromState(state.q);
  width.fromState(state.w);
  seed.fromState(state.seed);
  mode.set(state.mode);
  if (state.auto === "0") auto.set(false);

  const player = new Player(() => resample(), FRAME_MS);
  const drawing = svg("svg", { class: "df-net__svg", role: "img", viewBox: "0 0 600 340" });
  const counts = h("table", { class: "df-net__counts" });
  const prediction = h("p", { class: "df-net__prediction", "aria-live": "polite" });
  const spark = h("canvas", { class: "df-canvas df-net__spark", role: "img" });
  const command = new CommandBox(
    "The same width, keep probability and seed as slide-ready animations (the figures draw their own weights and masks):",
  );
  const form = h(
    "form",
    { class: "df-controls", "aria-label": "Network settings" },
    keep.el,
    width.el,
    seed.el,
    mode.el,
    auto.el,
  );
  form.addEventListener("submit", (e) => e.preventDefault());
  root.append(
    form,
    h("div", { class: "df-net__body" }, h("figure", { class: "df-panel" }, drawing, player.el), h("div", { class: "df-net__side" }, counts, h("div", {}, prediction, spark))),
    command.el,
  );

  let net: Net = makeNet(6, new Generator(1));
  let rng = new Generator(1);
  let masks: Uint8Array[] = [];
  let history: number[] = [];
  let evalProb = 0.5;

  function rebuild(): void {
    rng = new Generator(seed.value);
    net = makeNet(width.value, rng);
    evalProb = prob1(forward(net, null, 1)[3]);
    history = [];
    masks = [new Uint8Array(width.value), new Uint8Array(width.value)];
    drawSkeleton();
    resample();
    writeState(prefix, {
      q: String(keep.value),
      w: String(width.value),
      seed: String(seed.value),
      mode: mode.value,
      auto: auto.on ? "1" : "0",
    });
    command.set([
      `dropout-figs render network-flicker -o network-flicker.gif --width ${width.value} ` +
        `--keep-prob ${keep.value} --seed ${seed.value} --size slide`,
      `dropout-figs render forgot-eval-mode -o forgot-eval-mode.gif --keep-prob ${keep.value} --size slide`,
    ]);
  }

  function resample(): void {
    for (const m of masks) for (let i = 0; i < m.length; i++) m[i] = rng.random() < keep.value ? 1 : 0;
    const acts = forward(net, mode.value === "train" ? masks : null, keep.value);
    const p = prob1(acts[3]);
    if (mode.value === "train") {
      history.push(p);
      if (history.length > HISTORY) history.shift();
    }
    update(acts, p);
  }

  // The skeleton (circles, edges, labels) is built once per network; frames only
  // change classes and texts.
  let circles: SVGCircleElement[][] = [];
  let values: SVGTextElement[][] = [];
  let edges: { el: SVGLineElement; a: [number, number]; b: [number, number] }[] = [];

  function drawSkeleton(): void {
    drawing.replaceChildren();
    const sizes = net.sizes;
    const xs = sizes.map((_, j) => 60 + (480 * j) / (sizes.length - 1));
    const most = Math.max(...sizes);
    const spacing = 300 / most;
    const radius = Math.min(18, spacing * 0.42);
    const ys = sizes.map((n) => Array.from({ length: n }, (_, i) => 160 + (i - (n - 1) / 2) * spacing));
    const edgeGroup = svg("g", { class: "df-net__edges" });
    edges = [];
    for (let j = 0; j < sizes.length - 1; j++) {
      for (let a = 0; a < sizes[j]; a++) {
        for (let b = 0; b < sizes[j + 1]; b++) {
          const el = svg("line", { x1: xs[j], y1: ys[j][a], x2: xs[j + 1], y2: ys[j + 1][b] });
          edgeGroup.append(el);
          edges.push({ el, a: [j, a], b: [j + 1, b] });
        }
      }
    }
    drawing.append(edgeGroup);
    circles = [];
    values = [];
    const names = ["input", "hidden 1", "hidden 2", "output"];
    sizes.forEach((n, j) => {
      circles.push([]);
      values.push([]);
      for (let i = 0; i < n; i++) {
        const c = svg("circle", { cx: xs[j], cy: ys[j][i], r: radius, class: `df-net__unit df-net__unit--${j === 0 ? "in" : j === 3 ? "out" : "hidden"}` });
        const t = svg("text", { x: xs[j], y: ys[j][i] + 4, class: "df-net__value", "text-anchor": "middle", "font-size": Math.max(8, radius * 0.6) });
        drawing.append(c, t);
        circles[j].push(c);
        values[j].push(t);
      }
      const label = svg("text", { x: xs[j], y: 332, class: "df-net__label", "text-anchor": "middle" });
      label.textContent = names[j];
      drawing.append(label);
    });
  }

  function update(acts: Float64Array[], p: number): void {
    const training = mode.value === "train";
    const on = (j: number, i: number) => !training || j === 0 || j === 3 || masks[j - 1][i] === 1;
    for (let j = 0; j < acts.length; j++) {
      for (let i = 0; i < acts[j].length; i++) {
        const kept = on(j, i);
        circles[j][i].classList.toggle("is-dropped", !kept);
        values[j][i].textContent = kept ? acts[j][i].toFixed(2) : "×";
      }
    }
    const activeEdges = [0, 0, 0];
    for (const e of edges) {
      const live = on(e.a[0], e.a[1]) && on(e.b[0], e.b[1]);
      e.el.classList.toggle("is-off", !live);
      if (live) activeEdges[e.a[0]] += 1;
    }
    const w = width.value;
    const k1 = training ? masks[0].reduce((s, v) => s + v, 0) : w;
    const k2 = training ? masks[1].reduce((s, v) => s + v, 0) : w;
    counts.replaceChildren(
      h("caption", { text: training ? "Active now (this mask)" : "Active now (evaluation: everything)" }),
      h("tr", {}, h("th", { scope: "col", text: "layer" }), h("th", { scope: "col", text: "neurons on" }), h("th", { scope: "col", text: "edges into it on" })),
      row("hidden 1", k1, w, "h1", activeEdges[0], N_INPUTS * w),
      row("hidden 2", k2, w, "h2", activeEdges[1], w * w),
      row("output", N_OUTPUTS, N_OUTPUTS, "out", activeEdges[2], w * N_OUTPUTS),
    );
    const scale = training ? ` · kept activations × 1/q = ${fmt(1 / keep.value)}` : " · nothing rescaled";
    drawing.setAttribute(
      "aria-label",
      `A 4-${w}-${w}-2 network in ${training ? "training" : "evaluation"} mode: ${k1} and ${k2} of ${w} hidden units on${scale}`,
    );
    prediction.replaceChildren(
      "Prediction for the same input, P(class 1): ",
      h("strong", { "data-field": "prediction", text: p.toFixed(3) }),
      training
        ? ` (evaluation mode gives ${evalProb.toFixed(3)} every time). Dropout left on at inference is the “forgot model.eval()” bug: the answer changes from call to call.`
        : " — the same at every call: dropout is off.",
    );
    drawSpark();
  }

  function row(name: string, on: number, of: number, key: string, edgesOn: number, edgesOf: number): HTMLTableRowElement {
    return h(
      "tr",
      {},
      h("th", { scope: "row", text: name }),
      h("td", { "data-field": `units-${key}`, text: `${on} of ${of}` }),
      h("td", { "data-field": `edges-${key}`, text: `${edgesOn} of ${edgesOf}` }),
    );
  }

  function drawSpark(): void {
    const H = 90;
    const ratio = Math.min(2, window.devicePixelRatio || 1);
    const W = Math.max(160, spark.clientWidth || 280);
    spark.width = W * ratio;
    spark.height = H * ratio;
    spark.style.height = `${H}px`;
    const ctx = spark.getContext("2d")!;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const y = (p: number) => 8 + (H - 24) * (1 - p);
    ctx.strokeStyle = palette.muted;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(0, y(evalProb));
    ctx.lineTo(W, y(evalProb));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.strokeStyle = palette.accent;
    ctx.lineWidth = 2;
    ctx.beginPath();
    history.forEach((p, i) => ctx.lineTo((W * (i + 0.5)) / HISTORY, y(p)));
    ctx.stroke();
    ctx.fillStyle = palette.muted;
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText(`last ${history.length} calls in training mode; dashed: evaluation`, 4, H - 3);
    spark.setAttribute(
      "aria-label",
      history.length
        ? `Predictions of the last ${history.length} calls with dropout on, from ${Math.min(...history).toFixed(3)} to ${Math.max(...history).toFixed(3)}; evaluation gives ${evalProb.toFixed(3)}`
        : `No training-mode calls yet; evaluation gives ${evalProb.toFixed(3)}`,
    );
  }

  keep.onChange = rebuild;
  width.onChange = rebuild;
  seed.onChange = rebuild;
  mode.onChange = () => {
    rebuild();
  };
  auto.onChange = (on) => {
    writeState(prefix, { ...readState(prefix), auto: on ? "1" : "0" });
    if (on) player.play();
    else player.pause();
  };
  player.onToggle = (playing) => auto.set(playing);
  palette.onChange(drawSpark);
  rebuild();
  if (auto.on && !prefersReducedMotion()) player.play();
  else auto.set(false);
}
