"""MkDocs hooks of the dropout-figs site (listed under ``hooks:`` in mkdocs.yml).

The site serves every script, style sheet and font itself, so it works from
``file://`` with no network:

* KaTeX (math) and the iframe-worker shim (Material's search from ``file://``)
  come from ``node_modules/`` (``make setup`` runs ``npm ci``) and are added to
  the site as files: :data:`SITE_ASSETS` lists them.
* mkdocs-jupyter 0.26.3 (nbconvert's templates) writes a MathJax loader with an
  empty ``src`` and a mermaid.js loader from a CDN into every notebook page; both
  are removed here, and KaTeX renders the notebook's math
  (``docs/javascripts/katex-init.js``).

The notebooks are executed by the dropout-figs plugin (its ``notebooks`` option),
keyed by the package's code; mkdocs-jupyter converts the executed copy and keeps
the HTML in its ``cache_dir``, whose entries are checked here before a build.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("mkdocs.hooks.dropout_figs")

#: Files the site serves from outside docs/: (source path under the repository,
#: path in the site). A folder is copied whole. Append to it to ship another
#: built or installed file (e.g. a bundle under build/web/).
SITE_ASSETS: list[tuple[str, str]] = [
    ("node_modules/katex/dist/katex.min.js", "assets/vendor/katex/katex.min.js"),
    ("node_modules/katex/dist/katex.min.css", "assets/vendor/katex/katex.min.css"),
    (
        "node_modules/katex/dist/contrib/auto-render.min.js",
        "assets/vendor/katex/contrib/auto-render.min.js",
    ),
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


def on_post_page(output, page, config):
    if page.file.src_uri.endswith(".ipynb"):
        for loader in _CDN_LOADERS:
            output = loader.sub("", output)
    return output


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
