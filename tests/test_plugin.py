"""The MkDocs plugin on a throwaway site: figure links, build-time numbers, errors, the cache."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, PluginError

import dropout_figs.render.cache as render_mod  # where the cache looks up draw_encoded
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


# --------------------------------------------------------------------------- one-line errors
def _error_lines(caplog) -> list[str]:
    """ERROR lines of the build log, but MkDocs' own "Error reading page 'x':" before ours."""
    lines = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    return [line for line in lines if not line.startswith("Error reading page ")]


def _fails_with_one_line(tmp_path, caplog, page: str, **plugin_options) -> str:
    cfg = make_site(tmp_path, {"index.md": page}, **plugin_options)
    with pytest.raises((PluginError, Abort)):
        build_site(cfg)
    errors = _error_lines(caplog)
    assert len(errors) == 1, errors
    assert "Traceback" not in caplog.text
    assert "\n" not in errors[0]
    return errors[0]


@pytest.mark.parametrize(
    ("page", "where", "needles"),
    [
        ("# T\n\n{{ 1/0 }}\n", "index.md:3", ["ZeroDivisionError"]),
        ("# T\n\nok\n\n{{ df.layer_summary() }}\n", "index.md:5", ["TypeError", "n_units"]),
        ("---\ntitle: T\n---\n\n{{ gallery('nope') }}\n", "index.md:5", ["nope", "dropout"]),
        ("# T\n\n![](dropout-figs:mask-grid?n=4&style=no-such-style)\n", "index.md:3", ["style"]),
        ("# T\n{{ figure_url('mask-grid', style='no-such-style') }}\n", "index.md:2", ["style"]),
        ("# T\n\n\n![](dropout-figs:mask-grid?n_units=5000)\n", "index.md:4", ["n_units"]),
        ("# T\n{% for x in %}\n", "index.md:2", ["TemplateSyntaxError"]),
    ],
)
def test_every_page_error_is_one_line_with_page_and_line(tmp_path, caplog, page, where, needles):
    error = _fails_with_one_line(tmp_path, caplog, page)
    assert error.startswith(f"dropout-figs: {where}: ")
    for needle in needles:
        assert needle in error


def test_a_figure_failing_while_drawing_names_its_page_and_line(tmp_path, caplog, monkeypatch):
    from dropout_figs import DropoutFigsError

    real = render_mod.draw_encoded

    def draw(requests):
        if dict(requests[0].params).get("n_units") == 49:
            raise DropoutFigsError("this drawing would cost too much; lower n_units")
        return real(requests)

    monkeypatch.setattr(render_mod, "draw_encoded", draw)
    page = "# T\n\n![](dropout-figs:mask-grid?n=4)\n![](dropout-figs:mask-grid?n=49)\n"
    error = _fails_with_one_line(tmp_path, caplog, page)
    assert error == "dropout-figs: index.md:4: this drawing would cost too much; lower n_units"


