"""MkDocs plugin: figures of the catalogue rendered at build time, numbers from the package.

Add it to any MkDocs site (``plugins: [search, dropout-figs]``), then in a page:

* a figure with its own parameters, rendered at build time into the site (not
  into ``docs/``), cached by a hash of the parameters and the package's code::

      ![Alt text](dropout-figs:mask-grid?n_units=64&keep_prob=0.5&seed=3)
      ![](dropout-figs:kept-count-pmf?n=256&drop_rate=0.3&fmt=svg&size=1200x700)

  An empty alt text is replaced by the figure's own, which states its numbers.
  ``fmt``, ``seed``, ``size``, ``dpi`` and ``style`` are options; every other
  key is a figure parameter. A plain link (``[PNG](dropout-figs:...?fmt=png)``)
  links to the file; ``fmt=json`` links to the numbers behind the figure.
  ``src="dropout-figs:..."`` works in raw HTML too.
* numbers computed by the package, with Jinja2 (undefined names fail the build)::

      {{ df.layer_summary(256, keep_prob=0.7).kept }} units are kept.
      {{ figure_data("loss-curves", preset="severe-overfitting").with_dropout.val_loss }}

  Globals: ``df`` (the ``dropout_figs`` package), ``figure_url``,
  ``figure_data``, ``figure_alt``, ``figure_cli``, ``run_config`` (a lab
  figure's run record as one sentence) and ``gallery()``. Jinja
  comments are ``{## ... ##}`` so that attribute lists like ``{#id}`` stay
  Markdown.

Notebooks matching the ``notebooks`` option (glob patterns under ``docs/``, e.g.
``["notebooks/*.ipynb"]``) are executed at build time into the cache, keyed by
their cells and the package's code; the page converter (mkdocs-jupyter with
``execute: false``) is given the executed copy.

Before any page is rendered, a collect pass over every page learns the figures
it will need and draws the missing ones in parallel on all cores, while the
notebooks execute; the render pass and rebuilds read the cache. Any error (an
unknown figure, a bad parameter, a figure that fails to draw, a Jinja error)
fails the build with one line: the page, the line where known, the problem.
"""

from __future__ import annotations

import contextlib
import posixpath
import threading
from pathlib import Path, PurePosixPath

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import Files
from mkdocs.utils.meta import get_data

from .._validate import DropoutFigsError
from .cache import PageCache, prepare_folder
from .markdown import (
    LINK_RE,
    SRC_RE,
    has_jinja,
    lazy_figure_images,
    line_of,
    sub_outside_code,
    targets_outside_code,
)
from .notebooks import ExecutedNotebook, forget_others
from .pages import DryPage, FigureSite, PageRenderer, Templates, template_line

log = get_plugin_logger(__name__)


class _PluginConfig(Config):
    cache_dir = c.Type(str, default=".cache/dropout-figs")
    figures_dir = c.Type(str, default="figures")
    jobs = c.Type(int, default=0)
    macros = c.Type(bool, default=True)
    style = c.Optional(c.Type(str))
    notebooks = c.ListOfItems(c.Type(str), default=[])


class _AtLine(Exception):
    """An error found at a known line of a page's file."""

    def __init__(self, line: int | None, cause: BaseException):
        self.line, self.cause = line, cause


