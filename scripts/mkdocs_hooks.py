"""MkDocs hooks of the dropout-figs site (listed under ``hooks:`` in mkdocs.yml).

The site serves every script, style sheet and font itself, so it works from
``file://`` with no network:

* Math is rendered at build time by KaTeX from ``node_modules/`` (one node process
  per build, ``scripts/katex_render.cjs``; results cached in ``.cache/katex``), so no
  page loads KaTeX's JavaScript: a page with math links ``katex.min.css`` and the
  browser fetches only the fonts its math uses; a page without math loads neither.
* KaTeX's CSS and fonts and the iframe-worker shim (Material's search from
  ``file://``) come from ``node_modules/`` (``make setup`` runs ``npm ci``) and are
  added to the site as files: :data:`SITE_ASSETS` lists them.
* mkdocs-jupyter 0.26.3 (nbconvert's templates) writes a MathJax loader with an
  empty ``src`` and a mermaid.js loader from a CDN into every notebook page; both
  are removed here, and the notebook's ``$ ... $`` math is rendered like the rest.

The notebooks are executed by the dropout-figs plugin (its ``notebooks`` option),
keyed by the package's code; mkdocs-jupyter converts the executed copy and keeps
the HTML in its ``cache_dir``, whose entries are checked here before a build.
"""

from __future__ import annotations

import atexit
import hashlib
import html
import json
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("mkdocs.hooks.dropout_figs")

KATEX_CSS = "assets/vendor/katex/katex.min.css"

#: Files the site serves from outside docs/: (source path under the repository,
#: path in the site). A folder is copied whole. Append to it to ship another
#: built or installed file (e.g. a bundle under build/web/).
SITE_ASSETS: list[tuple[str, str]] = [
    ("node_modules/katex/dist/katex.min.css", KATEX_CSS),
    ("node_modules/katex/dist/fonts", "assets/vendor/katex/fonts"),
    ("node_modules/iframe-worker/shim/index.js", "assets/vendor/iframe-worker/shim.js"),
    # The browser engine, built by scripts/bundle.py (rebuilt first if web/src is newer).
    ("build/web/dropout-figs.js", "assets/vendor/dropout-figs/dropout-figs.js"),
]

# What nbconvert's templates add to every notebook page that would load from a CDN:
# MathJax (an empty src with mkdocs-jupyter's default) and, when a notebook has a
# Mermaid diagram, mermaid.js. Neither is used here.
_CDN_LOADERS = (
    re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S),
    re.compile(
        r'<script type="module">\s*document\.addEventListener\("DOMContentLoaded", async'
        r"[^<]*?\.jp-Mermaid.*?<!-- End of mermaid configuration -->",
        re.S,
    ),
)


def site_assets() -> list[tuple[Path, str]]:
    """Every file of :data:`SITE_ASSETS` as (absolute source path, site path)."""
    _build_bundle()
    out = []
    for src, dest in SITE_ASSETS:
        path = ROOT / src
        if path.is_dir():
            out += [
                (f, f"{dest}/{f.relative_to(path).as_posix()}")
                for f in sorted(path.rglob("*"))
                if f.is_file()
            ]
        elif path.is_file():
            out.append((path, dest))
        else:
            how = "run `make setup` (it runs `npm ci`)"
            if not src.startswith("node_modules/"):
                how = "build it first (see the Makefile)"
            raise PluginError(f"missing site asset {path}: {how}")
    return out


