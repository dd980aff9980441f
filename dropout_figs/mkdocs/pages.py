"""The plugin's two passes over pages, and what both share.

* :class:`DryPage` (the collect pass, before any figure is drawn) evaluates a
  page's Jinja to learn which figures it needs; figure data are stand-ins.
* :class:`PageRenderer` (the render pass, once the figures are in the cache)
  evaluates it for real and rewrites its ``dropout-figs:`` links.

Both give Jinja the same globals (``figure_url``, ``figure_data``, ``figure_alt``,
``figure_cli``, ``run_config``, ``gallery`` and ``df``), from :meth:`_Pass.jinja_globals`.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

from .._validate import DropoutFigsError
from .markdown import md_escape

_OPTIONS = {"fmt", "format", "seed", "size", "dpi", "style"}


class FigureSite:
    """Where the plugin's figures come from (the cache) and go (the site)."""

    def __init__(self, cache: Path, figures_dir: str, style: str | None, mkdocs_config):
        self.cache = cache
        self.figures_dir = figures_dir
        self.style = style
        self.mkdocs_config = mkdocs_config
        self._entries: dict = {}

    def request(self, target: str | None = None, name: str | None = None, **kwargs):
        """``(Request, as_json)`` from ``name?query`` or from a name and keyword arguments."""
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
            style=opts.get("style") or self.style,
        )
        return request, as_json

    def entry(self, request):
        """The cached entry of ``request``, drawn now if the collect pass missed it."""
        from ..render import ensure_rendered

        entry = self._entries.get(request)
        if entry is None:
            entry = self._entries[request] = ensure_rendered(request, self.cache)
        return entry

    def src_uri(self, request, as_json: bool = False) -> str:
        """Where a figure (or its numbers) lives in the site; known before it is drawn."""
        return f"{self.figures_dir}/{request.filename(meta=as_json)}"

    def site_file(self, files: Files, request, as_json: bool = False) -> File:
        """Register the cached file with MkDocs (so it is copied and links validate)."""
        entry = self.entry(request)
        path = entry.path.with_suffix(".json") if as_json else entry.path
        src_uri = self.src_uri(request, as_json)
        file = files.get_file_from_path(src_uri)
        if file is None:
            file = File.generated(self.mkdocs_config, src_uri, abs_src_path=str(path))
            files.append(file)
        return file


def gallery_specs(group: str | None):
    """The figures of a gallery; an unknown group is an error, not an empty gallery."""
    from ..figures import iter_figures

    specs = list(iter_figures(group))
    if not specs:
        groups = sorted({s.group for s in iter_figures()})
        raise DropoutFigsError(
            f"gallery: unknown group {group!r}; known groups: {', '.join(groups)}"
        )
    return specs


def gallery_formats(spec) -> list[str]:
    # PDFs are a command away (the gallery shows it); the site offers PNG and SVG.
    return ["gif", "png"] if spec.animated else ["png", "svg"]


class _Pass:
    """What both passes give Jinja; subclasses say what a figure call does."""

    site: FigureSite
    uses: list

    def jinja_globals(self) -> dict[str, Any]:
        import dropout_figs

        return {
            "df": dropout_figs,
            "figure_url": self.figure_url,
            "figure_data": self.figure_data,
            "figure_alt": self.figure_alt,
            "figure_cli": self.figure_cli,
            "run_config": self.run_config,
            "gallery": self.gallery,
        }

    def run_config(self, name: str, **params: Any) -> str:
        """The configuration a lab figure trained, as one sentence (see :func:`run_block`)."""
        raise NotImplementedError

    def figure_cli(self, name: str, **params: Any) -> str:
        """The command line that rebuilds a figure."""
        request, _ = self.site.request(None, name, **params)
        return request.cli()


class DryPage(_Pass):
    """The collect pass over one page: which figures, and is the output final?

    ``figure_data`` and ``figure_alt`` return stand-ins here; a page that used
    neither (``exact``) came out as the render pass would make it, so its output
    can go straight into the page cache.
    """

    def __init__(self, site: FigureSite, url: str, wanted: dict):
        self.site, self.url, self.wanted = site, url, wanted
        self.uses: list = []
        self.exact = True

    def _want(self, name: str, **params: Any):
        request, as_json = self.site.request(None, name, **params)
        self.wanted[request] = None
        return request, as_json

    def figure_url(self, name: str, **params: Any) -> str:
        request, as_json = self._want(name, **params)
        self.uses.append((request, as_json))
        # Known before drawing: the file name is the hash of the request.
        return get_relative_url(self.site.src_uri(request, as_json), self.url)

    def figure_data(self, name: str, **params: Any):
        self._want(name, **params)
        self.exact = False
        return Probe()

    def figure_alt(self, name: str, **params: Any) -> str:
        self._want(name, **params)
        self.exact = False
        return ""

    def run_config(self, name: str, **params: Any) -> str:
        self._want(name, **params)
        self.exact = False
        return ""

    def gallery(self, group: str | None = None, heading: str = "##") -> str:
        self.exact = False
        for spec in gallery_specs(group):
            for fmt in gallery_formats(spec):
                self._want(spec.name, fmt=fmt)
        return ""