class DropoutFigsPlugin(BasePlugin[_PluginConfig]):
    """Render the dropout-figs catalogue at build time (see the module docstring)."""

    supports_multiple_instances = False

    # ------------------------------------------------------------------ set-up
    def on_config(self, config):
        root = Path(config.config_file_path or ".").resolve().parent
        cache = Path(self.config.cache_dir)
        cache = prepare_folder(cache if cache.is_absolute() else root / cache, "cache_dir")
        style = self.config.style
        if style and (root / style).is_file():
            style = str(root / style)
        figures_dir = self.config.figures_dir.strip("/")
        self._site = FigureSite(cache, figures_dir, style, config)
        self._pages = PageCache(cache / "pages", (figures_dir, str(style)))
        self._templates = Templates()
        return config

    # ------------------------------------------------------------------ collect pass
    def on_files(self, files: Files, config) -> Files:
        wanted: dict = {}  # requests in page order (a dict: no set order reaches output)
        for file in files.documentation_pages():
            if file.src_uri.endswith(".md"):
                # The same text on_page_markdown sees: without the front matter.
                text, _ = get_data(file.content_string)
                if self.config.macros and has_jinja(text):
                    text = self._collect_jinja(text, file, wanted)
                for target in targets_outside_code(text):
                    # A bad request is reported by the render pass, with the page and line.
                    with contextlib.suppress(DropoutFigsError):
                        wanted[self._site.request(target)[0]] = None
        self._draw(list(wanted), self._notebooks(files))
        return files

    def _collect_jinja(self, text: str, file, wanted: dict) -> str:
        hit = self._pages.get(text, file.src_uri)
        if hit is not None:
            out, uses = hit
            wanted.update((request, None) for request, _ in uses)
            return out
        dry = DryPage(self._site, file.url, wanted)
        try:
            out = self._templates.render(text, dry)
        except Exception:  # the render pass reports it, with the page and line
            return text
        if dry.exact:  # no stand-ins used: this is the page's final output
            self._pages.put(text, file.src_uri, out, dry.uses)
        return out

    def _notebooks(self, files: Files) -> list[ExecutedNotebook]:
        """The site's notebooks to execute, each File pointed at its executed copy."""
        patterns = self.config.notebooks
        folder = self._site.cache / "notebooks"
        found = []
        for file in files:
            uri = PurePosixPath(file.src_uri)
            if file.abs_src_path and uri.suffix == ".ipynb" and any(map(uri.match, patterns)):
                notebook = ExecutedNotebook(Path(file.abs_src_path), file.src_uri, folder)
                # The same page, read from the cache: a converter that wraps the File
                # (mkdocs-jupyter does) derives the path from src_dir, so set both.
                file.src_dir = str(notebook.root)
                file.abs_src_path = str(notebook.path)
                found.append(notebook)
        if patterns:
            forget_others(folder, {n.key for n in found})
        return [n for n in found if not n.is_cached()]

    def _draw(self, requests: list, notebooks: list[ExecutedNotebook]) -> None:
        """Draw the missing figures on all cores while the notebooks execute (a kernel each)."""
        from ..render import render_many

        failures: list[BaseException] = []

        def execute_all():
            for notebook in notebooks:
                try:
                    notebook.execute()
                except BaseException as exc:  # reported below, in this hook
                    failures.append(exc)

        worker = threading.Thread(target=execute_all, name="dropout-figs-notebooks")
        worker.start()
        try:
            n_cached = 0

            def progress(done, total, request):
                nonlocal n_cached
                if request is None:
                    n_cached = done

            if requests:
                render_many(
                    requests, self._site.cache, jobs=self.config.jobs or None, progress=progress
                )
                log.info(
                    "%d figure files (%d drawn, %d from the cache)",
                    len(requests),
                    len(requests) - n_cached,
                    n_cached,
                )
        except Exception as exc:
            # A figure that cannot be drawn: the render pass draws what is still missing
            # and reports the failure with the page and line that asked for it.
            log.debug("drawing in parallel stopped: %s", exc)
        finally:
            worker.join()
        if failures:
            raise failures[0]
        if notebooks:
            log.info("%d notebook(s) executed", len(notebooks))

    # ------------------------------------------------------------------ render pass
    def on_page_markdown(self, markdown: str, page, config, files: Files):
        if not page.file.src_uri.endswith(".md"):
            return markdown
        source = page.file.content_string
        # Jinja counts lines from the end of the front matter; the file from its start.
        offset = (
            source[: len(source) - len(markdown)].count("\n") if source.endswith(markdown) else 0
        )
        run = PageRenderer(self._site, page, files)
        line = None
        try:
            if self.config.macros and has_jinja(markdown):
                try:
                    markdown = self._render_jinja(markdown, page.file.src_uri, run)
                except Exception as exc:
                    jinja_line = template_line(exc)
                    raise _AtLine(jinja_line and jinja_line + offset, exc) from None
            for pattern, replace in ((LINK_RE, run.replace_link), (SRC_RE, run.replace_src)):
                markdown = sub_outside_code(pattern, _located(replace, source), markdown)
        except _AtLine as at:
            line, exc = at.line, at.cause
        else:
            return markdown
        where = f"{page.file.src_uri}:{line}" if line else page.file.src_uri
        raise PluginError(f"dropout-figs: {where}: {_one_line(exc)}")

    def on_page_content(self, html: str, page, config, files: Files):
        """Figures load lazily with their size reserved (see lazy_figure_images)."""
        base = page.url if page.url.endswith("/") or not page.url else posixpath.dirname(page.url)
        prefix = self._site.figures_dir + "/"

        def find_file(src: str):
            if "://" in src or src.startswith(("/", "data:")):
                return None
            url = posixpath.normpath(posixpath.join(base, src.split("#")[0].split("?")[0]))
            file = files.get_file_from_path(url) if url.startswith(prefix) else None
            return file.abs_src_path if file is not None else None

        return lazy_figure_images(html, find_file)

    def _render_jinja(self, text: str, where: str, run: PageRenderer) -> str:
        """A page's Jinja output, from the page cache when neither it nor the code changed.

        Evaluating a page can train networks or import scipy; its output is a
        pure function of the page's text, its place and the package's code, so
        a rebuild replays it, re-registering the figure files it links to.
        """
        hit = self._pages.get(text, where)
        if hit is not None:
            out, uses = hit
            try:
                run.replay(uses)
                return out
            except Exception:  # evaluated below, so the error names its line
                run.uses.clear()
        out = self._templates.render(text, run)
        self._pages.put(text, where, out, run.uses)
        return out


def _located(replace, source: str):
    """``replace`` for re.sub, its errors tagged with the line of the link in ``source``."""

    def sub(m):
        try:
            return replace(m)
        except Exception as exc:
            raise _AtLine(line_of(source, m["target"]), exc) from None

    return sub


def _one_line(exc: BaseException) -> str:
    """The problem in one line: our own errors say it all; others need their type."""
    text = " ".join(str(exc).split())
    if isinstance(exc, DropoutFigsError | PluginError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
