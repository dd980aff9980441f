/* The layer simulator: a layer of n units, a new dropout mask every 1.5 s, the kept
 * counts of the masks so far against Binomial(n, q), the expected-active sweep, and the
 * numbers of `dropout-figs numbers` for the same inputs.
 *
 * Frame k is the k-th mask drawn from ONE default_rng(seed), exactly as the package's
 * mask-grid figure draws its frames; frame 0 is the mask the results panel counts.
 */

import { type LayerSummary, MaskStream, dropRateOf, keptCountWindow, layerSummary } from "../engine";
import {
  CommandBox,
  NumberField,
  Palette,
  Player,
  fitCanvas,
  fmt,
  h,
  prefersReducedMotion,
} from "./ui";
import { readState, writeState } from "./url";

/** The largest layer drawn cell by cell (the package's mask-grid draws at most 4096). */
export const MAX_GRID_UNITS = 4096;
/** The largest layer the browser summarises (the command line takes any size). */
export const MAX_UNITS = 1_000_000;
const FRAME_MS = 1500;

interface Field {
  key: keyof LayerSummary;
  label: string;
  show: (s: LayerSummary) => string;
  compact?: boolean;
}

const FIELDS: Field[] = [
  { key: "kept", label: "Kept units (mask 1)", show: (s) => fmt(s.kept), compact: true },
  { key: "dropped", label: "Dropped units", show: (s) => fmt(s.dropped), compact: true },
  { key: "keep_prob", label: "Keep probability q", show: (s) => String(s.keep_prob) },
  { key: "drop_rate", label: "Drop rate 1 − q", show: (s) => String(s.drop_rate) },
  { key: "scale_factor", label: "Scale while training, 1/q", show: (s) => fmt(s.scale_factor), compact: true },
  { key: "expected_active", label: "Expected active, n·q", show: (s) => fmt(s.expected_active), compact: true },
  { key: "log10_subnetworks", label: "Sub-networks, 2ⁿ", show: (s) => superscript(s.subnetworks) },
  {
    key: "output_scale_ratio",
    label: "Output sum ÷ sum without dropout",
    show: (s) => s.output_scale_ratio.toFixed(4),
  },
];

/** "1.74 × 10^41" -> "1.74 × 10⁴¹", as the old page showed it. */
function superscript(text: string): string {
  const digits = "⁰¹²³⁴⁵⁶⁷⁸⁹";
  return text.replace(/\^(-?\d+)/, (_, e: string) =>
    Array.from(e, (c) => (c === "-" ? "⁻" : digits[Number(c)])).join(""),
  );
}

