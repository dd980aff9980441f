/* The pieces every explorable is made of: labelled number fields that refuse bad input
 * in words, selects, toggles, a play/pause/step player, the command box, the colours
 * of the page's scheme and a canvas sized for the screen. No framework: plain DOM.
 */

type Attrs = Record<string, string | number | boolean | undefined>;

/** `h("label", {for: "x"}, "Units")`: an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key === "class") el.className = String(value);
    else if (key === "text") el.textContent = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) el.append(child);
  }
  return el;
}

let nextId = 0;
/** A page-unique id ("df-units-3"). */
export function uid(stem: string): string {
  nextId += 1;
  return `df-${stem}-${nextId}`;
}

/** Numbers for people: up to `digits` significant figures, thousands separated. */
export function fmt(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return "–";
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return x.toLocaleString("en-US");
  const text = Number(x.toPrecision(digits));
  return Math.abs(text) >= 1e6 || (text !== 0 && Math.abs(text) < 1e-4)
    ? text.toExponential(digits - 1)
    : String(text);
}

export function prefersReducedMotion(): boolean {
  return (
    typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches
  );
}

// --------------------------------------------------------------------------- fields
export interface NumberSpec {
  /** Key in the URL hash. */
  key: string;
  /** Accessible label; the tests find controls by its first word ("Units", "Seed"). */
  label: string;
  min: number;
  max: number;
  /** Open ends: keep probability is in (0, 1]. */
  minOpen?: boolean;
  integer?: boolean;
  value: number;
  /** A range slider beside the typed box (its own bounds, e.g. 1..4096 of 1..10^6). */
  slider?: { min: number; max: number; step: number };
  /** Words after the box ("drop rate 0.37"), refreshed on every good value. */
  aside?: (v: number) => string;
  /** The sentence that says what is allowed: "a whole number from 1 to 1,000,000". */
  rule: string;
}

/** Parse typed text; null when it is not a number the spec allows. */
export function parseNumber(text: string, spec: NumberSpec): number | null {
  const t = text.trim().replace(/[,_\s]/g, "");
  if (t === "") return null;
  if (spec.integer ? !/^[+]?\d+$/.test(t) : !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) {
    return null;
  }
  const v = Number(t);
  if (!Number.isFinite(v)) return null;
  if (spec.integer && !Number.isSafeInteger(v)) return null;
  const aboveMin = spec.minOpen ? v > spec.min : v >= spec.min;
  return aboveMin && v <= spec.max ? v : null;
}

/**
 * A typed box (and optionally a slider) for one number. A value the spec refuses is
 * named next to the box; `value` keeps the last good one, so nothing downstream ever
 * sees NaN or an out-of-range number.
 */
export class NumberField {
  readonly el: HTMLElement;
  readonly input: HTMLInputElement;
  readonly slider: HTMLInputElement | null = null;
  private readonly message: HTMLElement;
  private readonly asideEl: HTMLElement | null = null;
  value: number;
  onChange: (v: number) => void = () => {};

  constructor(readonly spec: NumberSpec) {
    const id = uid(spec.key);
    this.value = spec.value;
    this.input = h("input", {
      id,
      type: "text",
      inputmode: spec.integer ? "numeric" : "decimal",
      autocomplete: "off",
      spellcheck: "false",
      size: 8,
      value: String(spec.value),
      "aria-describedby": `${id}-msg`,
    });
    this.message = h("span", { id: `${id}-msg`, class: "df-msg", role: "status" });
    const row = h("div", { class: "df-field__row" }, this.input);
    if (spec.slider) {
      this.slider = h("input", {
        type: "range",
        min: spec.slider.min,
        max: spec.slider.max,
        step: spec.slider.step,
        value: this.sliderValue(spec.value),
        "aria-label": `${spec.label} (slider)`,
      });
      row.prepend(this.slider);
      this.slider.addEventListener("input", () => {
        const v = Number(this.slider!.value);
        this.input.value = String(v);
        this.accept(v);
      });
    }
    if (spec.aside) {
      this.asideEl = h("span", { class: "df-field__aside", "aria-live": "polite" });
      row.append(this.asideEl);
    }
    this.el = h(
      "div",
      { class: "df-field" },
      h("label", { for: id, text: spec.label }),
      row,
      this.message,
    );
    this.input.addEventListener("input", () => this.typed());
    this.input.addEventListener("change", () => this.typed());
    this.input.addEventListener("keydown", (e) => this.arrows(e));
    this.refresh();
  }