def _build_bundle() -> None:
    """(Re)build build/web/dropout-figs.js if web/src is newer (scripts/bundle.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_df_bundle", ROOT / "scripts" / "bundle.py")
    bundle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bundle)
    try:
        bundle.ensure_bundle()
    except bundle.BundleError as exc:
        if not bundle.BUNDLE.is_file():
            raise PluginError(str(exc)) from None


def on_pre_build(config):
    """A mkdocs-jupyter cache entry that is not a JSON object is removed (a miss), not fatal.

    mkdocs-jupyter reads its entries without checking them; one damaged file would
    fail every build. Only the documented ``cache_dir`` option is used here.
    """
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is None or not jupyter.config.get("cache"):
        return
    folder = Path(jupyter.config["cache_dir"])
    if not folder.is_dir():
        return
    for entry in sorted(folder.glob("*.json")):
        try:
            ok = isinstance(json.loads(entry.read_bytes()), dict)
        except (OSError, ValueError):
            ok = False
        if not ok:
            log.info("notebook cache entry %s is damaged: removed, converting again", entry)
            entry.unlink(missing_ok=True)


def on_files(files, config):
    for path, uri in site_assets():
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    # The gallery offers each live explorable as one self-contained HTML file.
    from dropout_figs import DropoutFigsError
    from dropout_figs.explorables import EXPLORABLES, explorable

    for name in EXPLORABLES:
        try:
            page = explorable(name).html
        except DropoutFigsError as exc:
            raise PluginError(str(exc)) from None
        files.append(File.generated(config, f"downloads/explorable-{name}.html", content=page))
    return files


# ------------------------------------------------------------------------ math at build time
# pymdownx.arithmatex (generic: true) writes <span|div class="arithmatex">\( .. \)</...> with
# the TeX HTML-escaped; a display block is \[ .. \] (or a bare \begin{..} environment).
_ARITHMATEX = re.compile(r'(<(span|div) class="arithmatex">)(.*?)(</\2>)', re.S)
# mkdocs-jupyter keeps a notebook's Markdown cells' $ .. $ and $$ .. $$ as text: a cell runs
# from its rendered-Markdown div to the next cell; code inside it is never math.
_NB_MARKDOWN = re.compile(
    r'<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^>]*>'
    r'.*?(?=<div\s+class="jp-Cell[ "]|\Z)',
    re.S,
)
_NB_CODE = re.compile(r"(<(code|pre)\b.*?</\2>)", re.S)
_DOLLARS = re.compile(
    r"(?<![\\$])\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>[^\s$](?:[^$\n]*?[^\s$])?)\$(?!\d)",
    re.S,
)


class KaTeX:
    """TeX to HTML with node_modules/katex: one node process per build, cached on disk.

    The cache is one JSON file per KaTeX version and renderer, mapping "D" or "I"
    (display or inline) + TeX to KaTeX's HTML, so a warm rebuild starts no node at all.
    """

    SCRIPT = ROOT / "scripts" / "katex_render.cjs"

    def __init__(self, folder: Path):
        self.proc: subprocess.Popen | None = None
        self.dirty = False
        version = json.loads((ROOT / "node_modules/katex/package.json").read_text())["version"]
        salt = hashlib.sha256(self.SCRIPT.read_bytes()).hexdigest()[:12]
        self.path = folder / f"katex-{version}-{salt}.json"
        try:
            self.cache = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(self.cache, dict):
                raise ValueError
        except (OSError, ValueError):
            self.cache = {}  # missing or damaged: rendered again

    def render(self, items: list[tuple[str, bool]], where: str) -> list[str]:
        keys = [("D" if display else "I") + tex for tex, display in items]
        todo = [k for k in dict.fromkeys(keys) if k not in self.cache]
        if todo:
            request = {"items": [[k[1:], k[0] == "D"] for k in todo]}
            answer = self._ask(request)
            if "error" in answer:
                raise PluginError(f"{where}: {answer['error']}")
            self.cache.update(zip(todo, answer["html"], strict=True))
            self.dirty = True
        return [self.cache[k] for k in keys]

    def _ask(self, request: dict) -> dict:
        if self.proc is None:
            node = shutil.which("node")
            if node is None or not (ROOT / "node_modules/katex").is_dir():
                raise PluginError("math needs node and node_modules/katex: run `make setup`")
            self.proc = subprocess.Popen(
                [node, str(self.SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True, encoding="utf-8",
            )  # fmt: skip
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise PluginError(
                f"KaTeX renderer {self.SCRIPT.name} stopped (exit {self.proc.poll()})"
            )
        return json.loads(line)

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()  # end of input: the renderer exits
            self.proc.wait(timeout=30)
            self.proc.stdout.close()
            self.proc = None
        if self.dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.cache), encoding="utf-8")
            os.replace(tmp, self.path)  # atomic: a parallel build reads the old or the new file
            self.dirty = False


_katex: KaTeX | None = None


def _math(config) -> KaTeX:
    global _katex
    if _katex is None:
        _katex = KaTeX(Path(config.config_file_path).parent / ".cache" / "katex")
        atexit.register(_katex.close)
    return _katex


def render_math(output: str, where: str, katex: KaTeX, notebook: bool = False) -> tuple[str, int]:
    """``output`` with its math as KaTeX HTML, and how many formulas it had."""

    def tex_of(m: re.Match) -> tuple[str, bool]:
        tex = html.unescape(m.group(3)).strip()
        if tex.startswith("\\(") and tex.endswith("\\)"):
            return tex[2:-2], False
        if tex.startswith("\\[") and tex.endswith("\\]"):
            return tex[2:-2], True
        return tex, True  # \begin{..} .. \end{..}

    def dollars(cell: str) -> list[tuple[str, bool]]:
        out = []
        for part in _NB_CODE.split(cell)[::3]:  # the text between <code>/<pre> elements
            for m in _DOLLARS.finditer(part):
                tex = m.group("display") or m.group("inline")
                out.append((html.unescape(tex).strip(), m.group("display") is not None))
        return out

    found = [tex_of(m) for m in _ARITHMATEX.finditer(output)]
    for cell in _NB_MARKDOWN.findall(output) if notebook else []:
        found += dollars(cell)
    if not found:
        return output, 0
    rendered = iter(katex.render(found, where))
    output = _ARITHMATEX.sub(lambda m: m.group(1) + next(rendered) + m.group(4), output)

    def cell_sub(c: re.Match) -> str:
        parts = _NB_CODE.split(c.group(0))
        for i in range(0, len(parts), 3):
            parts[i] = _DOLLARS.sub(lambda m: next(rendered), parts[i])
        return "".join(p for j, p in enumerate(parts) if j % 3 != 2)

    if notebook:
        output = _NB_MARKDOWN.sub(cell_sub, output)
    return output, len(found)


def on_post_page(output, page, config):
    notebook = page.file.src_uri.endswith(".ipynb")
    if notebook:
        for loader in _CDN_LOADERS:
            output = loader.sub("", output)
    output, n_math = render_math(output, page.file.src_uri, _math(config), notebook)
    if n_math:
        # Only a page with math loads KaTeX's style sheet (and, through it, the fonts it uses).
        href = get_relative_url(KATEX_CSS, page.url)
        output = output.replace("</head>", f'<link rel="stylesheet" href="{href}">\n</head>', 1)
    return output


def on_post_build(config):
    if _katex is not None:
        _katex.close()


def on_build_error(error):
    if _katex is not None:
        _katex.close()


def on_env(env, config, files):
    """Keep the theme's compiled templates between builds (a page edit rebuilds in < 1 s).

    Jinja keys each entry by the template's name and a checksum of its source, so an
    edited or upgraded template is compiled again.
    """
    from jinja2 import FileSystemBytecodeCache

    folder = Path(config.config_file_path).parent / ".cache" / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PluginError(f"template cache {folder}: cannot create it ({exc.strerror})") from None
    env.bytecode_cache = FileSystemBytecodeCache(str(folder))
    return env
