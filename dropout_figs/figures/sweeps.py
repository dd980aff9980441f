"""The paper's sweeps at toy scale: the keep probability (Figure 9) and the
training-set size (Figure 10), each over several data sets."""

from __future__ import annotations

import numpy as np

from ..lab import PRESETS
from ..lab.data import DATASETS
from ..lab.sweeps import draw_splits, sweep_dataset_size, sweep_keep_prob
from ..style import COLORS
from . import plotting as pl
from .catalogue import Drawing, FigureSpec, Param, register
from .labkit import (
    N_SEEDS,
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


def build_keep_prob_sweep(*, rng, canvas, preset, width, n_epochs):
    """Held-out loss and error against the keep probability (the paper's Figure 9).

    (a) the width fixed, (b) the expected number of kept units ``width * q``
    fixed; mean and min-max over several data sets of the preset, each with its
    own test set, by :func:`dropout_figs.lab.sweep_keep_prob`.

    Returns
    -------
    Drawing
        ``data`` with, per panel, the widths, the mean, min and max loss, the
        mean error per keep probability and the keep probability of lowest loss.
    """
    r_data, r_seed = rng.spawn(2)
    datasets = preset_splits(preset, rng=r_data, n_test=1000)
    config = PRESETS[preset].config.replace(width=width, epochs=n_epochs)
    units_kept = max(2, width // 4)
    seed_a, seed_b = seed_ints(r_seed, 2)
    fixed_n = sweep_keep_prob(config, datasets, _SWEEP_KEEP_PROBS, seeds=[seed_a])
    fixed_nq = sweep_keep_prob(
        config, datasets, _SWEEP_KEEP_PROBS, seeds=[seed_b], units_kept=units_kept
    )
    qs = np.array(_SWEEP_KEEP_PROBS)

    fig = canvas.figure()
    axes = fig.subplots(2, 2, sharex=True, sharey="row")
    panels = (
        (fixed_n, f"(a) width fixed: n = {width}", WITH),
        (fixed_nq, f"(b) kept units fixed: n·q = {units_kept}", COLORS["good"]),
    )
    summary = {}
    for col, (sweep, title, color) in enumerate(panels):
        pl.draw_sweep(
            axes[0, col],
            qs,
            {"validation loss": {"values": sweep["test_loss"], "color": color}},
            xlabel="",
            ylabel="validation loss" if col == 0 else "",
        )
        pl.draw_sweep(
            axes[1, col],
            qs,
            {"validation error": {"values": 100 * sweep["test_error"], "color": color}},
            xlabel="keep probability q",
            ylabel="validation error (%)" if col == 0 else "",
        )
        axes[0, col].set_title(title, fontsize="medium")
        mean_loss = sweep["test_loss"].mean(1)
        mean_err = sweep["test_error"].mean(1)
        best = int(np.argmin(mean_loss))
        for row in (0, 1):
            axes[row, col].axvline(qs[best], color=COLORS["ink"], lw=0.8, ls=":")
        left = qs[best] > 0.55
        axes[0, col].annotate(
            f"lowest mean loss: q = {qs[best]:g}",
            xy=(qs[best], 0.97),
            xycoords=("data", "axes fraction"),
            xytext=(-4 if left else 4, 0),
            textcoords="offset points",
            ha="right" if left else "left",
            va="top",
            fontsize="small",
        )
        key = "fixed_n" if col == 0 else "fixed_nq"
        summary[key] = {
            "widths": sweep["widths"].tolist(),
            "val_loss_mean": [rounded(v) for v in mean_loss],
            "val_loss_min": [rounded(v) for v in sweep["test_loss"].min(1)],
            "val_loss_max": [rounded(v) for v in sweep["test_loss"].max(1)],
            "val_error_mean": [rounded(v) for v in mean_err],
            "best_keep_prob": float(qs[best]),
        }
    axes[1, 0].set_xticks(qs[::2], [f"{q:g}" for q in qs[::2]])
    n_train = datasets[0].data.n_train
    fig.suptitle(
        f"Keep probability q (drop rate 1 − q), {PRESETS[preset].title.lower()}: "
        f"{n_train} training points, {config.hidden_layers} hidden layers, {n_epochs} epochs\n"
        f"mean and min–max over {len(datasets)} data sets",
        fontsize="medium",
    )
    a, b = summary["fixed_n"], summary["fixed_nq"]
    alt = (
        f"Final validation loss and error against the keep probability q from 0.1 to 1 "
        f"(drop rate 1 - q), mean over {len(datasets)} data sets of the {preset} preset "
        f"({n_train} training points). (a) Width fixed at {width}: validation loss "
        f"{a['val_loss_mean'][0]:.2f} at q = 0.1, lowest ({min(a['val_loss_mean']):.2f}) at "
        f"q = {a['best_keep_prob']:g}, {a['val_loss_mean'][-1]:.2f} without dropout. "
        f"(b) Width times q fixed at {units_kept}: lowest validation loss "
        f"{min(b['val_loss_mean']):.2f} at q = {b['best_keep_prob']:g}, "
        f"{b['val_loss_mean'][-1]:.2f} at q = 1."
    )
    out = {
        "preset": preset,
        "keep_probs": [float(q) for q in qs],
        "drop_rates": [rounded(1 - q) for q in qs],
        "n_seeds": len(datasets),
        "n_train": n_train,
        **summary,
    }
    return Drawing(alt=alt, data=out, figure=fig)


register(
    FigureSpec(
        name="keep-prob-sweep",
        summary="Validation loss and error against the keep probability (paper, Figure 9)",
        group="paper",
        params=(preset_param("severe-overfitting"), width_param(32), epochs_param(100)),
        build=build_keep_prob_sweep,
        formats=("png", "svg", "pdf"),
        cost=4.8,
    )
)


# --------------------------------------------------------------------------- 7 data-set size
_SIZES = (8, 16, 32, 64, 128, 256, 512)
_N_UPDATES = 300  # mini-batch updates per net, whatever the size
_N_TEST = 1000


def build_dataset_size_sweep(*, rng, canvas, dataset, noise, keep_prob, width):
    """Held-out error without and with dropout against the training-set size (Figure 10).

    Nested training sets drawn from one pool per data set, about the same number
    of updates for every size (:func:`dropout_figs.lab.sweep_dataset_size`); the
    right panel shows dropout's benefit per size. Where the toy scale does not
    reproduce the paper, the figure says so.

    Returns
    -------
    Drawing
        ``data`` with the mean errors per size, the benefit per size and data
        set, the size where it is largest and where dropout starts to hurt.
    """
    need_dropout(keep_prob, "it compares training with and without dropout")
    base = PRESETS["severe-overfitting"].config.replace(
        hidden_layers=2, width=width, keep_prob=keep_prob
    )
    r_data, r_seeds = rng.spawn(2)
    pools = draw_splits(
        dataset, n_train=max(_SIZES), n_test=_N_TEST, n_replicates=N_SEEDS, noise=noise, rng=r_data
    )
    runs = sweep_dataset_size(
        base, pools, _SIZES, seeds=seed_ints(r_seeds, len(_SIZES)), n_updates=_N_UPDATES
    )
    error_without = runs["without_dropout"]["test_error"]
    error_with = runs["with_dropout"]["test_error"]
    sizes = list(_SIZES)
    benefit_err = 100 * (error_without - error_with)
    benefit_loss = runs["without_dropout"]["test_loss"] - runs["with_dropout"]["test_loss"]

    fig = canvas.figure()
    ax_err, ax_gain = fig.subplots(1, 2)
    pl.draw_sweep(
        ax_err,
        np.arange(len(sizes)),
        {
            "without dropout": {"values": 100 * error_without, "color": WITHOUT},
            f"with dropout (q = {keep_prob:g})": {
                "values": 100 * error_with,
                "color": WITH,
            },
        },
        xlabel="training-set size",
        ylabel="test error (%)",
    )
    ax_err.set_xticks(np.arange(len(sizes)), [str(s) for s in sizes])
    ax_err.legend(fontsize="small")
    ax_err.set_title("error", fontsize="medium")
    pl.draw_gap_bars(ax_gain, sizes, benefit_err, color=WITH)
    ax_gain.set_xlabel("training-set size")
    ax_gain.set_ylabel("error without − error with (points)")
    ax_gain.set_title("benefit of dropout", fontsize="medium")
    ax_gain.legend(fontsize="small", loc="center right")
    mean_gain = benefit_err.mean(1)
    best = int(np.argmax(mean_gain))
    hurts = [s for s, g in zip(sizes, mean_gain, strict=True) if g < 0 and s > sizes[best]]
    if hurts:
        # At toy scale the paper's "no harm with lots of data" does not reproduce:
        # say so on the figure instead of tuning it away.
        pl.draw_note(
            ax_gain,
            f"toy scale: from {hurts[0]} points the net\nno longer overfits, and dropout\n"
            f"({_N_UPDATES} updates) costs accuracy",
        )
    fig.suptitle(
        f"Training-set size, {dataset} (noise {noise:g}), 2 hidden layers of {width}, "
        f"{drop_text(keep_prob)}\n{N_SEEDS} data sets per size, about {_N_UPDATES} updates "
        f"per net, error on {_N_TEST} test points",
        fontsize="medium",
    )
    alt = (
        f"Validation error without and with dropout ({drop_text(keep_prob)}) against the "
        f"training-set size ({', '.join(map(str, sizes))}) on {dataset}, {N_SEEDS} data sets "
        "per size. "
        "Mean benefit of dropout (error without minus error with, percentage points): "
        + ", ".join(f"{s}: {g:+.1f}" for s, g in zip(sizes, mean_gain, strict=True))
        + f"; largest at {sizes[best]} points."
        + (
            f" At this toy scale dropout costs accuracy from {hurts[0]} points on, where the "
            "network no longer overfits."
            if hurts
            else ""
        )
    )
    out = {
        "dataset": dataset,
        "keep_prob": keep_prob,
        "drop_rate": rounded(1 - keep_prob),
        "sizes": sizes,
        "error_without_mean": [rounded(v) for v in error_without.mean(1)],
        "error_with_mean": [rounded(v) for v in error_with.mean(1)],
        "benefit_error_points_mean": [rounded(v, 2) for v in mean_gain],
        "benefit_error_points": np.round(benefit_err, 2).tolist(),
        "benefit_loss_mean": [rounded(v) for v in benefit_loss.mean(1)],
        "best_size": sizes[best],
        "dropout_hurts_from": hurts[0] if hurts else None,
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
            width_param(64),
        ),
        build=build_dataset_size_sweep,
        formats=("png", "svg", "pdf"),
        cost=4.3,
    )
)
