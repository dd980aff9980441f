"""`dropout-figs explorable NAME -o FILE.html` and `dropout_figs.explorable(name)`.

A stand-in bundle (a few lines of JavaScript) replaces the real one here, so these run
without node; the real bundle is driven in Chromium by tests/test_browser.py.
"""

from __future__ import annotations

import html
import json
import re

import pytest

import dropout_figs as df
from dropout_figs.cli.main import main

FAKE_BUNDLE = 'window.dropoutFigs = {}; var end = "</script>"; // stand-in\n'


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    path = tmp_path / "dropout-figs.js"
    path.write_text(FAKE_BUNDLE, encoding="utf-8")
    monkeypatch.setenv("DROPOUT_FIGS_BUNDLE", str(path))
    return path


@pytest.mark.parametrize("name", ["simulator", "network", "training-lab"])
def test_cli_writes_one_self_contained_file(bundle, tmp_path, name, capsys):
    out = tmp_path / f"{name}.html"
    assert main(["explorable", name, "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    page = out.read_text(encoding="utf-8")
    assert f'data-df-widget="{name}"' in page
    # The engine is inlined, and its "</script>" cannot close the element early.
    assert "window.dropoutFigs = {};" in page
    assert page.count("</script>") == page.count("<script")
    # Nothing is fetched: no external script, style sheet, image or font.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page
    assert "<script src" not in page


def test_training_lab_embeds_the_packages_presets(bundle):
    page = df.explorable("training-lab").html
    blob = re.search(
        r"<script type=\"application/json\" data-df-presets>(.*?)</script>", page, re.S
    )
    presets = json.loads(blob.group(1))
    assert [p["name"] for p in presets] == list(df.PRESETS)
    spiral = next(p for p in presets if p["name"] == "spiral")
    config = df.PRESETS["spiral"].config
    assert spiral["keep_prob"] == config.keep_prob
    assert spiral["hidden_layers"] == config.hidden_layers
    assert spiral["n_samples"] == df.PRESETS["spiral"].dataset_kwargs["n_samples"]


def test_repr_html_is_an_offline_iframe(bundle):
    obj = df.explorable("simulator")
    shown = obj._repr_html_()
    assert shown.startswith("<iframe")
    srcdoc = re.search(r'srcdoc="([^"]*)"', shown).group(1)
    assert html.unescape(srcdoc) == obj.html


def test_same_inputs_same_bytes(bundle, tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    assert main(["explorable", "network", "-o", str(a), "-q"]) == 0
    assert main(["explorable", "network", "-o", str(b), "-q"]) == 0
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["explorable", "nope", "-o", "x.html"], "explorable must be one of simulator"),
        (["explorable", "simulator", "-o", "x.png"], "-o must name an .html file"),
    ],
)
def test_bad_input_is_one_line_and_status_2(bundle, tmp_path, monkeypatch, capsys, argv, words):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err
    assert err.count("\n") == 1
    assert not list(tmp_path.glob("x.*"))


def test_missing_bundle_says_how_to_build_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DROPOUT_FIGS_BUNDLE", str(tmp_path / "absent.js"))
    out = tmp_path / "sim.html"
    assert main(["explorable", "simulator", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "make bundle" in err
    assert err.count("\n") == 1
    assert not out.exists()
