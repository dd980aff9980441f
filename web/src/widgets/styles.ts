/* The explorables' style sheet, injected once by bootWidgets(), so the one bundle is all a
 * page needs (the site, a standalone explorable file, a notebook cell).
 *
 * Colours are custom properties that fall back on Material's, so the dark scheme (and a
 * host page's own theme) is followed without a line of script.
 */

export const CSS = `
.df-widget {
  --df-fg: var(--md-default-fg-color, #1f2328);
  --df-muted: var(--md-default-fg-color--light, #5f6368);
  --df-bg: var(--md-default-bg-color, #ffffff);
  --df-kept: var(--md-primary-fg-color, #3f51b5);
  --df-dropped: var(--md-default-fg-color--lightest, #d4d4d8);
  --df-accent: var(--md-accent-fg-color, #ff6e42);
  --df-class-a: var(--md-primary-fg-color, #3f51b5);
  --df-class-b: var(--md-accent-fg-color, #ff6e42);
  --df-border: var(--md-default-fg-color--lightest, #d4d4d8);
  --df-error: #c62828;
  color: var(--df-fg);
  background: var(--df-bg);
  margin: 1.2em 0;
  font-size: 0.8rem;
}
[data-md-color-scheme="slate"] .df-widget { --df-error: #ff8a80; }
.df-widget[data-df-ready] > .df-fallback { display: none; }
.df-widget figure { margin: 0; }
.df-widget figure.df-panel { display: block; width: 100%; max-width: none; }
.df-widget [hidden] { display: none !important; }
.df-lab__stats, .df-panel figcaption { text-align: left; }
.df-controls { display: flex; flex-wrap: wrap; gap: 0.6em 1.4em; margin-bottom: 0.8em; }
.df-field { display: flex; flex-direction: column; gap: 0.2em; min-width: 12em; max-width: 22em; }
.df-field > label { font-weight: 600; }
.df-field__row { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5em; }
.df-field--check { flex-direction: row; align-items: center; gap: 0.4em; }
.df-field input[type="text"], .df-field select {
  font: inherit; color: var(--df-fg); background: var(--df-bg);
  border: 1px solid var(--df-border); border-radius: 0.2em; padding: 0.25em 0.4em;
}
.df-field input[type="text"] { width: 7em; }
.df-field input[type="range"] { flex: 1; min-width: 6em; accent-color: var(--df-kept); }
.df-field input[aria-invalid="true"] { border-color: var(--df-error); outline: 2px solid var(--df-error); }
.df-field__aside { color: var(--df-muted); white-space: nowrap; }
.df-msg { color: var(--df-error); min-height: 0; }
.df-msg:empty { display: none; }
.df-widget :focus-visible { outline: 2px solid var(--df-accent); outline-offset: 2px; }
.df-player { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5em; margin: 0.5em 0; }
.df-button {
  font: inherit; cursor: pointer; color: var(--df-fg); background: transparent;
  border: 1px solid var(--df-border); border-radius: 0.2em; padding: 0.3em 0.9em;
}
.df-button:hover { border-color: var(--df-kept); }
.df-button[aria-pressed="true"] { background: var(--df-kept); color: var(--df-bg); }
.df-canvas { display: block; width: 100%; }
.df-panel figcaption { color: var(--df-muted); font-size: 0.95em; margin-top: 0.3em; }
.df-note { border: 1px dashed var(--df-border); padding: 1em; color: var(--df-muted); }
.df-sim__body { display: grid; grid-template-columns: minmax(0, 3fr) minmax(14em, 2fr); gap: 1.2em; }
.df-sim__plots { display: grid; grid-template-columns: 1fr 1fr; gap: 1.2em; margin-top: 1em; }
.df-results { margin: 0; display: grid; gap: 0.35em; align-content: start; }
.df-results > div { display: flex; justify-content: space-between; gap: 1em; border-bottom: 1px solid var(--df-border); padding: 0.15em 0; }
.df-results dt { color: var(--df-muted); }
.df-results dd { margin: 0; font-variant-numeric: tabular-nums; font-weight: 600; text-align: right; }
.df-cmd { margin-top: 1em; }
.df-cmd__caption { margin: 0 0 0.3em; color: var(--df-muted); }
.df-cmd pre { margin: 0 0 0.4em; overflow-x: auto; padding: 0.6em; border: 1px solid var(--df-border); border-radius: 0.2em; }
.df-cmd__code { white-space: pre; font-size: 0.9em; }
.df-link { display: inline-block; margin-top: 0.6em; }
.df-net__body { display: grid; grid-template-columns: 1fr; gap: 0.8em; }
.df-net__side { display: grid; grid-template-columns: repeat(auto-fit, minmax(16em, 1fr)); gap: 1.2em; align-items: start; }
.df-net__svg { width: 100%; height: auto; display: block; }
.df-net__edges line { stroke: var(--df-muted); stroke-width: 1.2; opacity: 0.55; transition: opacity 0.15s; }
.df-net__edges line.is-off { opacity: 0.06; }
.df-net__unit { stroke: var(--df-bg); stroke-width: 1.5; }
.df-net__unit--in { fill: var(--df-muted); }
.df-net__unit--hidden { fill: var(--df-kept); }
.df-net__unit--out { fill: var(--df-accent); }
.df-net__unit.is-dropped { fill: var(--df-dropped); }
.df-net__value { fill: var(--df-bg); font-family: system-ui, sans-serif; pointer-events: none; }
.df-net__label { fill: var(--df-muted); font: 13px system-ui, sans-serif; }
.df-net__counts { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
.df-net__counts caption { text-align: left; font-weight: 600; }
.df-net__counts th, .df-net__counts td { text-align: left; padding: 0.15em 0.6em 0.15em 0; border-bottom: 1px solid var(--df-border); }
.df-net__prediction strong { font-variant-numeric: tabular-nums; }
.df-lab__panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(16em, 1fr)); gap: 1.2em; }
.df-lab__plane { position: relative; width: 100%; max-width: 28em; aspect-ratio: 1 / 1; }
.df-lab__field, .df-lab__dots { position: absolute; inset: 0; width: 100%; height: 100%; }
.df-lab__field { image-rendering: auto; border: 1px solid var(--df-border); }
.df-lab__status { margin-left: 0.6em; font-variant-numeric: tabular-nums; color: var(--df-muted); }
.df-lab__stats { margin: 0.2em 0 0; font-variant-numeric: tabular-nums; }
@media (max-width: 44em) {
  .df-sim__body, .df-sim__plots { grid-template-columns: 1fr; }
}
@media (prefers-reduced-motion: reduce) {
  .df-net__edges line { transition: none; }
}
@media print {
  .df-widget[data-df-ready] > :not(.df-fallback) { display: none !important; }
  .df-widget[data-df-ready] > .df-fallback { display: block !important; }
}
`;
