/* A widget's state in the URL hash, so a shared link opens the same view.
 *
 * Each widget owns the keys under its prefix: "#sim.n=137&sim.q=0.63&lab.data=spiral".
 * Several widgets on one page share the hash without stepping on each other.
 * replaceState (not location.hash) keeps the Back button and the scroll position alone,
 * and works from file://.
 */

export type State = Record<string, string>;

function readAll(): URLSearchParams {
  const hash = typeof location === "undefined" ? "" : location.hash.replace(/^#/, "");
  // A plain anchor ("#what-the-numbers-mean") is not widget state.
  return new URLSearchParams(hash.includes("=") ? hash : "");
}

/** The keys under `prefix` ("sim"), without the prefix. */
export function readState(prefix: string): State {
  const out: State = {};
  for (const [key, value] of readAll()) {
    if (key.startsWith(prefix + ".")) out[key.slice(prefix.length + 1)] = value;
  }
  return out;
}

/** Replace the keys under `prefix` by `state`, keeping every other widget's keys. */
export function writeState(prefix: string, state: State): void {
  if (typeof history === "undefined" || !history.replaceState) return;
  const all = readAll();
  for (const key of Array.from(all.keys())) {
    if (key.startsWith(prefix + ".")) all.delete(key);
  }
  for (const [key, value] of Object.entries(state)) all.set(`${prefix}.${key}`, value);
  const hash = all.toString();
  const url = location.href.replace(/#.*$/, "") + (hash ? "#" + hash : "");
  try {
    history.replaceState(history.state, "", url);
  } catch {
    // Some embedders (sandboxed iframes, about:srcdoc) refuse; the widget still works.
  }
}
