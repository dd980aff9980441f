/**
 * The site's one script (bundled by esbuild into build/web/dropout-figs.js, a classic IIFE so
 * it runs from file://): puts the engine on `window.dropoutFigs` for the console and the
 * explorables page, and mounts the widgets once the page is parsed.
 */
import * as engine from "./engine";
import { bootWidgets } from "./widgets";

declare global {
  interface Window {
    dropoutFigs: typeof engine;
  }
}

window.dropoutFigs = engine;

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", bootWidgets);
} else {
  bootWidgets();
}
// Material's instant navigation swaps the page without reloading the script.
const doc = window as unknown as { document$?: { subscribe(f: () => void): void } };
doc.document$?.subscribe(() => bootWidgets());