def test_a_style_file_is_never_echoed(tmp_path, caplog, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:SECRET-HASH:19000:0:99999:7:::\nlines.linewidth: 9\n")
    page = f"# T\n![](dropout-figs:mask-grid?n=4&style={secret})\n"
    error = _fails_with_one_line(tmp_path, caplog, page)
    assert error.startswith("dropout-figs: index.md:2: ")
    out = capsys.readouterr()
    assert "SECRET" not in caplog.text + out.out + out.err


# --------------------------------------------------------------------------- caches
def test_damaged_page_cache_entries_are_misses(tmp_path, caplog):
    import logging

    page = "# T\n\nKept: {{ df.layer_summary(64, keep_prob=0.5).kept }}.\n"
    cfg = make_site(tmp_path, {"index.md": page, "two.md": page})
    build_site(cfg)
    entries = sorted((tmp_path / "cache" / "pages").glob("*.json"))
    assert len(entries) == 2
    entries[0].write_bytes(b"")
    entries[1].write_text('{"markdown": "Kept: 0.", "uses": [], "sha256": "0"}')
    caplog.clear()
    with caplog.at_level(logging.INFO):
        config = build_site(cfg)
    kept = layer_summary(64, keep_prob=0.5).kept
    for name in ("index.html", "two.html"):
        assert f"Kept: {kept}." in (tmp_path / config.site_dir / name).read_text()
    infos = [r.getMessage() for r in caplog.records if "page cache entry" in r.getMessage()]
    assert len(infos) == 2
    assert all(any(str(e) in m for m in infos) for e in entries)
    assert all(json.loads(e.read_text())["markdown"] for e in entries)  # replaced


def test_a_cache_folder_blocked_by_a_file_is_one_line(tmp_path, caplog):
    (tmp_path / "blocked").write_text("not a folder")
    cache = tmp_path / "blocked" / "dropout-figs"
    cfg = make_site(tmp_path, {"index.md": "# T\n"}, cache_dir=str(cache))
    with pytest.raises((PluginError, Abort)):
        build_site(cfg)
    assert "Traceback" not in caplog.text
    assert _error_lines(caplog) == [
        f"dropout-figs: cache folder {cache}: {tmp_path / 'blocked'} is a file, not a folder; "
        "move it away or set cache_dir"
    ]


NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "id": "c1",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": [
                "import dropout_figs as df\n",
                "print(df.layer_summary(64, keep_prob=0.5).kept)",
            ],
        }
    ],
    "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_notebooks_are_executed_into_a_verified_cache(tmp_path, caplog):
    import logging

    cfg = make_site(tmp_path, {"index.md": "# T\n"}, notebooks=["nb/*.ipynb"])
    (tmp_path / "docs" / "nb").mkdir()
    (tmp_path / "docs" / "nb" / "lab.ipynb").write_text(json.dumps(NOTEBOOK))
    kept = str(layer_summary(64, keep_prob=0.5).kept)

    def served_output(config) -> str:
        served = json.loads((tmp_path / config.site_dir / "nb" / "lab.ipynb").read_text())
        return "".join(served["cells"][0]["outputs"][0]["text"]).strip()

    assert served_output(build_site(cfg)) == kept  # the site serves the executed copy
    (copy,) = (tmp_path / "cache" / "notebooks").glob("*/nb/lab.ipynb")
    copy.write_text(copy.read_text().replace(kept, "999"))
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert served_output(build_site(cfg)) == kept
    assert f"notebook cache entry {copy} is damaged" in caplog.text
    copy.write_bytes(b"")
    assert served_output(build_site(cfg)) == kept


def test_a_failing_notebook_cell_is_one_line(tmp_path, caplog):
    notebook = json.loads(json.dumps(NOTEBOOK))
    notebook["cells"].append({**notebook["cells"][0], "id": "c2", "source": ["1 / 0"]})
    cfg = make_site(tmp_path, {"index.md": "# T\n"}, notebooks=["*.ipynb"])
    (tmp_path / "docs" / "lab.ipynb").write_text(json.dumps(notebook))
    with pytest.raises((PluginError, Abort)):
        build_site(cfg)
    assert _error_lines(caplog) == [
        "dropout-figs: lab.ipynb: cell 2 raised ZeroDivisionError: division by zero"
    ]


def test_damaged_mkdocs_jupyter_cache_entries_are_removed(tmp_path):
    import importlib.util
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location(
        "site_hooks", Path(__file__).resolve().parent.parent / "scripts" / "mkdocs_hooks.py"
    )
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    good, empty, garbage = (tmp_path / f"{n}.json" for n in ("good", "empty", "garbage"))
    good.write_text('{"content": "<p>x</p>", "toc_tokens": [], "title": null}')
    empty.write_bytes(b"")
    garbage.write_bytes(b"\x00\xff{")
    jupyter = SimpleNamespace(config={"cache": True, "cache_dir": str(tmp_path)})
    hooks.on_pre_build(SimpleNamespace(plugins={"mkdocs-jupyter": jupyter}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.json"]
