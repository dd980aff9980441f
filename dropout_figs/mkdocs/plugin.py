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
  ``figure_data``, ``figure_alt``, ``figure_cli`` and ``gallery()``. Jinja
  comments are ``{## ... ##}`` so that attribute lists like ``{#id}`` stay
  Markdown.

Before any page is rendered, a dry pass over every page collects the figures it
will need and draws the missing ones in parallel on all cores; later passes and
rebuilds read the cache. An unknown figure or a bad parameter fails the build
with the page's name and a one-line reason.
"""

from __future__ import annotations

import hashlib
import html
import json
import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url
from mkdocs.utils.meta import get_data

from .._validate import DropoutFigsError

log = get_plugin_logger(__name__)

_OPTIONS = {"fmt", "format", "seed", "size", "dpi", "style"}
# ![alt](dropout-figs:name?query "title") and [text](dropout-figs:name?query)
_LINK_RE = re.compile(
    r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\(\s*<?dropout-figs:(?P<target>[^)\s\"'>]+)>?"
    r"(?P<title>\s+\"[^\"]*\")?\s*\)"
)
_SRC_RE = re.compile(r"(?P<attr>\b(?:src|href))=(?P<q>[\"'])dropout-figs:(?P<target>[^\"']+)(?P=q)")


class _PluginConfig(Config):
    cache_dir = c.Type(str, default=".cache/dropout-figs")
    figures_dir = c.Type(str, default="figures")
    jobs = c.Type(int, default=0)
    macros = c.Type(bool, default=True)
    style = c.Optional(c.Type(str))


class _Probe:
    """Stands in for figure data during the dry pass: any use gives a harmless value."""

    def __getattr__(self, name):
        return self

    def __getitem__(self, key):
        return self

    def __call__(self, *a, **k):
        return self

    def __iter__(self):
        return iter(())

    def __float__(self):
        return 0.0

    def __int__(self):
        return 0

    __index__ = __int__

    def __round__(self, n=None):
        return 0

    def __str__(self):
        return "0"

    def __format__(self, spec):
        return format(0.0, spec) if spec else "0"

    def __bool__(self):
        return False

    def __len__(self):
        return 0

    def _op(self, *a):
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _op
    __truediv__ = __rtruediv__ = __neg__ = __abs__ = __pow__ = _op


class DropoutFigsPlugin(BasePlugin[_PluginConfig]):
    """Render the dropout-figs catalogue at build time (see the module docstring)."""

    supports_multiple_instances = False

    def __init__(self):
        self._entries: dict = {}
        self._files: Files | None = None
        self._page = None
        self._dry: set | None = None
        self._env = None
        self._templates: dict = {}
        self._uses: list | None = None
        self._dry_url: str | None = None
        self._inexact = False

    # ------------------------------------------------------------------ hooks
    def on_config(self, config):
        root = Path(config.config_file_path or ".").resolve().parent
        cache = Path(self.config.cache_dir)
        self._cache = cache if cache.is_absolute() else root / cache
        self._root = root
        self._mkdocs_config = config
        self._figdir = self.config.figures_dir.strip("/")
        return config

    def on_files(self, files: Files, config) -> Files:
        from ..render import render_many

        self._files = files
        self._dry = set()
        for file in files.documentation_pages():
            if not file.src_uri.endswith(".md"):
                continue
            # The same text on_page_markdown sees: without the front matter.
            text, _ = get_data(file.content_string)
            if self.config.macros and _has_jinja(text):
                hit = self._page_cache_get(text, file.src_uri)
                if hit is not None:
                    text, uses = hit
                    self._dry.update(request for request, _ in uses)
                else:
                    text = self._dry_run(text, file)
            for pattern in (_LINK_RE, _SRC_RE):
                for m in _finditer_outside_code(pattern, text):
                    self._record(m["target"])
        todo, self._dry = self._dry, None
        if todo:
            jobs = self.config.jobs or None
            n_cached = 0

            def progress(done, total, request):
                nonlocal n_cached
                if request is None:
                    n_cached = done

            render_many(todo, self._cache, jobs=jobs, progress=progress)
            log.info(
                "%d figure files (%d drawn, %d from the cache)",
                len(todo),
                len(todo) - n_cached,
                n_cached,
            )
        return files

    def on_page_markdown(self, markdown: str, page, config, files: Files):
        if not page.file.src_uri.endswith(".md"):
            return markdown
        self._page, self._files = page, files
        where = page.file.src_uri
        try:
            if self.config.macros and _has_jinja(markdown):
                markdown = self._jinja_page(markdown, where)
            markdown = _sub_outside_code(_LINK_RE, self._replace_link, markdown)
            markdown = _sub_outside_code(_SRC_RE, self._replace_src, markdown)
        except DropoutFigsError as exc:
            raise PluginError(f"dropout-figs: {where}: {exc}") from None
        except PluginError:
            raise
        except Exception as exc:
            import jinja2

            if isinstance(exc, jinja2.TemplateError):
                line = getattr(exc, "lineno", None)
                at = f"{where}:{line}" if line else where
                raise PluginError(f"dropout-figs: {at}: {type(exc).__name__}: {exc}") from None
            raise
        finally:
            self._page = None
        return markdown

    # ------------------------------------------------------------------ requests
    def _request(self, target: str | None = None, name: str | None = None, **kwargs):
        """A Request from ``name?query`` or from keyword arguments."""
        from ..render import Request

        if target is not None:
            name, _, query = target.partition("?")
            kwargs = dict(parse_qsl(query.replace("&amp;", "&"), keep_blank_values=True))
        opts = {k: kwargs.pop(k) for k in list(kwargs) if k in _OPTIONS}
        fmt = opts.pop("fmt", None) or opts.pop("format", None)
        as_json = fmt == "json"
        request = Request.make(
            name,
            kwargs,
            fmt=None if as_json else fmt,
            seed=opts.get("seed"),
            size=opts.get("size"),
            dpi=opts.get("dpi"),
            style=opts.get("style") or self._style(),
        )
        return request, as_json

    def _style(self):
        style = self.config.style
        if style and (self._root / style).is_file():
            return str(self._root / style)
        return style

    def _record(self, target: str | None = None, name: str | None = None, **kwargs) -> None:
        try:
            request, _ = self._request(target, name, **kwargs)
        except DropoutFigsError:
            return
        self._dry.add(request)

    def _entry(self, request):
        from ..render import ensure_rendered

        entry = self._entries.get(request)
        if entry is None:
            entry = self._entries[request] = ensure_rendered(request, self._cache)
        return entry

    def _src_uri(self, request, as_json: bool = False) -> str:
        """Where a figure (or its numbers) lives in the site; known before it is drawn."""
        return f"{self._figdir}/{request.filename(meta=as_json)}"

    def _site_file(self, request, as_json: bool = False) -> File:
        """Register the cached file with MkDocs (so it is copied and links validate)."""
        entry = self._entry(request)
        path = entry.path.with_suffix(".json") if as_json else entry.path
        src_uri = self._src_uri(request, as_json)
        file = self._files.get_file_from_path(src_uri)
        if file is None:
            file = File.generated(self._mkdocs_config, src_uri, abs_src_path=str(path))
            self._files.append(file)
        return file

    def _page_relative(self, file: File) -> str:
        """Path of ``file`` relative to the current page's source (for Markdown links)."""
        here = posixpath.dirname(self._page.file.src_uri) or "."
        return posixpath.relpath(file.src_uri, here)

    # ------------------------------------------------------------------ rewriting
    def _replace_link(self, m: re.Match) -> str:
        request, as_json = self._request(m["target"])
        file = self._site_file(request, as_json)
        text = m["text"]
        if m["bang"] and not text.strip():
            text = self._entry(request).alt.replace("[", "(").replace("]", ")")
        return f"{m['bang']}[{text}]({self._page_relative(file)}{m['title'] or ''})"

    def _replace_src(self, m: re.Match) -> str:
        request, as_json = self._request(m["target"])
        file = self._site_file(request, as_json)
        return f"{m['attr']}={m['q']}{get_relative_url(file.url, self._page.url)}{m['q']}"

    # ------------------------------------------------------------------ Jinja
    def _jinja(self, text: str) -> str:
        env = self._jinja_env()
        template = self._templates.get(text)
        if template is None:
            template = self._templates[text] = env.from_string(text)
        return template.render()

    def _dry_run(self, text: str, file: File) -> str:
        """Evaluate a page to learn which figures it needs, before any is drawn.

        ``figure_data`` and ``figure_alt`` return stand-ins here; a page that used
        neither came out exactly as the real pass would make it, so it goes
        straight into the page cache and is not evaluated twice.
        """
        self._dry_url, self._uses, self._inexact = file.url, [], False
        try:
            out = self._jinja(text)
        except Exception:  # the real pass reports it, with the page's name
            return text
        else:
            if not self._inexact:
                self._page_cache_put(text, file.src_uri, out, self._uses)
            return out
        finally:
            self._dry_url, self._uses = None, None

    def _jinja_page(self, text: str, where: str) -> str:
        """A page's Jinja output, from the page cache when neither it nor the code changed.

        Evaluating a page can train networks or import scipy; its output is a
        pure function of the page's text, its place and the package's code, so
        a rebuild replays it, re-registering the figure files it links to.
        """
        hit = self._page_cache_get(text, where)
        if hit is not None:
            out, uses = hit
            for request, as_json in uses:
                self._site_file(request, as_json)
            return out
        self._uses = []
        try:
            out = self._jinja(text)
            uses = self._uses
        finally:
            self._uses = None
        self._page_cache_put(text, where, out, uses)
        return out

    def _page_cache_put(self, text: str, where: str, out: str, uses: list) -> None:
        from ..figures.catalogue import jsonable
        from ..render import write_atomic

        path = self._page_cache_path(text, where)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"markdown": out, "uses": [[jsonable(r.__dict__), j] for r, j in uses]}
        write_atomic(path, json.dumps(record).encode())

    def _page_cache_path(self, text: str, where: str) -> Path:
        from ..render import code_hash

        h = hashlib.sha256(code_hash().encode())
        for part in (where, self._figdir, str(self._style()), text):
            h.update(part.encode() + b"\0")
        return self._cache / "pages" / f"{h.hexdigest()[:24]}.json"

    def _page_cache_get(self, text: str, where: str):
        from ..render import Request

        path = self._page_cache_path(text, where)
        if not path.is_file():
            return None
        record = json.loads(path.read_text())
        uses = []
        for fields, as_json in record["uses"]:
            fields["params"] = tuple(tuple(kv) for kv in fields["params"])
            fields["size"] = tuple(fields["size"])
            uses.append((Request(**fields), as_json))
        return record["markdown"], uses

    def _jinja_env(self):
        if self._env is None:
            import jinja2

            import dropout_figs

            env = jinja2.Environment(
                undefined=jinja2.StrictUndefined,
                comment_start_string="{##",
                comment_end_string="##}",
                keep_trailing_newline=True,
                autoescape=False,
            )
            env.globals.update(
                df=dropout_figs,
                figure_url=self._figure_url,
                figure_data=self._figure_data,
                figure_alt=self._figure_alt,
                figure_cli=self._figure_cli,
                gallery=self._gallery,
            )
            env.filters["thousands"] = lambda x: f"{int(x):,}"
            env.filters["percent"] = lambda x, digits=1: f"{100 * float(x):.{digits}f} %"
            self._env = env
        return self._env

    def _figure_url(self, name: str, **params: Any) -> str:
        """URL of the rendered figure, relative to the page (for raw HTML and scripts)."""
        request, as_json = self._request(None, name, **params)
        if self._uses is not None:
            self._uses.append((request, as_json))
        if self._dry is not None:
            # Known before drawing: the file name is the hash of the request.
            self._dry.add(request)
            return get_relative_url(self._src_uri(request, as_json), self._dry_url)
        return get_relative_url(self._site_file(request, as_json).url, self._page.url)

    def _figure_data(self, name: str, **params: Any):
        """The numbers behind a figure (its ``Drawing.data``), from the same cached render."""
        if self._dry is not None:
            self._record(None, name, **params)
            self._inexact = True
            return _Probe()
        request, _ = self._request(None, name, **params)
        return self._entry(request).data

    def _figure_alt(self, name: str, **params: Any) -> str:
        if self._dry is not None:
            self._record(None, name, **params)
            self._inexact = True
            return ""
        request, _ = self._request(None, name, **params)
        return self._entry(request).alt

    def _figure_cli(self, name: str, **params: Any) -> str:
        request, _ = self._request(None, name, **params)
        return request.cli()

    def _gallery(self, group: str | None = None, heading: str = "##") -> str:
        """Markdown for every catalogued figure: picture, downloads, command, alt text."""
        from ..figures import iter_figures

        blocks = []
        for spec in iter_figures(group):
            # PDFs are a command away (the gallery shows it); the site offers PNG and SVG.
            fmts = ["gif", "png"] if spec.animated else ["png", "svg"]
            if self._dry is not None:
                self._inexact = True
                for fmt in fmts:
                    self._record(None, spec.name, fmt=fmt)
                continue
            first, _ = self._request(None, spec.name, fmt=fmts[0])
            entry = self._entry(first)
            downloads = " · ".join(
                f"[{fmt.upper()}](dropout-figs:{spec.name}?fmt={fmt})" for fmt in fmts
            )
            downloads += f" · [numbers (JSON)](dropout-figs:{spec.name}?fmt=json)"
            rows = "\n".join(
                f"| `{flags}` | {p.help} | {p.describe()} |"
                for p, flags in zip(spec.params, spec.flag_names(), strict=True)
            )
            blocks.append(
                f"{heading} {spec.name} {{ #{spec.name} }}\n\n"
                f"{spec.summary}\n\n"
                f'<figure markdown="span">\n'
                f"  ![{_md_escape(entry.alt)}](dropout-figs:{spec.name}?fmt={fmts[0]})\n"
                f"</figure>\n\n"
                f"**Download:** {downloads}\n\n"
                f"**Rebuild:**\n\n```bash\n{first.cli()}\n```\n\n"
                f"**Alt text:** {html.escape(entry.alt)}\n\n"
                f'??? info "Parameters of {spec.name}"\n\n'
                f"    | flag | meaning | values |\n    |---|---|---|\n"
                + "\n".join("    " + r for r in rows.splitlines())
                + f"\n    | `--seed` | random seed | default {spec.seed} |\n\n"
                "Licence: [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/), "
                "dropout-figs.\n"
            )
        return "\n".join(blocks)


