"""Dropout as an ensemble: the 2^n sub-networks of a layer, and how the test-time
network stands in for their average (inverted and classic scaling).

Drawn like :mod:`.stats`: numbers from :mod:`dropout_figs.maths`, a ``plot_*``
function that draws on the axes it is given, and a registered builder.
"""

from __future__ import annotations

import math

import numpy as np

from ..maths import (
    classic_dropout,
    drop_rate_of,
    format_subnetworks,
    inverted_dropout,
    log10_binomial,
    log10_subnetworks,
    sample_activations,
    sample_keep_mask,
)
from ..style import COLORS
from .catalogue import Canvas, Drawing, FigureSpec, Param, n_units_param, register
from .plotting import fmt
from .stats import MEAN_ACTIVATION, check_entries, probs_text, thousands_ticks, titles

__all__ = ["log10_binomial_curve", "plot_inverted_vs_classic", "plot_subnetwork_count"]


# =========================================================================== subnetwork-count
MARKED_SIZES = (20, 64, 256)
#: Above this n_max the axes are logarithmic.
LOG_ABOVE = 2000


def plot_subnetwork_count(ax, n, digits, exact_k_digits, *, marks, keep_prob, log=False):
    """Digits of ``2**n`` against n, and of the masks keeping exactly round(n q) units.

    ``log=True`` draws both axes on log scales (for layers up to 10**5 units, so
    that n = 20, 64 and 256 stay apart).
    """
    ax.plot(n, digits, color=COLORS["kept"], lw=2.2, label="all masks: log10(2^n) = n·log10 2")
    # C(n, 0) = 1 has 0 digits: leave it out of a log axis.
    shown = exact_k_digits > 0 if log else np.ones(len(n), bool)
    ax.plot(
        n[shown],
        exact_k_digits[shown],
        color=COLORS["accent"],
        lw=1.6,
        ls="--",
        label=f"masks keeping exactly round(n·q) units (q = {fmt(keep_prob)}, "
        f"drop rate {fmt(drop_rate_of(keep_prob))})",
    )
    for size, y, text in marks:
        ax.plot([size], [y], "o", color=COLORS["ink"], ms=5, zorder=3)
        # Labels sit off the rising lines: above-left, or below-right near the origin.
        left = log or size > 0.3 * n[-1]
        ax.annotate(
            text,
            (size, y),
            xytext=(-8, 8) if left else (8, -8),
            textcoords="offset points",
            ha="right" if left else "left",
            va="bottom" if left else "top",
            fontsize="small",
        )
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(1, n[-1])
    else:
        ax.set_xlim(0, n[-1])
        ax.set_ylim(0, None)
    ax.set_xlabel("units in the layer n" + (" (log scale)" if log else ""))
    ax.set_ylabel("log10 of the number of sub-networks (digits)")
    thousands_ticks(ax.xaxis)
    thousands_ticks(ax.yaxis)
    ax.legend(loc="lower right" if log else "upper left", fontsize="small")
    return ax


def build_subnetwork_count(*, rng, canvas: Canvas, n_max: int, keep_prob: float) -> Drawing:
    """The number of dropout sub-networks 2^n, in digits, against the layer size n.

    Layers of 20, 64 and 256 units are marked; a dashed curve counts the masks that
    keep exactly round(n q) units. Exact (no random draws).

    Returns
    -------
    Drawing
        ``data`` with the digits at the marked sizes and at ``n_max``.
    """
    del rng  # exact counts
    n = np.arange(1, n_max + 1)
    digits = n * math.log10(2)
    exact_k = log10_binomial_curve(n, keep_prob)
    marks = []
    for size in MARKED_SIZES:
        if size <= n_max:
            text = format_subnetworks(size, latex=True)
            marks.append((size, log10_subnetworks(size), f"n = {size}: ${text}$"))
    fig = canvas.figure()
    ax = fig.subplots()
    plot_subnetwork_count(
        ax, n, digits, exact_k, marks=marks, keep_prob=keep_prob, log=n_max > LOG_ABOVE
    )
    titles(
        fig,
        "A layer of n units has 2^n dropout sub-networks",
        f"each mask picks one; {probs_text(keep_prob)} sets which sizes are likely, not how many "
        "there are",
        ax=ax,
    )
    shown = "; ".join(f"{size} units: {format_subnetworks(size)}" for size, _, _ in marks)
    alt = (
        f"The number of dropout sub-networks 2^n, as digits, grows linearly with the layer size n "
        f"up to {n_max:,} units ({format_subnetworks(n_max)} sub-networks). {shown}. A dashed "
        f"curve counts the masks that keep exactly round(n·q) units at keep probability "
        f"{fmt(keep_prob)} (drop rate {fmt(drop_rate_of(keep_prob))})."
    )
    data = {
        "n_max": n_max,
        "keep_prob": keep_prob,
        "drop_rate": drop_rate_of(keep_prob),
        "marked": {
            str(size): {"log10": log10_subnetworks(size), "text": format_subnetworks(size)}
            for size, _, _ in marks
        },
        "log10_at_n_max": log10_subnetworks(n_max),
        "log10_exact_k_at_n_max": float(exact_k[-1]),
    }
    return Drawing(alt=alt, data=data, figure=fig)