export function mountSimulator(root: HTMLElement): void {
  const compact = root.hasAttribute("data-df-compact");
  const fallbackLink = root.querySelector("a")?.getAttribute("href") ?? null;
  const prefix = "sim";
  const state = readState(prefix);
  const palette = new Palette(root);

  // ----------------------------------------------------------------- controls
  const units = new NumberField({
    key: "n",
    label: "Units in the layer",
    min: 1,
    max: MAX_UNITS,
    integer: true,
    value: 64,
    slider: { min: 1, max: MAX_GRID_UNITS, step: 1 },
    rule: `a whole number from 1 to ${fmt(MAX_UNITS)} (the command line takes any size)`,
  });
  const keep = new NumberField({
    key: "q",
    label: "Keep probability q",
    min: 0,
    minOpen: true,
    max: 1,
    value: 0.7,
    slider: { min: 0.01, max: 1, step: 0.01 },
    aside: (q) => `drop rate ${dropRateOf(q)}`,
    rule: "a number above 0 and at most 1",
  });
  const seed = new NumberField({
    key: "seed",
    label: "Seed",
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    integer: true,
    value: 0,
    rule: "a whole number from 0 to 2⁵³ − 1",
  });
  const mean = new NumberField({
    key: "a",
    label: "Mean activation",
    min: 0,
    minOpen: true,
    max: 1e6,
    value: 1,
    rule: "a number above 0 and at most 1,000,000",
  });
  units.fromState(state.n);
  keep.fromState(state.q);
  seed.fromState(state.seed);
  mean.fromState(state.a);
  const fields = compact ? [units, keep, seed] : [units, keep, seed, mean];

  // ----------------------------------------------------------------- outputs
  const gridCanvas = h("canvas", { class: "df-canvas", role: "img" });
  const gridNote = h("p", { class: "df-note", hidden: true });
  const frameCaption = h("figcaption", { "aria-live": "off" });
  const player = new Player(() => advance(), FRAME_MS);
  const gridFigure = h("figure", { class: "df-panel df-sim__grid" }, gridCanvas, gridNote, frameCaption, player.el);

  const results = h("dl", { class: "df-results", "aria-live": "polite", "aria-label": "Numbers of this layer" });
  const valueEls = new Map<string, HTMLElement>();
  for (const f of FIELDS) {
    if (compact && !f.compact) continue;
    const dd = h("dd", { "data-field": f.key });
    valueEls.set(f.key, dd);
    results.append(h("div", {}, h("dt", { text: f.label }), dd));
  }

  const histCanvas = h("canvas", { class: "df-canvas", role: "img" });
  const sweepCanvas = h("canvas", { class: "df-canvas", role: "img" });
  const command = new CommandBox("The same layer for your slides (frame 1 is the mask counted above):");

  const form = h("form", { class: "df-controls", "aria-label": "Layer settings" }, ...fields.map((f) => f.el));
  form.addEventListener("submit", (e) => e.preventDefault());
  const body = h("div", { class: "df-sim__body" }, gridFigure, results);
  root.append(form, body);
  if (!compact) {
    root.append(
      h(
        "div",
        { class: "df-sim__plots" },
        h(
          "figure",
          { class: "df-panel" },
          histCanvas,
          h("figcaption", { text: "Kept count of each mask so far (bars) against Binomial(n, q) (outline); the latest mask is marked." }),
        ),
        h(
          "figure",
          { class: "df-panel" },
          sweepCanvas,
          h("figcaption", { text: "Expected active units n·q for every keep probability, with the 5–95 % band of the kept count; this q is marked." }),
        ),
      ),
    );
  }
  root.append(command.el);
  if (compact) {
    // The fallback's link to the simulator page, as MkDocs wrote it for this site.
    const page = (fallbackLink ?? "simulator.html").replace(/[?#].*$/, "");
    const link = h("a", { class: "df-link", href: page, text: "Open the full simulator →" });
    // Carry this layer over: the full page reads the same "sim." keys.
    link.addEventListener("click", () => link.setAttribute("href", page + location.search));
    root.append(link);
  }

  // ----------------------------------------------------------------- state
  let summary: LayerSummary = layerSummary(64, 0.7, 0, 1);
  let stream: MaskStream | null = null;
  let mask = new Uint8Array(0);
  let counts: number[] = [];
  let band: { lo: Float64Array; hi: Float64Array } | null = null;
  let bandFor = -1;

  function recompute(): void {
    let next: LayerSummary;
    try {
      next = layerSummary(units.value, keep.value, seed.value, mean.value);
    } catch (err) {
      // The fields already refuse what the engine refuses; this is a last guard.
      root.dataset.error = String(err);
      return;
    }
    summary = next;
    stream = new MaskStream(units.value, keep.value, seed.value);
    mask = new Uint8Array(units.value);
    counts = [];
    advance();
    showNumbers();
    writeState(prefix, {
      n: String(units.value),
      q: String(keep.value),
      seed: String(seed.value),
      ...(compact ? {} : { a: String(mean.value) }),
    });
  }

  function advance(): void {
    if (!stream) return;
    stream.next(mask);
    let kept = 0;
    for (let i = 0; i < mask.length; i++) kept += mask[i];
    counts.push(kept);
    draw();
  }

  function showNumbers(): void {
    for (const f of FIELDS) {
      const el = valueEls.get(f.key);
      if (!el) continue;
      el.textContent = f.show(summary);
      el.dataset.value = String(summary[f.key]);
    }
    root.dataset.state = `${summary.n_units}|${summary.keep_prob}|${summary.seed}`;
    const n = summary.n_units;
    const args = `--n ${n} --keep-prob ${summary.keep_prob} --seed ${summary.seed}`;
    const frames = Math.min(60, Math.max(1, counts.length));
    command.set([
      `dropout-figs numbers ${args} --mean-activation ${summary.mean_activation}`,
      n <= MAX_GRID_UNITS
        ? `dropout-figs render mask-grid -o mask-grid.gif ${args} --n-frames ${Math.max(frames, 8)} --size slide`
        : `# mask-grid draws at most ${fmt(MAX_GRID_UNITS)} units; the numbers work for any n`,
      `dropout-figs render kept-count-pmf -o kept-count.png ${args} --size slide`,
      `dropout-figs render expected-active-sweep -o sweep.png ${args} --size slide`,
    ]);
  }

  function draw(): void {
    drawGrid();
    if (!compact) {
      drawHistogram();
      drawSweep();
    }
  }

  function drawGrid(): void {
    const n = mask.length;
    const k = counts.length;
    const kept = counts[k - 1] ?? 0;
    frameCaption.textContent =
      `Mask ${k}: ${fmt(kept)} of ${fmt(n)} units kept, ${fmt(n - kept)} dropped` +
      (k === 1 ? " (the mask counted in the numbers)." : ".");
    if (n > MAX_GRID_UNITS) {
      gridCanvas.hidden = true;
      gridNote.hidden = false;
      gridNote.textContent =
        `A layer of ${fmt(n)} units is not drawn: at most ${fmt(MAX_GRID_UNITS)} cells fit on the ` +
        "grid legibly. The masks are still drawn, counted and summarised.";
      return;
    }
    gridCanvas.hidden = false;
    gridNote.hidden = true;
    const ctx = fitCanvas(gridCanvas, compact ? 220 : 300);
    const W = gridCanvas.clientWidth;
    const H = compact ? 220 : 300;
    ctx.clearRect(0, 0, W, H);
    const cols = Math.ceil(Math.sqrt(n));
    const rows = Math.ceil(n / cols);
    const cell = Math.min(W / cols, H / rows, 48);
    const gap = cell >= 4 ? Math.max(1, cell * 0.12) : 0;
    const ox = (W - cell * cols) / 2;
    const oy = (H - cell * rows) / 2;
    for (let i = 0; i < n; i++) {
      const r = Math.floor(i / cols);
      const c = i - r * cols;
      const x = ox + c * cell + gap / 2;
      const y = oy + r * cell + gap / 2;
      const s = cell - gap;
      ctx.fillStyle = mask[i] ? palette.kept : palette.dropped;
      ctx.fillRect(x, y, s, s);
      if (!mask[i] && cell >= 9) {
        ctx.strokeStyle = palette.muted;
        ctx.lineWidth = Math.max(1, cell / 14);
        const d = s * 0.25;
        ctx.beginPath();
        ctx.moveTo(x + d, y + d);
        ctx.lineTo(x + s - d, y + s - d);
        ctx.moveTo(x + s - d, y + d);
        ctx.lineTo(x + d, y + s - d);
        ctx.stroke();
      }
    }
    // The drawn mask as text ("1" kept, "0" dropped), for tests and the curious.
    let bits = "";
    for (let i = 0; i < n; i++) bits += mask[i] ? "1" : "0";
    gridCanvas.dataset.mask = bits;
    gridCanvas.dataset.frame = String(k - 1);
    gridCanvas.setAttribute(
      "aria-label",
      `Mask ${k} of a layer of ${n} units on a ${rows} by ${cols} grid: ${kept} kept, ${n - kept} dropped`,
    );
  }

  function drawHistogram(): void {
    const H = 220;
    const ctx = fitCanvas(histCanvas, H);
    const W = histCanvas.clientWidth;
    ctx.clearRect(0, 0, W, H);
    const n = summary.n_units;
    const q = summary.keep_prob;
    const { k0, pmf } = keptCountWindow(n, q, 4);
    let lo = k0;
    let hi = k0 + pmf.length - 1;
    for (const c of counts) {
      lo = Math.min(lo, c);
      hi = Math.max(hi, c);
    }
    const freq = new Map<number, number>();
    for (const c of counts) freq.set(c, (freq.get(c) ?? 0) + 1);
    let peak = 0;
    for (const v of pmf) peak = Math.max(peak, v);
    for (const v of freq.values()) peak = Math.max(peak, v / counts.length);
    const left = 8;
    const right = W - 8;
    const base = H - 28;
    const top = 28;
    const span = hi - lo + 1;
    const bw = (right - left) / span;
    const y = (p: number) => base - ((base - top) * p) / (peak || 1);
    ctx.fillStyle = palette.kept;
    ctx.globalAlpha = 0.55;
    for (const [c, f] of freq) {
      const x = left + (c - lo) * bw;
      ctx.fillRect(x, y(f / counts.length), Math.max(bw, 1), base - y(f / counts.length));
    }
    ctx.globalAlpha = 1;
    ctx.strokeStyle = palette.fg;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (let i = 0; i < pmf.length; i++) {
      const x = left + (k0 + i - lo) * bw;
      const yy = y(pmf[i]);
      if (i === 0) ctx.moveTo(x, base);
      ctx.lineTo(x, yy);
      ctx.lineTo(x + bw, yy);
    }
    ctx.lineTo(left + (k0 + pmf.length - lo) * bw, base);
    ctx.stroke();
    const last = counts[counts.length - 1];
    if (last !== undefined) {
      const cx = left + (last - lo + 0.5) * bw;
      ctx.fillStyle = palette.accent;
      ctx.beginPath();
      ctx.moveTo(cx, base + 2);
      ctx.lineTo(cx - 6, base + 12);
      ctx.lineTo(cx + 6, base + 12);
      ctx.fill();
    }
    ctx.fillStyle = palette.muted;
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "left";
    ctx.fillText(fmt(lo), left, H - 4);
    ctx.textAlign = "right";
    ctx.fillText(fmt(hi), right, H - 4);
    ctx.textAlign = "left";
    ctx.fillStyle = palette.fg;
    ctx.fillText(`${counts.length} mask${counts.length === 1 ? "" : "s"}, mean n·q = ${fmt(n * q)}`, left, 16);
    histCanvas.setAttribute(
      "aria-label",
      `Kept counts of ${counts.length} masks against Binomial(${n}, ${q}); latest ${last}`,
    );
  }

  /** 5 % and 95 % quantiles of the kept count for 101 keep probabilities (per n). */
  function quantileBand(n: number): { lo: Float64Array; hi: Float64Array } {
    const lo = new Float64Array(101);
    const hi = new Float64Array(101);
    for (let i = 0; i <= 100; i++) {
      const q = i / 100;
      if (q === 0 || q === 1) {
        lo[i] = hi[i] = n * q;
        continue;
      }
      const { k0, pmf } = keptCountWindow(n, q, 6);
      let cum = 0;
      let a = -1;
      let b = k0 + pmf.length - 1;
      for (let j = 0; j < pmf.length; j++) {
        cum += pmf[j];
        if (a < 0 && cum >= 0.05) a = k0 + j;
        if (cum >= 0.95) {
          b = k0 + j;
          break;
        }
      }
      lo[i] = Math.max(0, a);
      hi[i] = b;
    }
    return { lo, hi };
  }

  function drawSweep(): void {
    const H = 220;
    const ctx = fitCanvas(sweepCanvas, H);
    const W = sweepCanvas.clientWidth;
    ctx.clearRect(0, 0, W, H);
    const n = summary.n_units;
    const q = summary.keep_prob;
    if (bandFor !== n) {
      band = quantileBand(n);
      bandFor = n;
    }
    const left = 44;
    const right = W - 10;
    const top = 14;
    const base = H - 30;
    const x = (qq: number) => left + (right - left) * qq;
    const y = (k: number) => base - ((base - top) * k) / n;
    ctx.fillStyle = palette.kept;
    ctx.globalAlpha = 0.2;
    ctx.beginPath();
    for (let i = 0; i <= 100; i++) ctx.lineTo(x(i / 100), y(band!.hi[i]));
    for (let i = 100; i >= 0; i--) ctx.lineTo(x(i / 100), y(band!.lo[i]));
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.strokeStyle = palette.kept;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x(0), y(0));
    ctx.lineTo(x(1), y(n));
    ctx.stroke();
    ctx.strokeStyle = palette.muted;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(left, top);
    ctx.lineTo(left, base);
    ctx.lineTo(right, base);
    ctx.stroke();
    ctx.fillStyle = palette.accent;
    ctx.beginPath();
    ctx.arc(x(q), y(n * q), 5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = palette.muted;
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.fillText("0", x(0), base + 14);
    ctx.fillText("keep probability q", (left + right) / 2, base + 26);
    ctx.fillText("1", x(1), base + 14);
    ctx.textAlign = "right";
    ctx.fillText(fmt(n), left - 4, top + 10);
    ctx.fillText("0", left - 4, base);
    ctx.textAlign = "left";
    ctx.fillStyle = palette.fg;
    ctx.fillText(`q = ${q}: n·q = ${fmt(n * q)}`, Math.min(x(q) + 8, right - 120), Math.max(y(n * q) + 16, top + 12));
    sweepCanvas.setAttribute("aria-label", `Expected active units n·q from 0 to ${n}; q = ${q} marked at ${fmt(n * q)}`);
  }

  for (const f of fields) f.onChange = () => recompute();
  palette.onChange(draw);
  window.addEventListener("resize", draw);
  recompute();
  if (!prefersReducedMotion() && state.play !== "0") player.play();
}
