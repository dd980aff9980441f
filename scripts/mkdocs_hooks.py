"""MkDocs hooks of the dropout-figs site (listed under ``hooks:`` in mkdocs.yml).

The site serves every script, style sheet and font itself, so it works from
``file://`` with no network:

* KaTeX (math) and the iframe-worker shim (Material's search from ``file://``)
  come from ``node_modules/`` (``make setup`` runs ``npm ci``) and are added to
  the site as files under ``assets/vendor/``.
* mkdocs-jupyter 0.26.3 (nbconvert's templates) writes a MathJax loader with an
  empty ``src`` and a mermaid.js loader from a CDN into every notebook page; both
  are removed here, and KaTeX renders the notebook's math
  (``docs/javascripts/katex-init.js``).
* mkdocs-jupyter caches executed notebooks by their own bytes only; the notebooks
  import this package, so the cache is also keyed by the package's code.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = "assets/vendor"

#: (path under node_modules, path under assets/vendor); a folder is copied whole.
VENDORED = (
    ("katex/dist/katex.min.js", "katex/katex.min.js"),
    ("katex/dist/katex.min.css", "katex/katex.min.css"),
    ("katex/dist/contrib/auto-render.min.js", "katex/contrib/auto-render.min.js"),
    ("katex/dist/fonts", "katex/fonts"),
    ("iframe-worker/shim/index.js", "iframe-worker/shim.js"),
)

_HEX16 = re.compile(r"[0-9a-f]{16}")
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


def vendored_files() -> list[tuple[Path, str]]:
    """Every vendored file as (absolute source path, site path)."""
    out = []
    for src, dest in VENDORED:
        path = NODE_MODULES / src
        if path.is_dir():
            out += [
                (f, f"{VENDOR}/{dest}/{f.relative_to(path).as_posix()}")
                for f in sorted(path.rglob("*"))
                if f.is_file()
            ]
        elif path.is_file():
            out.append((path, f"{VENDOR}/{dest}"))
        else:
            raise PluginError(
                f"missing front-end asset {path}: run `make setup` (it runs `npm ci`) "
                "to install KaTeX and iframe-worker into node_modules/"
            )
    return out


def on_config(config):
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None and jupyter.config.get("cache"):
        from dropout_figs.render import code_hash

        base = Path(jupyter.config["cache_dir"])
        keyed = base / code_hash()[:16]
        # Entries made with older package code are never read again: drop them.
        if base.is_dir():
            for old in base.iterdir():
                if old.is_dir() and old != keyed and _HEX16.fullmatch(old.name):
                    shutil.rmtree(old, ignore_errors=True)
        jupyter.config["cache_dir"] = str(keyed)
    return config


def on_files(files, config):
    for path, uri in vendored_files():
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_post_page(output, page, config):
    if page.file.src_uri.endswith(".ipynb"):
        for loader in _CDN_LOADERS:
            output = loader.sub("", output)
    return output


def on_startup(command, dirty):
    """`mkdocs serve`: notice a saved page within 0.1 s instead of MkDocs' fixed 0.5 s poll.

    MkDocs 1.6 does not expose the polling interval of its live-reload server, so the
    default of its constructor is changed here, before ``serve`` builds the server.
    """
    if command != "serve":
        return
    import inspect

    from mkdocs.livereload import LiveReloadServer

    init = LiveReloadServer.__init__
    names = list(inspect.signature(init).parameters)
    if init.__defaults__ and "polling_interval" in names:
        defaults = list(init.__defaults__)
        index = names.index("polling_interval") - (len(names) - len(defaults))
        defaults[index] = 0.1
        init.__defaults__ = tuple(defaults)


def on_env(env, config, files):
    """Keep the theme's compiled templates between builds (a page edit rebuilds in < 1 s).

    Jinja keys each entry by the template's name and a checksum of its source, so an
    edited or upgraded template is compiled again.
    """
    from jinja2 import FileSystemBytecodeCache

    folder = Path(config.config_file_path).parent / ".cache" / "jinja"
    folder.mkdir(parents=True, exist_ok=True)
    env.bytecode_cache = FileSystemBytecodeCache(str(folder))
    return env