def log10_binomial_curve(n: np.ndarray, keep_prob: float) -> np.ndarray:
    """``log10 C(n, round(n q))`` for each n (round half to even, as numpy does)."""
    return log10_binomial(n, np.rint(n * keep_prob))


register(
    FigureSpec(
        name="subnetwork-count",
        summary="2^n sub-networks: digits against layer size, 20, 64 and 256 units marked",
        group="dropout",
        params=(
            Param("n_max", "int", 300, "largest layer size shown", low=24, high=100_000),
            Param("keep_prob", "prob", 0.5, "keep probability of the dashed curve"),
        ),
        build=build_subnetwork_count,
        formats=("png", "svg", "pdf"),
        cost=0.3,
    )
)


# =========================================================================== inverted-vs-classic
def plot_inverted_vs_classic(axes, a, panels, *, keep_prob, n_masks):
    """Four panels: bars of one layer's outputs, diamonds at the average over masks.

    ``panels`` is a list of 4 dicts with ``title``, ``values``, ``mask`` (or None),
    ``expected`` (per unit) in the order inverted-train, inverted-test,
    classic-train, classic-test; ``axes`` is a 2 x 2 array.
    """
    units = np.arange(len(a))
    for ax, p in zip(np.ravel(axes), panels, strict=True):
        colours = [
            COLORS["kept"] if (p["mask"] is None or m) else COLORS["dropped"]
            for m in (p["mask"] if p["mask"] is not None else units)
        ]
        ax.bar(units, p["values"], color=colours, width=0.75)
        ax.plot(
            units,
            p["expected"],
            "D",
            color=COLORS["accent"],
            ms=5,
            label=f"mean over {n_masks:,} training masks",
        )
        if p["mask"] is not None:
            dropped = units[~p["mask"]]
            ax.plot(
                dropped,
                np.zeros(len(dropped)),
                "x",
                color=COLORS["ink"],
                ms=6,
                mew=1.5,
                label="dropped unit",
            )
        ax.set_title(p["title"], fontsize="medium", loc="left")
        ax.text(
            0.99,
            0.97,
            f"mean {p['values'].mean():.2f} · expected {p['mean']:.2f}",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize="small",
        )
        ax.set_xticks(units if len(units) <= 16 else units[::4])
        ax.grid(axis="x", visible=False)
    for ax in np.ravel(axes)[2:]:
        ax.set_xlabel("unit")
    for ax in np.ravel(axes)[::2]:
        ax.set_ylabel("output")
    top = max(max(p["values"].max(), p["expected"].max()) for p in panels)
    np.ravel(axes)[0].set_ylim(0, top * 1.25)  # headroom for the means
    handles, labels = np.ravel(axes)[0].get_legend_handles_labels()
    subtitle = f"{probs_text(keep_prob)} · one layer of {len(a)} units, bars: one mask"
    legend = axes[0, 0].figure.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=2,
        fontsize="small",
        title=subtitle,
        title_fontsize="small",
    )
    legend.get_title().set_color("#555555")
    return axes


