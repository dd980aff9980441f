/* Mount every explorable on the page: `<div class="df-widget" data-df-widget="NAME">`.
 *
 * The element's children are the pre-rendered fallback (shown without JavaScript and in
 * print); the widget is built after them and the fallback is hidden by CSS once
 * `data-df-ready` is set. A widget that fails to start leaves its fallback visible.
 */

import { mountNetwork } from "./network";
import { mountSimulator } from "./simulator";
import { CSS } from "./styles";
import { mountTrainingLab } from "./traininglab";

const WIDGETS: Record<string, (root: HTMLElement) => void> = {
  simulator: mountSimulator,
  network: mountNetwork,
  "training-lab": mountTrainingLab,
};

export const WIDGET_NAMES = Object.keys(WIDGETS);

function injectStyles(): void {
  if (document.getElementById("df-widget-styles")) return;
  const style = document.createElement("style");
  style.id = "df-widget-styles";
  style.textContent = CSS;
  document.head.append(style);
}

export function bootWidgets(): void {
  const roots = document.querySelectorAll<HTMLElement>("[data-df-widget]");
  if (!roots.length) return;
  injectStyles();
  roots.forEach((root) => {
    if (root.dataset.dfReady !== undefined) return;
    const mount = WIDGETS[root.dataset.dfWidget ?? ""];
    if (!mount) {
      console.warn(`dropout-figs: no explorable called ${root.dataset.dfWidget}`);
      return;
    }
    for (const child of Array.from(root.children)) child.classList.add("df-fallback");
    try {
      root.classList.add("df-widget");
      mount(root);
      root.dataset.dfReady = "";
    } catch (err) {
      // Keep the pre-rendered figure rather than half a widget.
      for (const child of Array.from(root.children)) {
        if (!child.classList.contains("df-fallback")) child.remove();
      }
      throw err;
    }
  });
}
