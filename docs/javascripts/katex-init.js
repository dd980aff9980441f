/* Render the site's math with the KaTeX copy the site serves itself.
 *
 * Markdown pages: pymdownx.arithmatex (generic: true) wraps math in
 * <span|div class="arithmatex"> as \( ... \) and \[ ... \].
 * Notebook pages (mkdocs-jupyter 0.26.3): Markdown cells keep the notebook's own
 * $ ... $ and $$ ... $$, so dollar delimiters are allowed there and only there
 * (elsewhere a "$" is just a dollar sign).
 */
(function () {
  "use strict";

  var BASE = [
    { left: "\\[", right: "\\]", display: true },
    { left: "\\(", right: "\\)", display: false },
  ];
  var NOTEBOOK = [
    { left: "$$", right: "$$", display: true },
    { left: "\\begin{equation}", right: "\\end{equation}", display: true },
    { left: "\\begin{align}", right: "\\end{align}", display: true },
    { left: "$", right: "$", display: false },
  ].concat(BASE);

  function render(root) {
    if (typeof renderMathInElement !== "function") {
      return;
    }
    var options = { throwOnError: false, errorColor: "#D55E00" };
    root.querySelectorAll(".arithmatex").forEach(function (el) {
      renderMathInElement(el, Object.assign({ delimiters: BASE }, options));
    });
    root.querySelectorAll(".jupyter-wrapper .jp-RenderedMarkdown").forEach(function (el) {
      renderMathInElement(el, Object.assign({ delimiters: NOTEBOOK }, options));
    });
  }

  // Material publishes document$ (also without instant navigation); fall back to load.
  if (typeof document$ !== "undefined" && document$.subscribe) {
    document$.subscribe(function () {
      render(document.body);
    });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      render(document.body);
    });
  } else {
    render(document.body);
  }
})();
