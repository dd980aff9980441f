"""The paper's sweeps at toy scale: the keep probability (Figure 9) and the
training-set size (Figure 10), each over several data sets."""

from __future__ import annotations

import numpy as np

from ..lab import PRESETS
from ..lab.data import DATASETS
from ..lab.evidence import mean_interval, paired_summary
from ..lab.record import data_shape, run_record, seed_of
from ..lab.sweeps import draw_splits, sweep_dataset_size, sweep_keep_prob
from ..style import COLORS
from . import plotting as pl
from .catalogue import Drawing, FigureSpec, Param, register
from .labkit import (
    WITH,
    WITHOUT,
    drop_text,
    epochs_param,
    keep_param,
    need_dropout,
    preset_param,
    preset_splits,
    rounded,
    seed_ints,
    width_param,
)

_SWEEP_KEEP_PROBS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def _panel_numbers(sweep, qs):
    """One panel's numbers over seeds: per keep probability the mean test loss and
    error with 95 % intervals, and the paired difference from no dropout (q = 1)."""
    base = int(np.flatnonzero(qs == 1.0)[0])
    out = {"widths": sweep["widths"].tolist()}
    for metric in ("loss", "error"):
        values = sweep[f"test_{metric}"]
        cis = [mean_interval(v) for v in values]
        out[f"test_{metric}_mean"] = [rounded(c[0]) for c in cis]
        out[f"test_{metric}_ci"] = [[rounded(c[1]), rounded(c[2])] for c in cis]
        out[f"{metric}_vs_no_dropout"] = [
            None if i == base else _rounded_summary(values[base], values[i]) for i in range(len(qs))
        ]
    out["best_keep_prob"] = float(qs[int(np.argmin(sweep["test_loss"].mean(1)))])
    return out


def _rounded_summary(a, b):
    s = paired_summary(a, b, higher_is_better=False).to_dict()
    return {k: rounded(v) if isinstance(v, float) else v for k, v in s.items()}