def _has_jinja(text: str) -> bool:
    return "{{" in text or "{%" in text


# A fenced code block (``` or ~~~, possibly indented, e.g. inside tabs or
# admonitions) or an inline code span: examples there are shown, not rendered.
_CODE_RE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[^\n]*\n(?:.*?\n)??(?P=indent)?(?P=fence)[ \t]*$"
    r"|(?P<ticks>`+)(?!`)[^\n]*?(?<!`)(?P=ticks)(?!`)",
    re.MULTILINE | re.DOTALL,
)


def _split_code(text: str):
    """Yield (is_code, segment) pieces of Markdown ``text``."""
    pos = 0
    for m in _CODE_RE.finditer(text):
        if m.start() > pos:
            yield False, text[pos : m.start()]
        yield True, m.group(0)
        pos = m.end()
    if pos < len(text):
        yield False, text[pos:]


def _sub_outside_code(pattern: re.Pattern, repl, text: str) -> str:
    return "".join(seg if code else pattern.sub(repl, seg) for code, seg in _split_code(text))


def _finditer_outside_code(pattern: re.Pattern, text: str):
    for code, seg in _split_code(text):
        if not code:
            yield from pattern.finditer(seg)


def _md_escape(text: str) -> str:
    return text.replace("[", "(").replace("]", ")").replace("\n", " ")