  private sliderValue(v: number): number {
    const s = this.spec.slider!;
    return Math.min(s.max, Math.max(s.min, v));
  }

  private typed(): void {
    const v = parseNumber(this.input.value, this.spec);
    if (v === null) {
      this.input.setAttribute("aria-invalid", "true");
      const got = this.input.value.trim() === "" ? "nothing" : `“${this.input.value.trim()}”`;
      this.message.textContent =
        `${this.spec.label.split(/[ ,(]/)[0]} must be ${this.spec.rule}; got ${got}. ` +
        `Still showing ${fmt(this.value, 6)}.`;
      return;
    }
    this.accept(v);
  }

  /** Up/Down step the typed box by the slider's step (or 1), within bounds. */
  private arrows(e: KeyboardEvent): void {
    if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
    e.preventDefault();
    const step = this.spec.slider?.step ?? 1;
    const next = Number((this.value + (e.key === "ArrowUp" ? step : -step)).toFixed(10));
    const v = parseNumber(String(next), this.spec);
    if (v !== null) this.set(v, true);
  }

  private accept(v: number): void {
    const changed = v !== this.value;
    this.value = v;
    this.input.removeAttribute("aria-invalid");
    this.message.textContent = "";
    this.refresh();
    if (changed) this.onChange(v);
  }

  private refresh(): void {
    if (this.slider) this.slider.value = String(this.sliderValue(this.value));
    if (this.asideEl && this.spec.aside) this.asideEl.textContent = this.spec.aside(this.value);
  }

  /** Set from code (URL, presets); `notify` fires onChange. */
  set(v: number, notify = false): void {
    if (parseNumber(String(v), this.spec) === null) return;
    this.input.value = String(v);
    if (notify) this.accept(v);
    else {
      this.value = v;
      this.input.removeAttribute("aria-invalid");
      this.message.textContent = "";
      this.refresh();
    }
  }

  /** The value from the URL hash if it is allowed, otherwise the default. */
  fromState(text: string | undefined): void {
    if (text === undefined) return;
    const v = parseNumber(text, this.spec);
    if (v !== null) this.set(v);
  }
}

export class SelectField {
  readonly el: HTMLElement;
  readonly select: HTMLSelectElement;
  onChange: (v: string) => void = () => {};

  constructor(
    readonly key: string,
    label: string,
    options: [value: string, text: string][],
    value: string,
  ) {
    const id = uid(key);
    this.select = h("select", { id });
    for (const [v, text] of options) {
      this.select.append(h("option", { value: v, text, selected: v === value }));
    }
    this.el = h("div", { class: "df-field" }, h("label", { for: id, text: label }), this.select);
    this.select.addEventListener("change", () => this.onChange(this.select.value));
  }

  get value(): string {
    return this.select.value;
  }

  set(v: string | undefined): boolean {
    if (v === undefined || !Array.from(this.select.options).some((o) => o.value === v)) {
      return false;
    }
    this.select.value = v;
    return true;
  }
}

/** A labelled checkbox (a switch for people, a checkbox for the accessibility tree). */
export class Toggle {
  readonly el: HTMLElement;
  readonly input: HTMLInputElement;
  onChange: (on: boolean) => void = () => {};

  constructor(key: string, label: string, on: boolean) {
    const id = uid(key);
    this.input = h("input", { id, type: "checkbox", checked: on });
    this.el = h("div", { class: "df-field df-field--check" }, this.input, h("label", { for: id, text: label }));
    this.input.addEventListener("change", () => this.onChange(this.input.checked));
  }

  get on(): boolean {
    return this.input.checked;
  }

  set(on: boolean): void {
    this.input.checked = on;
  }
}

// --------------------------------------------------------------------------- player
/**
 * Play, pause and step. `tick` runs every `intervalMs` (or every animation frame when
 * 0) while playing. Starts paused when the reader asked for reduced motion.
 */
export class Player {
  readonly el: HTMLElement;
  readonly playButton: HTMLButtonElement;
  readonly stepButton: HTMLButtonElement;
  private timer = 0;
  private frame = 0;
  playing = false;

  constructor(
    private readonly tick: () => void,
    private readonly intervalMs: number,
    extra: HTMLButtonElement[] = [],
  ) {
    this.playButton = h("button", { type: "button", class: "df-button" });
    this.stepButton = h("button", { type: "button", class: "df-button", text: "Step" });
    this.playButton.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    this.stepButton.addEventListener("click", () => {
      this.pause();
      this.tick();
    });
    this.el = h("div", { class: "df-player", role: "group", "aria-label": "Animation" });
    this.el.append(this.playButton, this.stepButton, ...extra);
    this.label();
  }

