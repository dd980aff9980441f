"""The built site: strict build, every page and asset present, nothing loaded from elsewhere.

The site is built once per session by the ``built_site`` fixture (tests/conftest.py).
HTML is read with the standard library's parser.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

import dropout_figs as df

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
# Attributes through which a page loads something (as opposed to linking to it).
LOADING = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
}
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)
# A style sheet loading from another host; a script naming one (XML namespaces aside).
CSS_REMOTE = re.compile(r"(?:url\(|@import)\s*[\"']?((?:https?:)?//[^\"')\s]+)", re.I)
SCRIPT_URL = re.compile(r"https?://(?!www\.w3\.org/)[^\s\"'`)]+", re.I)


class Page(HTMLParser):
    """Tags with their attributes, and the text of inline scripts and styles."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.inline: list[tuple[str, dict[str, str], str]] = []
        self._open: tuple[str, dict[str, str], list[str]] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attrs))
        if tag in {"script", "style"}:
            self._open = (tag, attrs, [])

    def handle_data(self, data):
        if self._open is not None:
            self._open[2].append(data)

    def handle_endtag(self, tag):
        if self._open is not None and tag == self._open[0]:
            name, attrs, parts = self._open
            self.inline.append((name, attrs, "".join(parts)))
            self._open = None

    def find(self, tag: str, **want: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in want.items())]


def urls(attr: str, value: str) -> list[str]:
    if attr == "srcset":
        return [part.strip().split()[0] for part in value.split(",") if part.strip()]
    return [value]


def local_target(page: Path, url: str, root: Path | None = None) -> Path | None:
    """The file a local URL points to, or None for anchors, data: and other schemes.

    Root-absolute URLs (only 404.html has them: a server shows it at any depth) are
    resolved against the site's root.
    """
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    if path.startswith("/"):
        return (root or page.parent).joinpath(path.lstrip("/")).resolve()
    return (page.parent / path).resolve()


@pytest.fixture(scope="module")
def site(built_site) -> Path:
    return built_site.dir


@pytest.fixture(scope="module")
def pages(site) -> dict[Path, Page]:
    return {p: Page(p.read_text(encoding="utf-8")) for p in sorted(site.rglob("*.html"))}


def test_build_is_clean(built_site):
    if built_site.log is None:
        pytest.skip("reusing a site built elsewhere (DROPOUT_FIGS_SITE): no build log")
    bad = [
        line
        for line in built_site.log.splitlines()
        if re.match(r"^(WARNING|ERROR)\s+-", line) or "Traceback" in line
    ]
    assert not bad, "\n".join(bad)


def test_front_matter_is_yaml():
    # MkDocs shows unparsable front matter (e.g. an unquoted ": ") as text, silently.
    bad = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        if text.startswith("---\n"):
            head = text[4 : text.index("\n---", 4)]
            try:
                meta = yaml.safe_load(head)
            except yaml.YAMLError as exc:
                bad.append(f"{page.relative_to(ROOT)}: {str(exc).splitlines()[0]}")
                continue
            if not isinstance(meta, dict):
                bad.append(f"{page.relative_to(ROOT)}: front matter is not a mapping")
    assert not bad, "front matter that MkDocs cannot read (quote the value):\n" + "\n".join(bad)


def test_every_nav_page_exists_and_is_built(site, nav_sources):
    srcs = nav_sources
    assert len(srcs) >= 10
    for src in srcs:
        assert (ROOT / "docs" / src).is_file(), f"nav lists docs/{src}, which does not exist"
        built = site / Path(src).with_suffix(".html")
        assert built.is_file(), f"{src} was not built to {built.relative_to(site)}"


def test_every_local_reference_exists(site, pages):
    missing = []
    for path, page in pages.items():
        for tag, attrs in page.tags:
            for attr in (*LOADING.get(tag, ()), "href"):
                for url in urls(attr, attrs.get(attr, "")):
                    target = local_target(path, url, site)
                    if target is not None and not target.exists():
                        missing.append(f"{path.relative_to(site)}: <{tag} {attr}={url!r}>")
    assert not missing, "\n".join(missing[:40])


def test_every_image_has_alt_text(site, pages):
    bad = [
        f"{path.relative_to(site)}: {attrs.get('src', '')[:80]}"
        for path, page in pages.items()
        for attrs in page.find("img")
        if not attrs.get("alt", "").strip()
    ]
    assert not bad, "images without alt text:\n" + "\n".join(bad)


def test_nothing_is_loaded_from_another_host(site, pages):
    bad = []
    for path, page in pages.items():
        where = path.relative_to(site)
        for tag, attrs in page.tags:
            for attr in LOADING.get(tag, ()):
                for url in urls(attr, attrs.get(attr, "")):
                    if REMOTE.match(url.strip()):
                        bad.append(f"{where}: <{tag} {attr}={url!r}>")
        for kind, attrs, text in page.inline:
            if kind == "style":
                bad += [f"{where}: inline <style>: {u}" for u in CSS_REMOTE.findall(text)]
            elif not attrs.get("type", "").endswith("json"):  # JSON is data, not code
                bad += [f"{where}: inline <script>: {u}" for u in SCRIPT_URL.findall(text)]
    for css in site.rglob("*.css"):
        bad += [f"{css.relative_to(site)}: {u}" for u in CSS_REMOTE.findall(css.read_text())]
    assert not bad, "\n".join(bad[:40])


