"""The catalogue's machinery: typed parameters, requests, deterministic bytes, the cache."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dropout_figs import figures
from dropout_figs._validate import DropoutFigsError
from dropout_figs.figures import catalogue
from dropout_figs.figures.catalogue import Drawing, FigureSpec, Param
from dropout_figs.render import (
    Request,
    ensure_rendered_group,
    lookup,
    render,
    render_many,
    write_atomic,
)
from dropout_figs.style import parse_size


def _build_toy(*, rng, canvas, n_units, keep_prob, label):
    values = rng.random(n_units) < keep_prob
    fig = canvas.figure()
    ax = fig.subplots()
    ax.bar(np.arange(n_units), values.astype(float))
    ax.set_title(f"{label}: kept {values.sum()} of {n_units}")
    return Drawing(alt=f"kept {values.sum()} of {n_units}", data={"kept": values.sum()}, figure=fig)


@pytest.fixture
def toy():
    spec = FigureSpec(
        name="test-toy",
        summary="a figure for the tests",
        params=(
            Param("n_units", "int", 8, "units", low=1, high=64, aliases=("n",)),
            Param("keep_prob", "prob", 0.5, "keep probability"),
            Param("label", "choice", "a", "label", choices=("a", "b")),
        ),
        build=_build_toy,
        formats=("png", "svg", "pdf"),
        group="test",
    )
    catalogue.register(spec)
    yield spec
    del catalogue._REGISTRY[spec.name]


def test_params_accept_every_spelling_and_validate(toy):
    assert toy.resolve({"n": "16", "drop_rate": "0.25"}) == {
        "n_units": 16,
        "keep_prob": 0.75,
        "label": "a",
    }
    assert toy.resolve({"--n-units": 3.0, "keep-prob": 1})["n_units"] == 3
    for bad in ({"n": 0}, {"n": 65}, {"n": "2.5"}, {"n": "abc"}, {"n": True}):
        with pytest.raises(DropoutFigsError, match="n_units"):
            toy.resolve(bad)
    for bad in (1.7, 0, -0.2, float("nan"), float("inf")):
        with pytest.raises(DropoutFigsError, match="keep_prob"):
            toy.resolve({"keep_prob": bad})
    with pytest.raises(DropoutFigsError, match="not both"):
        toy.resolve({"keep_prob": 0.5, "drop_rate": 0.5})
    with pytest.raises(DropoutFigsError, match="label must be one of a, b"):
        toy.resolve({"label": "c"})
    with pytest.raises(DropoutFigsError, match=r"no parameter 'bogus'.*--n-units/--n"):
        toy.resolve({"bogus": 1})


def test_unknown_figure_lists_the_known_ones():
    with pytest.raises(DropoutFigsError, match=r"unknown figure 'nope'; known figures: .*mask"):
        figures.get_figure("nope")


def test_every_format_is_byte_identical_across_renders(toy):
    for fmt in toy.formats:
        a = render("test-toy", fmt=fmt, n_units=12, seed=3)
        b = render("test-toy", fmt=fmt, n_units=12, seed=3)
        assert a == b
        assert a != render("test-toy", fmt=fmt, n_units=12, seed=4)
    assert render("test-toy", fmt="png")[:4] == b"\x89PNG"
    assert render("test-toy", fmt="pdf")[:4] == b"%PDF"
    assert b"<svg" in render("test-toy", fmt="svg")[:400]


def test_request_key_depends_on_every_input(toy, tmp_path):
    base = Request.make("test-toy", {"n": 8}, fmt="png")
    assert base == Request.make("test-toy", {"n_units": "8", "keep_prob": 0.5}, fmt="png")
    assert base.key() == Request.make("test-toy", {}, fmt="png").key()
    others = [
        Request.make("test-toy", {"n": 9}, fmt="png"),
        Request.make("test-toy", {}, fmt="svg"),
        Request.make("test-toy", {}, fmt="png", seed=1),
        Request.make("test-toy", {}, fmt="png", size="slide"),
        Request.make("test-toy", {}, fmt="png", style="ggplot"),
    ]
    assert len({r.key() for r in [base, *others]}) == 6
    style = tmp_path / "mine.mplstyle"
    style.write_text("lines.linewidth: 3\n")
    k1 = Request.make("test-toy", {}, style=style).key()
    style.write_text("lines.linewidth: 4\n")
    assert Request.make("test-toy", {}, style=style).key() != k1


def test_cli_line_rebuilds_the_same_request(toy):
    r = Request.make("test-toy", {"n": 9, "drop_rate": 0.25}, fmt="svg", seed=2, size="slide")
    assert r.cli() == (
        "dropout-figs render test-toy -o test-toy.svg --n 9 --keep-prob 0.75 "
        "--seed 2 --size 1920x1080"
    )


def test_one_drawing_serves_several_formats(toy, tmp_path, monkeypatch):
    import dropout_figs.render.cache as render_mod

    calls = []
    real = render_mod.draw_encoded
    monkeypatch.setattr(render_mod, "draw_encoded", lambda rs: calls.append(rs) or real(rs))
    group = [Request.make("test-toy", {}, fmt=f) for f in ("png", "svg", "pdf")]
    entries = ensure_rendered_group(group, tmp_path)
    assert len(calls) == 1
    for request, entry in zip(group, entries, strict=True):
        assert entry.path.read_bytes() == render("test-toy", fmt=request.fmt)
        assert entry.alt.startswith("kept ")
        assert lookup(request, tmp_path) == entry
    before = len(calls)
    render_many(group, tmp_path, jobs=1)
    assert len(calls) == before  # all three came from the cache


def test_sizes():
    assert parse_size("slide") == (1920, 1080)
    assert parse_size("1280x720") == (1280, 720)
    for bad in ("10x10", "abc", "100000x100000", "12x"):
        with pytest.raises(DropoutFigsError, match="size"):
            parse_size(bad)


def test_png_size_follows_the_request(toy):
    from io import BytesIO

    from PIL import Image

    png = render("test-toy", fmt="png", size="slide-4k")
    assert Image.open(BytesIO(png)).size == (3840, 2160)


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(tmp_path / "x.png", b"data")
    assert list(tmp_path.iterdir()) == []


def test_parallel_build_gives_the_same_bytes_as_serial(tmp_path):
    requests = [Request.make("kept-count-pmf", {"n": n}, fmt="png") for n in (10, 20)] + [
        Request.make("mask-grid", {"n": 25}, fmt="gif")
    ]
    serial = render_many(requests, tmp_path / "a", jobs=1)
    parallel = render_many(requests, tmp_path / "b", jobs=2)
    for r in requests:
        assert serial[r].path.read_bytes() == parallel[r].path.read_bytes()
        assert serial[r].data == parallel[r].data
