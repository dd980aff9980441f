"""The site's MkDocs hooks (scripts/mkdocs_hooks.py): math rendered at build time by KaTeX.

The built site is checked in tests/test_site.py (theory's math is KaTeX markup, no page loads
KaTeX's script) and in Chromium by tests/test_browser.py; here the renderer itself, on small
pieces of HTML: what counts as math, what does not, bad TeX, and the cache.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def hooks():
    if shutil.which("node") is None or not (ROOT / "node_modules" / "katex").is_dir():
        if os.environ.get("CI"):
            pytest.fail("node or node_modules/katex missing (run `make setup`)")
        pytest.skip("node or node_modules/katex missing (run `make setup`)")
    spec = importlib.util.spec_from_file_location(
        "site_hooks", ROOT / "scripts" / "mkdocs_hooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def katex(hooks, tmp_path):
    k = hooks.KaTeX(tmp_path / "katex")
    yield k
    k.close()


def test_arithmatex_math_becomes_katex_markup(hooks, katex):
    page = (
        '<p>Keep <span class="arithmatex">\\(q &lt; 1\\)</span>, drop '
        '<span class="arithmatex">\\(1 - q\\)</span>.</p>\n'
        '<div class="arithmatex">\\[\n\\mathbb{E}[K] = nq\n\\]</div>'
    )
    out, n = hooks.render_math(page, "t.md", katex)
    assert n == 3
    assert out.count('<span class="katex">') == 3
    assert out.count('class="katex-display"') == 1  # the \[ .. \] block, and only it
    assert '<annotation encoding="application/x-tex">q &lt; 1</annotation>' in out
    assert out.startswith("<p>Keep ")
    assert "\\(" not in out.replace("\\(n", "")


def test_notebook_dollars_only_in_markdown_cells_and_never_in_code(hooks, katex):
    cell = (
        '<div class="jp-Cell jp-MarkdownCell jp-Notebook-cell">'
        '<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput">'
        "<p>The paper's $p$ is our $q$; the drop rate is $1 - q$.</p>"
        "<p>$$\\frac{1}{q}$$ and <code>cost = $x$</code>; it costs $5 and $10.</p></div></div>"
    )
    output = '<div class="jp-Cell jp-CodeCell jp-Notebook-cell"><pre>echo $HOME $x$</pre></div>'
    out, n = hooks.render_math(cell + output, "nb.ipynb", katex, notebook=True)
    assert n == 4  # p, q, 1 - q and the display fraction
    assert out.count('<span class="katex">') == 4
    assert "<code>cost = $x$</code>" in out
    assert "it costs $5 and $10." in out
    assert out.endswith(output)  # a code cell's output is never math
    md_page, n = hooks.render_math(cell, "page.md", katex, notebook=False)
    assert n == 0
    assert md_page == cell


def test_bad_tex_fails_the_build_with_the_page_and_the_tex(hooks, katex):
    page = '<span class="arithmatex">\\(\\frac{1}{\\)</span>'
    with pytest.raises(PluginError, match=r"theory\.md: KaTeX cannot render .*frac\{1\}\{"):
        hooks.render_math(page, "theory.md", katex)


def test_a_warm_build_starts_no_node_and_a_page_without_math_no_css(hooks, tmp_path):
    page = '<html><head></head><body><span class="arithmatex">\\(x^2\\)</span></body></html>'
    first = hooks.KaTeX(tmp_path / "k")
    want, _ = hooks.render_math(page, "a.md", first)
    assert first.proc is not None
    first.close()
    warm = hooks.KaTeX(tmp_path / "k")
    assert hooks.render_math(page, "a.md", warm)[0] == want
    assert warm.proc is None, "the cache should have answered"
    # on_post_page links KaTeX's CSS, relative to the page, only where there is math
    hooks._katex = warm
    config = SimpleNamespace(config_file_path=str(tmp_path / "mkdocs.yml"))
    nested = SimpleNamespace(file=SimpleNamespace(src_uri="a/b.md"), url="a/b.html")
    out = hooks.on_post_page(page, nested, config)
    assert '<link rel="stylesheet" href="../assets/vendor/katex/katex.min.css">' in out
    plain = "<html><head></head><body><p>No math, $5.</p></body></html>"
    assert hooks.on_post_page(plain, nested, config) == plain
    hooks._katex = None
    # a damaged cache file is a miss, not an error
    next(iter((tmp_path / "k").glob("*.json"))).write_bytes(b"\x00{")
    assert hooks.KaTeX(tmp_path / "k").cache == {}