def test_polyfills_and_fonts_are_local(pages, site):
    index = pages[site / "index.html"]
    scripts = [a["src"] for a in index.find("script") if "src" in a]
    assert any(s.endswith("assets/vendor/iframe-worker/shim.js") for s in scripts), scripts
    # theme.font: false -> no Google Fonts stylesheet, no preconnect
    assert not [a for a in index.find("link") if "fonts" in a.get("href", "")]


def test_katex_files_are_served(site):
    katex = site / "assets" / "vendor" / "katex"
    assert (katex / "katex.min.css").stat().st_size > 1000
    # math is rendered at build time: KaTeX's script is neither served nor loaded
    assert not (katex / "katex.min.js").exists()
    css = (katex / "katex.min.css").read_text()
    fonts = set(re.findall(r"url\((fonts/[^)]+)\)", css))
    assert len(fonts) > 20
    missing = [f for f in fonts if not (katex / f).is_file()]
    assert not missing, missing


def test_math_is_rendered_at_build_time(pages, site):
    """Theory's math is KaTeX markup in the HTML; only pages with math link KaTeX's CSS."""
    theory = pages[site / "theory.html"]
    classes = " ".join(a.get("class", "") for _, a in theory.tags)
    assert "arithmatex" in classes, "theory page has no math"
    text = (site / "theory.html").read_text(encoding="utf-8")
    assert text.count('class="katex"') > 10
    assert "\\(" not in re.sub(r"<annotation.*?</annotation>", "", text, flags=re.S)
    for page in (theory, pages[site / "explorables.html"]):
        assert not [a for a in page.find("script") if "katex" in a.get("src", "")]
    links = lambda page: [a["href"] for a in page.find("link") if "katex" in a.get("href", "")]  # noqa: E731
    assert links(theory) == ["assets/vendor/katex/katex.min.css"]
    plain = (site / "explorables.html").read_text(encoding="utf-8")
    assert "arithmatex" not in plain
    assert not links(pages[site / "explorables.html"])
    notebook = (site / "notebooks" / "training-lab.html").read_text(encoding="utf-8")
    assert 'class="katex"' in notebook
    assert "../assets/vendor/katex/katex.min.css" in notebook


def test_notebook_page_has_no_cdn_loaders(site):
    text = (site / "notebooks" / "training-lab.html").read_text(encoding="utf-8")
    assert "mathjax" not in text.lower()
    assert "cdnjs" not in text
    assert (site / "notebooks" / "training-lab.ipynb").is_file(), "include_source"


def test_notebook_is_executed_at_build_time(site):
    """The plugin executed it (mkdocs-jupyter has execute: false) and the page shows outputs."""
    served = json.loads((site / "notebooks" / "training-lab.ipynb").read_text(encoding="utf-8"))
    code = [c for c in served["cells"] if c["cell_type"] == "code"]
    assert code
    assert all(c["execution_count"] for c in code)
    assert sum(len(c["outputs"]) for c in code) >= len(code) // 2
    text = (site / "notebooks" / "training-lab.html").read_text(encoding="utf-8")
    assert "jp-OutputArea-output" in text


def test_offline_search_index(site, nav_sources):
    index = (site / "search" / "search_index.js").read_text(encoding="utf-8")
    assert index.startswith("var __index = ")
    docs = json.loads(index.removeprefix("var __index = "))["docs"]
    assert len({d["location"].split("#")[0] for d in docs}) >= len(nav_sources)


# --------------------------------------------------------------------------- the explorables
def widget(page: Page, name: str) -> dict[str, str]:
    found = page.find("div", **{"data-df-widget": name})
    assert len(found) == 1, f"no <div data-df-widget={name}>"
    return found[0]


def loads_bundle(page: Page, path: Path) -> bool:
    for attrs in page.find("script"):
        src = attrs.get("src", "")
        if src.endswith("dropout-figs.js"):
            target = local_target(path, src)
            return target is not None and target.is_file()
    return False


@pytest.mark.parametrize(
    ("src", "name"),
    [
        ("simulator.html", "simulator"),
        ("index.html", "simulator"),
        ("theory.html", "network"),
        ("training-lab.html", "training-lab"),
    ],
)
def test_explorable_pages_mount_a_widget_from_the_bundle(site, pages, src, name):
    page = pages[site / src]
    widget(page, name)
    assert loads_bundle(page, site / src), f"{src} does not load dropout-figs.js"


def test_simulator_fallback_is_the_packages_first_mask(site, pages):
    page = pages[site / "simulator.html"]
    imgs = [a for a in page.find("img") if "mask-grid" in a.get("src", "") or a.get("alt")]
    first = next(a for a in imgs if a.get("src", "").endswith(".png"))
    assert first["alt"].strip()
    target = local_target(site / "simulator.html", first["src"])
    assert target is not None
    assert target.is_file()


def test_training_lab_embeds_the_presets(site, pages):
    page = pages[site / "training-lab.html"]
    blobs = [t for kind, attrs, t in page.inline if "data-df-presets" in attrs]
    assert len(blobs) == 1
    presets = json.loads(blobs[0])
    assert presets == df.explorables.lab_presets()


@pytest.mark.parametrize("name", ["simulator", "network", "training-lab"])
def test_gallery_offers_each_explorable(site, pages, name):
    gallery = pages[site / "gallery.html"]
    href = f"downloads/explorable-{name}.html"
    assert any(a.get("href") == href for a in gallery.find("a")), href
    page = Page((site / href).read_text(encoding="utf-8"))
    widget(page, name)
    assert not [a for a in page.find("script") if a.get("src")], "the engine must be inlined"
