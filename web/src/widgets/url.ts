/* A widget's state in the URL, so a shared link opens the same view.
 *
 * Each widget owns the keys under its prefix: "?sim.n=137&sim.q=0.63&lab.data=spiral".
 * Several widgets on one page share the address without stepping on each other.
 *
 * The state lives in the query, not the fragment: Material's navigation.tracking rewrites
 * the fragment to the section in view as the reader scrolls (and a fragment is how a link
 * points at a section), but keeps the query. A fragment of "key=value" pairs is still read,
 * for links written by hand. replaceState keeps the Back button and the scroll position
 * alone and works from file://.
 */

export type State = Record<string, string>;

function params(text: string): URLSearchParams {
  const t = text.replace(/^[?#]/, "");
  // A plain anchor ("#what-the-numbers-mean") is not widget state.
  return new URLSearchParams(t.includes("=") ? t : "");
}

/** The keys under `prefix` ("sim"), without the prefix; the query wins over the fragment. */
export function readState(prefix: string): State {
  const out: State = {};
  if (typeof location === "undefined") return out;
  for (const source of [params(location.hash), params(location.search)]) {
    for (const [key, value] of source) {
      if (key.startsWith(prefix + ".")) out[key.slice(prefix.length + 1)] = value;
    }
  }
  return out;
}

/** Replace the keys under `prefix` by `state`, keeping every other key and the fragment. */
export function writeState(prefix: string, state: State): void {
  if (typeof history === "undefined" || !history.replaceState) return;
  const all = params(location.search);
  for (const key of Array.from(all.keys())) {
    if (key.startsWith(prefix + ".")) all.delete(key);
  }
  for (const [key, value] of Object.entries(state)) all.set(`${prefix}.${key}`, value);
  // Keys of this widget in a hand-written fragment are now stale: keep only anchors.
  const hash = location.hash.includes("=") ? "" : location.hash;
  const query = all.toString();
  const url = location.pathname + (query ? "?" + query : "") + hash;
  try {
    history.replaceState(history.state, "", url);
  } catch {
    // Some embedders (sandboxed iframes, about:srcdoc) refuse; the widget still works.
  }
}
