"""The MkDocs plugin on a throwaway site: figure links, build-time numbers, errors, the cache."""

from __future__ import annotations

import json
import re
import textwrap

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, PluginError

import dropout_figs.render as render_mod
from dropout_figs import layer_summary


def make_site(tmp_path, pages: dict[str, str], **plugin_options):
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    for name, text in pages.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(textwrap.dedent(text))
    options = {"cache_dir": str(tmp_path / "cache"), "jobs": 1, **plugin_options}
    config_file = tmp_path / "mkdocs.yml"
    config_file.write_text(
        "site_name: test\nuse_directory_urls: false\nstrict: true\n"
        "markdown_extensions: [attr_list, md_in_html]\n"
        f"plugins:\n  - dropout-figs: {json.dumps(options)}\n"
    )
    return config_file


def build_site(config_file):
    config = load_config(str(config_file))
    build(config)
    return config


def test_figure_link_is_rendered_into_the_site_with_alt_text(tmp_path):
    cfg = make_site(
        tmp_path,
        {
            "index.md": """
            # Home
            ![](dropout-figs:mask-grid?n=16&keep_prob=0.5&seed=1)
            ![My words](dropout-figs:kept-count-pmf?n_units=64&drop_rate=0.3&fmt=svg)
            [the numbers](dropout-figs:kept-count-pmf?n_units=64&drop_rate=0.3&fmt=json)
            """,
            "sub/page.md": "![](dropout-figs:mask-grid?n=16&keep_prob=0.5&seed=1)\n",
        },
    )
    config = build_site(cfg)
    site = tmp_path / config.site_dir
    html = (site / "index.html").read_text()
    imgs = re.findall(r'<img alt="([^"]*)" src="([^"]+)"', html)
    assert len(imgs) == 2
    (alt, src), (alt2, src2) = imgs
    assert src.startswith("figures/mask-grid-")
    assert src.endswith(".gif")
    assert (site / src).read_bytes()[:6] == b"GIF89a"
    kept = layer_summary(16, keep_prob=0.5, seed=1).kept
    assert f"{kept} of 16" in alt  # the figure's own alt text states its numbers
    assert alt2 == "My words"
    assert (site / src2).read_bytes().lstrip()[:5] in (b"<?xml", b"<svg ")
    link = re.search(r'<a href="(figures/kept-count-pmf-[^"]+\.json)"', html)
    meta = json.loads((site / link.group(1)).read_text())
    assert meta["params"]["keep_prob"] == pytest.approx(0.7)
    sub = (site / "sub" / "page.html").read_text()
    assert f'src="../{src}"' in sub  # same figure, one file, page-relative link
    assert not (tmp_path / "docs" / "figures").exists()  # never written into docs/


def test_numbers_come_from_the_package(tmp_path):
    cfg = make_site(
        tmp_path,
        {
            "index.md": """
            Kept: {{ df.layer_summary(256, keep_prob=0.7, seed=0).kept }}.
            Subnetworks: {{ df.format_subnetworks(64) }}.
            Data kept: {{ figure_data("mask-grid", n_units=16, keep_prob=0.5, seed=1).kept[0] }}.
            <img id="u" src="{{ figure_url('mask-grid', n=16, keep_prob=0.5, seed=1) }}" alt="x">
            <img id="v" src="dropout-figs:subnetwork-count" alt="y">
            {#an-attribute-list-like-comment}
            """
        },
    )
    config = build_site(cfg)
    site = tmp_path / config.site_dir
    html = (site / "index.html").read_text()
    assert f"Kept: {layer_summary(256, keep_prob=0.7, seed=0).kept}." in html
    assert "Subnetworks: 1.84 × 10^19." in html
    assert f"Data kept: {layer_summary(16, keep_prob=0.5, seed=1).kept}." in html
    for ident in ("u", "v"):
        src = re.search(rf'<img id="{ident}" src="([^"]+)"', html).group(1)
        assert (site / src).is_file()


