"""Static figures of dropout's statistics, drawn with matplotlib's object-oriented API.

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
    classic_dropout,
    drop_rate_of,
    format_subnetworks,
    inverted_dropout,
    kept_count_band,
    kept_count_distribution,
    log10_binomial,
    log10_subnetworks,
    sample_activations,
    sample_keep_mask,
)
from ..style import COLORS
from .catalogue import Canvas, Drawing, FigureSpec, Param, n_units_param, register

__all__ = [
    "plot_expected_active_sweep",
    "plot_inverted_vs_classic",
    "plot_kept_count_pmf",
    "plot_output_scale_ratio",
    "plot_subnetwork_count",
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


def _fmt(x: float, digits: int = 3) -> str:
    """``0.7``, ``1.43``, ``179.2``: up to ``digits`` decimals, no trailing zeros."""
    text = f"{x:,.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


def _probs(q: float) -> str:
    return f"keep prob q = {_fmt(q)} · drop rate {_fmt(drop_rate_of(q))}"


def _thousands(ax_axis) -> None:
    from matplotlib.ticker import FuncFormatter

    ax_axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v == int(v) else ""))


def _titles(fig, title: str, subtitle: str, ax=None) -> None:
    """A bold title; the subtitle under it (on ``ax``) or, for grids, as a footnote."""
    fig.suptitle(title, fontweight="bold", fontsize="large", x=0.01, ha="left")
    if ax is not None:
        ax.set_title(subtitle, fontsize="small", color="#555555", loc="left", fontweight="normal")
    else:
        fig.supxlabel(subtitle, fontsize="small", color="#555555", x=0.01, ha="left")


def _check_entries(n_units: int, n_masks: int) -> None:
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
    ax.axvline(mean, color=COLORS["ink"], ls="--", lw=1.4, label=f"mean n·q = {_fmt(mean, 1)}")
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
    _thousands(ax.xaxis)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def build_kept_count_pmf(
    *, rng, canvas: Canvas, n_units: int, keep_prob: float, level: float, n_draws: int
) -> Drawing:
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
    _titles(
        fig,
        f"Kept units per mask: K ~ Binomial(n = {n_units:,}, q = {_fmt(q)})",
        f"{_probs(q)} · mean {_fmt(dist.mean, 1)} · sd {_fmt(dist.std, 2)}"
        + (f" · {n_draws:,} simulated masks" if n_draws else ""),
        ax=ax,
    )
    alt = (
        f"Probability of each number of kept units in a layer of {n_units:,} with keep "
        f"probability {_fmt(q)} (drop rate {_fmt(drop_rate_of(q))}): a binomial peak at the "
        f"mean {_fmt(dist.mean, 1)} (sd {_fmt(dist.std, 2)}); {level * 100:g} % of masks keep "
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
        label=f"q = {_fmt(keep_prob)}: {_fmt(c_mean, 1)} ({c_lo:,.0f}–{c_hi:,.0f})",
    )
    # The line rises from bottom-left to top-right: the lower-right corner is free.
    ax.annotate(
        f"keep prob q = {_fmt(keep_prob)}\ndrop rate {_fmt(drop_rate_of(keep_prob))}\n"
        f"expected {_fmt(c_mean, 1)} of {n_units:,}\n90 % of masks: {c_lo:,.0f}–{c_hi:,.0f}",
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
    _thousands(ax.yaxis)
    top = ax.secondary_xaxis("top", functions=(lambda x: 1 - x, lambda x: 1 - x))
    top.set_xlabel("drop rate = 1 − q")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def build_expected_active_sweep(*, rng, canvas: Canvas, n_units: int, keep_prob: float) -> Drawing:
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
    _titles(
        fig,
        f"Expected kept units n·q in a layer of {n_units:,}",
        f"{_probs(keep_prob)} · band: 5th to 95th percentile of Binomial(n, q)",
        ax=ax,
    )
    alt = (
        f"Line of expected kept units n·q against the keep probability q for a layer of "
        f"{n_units:,} units, with a band from the 5th to the 95th percentile. At keep "
        f"probability {_fmt(keep_prob)} (drop rate {_fmt(drop_rate_of(keep_prob))}) a mask keeps "
        f"{_fmt(c_mean, 1)} units on average, 90 % of masks between {c_lo:,} and {c_hi:,}."
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
            f"q = {_fmt(q)}",
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
    _check_entries(n_units, n_masks)
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
    _titles(
        fig,
        "Scaling kept units by 1/q keeps the layer's output sum unbiased",
        f"{_probs(q)} · {n_units:,} units, one fixed set of activations (mean "
        f"{_fmt(mean_activation)}), {n_masks:,} random masks",
        ax=ax,
    )
    alt = (
        f"Histograms over {n_masks:,} dropout masks of a {n_units:,}-unit layer's output sum "
        f"divided by its sum without dropout, keep probability {_fmt(q)} (drop rate "
        f"{_fmt(drop_rate_of(q))}). With inverted scaling by 1/q = {1 / q:.2f} the ratio has mean "
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
        label=f"masks keeping exactly round(n·q) units (q = {_fmt(keep_prob)}, "
        f"drop rate {_fmt(drop_rate_of(keep_prob))})",
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
    _thousands(ax.xaxis)
    _thousands(ax.yaxis)
    ax.legend(loc="lower right" if log else "upper left", fontsize="small")
    return ax


def build_subnetwork_count(*, rng, canvas: Canvas, n_max: int, keep_prob: float) -> Drawing:
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
    _titles(
        fig,
        "A layer of n units has 2^n dropout sub-networks",
        f"each mask picks one; {_probs(keep_prob)} sets which sizes are likely, not how many "
        "there are",
        ax=ax,
    )
    shown = "; ".join(f"{size} units: {format_subnetworks(size)}" for size, _, _ in marks)
    alt = (
        f"The number of dropout sub-networks 2^n, as digits, grows linearly with the layer size n "
        f"up to {n_max:,} units ({format_subnetworks(n_max)} sub-networks). {shown}. A dashed "
        f"curve counts the masks that keep exactly round(n·q) units at keep probability "
        f"{_fmt(keep_prob)} (drop rate {_fmt(drop_rate_of(keep_prob))})."
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
    subtitle = f"{_probs(keep_prob)} · one layer of {len(a)} units, bars: one mask"
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
    _check_entries(n_units, n_masks)
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
            "title": f"classic · test: q·a = {_fmt(q)}·a",
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
        f"Four bar charts of one layer of {n_units} units with keep probability {_fmt(q)} (drop "
        f"rate {_fmt(drop_rate_of(q))}); one mask keeps {kept} of {n_units} units. Inverted "
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
