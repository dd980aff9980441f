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
import sys
import types
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
    # an absolute path replaces node_modules: the browser engine, built by scripts/bundle.py
    (ROOT / "build" / "web" / "dropout-figs.js", "dropout-figs/dropout-figs.js"),
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
    _build_bundle()
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


# MkDocs runs this file afresh for each rebuild's configuration; what on_startup learns
# (is this `mkdocs serve`?) lives in a namespace that outlasts the module.
_STATE = sys.modules.setdefault("_dropout_figs_hook_state", types.SimpleNamespace(serving=False))


def on_startup(command, dirty):
    """`mkdocs serve`: notice a saved page within 0.1 s instead of MkDocs' fixed 0.5 s poll.

    MkDocs 1.6 does not expose the polling interval of its live-reload server, so the
    default of its constructor is changed here, before ``serve`` builds the server.
    """
    _STATE.serving = command == "serve"
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


_NOTEBOOK_THREADS: list = []


def on_pre_build(config):
    """Execute the notebooks in the background while the figures are drawn.

    mkdocs-jupyter executes a notebook when its page is rendered, after the
    figures, with one core idle. Here the same conversion (its own function and
    options, so the result is identical) starts first and fills mkdocs-jupyter's
    cache, which the page then reads. A failure here is ignored: the page
    executes the notebook as usual and reports the error with its name. Only for
    `mkdocs build` (make site, the tests): the cold build is where it counts.
    """
    import threading

    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is None or not (jupyter.config.get("cache") and jupyter.config.get("execute")):
        return
    if _STATE.serving:
        # `mkdocs serve --dirty` renders only edited pages and mkdocs-jupyter then drops
        # the unused notebook entry: executing it here would cost every rebuild.
        return
    from mkdocs_jupyter import plugin as jplugin

    docs = Path(config.docs_dir)
    for pattern in jupyter.config["include"]:
        for notebook in sorted(docs.glob(pattern)):
            key = jplugin._compute_cache_key(str(notebook), jupyter.config, True)
            target = jplugin._get_cache_path(jupyter.config["cache_dir"], key)
            if not target.exists():
                thread = threading.Thread(
                    target=_execute_notebook, args=(notebook, target, jupyter.config), daemon=True
                )
                thread.start()
                _NOTEBOOK_THREADS.append(thread)


def _execute_notebook(notebook: Path, target: Path, options) -> None:
    import json
    import os

    from mkdocs_jupyter import convert
    from mkdocs_jupyter import plugin as jplugin

    try:
        body = convert.nb2html(
            str(notebook),
            execute=True,
            kernel_name=options["kernel_name"],
            theme=options["theme"],
            allow_errors=options["allow_errors"],
            show_input=options["show_input"],
            no_input=options["no_input"],
            no_prompt=options["no_prompt"],
            remove_tag_config=options["remove_tag_config"],
            highlight_extra_classes=options["highlight_extra_classes"],
            include_requirejs=options["include_requirejs"],
            custom_mathjax_url=options["custom_mathjax_url"],
        )
        toc_tokens, title = jplugin._get_nb_toc_tokens(str(notebook), options["toc_depth"])
    except Exception:  # the page executes it again and reports the error
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    record = {"content": body, "toc_tokens": toc_tokens, "title": title}
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, target)


def on_env(env, config, files):
    """Keep the theme's compiled templates between builds (a page edit rebuilds in < 1 s).

    Jinja keys each entry by the template's name and a checksum of its source, so an
    edited or upgraded template is compiled again.
    """
    from jinja2 import FileSystemBytecodeCache

    folder = Path(config.config_file_path).parent / ".cache" / "jinja"
    folder.mkdir(parents=True, exist_ok=True)
    env.bytecode_cache = FileSystemBytecodeCache(str(folder))
    # Pages are rendered next, the notebooks among them: wait for their execution.
    while _NOTEBOOK_THREADS:
        _NOTEBOOK_THREADS.pop().join()
    return env