def build_keep_prob_sweep(*, rng, canvas, preset, width, n_epochs, n_seeds):
    """Held-out loss and error against the keep probability (the paper's Figure 9).

    (a) the width fixed, (b) the expected number of kept units ``width * q``
    fixed; mean and 95 % interval over ``n_seeds`` data sets of the preset, each
    with its own 1,000 test points, by :func:`dropout_figs.lab.sweep_keep_prob`.
    Within a data set every keep probability starts from the same weights and
    batch order, so each is paired with no dropout (q = 1).

    Returns
    -------
    Drawing
        ``data`` with, per panel, the widths, the mean test loss and error per
        keep probability with 95 % intervals, the paired difference from q = 1
        (mean, interval, seeds where q is better) and the keep probability of
        lowest mean loss; and the run configuration.
    """
    r_data, r_seed = rng.spawn(2)
    datasets = preset_splits(preset, rng=r_data, n_test=1000, n_replicates=n_seeds)
    config = PRESETS[preset].config.replace(width=width, epochs=n_epochs)
    units_kept = max(2, width // 4)
    seed_a, seed_b = seed_ints(r_seed, 2)
    fixed_n = sweep_keep_prob(config, datasets, _SWEEP_KEEP_PROBS, seeds=[seed_a])
    fixed_nq = sweep_keep_prob(
        config, datasets, _SWEEP_KEEP_PROBS, seeds=[seed_b], units_kept=units_kept
    )
    qs = np.array(_SWEEP_KEEP_PROBS)
    summary = {"fixed_n": _panel_numbers(fixed_n, qs), "fixed_nq": _panel_numbers(fixed_nq, qs)}

    fig = canvas.figure()
    axes = fig.subplots(2, 2, sharex=True, sharey="row")
    panels = (
        ("fixed_n", f"(a) width fixed: n = {width}", WITH),
        ("fixed_nq", f"(b) kept units fixed: n·q = {units_kept}", COLORS["good"]),
    )
    for col, (key, title, color) in enumerate(panels):
        p = summary[key]
        for row, metric, scale, label in (
            (0, "loss", 1, "test loss"),
            (1, "error", 100, "test error (%)"),
        ):
            ax = axes[row, col]
            mean = scale * np.array(p[f"test_{metric}_mean"])
            ci = scale * np.array(p[f"test_{metric}_ci"])
            ax.fill_between(qs, ci[:, 0], ci[:, 1], color=color, alpha=0.2, lw=0)
            ax.plot(qs, mean, "o-", color=color, lw=1.8, ms=4, label="mean, 95 % interval")
            ax.set_ylabel(label if col == 0 else "")
            ax.axvline(p["best_keep_prob"], color=COLORS["ink"], lw=0.8, ls=":")
        axes[1, col].set_xlabel("keep probability q")
        axes[0, col].set_title(title, fontsize="medium")
        best = p["best_keep_prob"]
        left = best > 0.55
        axes[0, col].annotate(
            f"lowest mean loss: q = {best:g}",
            xy=(best, 0.97),
            xycoords=("data", "axes fraction"),
            xytext=(-4 if left else 4, 0),
            textcoords="offset points",
            ha="right" if left else "left",
            va="top",
            fontsize="small",
        )
    axes[1, 0].set_xticks(qs[::2], [f"{q:g}" for q in qs[::2]])
    n_train = datasets[0].data.n_train
    fig.suptitle(
        f"Keep probability q (drop rate 1 − q), {PRESETS[preset].title.lower()}: "
        f"{n_train} training points, {config.hidden_layers} hidden layers, {n_epochs} epochs\n"
        f"mean and 95 % interval over {n_seeds} data sets, 1,000 test points each",
        fontsize="medium",
    )
    a, b = summary["fixed_n"], summary["fixed_nq"]
    alt = (
        f"Test loss and error against the keep probability q from 0.1 to 1 (drop rate 1 - q), "
        f"mean over {n_seeds} data sets of the {preset} preset ({n_train} training points), "
        f"1,000 test points each. (a) Width fixed at {width}: test loss "
        f"{a['test_loss_mean'][0]:.2f} at q = 0.1, lowest ({min(a['test_loss_mean']):.2f}) at "
        f"q = {a['best_keep_prob']:g}, {a['test_loss_mean'][-1]:.2f} without dropout. "
        f"(b) Width times q fixed at {units_kept}: lowest test loss "
        f"{min(b['test_loss_mean']):.2f} at q = {b['best_keep_prob']:g}, "
        f"{b['test_loss_mean'][-1]:.2f} at q = 1."
    )
    out = {
        "preset": preset,
        "keep_probs": [float(q) for q in qs],
        "drop_rates": [rounded(1 - q) for q in qs],
        "n_seeds": n_seeds,
        "n_train": n_train,
        "n_test": 1000,
        # The test points are the split's 1,000; every data set and training stream is
        # spawned from the figure's one seed.
        "run": run_record(
            config,
            {**data_shape(datasets[0].data), "n_test": 1000},
            seeds=[seed_of(rng)],
            preset=preset,
            paired=False,
        ),
        **summary,
    }
    return Drawing(alt=alt, data=out, figure=fig)


register(
    FigureSpec(
        name="keep-prob-sweep",
        summary="Test loss and error against the keep probability, over seeds (paper, Figure 9)",
        group="paper",
        params=(
            preset_param("severe-overfitting"),
            width_param(32),
            epochs_param(100),
            Param("n_seeds", "int", 20, "seeds (data sets) per keep probability", low=2, high=200),
        ),
        build=build_keep_prob_sweep,
        formats=("png", "svg", "pdf"),
        cost=6.0,
    )
)


# --------------------------------------------------------------------------- 7 data-set size
_SIZES = (8, 16, 32, 64, 128, 256, 512)
# Mini-batch updates per net at the equal budget, whatever the size (dropout also
# gets twice as many). 200, not 300: 300 and 600 gave the same picture at 1.5x the cost.
_N_UPDATES = 200
_N_TEST = 1000


def _summaries(without, with_):
    """Per size, the paired summary of ``with_ - without`` over the pools (rows: sizes)."""
    return [_rounded_summary(a, b) for a, b in zip(without, with_, strict=True)]


def build_dataset_size_sweep(*, rng, canvas, dataset, noise, keep_prob, width, n_seeds):
    """Held-out error without and with dropout against the training-set size (Figure 10).

    Nested training sets drawn from one pool per seed, each pool with its own
    1,000 test points; every net gets about the same number of updates, and the
    dropout net also twice as many (:func:`dropout_figs.lab.sweep_dataset_size`).
    The right panel shows the paired difference, dropout minus no dropout, with
    its 95 % interval over the pools, at both budgets.

    Returns
    -------
    Drawing
        ``data`` with, per size, the mean errors, the paired summaries (error and
        loss, both budgets), the no-dropout net's generalisation gap (test minus
        training loss), the updates, and the full configuration.
    """
    need_dropout(keep_prob, "it compares training with and without dropout")
    base = PRESETS["severe-overfitting"].config.replace(
        hidden_layers=2, width=width, keep_prob=keep_prob
    )
    r_data, r_seeds = rng.spawn(2)
    pools = draw_splits(
        dataset, n_train=max(_SIZES), n_test=_N_TEST, n_replicates=n_seeds, noise=noise, rng=r_data
    )
    runs = sweep_dataset_size(
        base,
        pools,
        _SIZES,
        seeds=seed_ints(r_seeds, len(_SIZES)),
        n_updates=_N_UPDATES,
        doubled_budget=True,
    )
    sizes = list(_SIZES)
    wo, w1, w2 = (runs[k] for k in ("without_dropout", "with_dropout", "with_dropout_2x"))
    err = {
        "error": {
            k: _summaries(wo["test_error"], v["test_error"]) for k, v in (("1x", w1), ("2x", w2))
        },
        "loss": {
            k: _summaries(wo["test_loss"], v["test_loss"]) for k, v in (("1x", w1), ("2x", w2))
        },
    }

    fig = canvas.figure()
    ax_err, ax_diff = fig.subplots(1, 2)
    pos = np.arange(len(sizes))
    pl.draw_sweep(
        ax_err,
        pos,
        {
            "without dropout": {"values": 100 * wo["test_error"], "color": WITHOUT},
            f"dropout (q = {keep_prob:g})": {"values": 100 * w1["test_error"], "color": WITH},
            "dropout, 2x updates": {"values": 100 * w2["test_error"], "color": COLORS["accent"]},
        },
        xlabel="training-set size",
        ylabel="test error (%)",
    )
    ax_err.set_xticks(pos, [str(s) for s in sizes])
    ax_err.legend(fontsize="small")
    ax_err.set_title("test error: mean and min–max over seeds", fontsize="medium")
    for shift, key, color, label in (
        (-0.12, "1x", WITH, f"same {_N_UPDATES} updates"),
        (0.12, "2x", COLORS["accent"], f"dropout {2 * _N_UPDATES} updates"),
    ):
        rows = err["error"][key]
        mean = np.array([100 * r["mean"] for r in rows])
        lo = np.array([100 * r["ci_low"] for r in rows])
        hi = np.array([100 * r["ci_high"] for r in rows])
        ax_diff.errorbar(
            pos + shift,
            mean,
            yerr=[mean - lo, hi - mean],
            fmt="o",
            color=color,
            capsize=3,
            label=label,
        )
    ax_diff.axhline(0.0, color=COLORS["ink"], lw=0.8)
    ax_diff.set_xticks(pos, [str(s) for s in sizes])
    ax_diff.set_xlabel("training-set size")
    ax_diff.set_ylabel("error with − error without dropout (points)")
    ax_diff.set_title(
        "paired difference, 95 % interval\n(below 0: dropout better)", fontsize="medium"
    )
    ax_diff.legend(fontsize="small")
    fig.suptitle(
        f"Training-set size, {dataset} (noise {noise:g}), 2 hidden layers of {width}, "
        f"{drop_text(keep_prob)}\n{n_seeds} seeds (data sets) per size, {_N_UPDATES} updates per "
        f"net (dropout also {2 * _N_UPDATES}), error on {_N_TEST:,} test points",
        fontsize="medium",
    )
    e1, e2 = err["error"]["1x"], err["error"]["2x"]
    alt = (
        f"Test error without and with dropout ({drop_text(keep_prob)}) against the "
        f"training-set size ({', '.join(map(str, sizes))}) on {dataset}, {n_seeds} seeds per "
        f"size. Error with minus without dropout, percentage points, mean and 95 % interval, "
        f"same {_N_UPDATES} updates: "
        + "; ".join(
            f"{n}: {100 * r['mean']:+.1f} ({100 * r['ci_low']:+.1f} to {100 * r['ci_high']:+.1f})"
            for n, r in zip(sizes, e1, strict=True)
        )
        + f". Dropout with {2 * _N_UPDATES} updates: "
        + "; ".join(f"{n}: {100 * r['mean']:+.1f}" for n, r in zip(sizes, e2, strict=True))
        + "."
    )
    # The smallest size's run; every pool and training stream is spawned from the figure's seed.
    config = run_record(
        base.replace(epochs=int(runs["epochs"][0])),
        {**data_shape(pools[0].data), "n_train": sizes[0], "n_test": _N_TEST},
        seeds=[seed_of(rng)],
        paired=True,
    )
    out = {
        "dataset": dataset,
        "keep_prob": keep_prob,
        "drop_rate": rounded(1 - keep_prob),
        "sizes": sizes,
        "n_seeds": n_seeds,
        "n_test": _N_TEST,
        "run": config,
        "updates": [int(u) for u in runs["updates"]],
        "updates_2x": [2 * int(u) for u in runs["updates"]],
        "epochs": [int(e) for e in runs["epochs"]],
        "error_without_mean": [rounded(v) for v in wo["test_error"].mean(1)],
        "error_with_mean": [rounded(v) for v in w1["test_error"].mean(1)],
        "error_with_2x_mean": [rounded(v) for v in w2["test_error"].mean(1)],
        "error_vs_without": e1,
        "error_vs_without_2x": e2,
        "loss_vs_without": err["loss"]["1x"],
        "loss_vs_without_2x": err["loss"]["2x"],
        # how much the net without dropout overfits at each size: test minus training loss
        "gap_without_mean": [rounded(v) for v in (wo["test_loss"] - wo["train_loss"]).mean(1)],
        "gap_with_mean": [rounded(v) for v in (w1["test_loss"] - w1["train_loss"]).mean(1)],
    }
    return Drawing(alt=alt, data=out, figure=fig)


register(
    FigureSpec(
        name="dataset-size-sweep",
        summary="The benefit of dropout against the training-set size (paper, Figure 10)",
        group="paper",
        params=(
            Param("dataset", "choice", "moons", "toy data set", choices=DATASETS),
            Param("noise", "float", 0.35, "standard deviation of the jitter", low=0.0, high=2.0),
            keep_param(0.5),
            # 32, not 64: 20 seeds x 7 sizes x 3 nets; the cost is per step, not per unit
            width_param(32),
            Param("n_seeds", "int", 20, "seeds (data sets) per size", low=2, high=200),
        ),
        build=build_dataset_size_sweep,
        formats=("png", "svg", "pdf"),
        cost=6.0,
    )
)
