"""Static figures of one layer's statistics under dropout: the kept count (its pmf and
its sweep over q) and the output sum, drawn with matplotlib's object-oriented API.

Each figure has three parts: the numbers come from :mod:`dropout_figs.maths`
(computed in the builder), a ``plot_*`` function draws them on an ``ax`` it is
given and returns it (no random draws, no files), and a ``FigureSpec`` registers
the builder. Random draws start the same way everywhere: the first draw of
``rng`` is ``sample_keep_mask((n_units,), keep_prob, rng=rng)``, as in
:func:`dropout_figs.maths.layer_summary` with the same seed.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import DropoutFigsError
from ..maths import (
    drop_rate_of,
    kept_count_band,
    kept_count_distribution,
    sample_activations,
    sample_keep_mask,
)
from ..style import COLORS
from .catalogue import Canvas, Drawing, FigureSpec, Param, n_units_param, register
from .plotting import fmt

__all__ = [
    "MEAN_ACTIVATION",
    "check_entries",
    "plot_expected_active_sweep",
    "plot_kept_count_pmf",
    "plot_output_scale_ratio",
    "probs_text",
    "thousands_ticks",
    "titles",
]

#: Most mask entries a figure draws (n_units x n_masks), to keep builds fast.
MAX_MASK_ENTRIES = 20_000_000


#: The same parameter, spelled and bounded the same, on every figure that has it.
MEAN_ACTIVATION = Param(
    "mean_activation",
    "float",
    1.0,
    "mean of the layer's activations",
    low=0,
    high=1e6,
    low_open=True,
)


def probs_text(q: float) -> str:
    """``keep prob q = 0.7 · drop rate 0.3``: both names of the probability, for subtitles."""
    return f"keep prob q = {fmt(q)} · drop rate {fmt(drop_rate_of(q))}"


def thousands_ticks(ax_axis) -> None:
    """Tick labels with thousands separators on an axis (``ax.xaxis`` or ``ax.yaxis``)."""
    from matplotlib.ticker import FuncFormatter

    ax_axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v == int(v) else ""))


def titles(fig, title: str, subtitle: str, ax=None) -> None:
    """A bold title; the subtitle under it (on ``ax``) or, for grids, as a footnote."""
    fig.suptitle(title, fontweight="bold", fontsize="large", x=0.01, ha="left")
    if ax is not None:
        ax.set_title(subtitle, fontsize="small", color="#555555", loc="left", fontweight="normal")
    else:
        fig.supxlabel(subtitle, fontsize="small", color="#555555", x=0.01, ha="left")


def check_entries(n_units: int, n_masks: int) -> None:
    """Refuse more than :data:`MAX_MASK_ENTRIES` mask entries with one clear error."""
    if not n_units * n_masks <= MAX_MASK_ENTRIES:
        raise DropoutFigsError(
            f"n_units × n_masks must be at most {MAX_MASK_ENTRIES:,} for this figure; got "
            f"{n_units:,} × {n_masks:,} = {n_units * n_masks:,} (use fewer masks)"
        )


def _mask_sums(a: np.ndarray, q: float, n_masks: int, *, rng) -> np.ndarray:
    """Sum of the kept activations under ``n_masks`` fresh masks (drawn in row blocks)."""
    rows = max(1, (1 << 20) // a.size)
    out = np.empty(n_masks)
    for start in range(0, n_masks, rows):
        stop = min(n_masks, start + rows)
        mask = sample_keep_mask((stop - start, a.size), q, rng=rng)
        # np.where + sum (pairwise) rather than BLAS: the same bytes on every machine.
        out[start:stop] = np.where(mask, a, 0.0).sum(axis=1)
    return out


# =========================================================================== kept-count-pmf
def plot_kept_count_pmf(ax, k, pmf, *, mean, band, observed=None, empirical=None, band_level=0.9):
    """Draw a kept-count pmf as stairs, its mean, a central band and an observed count.

    Parameters
    ----------
    ax : matplotlib Axes
    k, pmf : ndarray
        Consecutive counts and their probabilities.
    mean : float
    band : (int, int)
        Central interval, shaded.
    observed : int, optional
        The kept count of one mask, marked.
    empirical : (ndarray, ndarray), optional
        ``(edges, density)`` of simulated counts, drawn as an outline.
    band_level : float
        For the legend.

    Returns
    -------
    ax
    """
    edges = np.r_[k - 0.5, k[-1] + 0.5]
    ax.stairs(pmf, edges, fill=True, color=COLORS["sky"], alpha=0.35, label="P(K = k)")
    lo, hi = band
    inside = (k >= lo) & (k <= hi)
    band_edges = np.r_[k[inside] - 0.5, k[inside][-1] + 0.5]
    ax.stairs(
        pmf[inside],
        band_edges,
        fill=True,
        color=COLORS["kept"],
        alpha=0.75,
        label=f"central {band_level * 100:g} %: {lo:,} to {hi:,}",
    )
    ax.axvline(mean, color=COLORS["ink"], ls="--", lw=1.4, label=f"mean n·q = {fmt(mean, 1)}")
    if observed is not None:
        ax.axvline(
            observed, color=COLORS["accent"], lw=2.4, label=f"one mask (seeded): k = {observed:,}"
        )
    if empirical is not None:
        e_edges, density = empirical
        ax.stairs(density, e_edges, color=COLORS["warn"], lw=1.3, label="simulated masks")
    ax.set_xlabel("kept units k")
    ax.set_ylabel("probability P(K = k)")
    ax.set_ylim(0, None)
    ax.set_xlim(edges[0], edges[-1])
    thousands_ticks(ax.xaxis)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def build_kept_count_pmf(
    *, rng, canvas: Canvas, n_units: int, keep_prob: float, level: float, n_draws: int
) -> Drawing:
    """How many units one mask keeps: the Binomial(n, q) pmf, its mean and central band.

    The kept count of the seeded mask is marked; with ``n_draws`` the histogram of
    that many simulated counts is drawn over the pmf.

    Returns
    -------
    Drawing
        ``data`` with the mean, standard deviation, band, observed count, the
        pmf (up to 2000 counts) and the simulated counts' mean and sd.
    """
    q = keep_prob
    dist = kept_count_distribution(n_units, q)
    # Same first draw as layer_summary and mask-grid frame 0.
    observed = int(sample_keep_mask((n_units,), q, rng=rng).sum())
    k, pmf = dist.window(5.0)
    # Keep the observed count and the whole band in view.
    if observed < k[0] or observed > k[-1]:
        k = np.arange(min(k[0], observed), max(k[-1], observed) + 1)
        pmf = dist.pmf(k)
    lo, hi = dist.interval(level)
    empirical = None
    draws = None
    if n_draws:
        # In distribution the kept count of a mask is Binomial(n, q): draw counts directly.
        draws = rng.binomial(n_units, q, size=n_draws)
        # Wide windows get wider bins (at most ~60), scaled back to a probability per count.
        width = max(1, math.ceil(len(k) / 60))
        e_edges = np.arange(k[0] - 0.5, k[-1] + 0.5 + width, width)
        counts, _ = np.histogram(draws, bins=e_edges)
        empirical = (e_edges, counts / (n_draws * width))
    fig = canvas.figure()
    ax = fig.subplots()
    plot_kept_count_pmf(
        ax,
        k,
        pmf,
        mean=dist.mean,
        band=(lo, hi),
        observed=observed,
        empirical=empirical,
        band_level=level,
    )
    titles(
        fig,
        f"Kept units per mask: K ~ Binomial(n = {n_units:,}, q = {fmt(q)})",
        f"{probs_text(q)} · mean {fmt(dist.mean, 1)} · sd {fmt(dist.std, 2)}"
        + (f" · {n_draws:,} simulated masks" if n_draws else ""),
        ax=ax,
    )
    alt = (
        f"Probability of each number of kept units in a layer of {n_units:,} with keep "
        f"probability {fmt(q)} (drop rate {fmt(drop_rate_of(q))}): a binomial peak at the "
        f"mean {fmt(dist.mean, 1)} (sd {fmt(dist.std, 2)}); {level * 100:g} % of masks keep "
        f"{lo:,} to {hi:,} units. One seeded mask keeps {observed:,}."
    )
    data = {
        "n_units": n_units,
        "keep_prob": q,
        "drop_rate": drop_rate_of(q),
        "mean": dist.mean,
        "std": dist.std,
        "level": level,
        "interval": [lo, hi],
        "observed": observed,
        "k": k.tolist() if len(k) <= 2000 else None,
        "pmf": pmf.tolist() if len(k) <= 2000 else None,
        "n_draws": n_draws,
        "draws_mean": float(draws.mean()) if draws is not None else None,
        "draws_std": float(draws.std()) if draws is not None else None,
    }
    return Drawing(alt=alt, data=data, figure=fig)


register(
    FigureSpec(
        name="kept-count-pmf",
        summary="How many units one mask keeps: the binomial pmf, its mean and central band",
        group="dropout",
        params=(
            n_units_param(256, high=10**7),
            Param("keep_prob", "prob", 0.7, "probability a unit is kept"),
            Param(
                "level", "float", 0.9, "probability of the shaded central band", low=0.5, high=0.999
            ),
            Param(
                "n_draws", "int", 0, "simulated masks to overlay (0 = none)", low=0, high=1_000_000
            ),
        ),
        build=build_kept_count_pmf,
        formats=("png", "svg", "pdf"),
        cost=0.4,
    )
)


# =========================================================================== expected-active-sweep
def plot_expected_active_sweep(ax, qs, mean, lo, hi, *, n_units, keep_prob, chosen):
    """``n q`` against q with a quantile band, the chosen q marked, drop rate on top."""
    ax.fill_between(
        qs, lo, hi, color=COLORS["sky"], alpha=0.35, lw=0, label="5–95 % of masks (binomial)"
    )
    ax.plot(qs, mean, color=COLORS["kept"], lw=2, label="expected kept units n·q")
    c_mean, c_lo, c_hi = chosen
    ax.axvline(keep_prob, color=COLORS["accent"], lw=1.2, ls="--")
    ax.errorbar(
        [keep_prob],
        [c_mean],
        yerr=[[c_mean - c_lo], [c_hi - c_mean]],
        fmt="o",
        color=COLORS["accent"],
        ms=7,
        capsize=4,
        lw=2,
        zorder=3,
        label=f"q = {fmt(keep_prob)}: {fmt(c_mean, 1)} ({c_lo:,.0f}–{c_hi:,.0f})",
    )
    # The line rises from bottom-left to top-right: the lower-right corner is free.
    ax.annotate(
        f"keep prob q = {fmt(keep_prob)}\ndrop rate {fmt(drop_rate_of(keep_prob))}\n"
        f"expected {fmt(c_mean, 1)} of {n_units:,}\n90 % of masks: {c_lo:,.0f}–{c_hi:,.0f}",
        (keep_prob, c_mean),
        xytext=(0.97, 0.05),
        textcoords="axes fraction",
        ha="right",
        va="bottom",
        fontsize="small",
        bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": COLORS["dropped"], "lw": 0.8},
        arrowprops={"arrowstyle": "-", "color": COLORS["dropped"], "lw": 0.8},
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, n_units * 1.02)
    ax.set_xlabel("keep probability q")
    ax.set_ylabel("kept units")
    thousands_ticks(ax.yaxis)
    top = ax.secondary_xaxis("top", functions=(lambda x: 1 - x, lambda x: 1 - x))
    top.set_xlabel("drop rate = 1 − q")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def build_expected_active_sweep(*, rng, canvas: Canvas, n_units: int, keep_prob: float) -> Drawing:
    """Expected kept units ``n q`` against q from 0 to 1, with the 5-95 % band of masks.

    Exact (no random draws); the chosen ``keep_prob`` is marked with its interval.

    Returns
    -------
    Drawing
        ``data`` with the expected count and interval at ``keep_prob`` and the
        band over the grid of q.
    """
    del rng  # no random draws: the figure is exact
    qs = np.linspace(0.0, 1.0, 201)
    lo, hi = kept_count_band(n_units, qs, 0.9)
    c_lo, c_hi = kept_count_distribution(n_units, keep_prob).interval(0.9)
    c_mean = n_units * keep_prob
    fig = canvas.figure()
    ax = fig.subplots()
    plot_expected_active_sweep(
        ax,
        qs,
        n_units * qs,
        lo,
        hi,
        n_units=n_units,
        keep_prob=keep_prob,
        chosen=(c_mean, c_lo, c_hi),
    )
    titles(
        fig,
        f"Expected kept units n·q in a layer of {n_units:,}",
        f"{probs_text(keep_prob)} · band: 5th to 95th percentile of Binomial(n, q)",
        ax=ax,
    )
    alt = (
        f"Line of expected kept units n·q against the keep probability q for a layer of "
        f"{n_units:,} units, with a band from the 5th to the 95th percentile. At keep "
        f"probability {fmt(keep_prob)} (drop rate {fmt(drop_rate_of(keep_prob))}) a mask keeps "
        f"{fmt(c_mean, 1)} units on average, 90 % of masks between {c_lo:,} and {c_hi:,}."
    )
    data = {
        "n_units": n_units,
        "keep_prob": keep_prob,
        "drop_rate": drop_rate_of(keep_prob),
        "expected_active": c_mean,
        "interval": [c_lo, c_hi],
        "q": qs.tolist(),
        "lo": lo.tolist(),
        "hi": hi.tolist(),
    }
    return Drawing(alt=alt, data=data, figure=fig)


register(
    FigureSpec(
        name="expected-active-sweep",
        summary="Expected kept units n·q against the keep probability, with a 5–95 % band",
        group="dropout",
        params=(
            n_units_param(256, high=10**9),
            Param("keep_prob", "prob", 0.7, "probability a unit is kept (marked)"),
        ),
        build=build_expected_active_sweep,
        formats=("png", "svg", "pdf"),
        cost=0.4,
    )
)


# =========================================================================== output-scale-ratio
def _hist(x: np.ndarray, bins: int = 40):
    lo, hi = float(x.min()), float(x.max())
    if hi - lo < 1e-9:
        lo, hi = lo - 0.01, hi + 0.01
    density, edges = np.histogram(x, bins=bins, range=(lo, hi), density=True)
    return edges, density


def plot_output_scale_ratio(ax, inverted, unscaled, *, keep_prob, theory_sd):
    """Histograms of the output-sum ratio with ``1/q`` scaling and without."""
    q = keep_prob
    for values, colour, name, centre, sd in (
        (unscaled, COLORS["warn"], "no scaling", q, theory_sd * q),
        (inverted, COLORS["kept"], "inverted (× 1/q)", 1.0, theory_sd),
    ):
        edges, density = _hist(values)
        ax.stairs(
            density,
            edges,
            fill=True,
            color=colour,
            alpha=0.55,
            label=f"{name}: mean {values.mean():.3f}, sd {values.std():.3f} (theory {sd:.3f})",
        )
        ax.axvline(centre, color=colour, ls="--", lw=1.3)
    ax.annotate(
        "1",
        (1.0, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -3),
        textcoords="offset points",
        va="top",
        color=COLORS["kept"],
    )
    if q < 1:
        ax.annotate(
            f"q = {fmt(q)}",
            (q, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            va="top",
            color=COLORS["warn"],
        )
    ax.set_xlabel("output sum with dropout / output sum without dropout")
    ax.set_ylabel("density")
    ax.set_ylim(0, None)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=1, fontsize="small")
    return ax


def build_output_scale_ratio(
    *, rng, canvas: Canvas, n_units: int, keep_prob: float, n_masks: int, mean_activation: float
) -> Drawing:
    """A layer's output sum with dropout over the sum without, over many masks.

    With inverted scaling (x 1/q) the ratio centres on 1, without scaling on q;
    the theory's standard deviation is given beside the measured one.

    Returns
    -------
    Drawing
        ``data`` with the means and standard deviations of both ratios, the
        theory's and the first (seeded) mask's ratio.
    """
    check_entries(n_units, n_masks)
    q = keep_prob
    # The layer of layer_summary(n_units, q, seed): its mask first, then its activations.
    first = sample_keep_mask((n_units,), q, rng=rng)
    a = sample_activations(n_units, mean_activation, rng=rng)
    total = float(a.sum())
    sums = np.r_[float(a[first].sum()), _mask_sums(a, q, n_masks - 1, rng=rng)]
    unscaled = sums / total
    inverted = unscaled / q
    # Var of sum(m a) / (q sum a) over masks, activations fixed.
    theory_sd = math.sqrt((1 - q) / q * float((a**2).sum())) / total
    fig = canvas.figure()
    ax = fig.subplots()
    plot_output_scale_ratio(ax, inverted, unscaled, keep_prob=q, theory_sd=theory_sd)
    titles(
        fig,
        "Scaling kept units by 1/q keeps the layer's output sum unbiased",
        f"{probs_text(q)} · {n_units:,} units, one fixed set of activations (mean "
        f"{fmt(mean_activation)}), {n_masks:,} random masks",
        ax=ax,
    )
    alt = (
        f"Histograms over {n_masks:,} dropout masks of a {n_units:,}-unit layer's output sum "
        f"divided by its sum without dropout, keep probability {fmt(q)} (drop rate "
        f"{fmt(drop_rate_of(q))}). With inverted scaling by 1/q = {1 / q:.2f} the ratio has mean "
        f"{inverted.mean():.3f} and sd {inverted.std():.3f}; without scaling it has mean "
        f"{unscaled.mean():.3f}, close to q."
    )
    data = {
        "n_units": n_units,
        "keep_prob": q,
        "drop_rate": drop_rate_of(q),
        "n_masks": n_masks,
        "mean_activation": mean_activation,
        "inverted_mean": float(inverted.mean()),
        "inverted_std": float(inverted.std()),
        "unscaled_mean": float(unscaled.mean()),
        "unscaled_std": float(unscaled.std()),
        "theory_std": theory_sd,
        "first_mask_ratio": float(inverted[0]),
    }
    return Drawing(alt=alt, data=data, figure=fig)


register(
    FigureSpec(
        name="output-scale-ratio",
        summary="Output sum ratio over many masks: centred on 1 with 1/q scaling, on q without",
        group="dropout",
        params=(
            n_units_param(256, high=1_000_000),
            Param("keep_prob", "prob", 0.7, "probability a unit is kept"),
            Param("n_masks", "int", 4000, "number of random masks", low=10, high=1_000_000),
            MEAN_ACTIVATION,
        ),
        build=build_output_scale_ratio,
        formats=("png", "svg", "pdf"),
        cost=0.5,
    )
)