class PageRenderer(_Pass):
    """The render pass over one page, with every figure it needs in the cache."""

    def __init__(self, site: FigureSite, page, files: Files):
        self.site, self.page, self.files = site, page, files
        self.uses: list = []

    def figure_url(self, name: str, **params: Any) -> str:
        """URL of the rendered figure, relative to the page (for raw HTML and scripts)."""
        request, as_json = self.site.request(None, name, **params)
        self.uses.append((request, as_json))
        file = self.site.site_file(self.files, request, as_json)
        return get_relative_url(file.url, self.page.url)

    def figure_data(self, name: str, **params: Any):
        """The numbers behind a figure (its ``Drawing.data``), from the same cached render."""
        request, _ = self.site.request(None, name, **params)
        return self.site.entry(request).data

    def figure_alt(self, name: str, **params: Any) -> str:
        request, _ = self.site.request(None, name, **params)
        return self.site.entry(request).alt

    def run_config(self, name: str, **params: Any) -> str:
        """``{{ run_config("loss-curves", preset=...) }}``: the figure's ``data["run"]``
        as a sentence, marked up so a test can check it against the figure."""
        data = self.figure_data(name, **params)
        if "run" not in data:
            raise DropoutFigsError(
                f"run_config: figure {name!r} has no run record (data['run']); "
                "only figures that train carry one"
            )
        return run_block(name, params, data["run"])

    def replay(self, uses) -> None:
        """Register the files a page's cached output links to."""
        for request, as_json in uses:
            self.site.site_file(self.files, request, as_json)

    def replace_link(self, m: re.Match) -> str:
        request, as_json = self.site.request(m["target"])
        file = self.site.site_file(self.files, request, as_json)
        text = m["text"]
        if m["bang"] and not text.strip():
            text = md_escape(self.site.entry(request).alt)
        here = posixpath.dirname(self.page.file.src_uri) or "."
        url = posixpath.relpath(file.src_uri, here)
        return f"{m['bang']}[{text}]({url}{m['title'] or ''})"

    def replace_src(self, m: re.Match) -> str:
        request, as_json = self.site.request(m["target"])
        file = self.site.site_file(self.files, request, as_json)
        return f"{m['attr']}={m['q']}{get_relative_url(file.url, self.page.url)}{m['q']}"

    def gallery(self, group: str | None = None, heading: str = "##") -> str:
        """Markdown for every catalogued figure: picture, downloads, command, alt text."""
        blocks = []
        for spec in gallery_specs(group):
            fmts = gallery_formats(spec)
            first, _ = self.site.request(None, spec.name, fmt=fmts[0])
            entry = self.site.entry(first)
            downloads = " · ".join(
                f"[{fmt.upper()}](dropout-figs:{spec.name}?fmt={fmt})" for fmt in fmts
            )
            downloads += f" · [numbers (JSON)](dropout-figs:{spec.name}?fmt=json)"
            rows = "\n".join(
                f"    | `{flags}` | {p.help} | {p.describe()} |"
                for p, flags in zip(spec.params, spec.flag_names(), strict=True)
            )
            blocks.append(
                f"{heading} {spec.name} {{ #{spec.name} }}\n\n"
                f"{spec.summary}\n\n"
                f'<figure markdown="span">\n'
                f"  ![{md_escape(entry.alt)}](dropout-figs:{spec.name}?fmt={fmts[0]})\n"
                f"</figure>\n\n"
                f"**Download:** {downloads}\n\n"
                f"**Rebuild:**\n\n```bash\n{first.cli()}\n```\n\n"
                f"**Alt text:** {html.escape(entry.alt)}\n\n"
                f'??? info "Parameters of {spec.name}"\n\n'
                f"    | flag | meaning | values |\n    |---|---|---|\n"
                f"{rows}\n    | `--seed` | random seed | default {spec.seed} |\n\n"
                "Licence: [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/), "
                "dropout-figs.\n"
            )
        return "\n".join(blocks)


def run_block(name: str, params: dict, run: dict) -> str:
    """Inline HTML: :func:`~dropout_figs.lab.record.describe_run` of ``run``, with the
    figure's name, its parameters and the record itself in ``data-df-*`` attributes."""
    from ..lab.record import describe_run

    def attr(value) -> str:
        return html.escape(json.dumps(value, sort_keys=True), quote=True)

    return (
        f'<span class="df-run" data-df-figure="{html.escape(name, quote=True)}" '
        f'data-df-params="{attr(params)}" data-df-run="{attr(run)}">'
        f"{html.escape(describe_run(run), quote=False)}</span>"
    )


class Templates:
    """One Jinja environment for every page; compiled pages kept by their text."""

    def __init__(self):
        import jinja2

        self.env = jinja2.Environment(
            undefined=jinja2.StrictUndefined,
            comment_start_string="{##",
            comment_end_string="##}",
            keep_trailing_newline=True,
            autoescape=False,
        )
        self.env.filters["thousands"] = lambda x: f"{int(x):,}"
        self.env.filters["percent"] = lambda x, digits=1: f"{100 * float(x):.{digits}f} %"
        self._compiled: dict = {}

    def render(self, text: str, run: _Pass) -> str:
        template = self._compiled.get(text)
        if template is None:
            template = self._compiled[text] = self.env.from_string(text)
        return template.render(run.jinja_globals())


def template_line(exc: BaseException) -> int | None:
    """The page line a Jinja error points at (Jinja maps template frames to their lines)."""
    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class Probe:
    """Stands in for figure data during the collect pass: any use gives a harmless value."""

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
