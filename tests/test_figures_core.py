"""The seven core figures: bytes, determinism, frames, numbers and artists (not pixels)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

import dropout_figs as df
from dropout_figs._validate import DropoutFigsError
from dropout_figs.figures import get_figure
from dropout_figs.maths import layer_summary, sample_keep_mask
from dropout_figs.render import Request, draw_encoded, render

ANIMATED = ("mask-grid", "network-flicker")
STATIC = (
    "kept-count-pmf",
    "expected-active-sweep",
    "output-scale-ratio",
    "subnetwork-count",
    "inverted-vs-classic",
)
MAGIC = {"png": b"\x89PNG", "gif": b"GIF89a", "pdf": b"%PDF"}
SMALL = (400, 250)  # quick renders for the format checks
# Cheap parameters where a default is slow-ish.
QUICK = {"output-scale-ratio": {"n_masks": 300}, "inverted-vs-classic": {"n_masks": 200}}


def _magic_ok(data: bytes, fmt: str) -> bool:
    if fmt == "svg":
        head = data[:200].lstrip()
        return head.startswith((b"<svg", b"<?xml"))
    return data.startswith(MAGIC[fmt])


def test_all_registered_with_spelling_and_ranges():
    names = df.figure_names()
    for name in ANIMATED + STATIC:
        assert name in names
        spec = get_figure(name)
        assert spec.group == "dropout"
        for p in spec.params:
            if p.kind in {"int", "float"} and p.name != "n_units":
                assert p.low is not None, (name, p.name)
                assert p.high is not None, (name, p.name)
            if p.name == "n_units":
                assert "n" in p.aliases
        assert "keep_prob" in spec.param
        assert spec.cost > 0
    assert get_figure("mask-grid").formats == ("gif", "png")
    assert get_figure("kept-count-pmf").formats == ("png", "svg", "pdf")


def _quick(name):
    if name == "mask-grid":
        return {"n_units": 16, "n_frames": 3}
    if name == "network-flicker":
        return {"n_frames": 2}
    return QUICK.get(name, {})


@pytest.mark.parametrize("name", ANIMATED + STATIC)
def test_renders_every_format_deterministically(name):
    # One draw encoded in every format of the figure, then a second render of the
    # default format through render(): same bytes. (Byte-identical SVG and PDF
    # depend on the renderer's metadata and hash salt, not on the figure: they are
    # checked twice over for one figure below, which keeps this file fast.)
    spec = get_figure(name)
    requests = [Request.make(name, _quick(name), fmt=f, seed=5, size=SMALL) for f in spec.formats]
    first, drawing = draw_encoded(requests)
    for fmt, data in zip(spec.formats, first, strict=True):
        assert _magic_ok(data, fmt), fmt
    assert render(name, fmt=spec.formats[0], seed=5, size=SMALL, **_quick(name)) == first[0]
    # every figure states keep probability and drop rate, in words and in numbers
    assert "keep prob" in drawing.alt
    assert "drop rate" in drawing.alt
    assert math.isclose(drawing.data["keep_prob"] + drawing.data["drop_rate"], 1.0)


@pytest.mark.parametrize("fmt", ["svg", "pdf"])  # png: every figure, above
def test_two_renders_same_bytes_in_svg_and_pdf(fmt):
    params = {"n_units": 64, "keep_prob": 0.5, "n_draws": 500}
    first = render("kept-count-pmf", fmt=fmt, size=SMALL, seed=3, **params)
    again = render("kept-count-pmf", fmt=fmt, size=SMALL, seed=3, **params)
    assert _magic_ok(first, fmt)
    assert first == again


def test_animation_frames_are_deterministic():
    a = df.draw_figure("network-flicker", n_frames=2, size=SMALL)
    b = df.draw_figure("network-flicker", n_frames=2, size=SMALL)
    assert [f.tobytes() for f in a.frames] == [f.tobytes() for f in b.frames]


def test_different_seed_different_mask():
    a = render("mask-grid", fmt="png", size=SMALL, seed=1, n_units=16, n_frames=1)
    b = render("mask-grid", fmt="png", size=SMALL, seed=2, n_units=16, n_frames=1)
    assert a != b


def test_drop_rate_spelling_gives_the_same_figure():
    a = df.draw_figure("kept-count-pmf", size=SMALL, n_units=64, keep_prob=0.7)
    b = df.draw_figure("kept-count-pmf", size=SMALL, n_units=64, drop_rate=0.3)
    assert (a.alt, a.data) == (b.alt, b.data)


# --------------------------------------------------------------------------- animations
@pytest.mark.parametrize(("n_units", "n_frames"), [(1, 4), (64, 5), (4096, 2)])
def test_mask_grid_frame_count(n_units, n_frames):
    data = render("mask-grid", fmt="gif", size=SMALL, n_units=n_units, n_frames=n_frames)
    gif = Image.open(io.BytesIO(data))
    assert gif.n_frames == n_frames
    assert gif.info.get("loop") == 0


def test_network_flicker_frames_end_in_evaluation():
    drawing = df.draw_figure("network-flicker", n_frames=3, size=SMALL)
    assert len(drawing.frames) == 4
    assert drawing.durations[-1] > drawing.durations[0]
    gif = Image.open(io.BytesIO(render("network-flicker", fmt="gif", size=SMALL, n_frames=3)))
    assert gif.n_frames == 4
    d = drawing.data
    assert len(d["kept"]) == 3
    assert all(0 <= k <= 6 for pair in d["kept"] for k in pair)
    assert "evaluation" in drawing.alt
    # one shared palette across frames, and a small one
    palettes = {bytes(f.getpalette()) for f in drawing.frames}
    assert len(palettes) == 1
    assert all(f.mode == "P" for f in drawing.frames)


@pytest.mark.parametrize("name", ANIMATED)
def test_gif_under_150_kb_at_default_size(name):
    data = render(name, fmt="gif")
    assert Image.open(io.BytesIO(data)).size == get_figure(name).size
    assert len(data) < 150_000


@pytest.mark.parametrize(
    ("n_units", "keep_prob", "seed"), [(64, 0.7, 0), (30, 0.5, 7), (1, 0.3, 2)]
)
def test_mask_grid_frame_zero_is_the_layer_summary_mask(n_units, keep_prob, seed):
    drawing = df.draw_figure(
        "mask-grid", n_units=n_units, keep_prob=keep_prob, seed=seed, n_frames=2, size=SMALL
    )
    summary = layer_summary(n_units, keep_prob, seed=seed)
    assert drawing.data["kept"][0] == summary.kept
    mask = sample_keep_mask((n_units,), keep_prob, rng=np.random.default_rng(seed))
    assert drawing.data["first_mask"] == mask.astype(int).tolist()
    assert f"keeps {summary.kept:,} of {n_units:,}" in drawing.alt
    assert "drop rate" in drawing.alt


def test_mask_grid_too_large_is_a_clear_error():
    with pytest.raises(DropoutFigsError, match="too large to draw, at most 4096") as err:
        render("mask-grid", fmt="gif", n_units=4097)
    assert "dropout-figs numbers" in str(err.value)


# --------------------------------------------------------------------------- static figures
def _ax(drawing):
    return drawing.figure.axes[0]


def _stairs(ax):
    from matplotlib.patches import StepPatch

    return [p for p in ax.patches if isinstance(p, StepPatch)]


def test_kept_count_pmf_artists_and_numbers():
    drawing = df.draw_figure("kept-count-pmf", n_units=256, keep_prob=0.7, seed=0)
    ax = _ax(drawing)
    assert len(_stairs(ax)) == 2  # pmf and its central band
    assert len(ax.get_lines()) == 2  # mean and the observed count
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "mean n·q = 179.2" in labels
    observed = layer_summary(256, 0.7, seed=0).kept
    assert f"one mask (seeded): k = {observed}" in labels
    assert ax.get_xlabel() == "kept units k"
    assert "drop rate 0.3" in ax.get_title(loc="left")
    d = drawing.data
    assert d["observed"] == observed
    assert f"{observed}" in drawing.alt
    assert "179.2" in drawing.alt
    assert sum(d["pmf"]) == pytest.approx(1, abs=1e-6)
    lo, hi = d["interval"]
    assert lo <= 179 <= hi


def test_kept_count_pmf_with_draws_and_huge_layers():
    drawing = df.draw_figure("kept-count-pmf", n_units=10**6, keep_prob=0.999, n_draws=2000)
    ax = _ax(drawing)
    assert len(_stairs(ax)) == 3
    d = drawing.data
    assert abs(d["draws_mean"] - 999_000) < 5 * math.sqrt(999) / math.sqrt(2000) * 2
    lo, hi = ax.get_xlim()
    assert hi - lo < 2000  # the window, not 0..10**6
    assert max(_stairs(ax)[0].get_data().values) > 1e-3


def test_expected_active_sweep_marks_the_chosen_keep_prob():
    drawing = df.draw_figure("expected-active-sweep", n_units=100, keep_prob=0.4)
    ax = _ax(drawing)
    assert ax.get_xlabel() == "keep probability q"
    tops = [c for c in ax.child_axes if "drop rate" in c.get_xlabel()]
    assert len(tops) == 1
    d = drawing.data
    assert d["expected_active"] == pytest.approx(40)
    assert d["interval"] == list(df.kept_count_distribution(100, 0.4).interval(0.9))
    assert "drop rate 0.6" in drawing.alt
    assert np.all(np.array(d["lo"]) <= np.array(d["q"]) * 100 + 1e-9)


def test_output_scale_ratio_is_centred_on_one_and_q():
    drawing = df.draw_figure("output-scale-ratio", n_units=256, keep_prob=0.6, n_masks=2000)
    d = drawing.data
    se = d["theory_std"] / math.sqrt(d["n_masks"])
    assert abs(d["inverted_mean"] - 1) < 5 * se
    assert abs(d["unscaled_mean"] - 0.6) < 5 * se * 0.6
    assert d["inverted_std"] == pytest.approx(d["theory_std"], rel=0.1)
    assert d["first_mask_ratio"] == pytest.approx(
        layer_summary(256, 0.6, seed=0).output_scale_ratio, rel=1e-12
    )
    assert len(_stairs(_ax(drawing))) == 2


def test_output_scale_ratio_refuses_too_much_work():
    with pytest.raises(DropoutFigsError, match="n_masks"):
        df.draw_figure("output-scale-ratio", n_units=1_000_000, n_masks=1_000_000)


def test_subnetwork_count_annotations():
    drawing = df.draw_figure("subnetwork-count")
    ax = _ax(drawing)
    texts = [t.get_text() for t in ax.texts]
    assert "n = 20: $1{,}048{,}576$" in texts
    assert r"n = 64: $1.84 \times 10^{19}$" in texts
    assert r"n = 256: $1.16 \times 10^{77}$" in texts
    assert drawing.data["marked"]["64"]["text"] == "1.84 × 10^19"
    assert "1.16 × 10^77" in drawing.alt
    assert ax.get_xscale() == "linear"
    small = df.draw_figure("subnetwork-count", n_max=50)
    assert sorted(small.data["marked"]) == ["20"]
    # big layers: log axes keep 20, 64 and 256 apart
    big = _ax(df.draw_figure("subnetwork-count", n_max=100_000))
    assert (big.get_xscale(), big.get_yscale()) == ("log", "log")
    assert len(big.texts) == 3


def test_inverted_vs_classic_expectations_match():
    drawing = df.draw_figure("inverted-vs-classic", n_units=12, keep_prob=0.6, n_masks=4000)
    d = drawing.data
    a = np.array(d["activations"])
    np.testing.assert_allclose(d["inverted_test"], a)
    np.testing.assert_allclose(d["classic_test"], 0.6 * a)
    # the average over masks of training equals the test output, per unit
    se = a * math.sqrt(0.4 / 0.6) / math.sqrt(4000)
    assert np.all(np.abs(np.array(d["inverted_train_average"]) - a) < 5 * se)
    assert np.all(np.abs(np.array(d["classic_train_average"]) - 0.6 * a) < 5 * se * 0.6)
    assert d["kept"] == layer_summary(12, 0.6, seed=0).kept
    assert len(drawing.figure.axes) == 4
    assert f"keeps {d['kept']} of 12" in drawing.alt


def test_catalogue_order_is_the_gallery_order():
    """Registration order is the gallery's and `dropout-figs list`'s order: a topic module
    importing another (which registers on import) must not reorder it."""
    from dropout_figs.figures import figure_names

    expected = [
        "mask-grid",
        "network-flicker",
        "kept-count-pmf",
        "expected-active-sweep",
        "output-scale-ratio",
        "subnetwork-count",
        "inverted-vs-classic",
        "loss-curves",
        "decision-boundaries",
        "boundary-evolution",
        "forgot-eval-mode",
        "mc-dropout-uncertainty",
        "keep-prob-sweep",
        "dataset-size-sweep",
        "mc-vs-weight-scaling",
        "activation-sparsity",
        "dropout-batchnorm-shift",
    ]
    names = figure_names()
    assert [n for n in names if n in expected] == expected