@pytest.mark.parametrize(
    ("page", "needles"),
    [
        ("![](dropout-figs:no-such-figure)", ["index.md", "unknown figure", "mask-grid"]),
        ("![](dropout-figs:mask-grid?keep_prob=1.7)", ["index.md", "keep_prob"]),
        ("![](dropout-figs:mask-grid?bogus=1)", ["index.md", "bogus"]),
        ("{{ df.no_such_function() }}", ["index.md", "no_such_function"]),
        ("{{ figure_data('mask-grid', n_units=0) }}", ["index.md", "n_units"]),
    ],
)
def test_bad_figure_requests_fail_the_build_clearly(tmp_path, caplog, page, needles):
    cfg = make_site(tmp_path, {"index.md": page})
    with pytest.raises((PluginError, Abort)):
        build_site(cfg)
    message = caplog.text  # MkDocs logs the plugin's error, then aborts
    assert "dropout-figs: index.md" in message
    for needle in needles:
        assert needle in message


def test_warm_rebuild_draws_nothing(tmp_path, monkeypatch):
    pages = {"index.md": "![](dropout-figs:mask-grid?n=9)\n{{ gallery('dropout') }}\n"}
    cfg = make_site(tmp_path, pages)
    build_site(cfg)
    calls = []
    real = render_mod.draw_encoded
    monkeypatch.setattr(render_mod, "draw_encoded", lambda rs: calls.append(rs) or real(rs))
    build_site(cfg)
    assert calls == []
    pages["index.md"] += "![](dropout-figs:mask-grid?n=10)\n"
    cfg = make_site(tmp_path, pages)
    build_site(cfg)
    assert len(calls) == 1  # only the new figure


def test_gallery_offers_downloads_and_commands(tmp_path):
    cfg = make_site(tmp_path, {"index.md": "{{ gallery('dropout') }}\n"})
    config = build_site(cfg)
    site = tmp_path / config.site_dir
    html = (site / "index.html").read_text()
    from dropout_figs.figures import iter_figures

    for spec in iter_figures("dropout"):
        assert f'id="{spec.name}"' in html
        assert f"dropout-figs render {spec.name}" in html
    for href in re.findall(r'href="(figures/[^"]+)"', html):
        assert (site / href).is_file()


def test_links_in_code_are_shown_not_rendered(tmp_path):
    example = "![](dropout-figs:no-such-figure?n=3)"
    cfg = make_site(
        tmp_path,
        {
            "index.md": f"""
            Inline: `{example}`

            ```markdown
            {example}
            ```

            ![](dropout-figs:mask-grid?n=4)
            """
        },
    )
    config = build_site(cfg)  # the unknown figure inside code does not fail the build
    html = (tmp_path / config.site_dir / "index.html").read_text()
    assert html.count("dropout-figs:no-such-figure?n=3") == 2
    assert re.search(r'<img alt="[^"]+" src="figures/mask-grid-', html)


def test_warm_rebuild_replays_pages_without_evaluating_them(tmp_path, monkeypatch):
    import dropout_figs.maths as maths

    page = """
    Kept: {{ df.layer_summary(64, keep_prob=0.5).kept }}.
    <img id="u" src="{{ figure_url('mask-grid', n=9) }}" alt="x">
    """
    cfg = make_site(tmp_path, {"index.md": page})
    build_site(cfg)
    calls = []
    real = maths.layer_summary
    monkeypatch.setattr(maths, "layer_summary", lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.setattr("dropout_figs.layer_summary", maths.layer_summary, raising=False)
    config = build_site(cfg)
    assert calls == []  # the page's output came from the page cache
    site = tmp_path / config.site_dir
    html = (site / "index.html").read_text()
    assert f"Kept: {real(64, keep_prob=0.5).kept}." in html
    src = re.search(r'<img id="u" src="([^"]+)"', html).group(1)
    assert (site / src).is_file()  # the figure it used was registered again
    make_site(
        tmp_path, {"index.md": page + "\nMore: {{ df.layer_summary(8, keep_prob=0.5).kept }}"}
    )
    build_site(cfg)
    assert len(calls) == 2  # an edited page is evaluated again, once: the dry pass was exact
