// TeX -> HTML at build time with the site's own KaTeX (node_modules/katex), for the site's
// MkDocs hooks (scripts/mkdocs_hooks.py, KaTeX). One node process serves a whole build.
//
// Protocol, one JSON document per line: the hooks write {"items": [[tex, display], ...]} on
// stdin and read back {"html": [...]} (the same order), or {"error": "..."} for the first
// item KaTeX refuses. Pages then load only katex.min.css and the fonts their math uses.
"use strict";

const path = require("path");
const readline = require("readline");

const katex = require(path.join(__dirname, "..", "node_modules", "katex"));

// Shown by the hooks in the cache file's name: a KaTeX upgrade renders everything again.
if (process.argv[2] === "--version") {
  process.stdout.write(`${katex.version}\n`);
  process.exit(0);
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  let answer;
  try {
    const { items } = JSON.parse(line);
    const html = [];
    for (const [tex, display] of items) {
      try {
        html.push(katex.renderToString(tex, { displayMode: display, throwOnError: true }));
      } catch (err) {
        throw new Error(`KaTeX cannot render ${JSON.stringify(tex)}: ${err.message}`);
      }
    }
    answer = { html };
  } catch (err) {
    answer = { error: String(err.message || err) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
});