def build_inverted_vs_classic(
    *, rng, canvas: Canvas, n_units: int, keep_prob: float, n_masks: int, mean_activation: float
) -> Drawing:
    """One layer at training and test time under inverted and classic dropout.

    Four panels of bars (one seeded mask) with diamonds at the average over
    ``n_masks`` training masks: under both schemes the test output equals the
    expected training output.

    Returns
    -------
    Drawing
        ``data`` with the activations, the mask, the four panels' outputs and
        the averages over masks.
    """
    check_entries(n_units, n_masks)
    q = keep_prob
    mask = sample_keep_mask((n_units,), q, rng=rng)
    a = sample_activations(n_units, mean_activation, rng=rng)
    many = sample_keep_mask((n_masks, n_units), q, rng=rng)
    batch = np.broadcast_to(a, many.shape)
    inv_train = inverted_dropout(a, q, training=True, mask=mask).output
    inv_test = inverted_dropout(a, q, training=False).output
    cla_train = classic_dropout(a, q, training=True, mask=mask).output
    cla_test = classic_dropout(a, q, training=False).output
    inv_avg = inverted_dropout(batch, q, training=True, mask=many).output.mean(axis=0)
    cla_avg = classic_dropout(batch, q, training=True, mask=many).output.mean(axis=0)
    panels = [
        {
            "title": "inverted · training: r·a/q",
            "values": inv_train,
            "mask": mask,
            "expected": inv_avg,
            "mean": a.mean(),
        },
        {
            "title": "inverted · test: a (unchanged)",
            "values": inv_test,
            "mask": None,
            "expected": inv_avg,
            "mean": a.mean(),
        },
        {
            "title": "classic · training: r·a",
            "values": cla_train,
            "mask": mask,
            "expected": cla_avg,
            "mean": q * a.mean(),
        },
        {
            "title": f"classic · test: q·a = {fmt(q)}·a",
            "values": cla_test,
            "mask": None,
            "expected": cla_avg,
            "mean": q * a.mean(),
        },
    ]
    fig = canvas.figure()
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    plot_inverted_vs_classic(axes, a, panels, keep_prob=q, n_masks=n_masks)
    fig.suptitle(
        "Inverted and classic dropout: test output = expected training output",
        fontweight="bold",
        fontsize="large",
        x=0.01,
        ha="left",
    )
    kept = int(mask.sum())
    alt = (
        f"Four bar charts of one layer of {n_units} units with keep probability {fmt(q)} (drop "
        f"rate {fmt(drop_rate_of(q))}); one mask keeps {kept} of {n_units} units. Inverted "
        f"dropout scales kept units by 1/q = {1 / q:.2f} in training (layer mean "
        f"{inv_train.mean():.2f}) and leaves test outputs unchanged (mean {inv_test.mean():.2f}); "
        f"classic dropout does not scale in training (mean {cla_train.mean():.2f}) and multiplies "
        f"by q at test time (mean {cla_test.mean():.2f}). Averaged over {n_masks:,} masks the "
        f"training outputs match the test outputs (means {inv_avg.mean():.2f} and "
        f"{cla_avg.mean():.2f})."
    )
    data = {
        "n_units": n_units,
        "keep_prob": q,
        "drop_rate": drop_rate_of(q),
        "n_masks": n_masks,
        "kept": kept,
        "activations": a.tolist(),
        "mask": mask.astype(int).tolist(),
        "inverted_train": inv_train.tolist(),
        "inverted_test": inv_test.tolist(),
        "classic_train": cla_train.tolist(),
        "classic_test": cla_test.tolist(),
        "inverted_train_average": inv_avg.tolist(),
        "classic_train_average": cla_avg.tolist(),
    }
    return Drawing(alt=alt, data=data, figure=fig)


register(
    FigureSpec(
        name="inverted-vs-classic",
        summary="One layer at train and test time under inverted and classic dropout",
        group="dropout",
        params=(
            n_units_param(10, low=2, high=40),
            Param("keep_prob", "prob", 0.6, "probability a unit is kept"),
            Param(
                "n_masks",
                "int",
                4000,
                "training masks averaged for the diamonds",
                low=10,
                high=100_000,
            ),
            MEAN_ACTIVATION,
        ),
        build=build_inverted_vs_classic,
        formats=("png", "svg", "pdf"),
        cost=0.4,
    )
)
