"""Figures of claims measured over seeds: dropout's effect as paired differences, and calibration.

The numbers come from :mod:`dropout_figs.lab.evidence`; this module only draws
them and hands them on in the figure's data (per-seed metrics, the summaries
with 95 % intervals, and each variant's full run configuration), so a page
prints exactly what the figure ran.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

from ..lab import PRESETS
from ..lab import evidence as ev
from ..style import COLORS
from .catalogue import Drawing, FigureSpec, Param, register

__all__ = ["build_dropout_over_seeds", "build_regulariser_table"]

_WITHOUT, _WITH = COLORS["without"], COLORS["with"]
_LABELS = {"without": "no dropout", "with": "dropout", "with_2x": "dropout,\n2x updates"}
_COLORS = {"without": _WITHOUT, "with": _WITH, "with_2x": COLORS["accent"]}


def _paired_strips(ax, metrics, key, *, scale=1.0):
    """One column per variant, one grey line per seed joining its values."""
    names = list(metrics)
    values = np.array([np.asarray(metrics[n][key]) * scale for n in names])
    xs = np.arange(len(names))
    for seed_values in values.T:
        ax.plot(xs, seed_values, color="0.75", linewidth=0.7, zorder=1)
    for i, n in enumerate(names):
        ax.scatter(np.full(values.shape[1], i), values[i], s=14, color=_COLORS[n], zorder=2)
        ax.plot([i - 0.25, i + 0.25], [values[i].mean()] * 2, color="black", linewidth=1.6)
    ax.set_xticks(xs, [_LABELS[n] for n in names], fontsize="small")
    ax.set_xlim(-0.5, len(names) - 0.5)


def _reliability(ax, reliability, names):
    ax.plot([0.5, 1], [0.5, 1], color="0.5", linestyle="--", linewidth=1, label="calibrated")
    for n in names:
        r = reliability[n]
        used = np.asarray(r["count"]) > 0
        conf = np.asarray(r["confidence"])[used]
        acc = np.asarray(r["accuracy"])[used]
        label = _LABELS[n].replace("\n", " ")
        ax.plot(conf, acc, marker="o", markersize=3.5, color=_COLORS[n], label=label)
    ax.set_xlim(0.48, 1.01)
    ax.set_ylim(0.3, 1.01)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize="x-small", loc="upper left")


def _rounded(obj, nd=4):
    if isinstance(obj, dict):
        return {k: _rounded(v, nd) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v, nd) for v in obj]
    if isinstance(obj, float):
        return None if np.isnan(obj) else round(obj, nd)
    return obj


def build_dropout_over_seeds(*, rng, canvas, preset, keep_prob, n_seeds, n_test):
    # Seeds drawn from the figure's seed: another figure seed is another sample of runs.
    seeds = [int(s) for s in rng.integers(0, 2**31, size=n_seeds)]
    comp = ev.paired_over_seeds(preset, seeds=seeds, keep_prob=keep_prob, n_test=n_test)
    data = _rounded(comp.to_dict())
    metrics = {n: v["metrics"] for n, v in data["variants"].items()}
    cfg = data["variants"]["with"]["config"]

    fig = canvas.figure()
    ax_loss, ax_acc, ax_rel = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.1]})
    _paired_strips(ax_loss, metrics, "test_loss")
    ax_loss.set_yscale("log")
    ax_loss.yaxis.set_major_formatter(ScalarFormatter())
    ax_loss.yaxis.set_minor_formatter(NullFormatter())
    ax_loss.set_ylabel("test cross-entropy (log scale)")
    _paired_strips(ax_acc, metrics, "test_acc", scale=100)
    ax_acc.set_ylabel("test accuracy (%)")
    _reliability(ax_rel, comp.reliability, list(metrics))
    fig.suptitle(
        f"{PRESETS[preset].title}: {n_seeds} seeds, each with its own data, tested on "
        f"{n_test:,} held-out points\nkeep probability {keep_prob:g} (drop rate "
        f"{1 - keep_prob:g}); {cfg['n_updates']:,} updates (dropout also {2 * cfg['n_updates']:,})",
        fontsize="small",
    )

    s = data["summaries"]["with"]
    alt = (
        f"Test loss and accuracy of the {preset} network over {n_seeds} seeds, without and "
        f"with dropout ({_LABELS['with']} at keep probability {keep_prob:g}), one line per seed. "
        f"Dropout changes the test loss by {s['test_loss']['mean']:+.3f} on average "
        f"(95 % interval {s['test_loss']['ci_low']:+.3f} to {s['test_loss']['ci_high']:+.3f}; "
        f"lower on {s['test_loss']['n_better']} of {n_seeds} seeds) and the test accuracy by "
        f"{100 * s['test_acc']['mean']:+.1f} points ({100 * s['test_acc']['ci_low']:+.1f} to "
        f"{100 * s['test_acc']['ci_high']:+.1f}; higher on {s['test_acc']['n_better']} seeds). "
        f"Right: reliability diagram, accuracy against confidence, pooled over seeds; "
        f"expected calibration error changes by {s['test_ece']['mean']:+.3f}."
    )
    data.update({"preset": preset, "keep_prob": keep_prob, "n_seeds": n_seeds, "n_test": n_test})
    data["run"] = cfg  # the run with dropout; the other arms' records are in data["variants"]
    return Drawing(alt=alt, data=data, figure=fig)


# The run both figures repeat over seeds: which preset and how much dropout.
_RUN_PARAMS = (
    Param("preset", "choice", "severe-overfitting", "training-lab preset", choices=tuple(PRESETS)),
    Param("keep_prob", "prob", 0.5, "probability a hidden unit is kept"),
)


register(
    FigureSpec(
        name="dropout-over-seeds",
        summary="Dropout's effect on held-out loss, accuracy and calibration over many seeds",
        group="lab",
        params=(
            *_RUN_PARAMS,
            Param("n_seeds", "int", 20, "paired seeds (runs per variant)", low=2, high=200),
            Param("n_test", "int", 2000, "held-out test points per seed", low=100, high=100_000),
        ),
        build=build_dropout_over_seeds,
        formats=("png", "svg", "pdf"),
        size=(1000, 420),
        cost=6.0,
    )
)


# =========================================================================== regularisers
def build_regulariser_table(*, rng, canvas, preset, keep_prob, n_seeds, n_test):
    seeds = [int(s) for s in rng.integers(0, 2**31, size=n_seeds)]
    table = ev.regulariser_table(preset, seeds=seeds, keep_prob=keep_prob, n_test=n_test)
    rows = table["rows"]
    names = list(rows)
    fig = canvas.figure()
    ax_err, ax_loss = fig.subplots(1, 2, sharey=True)
    ys = np.arange(len(names))[::-1]
    for ax, key, scale in ((ax_err, "test_error_ci", 100), (ax_loss, "test_loss_ci", 1)):
        for y, n in zip(ys, names, strict=True):
            mean, lo, hi = (scale * v for v in rows[n][key])
            color = _WITH if "dropout" in n else _WITHOUT
            ax.errorbar(mean, y, xerr=[[mean - lo], [hi - mean]], fmt="o", color=color, capsize=3)
        ax.grid(axis="x", alpha=0.3)
    ax_err.set_yticks(ys, names, fontsize="x-small")
    ax_err.set_xlabel("test error (%), mean and 95 % interval")
    ax_loss.set_xlabel("test cross-entropy (log scale)")
    ax_loss.set_xscale("log")
    ax_loss.xaxis.set_major_formatter(ScalarFormatter())
    ax_loss.xaxis.set_minor_formatter(NullFormatter())
    cfg = rows["none"]["config"]
    fig.suptitle(
        f"Regularisers on {PRESETS[preset].title.lower()} ({cfg['n_train']} training points, "
        f"{cfg['hidden_layers']} x {cfg['width']} units): {n_seeds} seeds, "
        f"{n_test:,} test points each",
        fontsize="small",
    )
    data = _rounded(
        {
            "seeds": table["seeds"],
            "rows": {
                n: {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in r.items()}
                for n, r in rows.items()
            },
        }
    )
    data["rows"] = {
        n: {**r, "test_error_ci": list(r["test_error_ci"]), "test_loss_ci": list(r["test_loss_ci"])}
        for n, r in data["rows"].items()
    }
    data.update({"preset": preset, "keep_prob": keep_prob, "n_seeds": n_seeds, "n_test": n_test})
    data["run"] = data["rows"]["dropout"]["config"]  # every row's own record: data["rows"]
    alt = (
        f"Mean test error and loss with 95 % intervals over {n_seeds} seeds for "
        + "; ".join(
            f"{n}: {100 * rows[n]['test_error_ci'][0]:.1f} % error, "
            f"loss {rows[n]['test_loss_ci'][0]:.2f}"
            for n in names
        )
        + "."
    )
    return Drawing(alt=alt, data=data, figure=fig)


register(
    FigureSpec(
        name="regulariser-table",
        summary="Dropout beside L2, max-norm and early stopping, and the paper's SGD recipe",
        group="lab",
        params=(
            *_RUN_PARAMS,
            Param("n_seeds", "int", 20, "seeds (runs per regulariser)", low=2, high=200),
            Param("n_test", "int", 2000, "held-out test points per seed", low=100, high=100_000),
        ),
        build=build_regulariser_table,
        formats=("png", "svg", "pdf"),
        size=(1000, 480),
        cost=12.0,
    )
)
