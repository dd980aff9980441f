"""Byte-identical everywhere (issue 11): every format of a figure is the same bytes
whether drawn alone or with other formats, by ``render`` or by ``build``, in any
order, on any run. (Two clean site builds are compared in test_site.py's terms by
the plugin, which draws through the same ``render_many``.)
"""

from __future__ import annotations

import itertools

import pytest

from dropout_figs.cli.main import build_figures
from dropout_figs.figures import iter_figures
from dropout_figs.render import Request, draw_encoded, render

FAST = [s.name for s in iter_figures() if s.group != "lab"]
LAB = [s.name for s in iter_figures() if s.group == "lab"]


def _formats(spec):
    return ("gif", "png") if spec.animated else ("png", "svg", "pdf")


@pytest.mark.parametrize("name", ["kept-count-pmf", "subnetwork-count", "inverted-vs-classic"])
def test_a_format_is_the_same_bytes_alone_or_after_others(name):
    spec = next(s for s in iter_figures() if s.name == name)
    alone = {f: draw_encoded([Request.make(name, {}, fmt=f)])[0][0] for f in _formats(spec)}
    for order in itertools.permutations(_formats(spec)):
        blobs, _ = draw_encoded([Request.make(name, {}, fmt=f) for f in order])
        assert dict(zip(order, blobs, strict=True)) == alone, order


# Small values for the parameters that set a figure's cost: build == render is a property of
# the drawing path, not of how long a figure trains (the site's builds test the defaults).
CHEAP = {"n_epochs": 5, "n_seeds": 2, "n_test": 100, "n_frames": 2, "n_passes": 2, "width": 8}


def _cheap_params(spec):
    return {p.name: max(CHEAP[p.name], p.low or 0) for p in spec.params if p.name in CHEAP}


def _build_equals_render(name, tmp_path):
    spec = next(s for s in iter_figures() if s.name == name)
    fmts = _formats(spec)
    params = _cheap_params(spec)
    build_figures(tmp_path, [name], params=params, formats=list(fmts), jobs=1)
    for fmt in fmts:
        assert (tmp_path / f"{name}.{fmt}").read_bytes() == render(name, fmt=fmt, **params), fmt


@pytest.mark.parametrize("name", FAST)
def test_build_and_render_give_the_same_bytes(tmp_path, name):
    _build_equals_render(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", LAB)
def test_build_and_render_give_the_same_bytes_lab(tmp_path, name):
    _build_equals_render(name, tmp_path)


def test_two_builds_give_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    # Different orders, different worker counts, separate caches; the paper figures train over
    # seeds, so with small training parameters (each figure takes those it has).
    params = {}
    for spec in iter_figures():
        if spec.name in FAST:
            for key, value in _cheap_params(spec).items():
                params[key] = max(params.get(key, value), value)
    build_figures(a, FAST, params=params, jobs=2)
    build_figures(b, FAST[::-1], params=params, jobs=1)
    files = sorted(p.name for p in a.iterdir() if p.is_file())
    assert files == sorted(p.name for p in b.iterdir() if p.is_file())
    assert {p.rsplit(".", 1)[1] for p in files} == {"png", "svg", "gif", "json"}
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