  /** Told whenever playing starts or stops (a widget's own switch can follow it). */
  onToggle: (playing: boolean) => void = () => {};

  private label(): void {
    this.onToggle(this.playing);
    this.playButton.textContent = this.playing ? "Pause" : "Play";
    this.playButton.setAttribute("aria-pressed", String(this.playing));
  }

  play(): void {
    if (this.playing) return;
    this.playing = true;
    this.label();
    if (this.intervalMs > 0) {
      this.timer = window.setInterval(() => this.safeTick(), this.intervalMs);
    } else {
      const loop = () => {
        if (!this.playing) return;
        this.safeTick();
        this.frame = requestAnimationFrame(loop);
      };
      this.frame = requestAnimationFrame(loop);
    }
  }

  pause(): void {
    this.playing = false;
    this.label();
    clearInterval(this.timer);
    cancelAnimationFrame(this.frame);
  }

  private safeTick(): void {
    try {
      this.tick();
    } catch (err) {
      // A bug in one frame must not leave a page spinning: stop and say so.
      this.pause();
      throw err;
    }
  }
}

// --------------------------------------------------------------------------- command box
/** The `dropout-figs` command for the current state, selectable, with a Copy button. */
export class CommandBox {
  readonly el: HTMLElement;
  private readonly code: HTMLElement;

  constructor(caption: string) {
    this.code = h("code", { class: "df-cmd__code" });
    const copy = h("button", { type: "button", class: "df-button", text: "Copy" });
    copy.addEventListener("click", () => {
      const text = this.code.textContent ?? "";
      const done = () => (copy.textContent = "Copied");
      if (navigator.clipboard?.writeText) {
        navigator.clipboard.writeText(text).then(done, () => this.selectText());
      } else {
        this.selectText();
      }
      setTimeout(() => (copy.textContent = "Copy"), 1500);
    });
    this.el = h(
      "div",
      { class: "df-cmd" },
      h("p", { class: "df-cmd__caption", text: caption }),
      h("pre", {}, this.code),
      copy,
    );
  }

  private selectText(): void {
    const range = document.createRange();
    range.selectNodeContents(this.code);
    const sel = getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
  }

  set(lines: string[]): void {
    this.code.textContent = lines.join("\n");
  }
}

// --------------------------------------------------------------------------- colours
/** The page's colours, read from CSS custom properties (so the dark scheme works). */
export class Palette {
  kept = "#3f51b5";
  dropped = "#c8c8c8";
  accent = "#ff6e42";
  fg = "#222";
  muted = "#777";
  bg = "#fff";
  classA = "#3f51b5";
  classB = "#ff6e42";
  private listeners: (() => void)[] = [];

  constructor(private readonly root: HTMLElement) {
    this.read();
    // Material switches schemes by an attribute on <body>; redraw in the new colours.
    const observer = new MutationObserver(() => {
      this.read();
      for (const f of this.listeners) f();
    });
    observer.observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
    if (typeof matchMedia === "function") {
      matchMedia("(prefers-color-scheme: dark)").addEventListener?.("change", () => {
        this.read();
        for (const f of this.listeners) f();
      });
    }
  }

  onChange(f: () => void): void {
    this.listeners.push(f);
  }

  read(): void {
    const css = getComputedStyle(this.root);
    const get = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    this.kept = get("--df-kept", this.kept);
    this.dropped = get("--df-dropped", this.dropped);
    this.accent = get("--df-accent", this.accent);
    this.fg = get("--df-fg", this.fg);
    this.muted = get("--df-muted", this.muted);
    this.bg = get("--df-bg", this.bg);
    this.classA = get("--df-class-a", this.classA);
    this.classB = get("--df-class-b", this.classB);
  }
}

/** A canvas whose drawing buffer matches its CSS size times the device pixel ratio. */
export function fitCanvas(canvas: HTMLCanvasElement, cssHeight: number): CanvasRenderingContext2D {
  const ratio = Math.min(2, window.devicePixelRatio || 1);
  const width = Math.max(100, canvas.clientWidth || canvas.parentElement?.clientWidth || 300);
  const w = Math.round(width * ratio);
  const hh = Math.round(cssHeight * ratio);
  if (canvas.width !== w || canvas.height !== hh) {
    canvas.width = w;
    canvas.height = hh;
  }
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

/** Shell quoting for the commands shown (values here are numbers and slugs). */
export function shellWord(v: string | number): string {
  const s = String(v);
  return /^[A-Za-z0-9._\-/=:]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
