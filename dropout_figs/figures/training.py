"""Training-lab figures: the same network trained without and with dropout.

Loss curves, decision boundaries, and the boundaries evolving over the epochs.
Every builder draws its randomness from the ``rng`` it is given, split into
independent streams with ``rng.spawn``.
"""

from __future__ import annotations

import numpy as np

from ..lab import PRESETS, mlp
from . import plotting as pl
from .catalogue import Drawing, FigureSpec, Param, register
from .labkit import (
    LABELS,
    RUN_COLORS,
    WITH,
    WITHOUT,
    drop_text,
    epochs_param,
    figure_run,
    final_metrics,
    grid_for,
    keep_param,
    paired_runs,
    preset_param,
    proba_grid,
    rounded,
    run_header,
    width_param,
)

#: The three figures of this module show the same run: one set of parameters and defaults.
_RUN_PARAMS = (
    preset_param("severe-overfitting"),
    keep_param(0.5),
    epochs_param(100),
    width_param(64),
)


def build_loss_curves(*, rng, canvas, preset, keep_prob, n_epochs, width):
    """Training and validation loss of the same network without and with dropout.

    Same data, initial weights and batches (:func:`dropout_figs.lab.compare`); a
    table under the curves gives the final losses, gap and accuracies.

    Returns
    -------
    Drawing
        ``data`` with the run's preset, sizes and width, both runs' final
        metrics and their loss curves per epoch.
    """
    data, config, runs = paired_runs(
        preset, rng=rng, width=width, n_epochs=n_epochs, keep_prob=keep_prob
    )
    epochs = np.arange(1, config.epochs + 1)

    fig = canvas.figure()
    ax, ax_table = fig.subplots(2, 1, height_ratios=[3.2, 1])
    pl.draw_loss_curves(
        ax,
        epochs,
        {
            LABELS[k]: {
                "train": r.history["train_loss"],
                "val": r.history["val_loss"],
                "color": RUN_COLORS[k],
            }
            for k, r in runs.items()
        },
    )
    fig.suptitle(
        f"{PRESETS[preset].title}: the same network without and with dropout, "
        f"{drop_text(keep_prob)}",
        fontsize="medium",
    )
    metrics = {k: final_metrics(r) for k, r in runs.items()}
    rows = {
        LABELS[k]: [
            f"{m['train_loss']:.3f}",
            f"{m['val_loss']:.3f}",
            f"{m['val_loss'] - m['train_loss']:+.3f}",
            f"{100 * m['train_acc']:.1f} %",
            f"{100 * m['val_acc']:.1f} %",
        ]
        for k, m in metrics.items()
    }
    pl.draw_metrics_table(
        ax_table,
        rows,
        ["train loss", "val loss", "gap", "train acc", "val acc"],
        [WITHOUT, WITH],
    )
    w, d = metrics["without_dropout"], metrics["with_dropout"]
    alt = (
        f"Training and validation loss over {config.epochs} epochs on the {preset} preset "
        f"({data.n_train} training points), the same network without and with dropout "
        f"({drop_text(keep_prob)}). Without dropout: final training loss {w['train_loss']:.3f}, "
        f"validation loss {w['val_loss']:.3f}, validation accuracy {100 * w['val_acc']:.1f} %. "
        f"With dropout: training loss {d['train_loss']:.3f}, validation loss "
        f"{d['val_loss']:.3f}, validation accuracy {100 * d['val_acc']:.1f} %."
    )
    data_out = {
        **run_header(preset, keep_prob),
        "run": figure_run(config, data, rng=rng, preset=preset, paired=True),
        "n_train": data.n_train,
        "n_val": data.n_val,
        "hidden_layers": config.hidden_layers,
        "width": config.width,
        **metrics,
        "epochs": epochs.tolist(),
        "curves": {
            k: {
                "train_loss": np.round(r.history["train_loss"], 5).tolist(),
                "val_loss": np.round(r.history["val_loss"], 5).tolist(),
                # What a training loop prints: the mini-batch losses with dropout on.
                "train_loss_dropout": np.round(r.history["train_loss_dropout"], 5).tolist(),
            }
            for k, r in runs.items()
        },
    }
    return Drawing(alt=alt, data=data_out, figure=fig)


register(
    FigureSpec(
        name="loss-curves",
        summary="Training and validation loss without and with dropout, same initial weights",
        group="lab",
        params=_RUN_PARAMS,
        build=build_loss_curves,
        formats=("png", "svg", "pdf"),
        cost=1.0,
    )
)


def build_decision_boundaries(*, rng, canvas, preset, keep_prob, n_epochs, width):
    """Decision boundaries of the same network trained without and with dropout.

    Two class maps over the plane, training points filled and validation points
    hollow; each title gives the validation loss and accuracy.

    Returns
    -------
    Drawing
        ``data`` with both runs' final metrics and the fraction of the plane
        each net is unsure about (probability between 0.1 and 0.9).
    """
    data, config, runs = paired_runs(
        preset, rng=rng, width=width, n_epochs=n_epochs, keep_prob=keep_prob
    )
    grid = grid_for(data)
    fig = canvas.figure()
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    out = {
        **run_header(preset, keep_prob),
        "run": figure_run(config, data, rng=rng, preset=preset, paired=True),
    }
    for ax, (key, result) in zip(axes, runs.items(), strict=True):
        proba = proba_grid(result.params, grid)
        m = final_metrics(result)
        title = f"{LABELS[key]}\nval loss {m['val_loss']:.2f}, val acc {100 * m['val_acc']:.0f} %"
        pl.draw_boundary_panel(ax, grid.extent, proba, data, title, RUN_COLORS[key])
        # How much of the plane each net is sure about: a smooth boundary leaves a
        # wide band of intermediate probabilities, an overfitted one a thin line.
        unsure = float(np.mean(np.abs(proba[..., 1] - 0.5) < 0.4))
        out[key] = {**m, "unsure_fraction": rounded(unsure)}
    fig.suptitle(
        f"{PRESETS[preset].title}: same data, same initial weights, {drop_text(keep_prob)}\n"
        "filled: training points, hollow: validation points",
        fontsize="medium",
    )
    w, d = out["without_dropout"], out["with_dropout"]
    alt = (
        f"Decision boundaries of the same network trained for {config.epochs} epochs on the "
        f"{preset} preset without dropout (validation loss {w['val_loss']:.2f}, accuracy "
        f"{100 * w['val_acc']:.0f} %) and with dropout, {drop_text(keep_prob)} (validation "
        f"loss {d['val_loss']:.2f}, accuracy {100 * d['val_acc']:.0f} %). The net without "
        f"dropout is unsure (probability between 0.1 and 0.9) on {100 * w['unsure_fraction']:.0f} "
        f"% of the plane, the net with dropout on {100 * d['unsure_fraction']:.0f} %."
    )
    return Drawing(alt=alt, data=out, figure=fig)


register(
    FigureSpec(
        name="decision-boundaries",
        summary="Decision boundaries of the same network trained without and with dropout",
        group="lab",
        params=_RUN_PARAMS,
        build=build_decision_boundaries,
        formats=("png", "svg", "pdf"),
        cost=0.7,
    )
)


# =========================================================================== 3 evolution
def _snapshot_epochs(n_epochs, n_frames):
    """About ``n_frames`` epochs from 0 to ``n_epochs``, denser early (fast change)."""
    raw = np.geomspace(1, n_epochs + 1, n_frames) - 1
    return tuple(int(e) for e in np.unique(np.round(raw).astype(int)))


def _val_loss(params, data):
    return mlp.softmax_xent_forward(mlp.forward(params, data.x_val), data.y_val)[0]


def build_boundary_evolution(*, rng, canvas, preset, keep_prob, n_epochs, width, n_frames):
    """The decision boundaries of :func:`build_decision_boundaries` evolving over training.

    About ``n_frames`` snapshots from epoch 0, denser early; the last frame is held.

    Returns
    -------
    Drawing
        ``frames`` and ``data`` with the snapshot epochs and both nets'
        validation loss at each.
    """
    epochs = _snapshot_epochs(n_epochs, n_frames)
    data, config, runs = paired_runs(
        preset, rng=rng, snapshot_epochs=epochs, width=width, n_epochs=n_epochs, keep_prob=keep_prob
    )
    grid = grid_for(data, nx=72, ny=48)
    probas = {key: [proba_grid(r.snapshots[e], grid) for e in epochs] for key, r in runs.items()}
    losses = {key: [_val_loss(r.snapshots[e], data) for e in epochs] for key, r in runs.items()}

    fig = canvas.figure()
    axes = dict(zip(runs, fig.subplots(1, 2, sharex=True, sharey=True), strict=True))
    artists = {}

    def title(key, k):
        return f"{LABELS[key]}\nval loss {losses[key][k]:.2f}"

    def suptitle(k):
        fig.suptitle(
            f"epoch {epochs[k]} of {config.epochs}  ·  {drop_text(keep_prob)}",
            fontsize="medium",
            fontweight="bold",
        )

    def setup():
        for key, ax in axes.items():
            artists[key] = pl.draw_boundary_panel(
                ax, grid.extent, probas[key][0], data, title(key, 0), RUN_COLORS[key]
            )
        suptitle(0)

    def update(k):
        for key, ax in axes.items():
            artists[key] = pl.update_class_map(ax, artists[key], grid.extent, probas[key][k])
            ax.set_title(title(key, k), color=RUN_COLORS[key], fontsize="medium")
        suptitle(k)

    frames = pl.animate(fig, setup, update, len(epochs))
    durations = [600] * len(epochs)
    durations[-1] = 3000
    w, d = losses["without_dropout"], losses["with_dropout"]
    alt = (
        f"Animation of {len(epochs)} frames: the decision boundaries of the same network "
        f"trained without and with dropout ({drop_text(keep_prob)}) on the {preset} preset, "
        f"at epochs {', '.join(map(str, epochs))}. Validation loss at the last epoch: "
        f"{w[-1]:.2f} without dropout, {d[-1]:.2f} with dropout."
    )
    out = {
        **run_header(preset, keep_prob),
        "run": figure_run(config, data, rng=rng, preset=preset, paired=True),
        "epochs": list(epochs),
        "val_loss": {k: [rounded(v) for v in vals] for k, vals in losses.items()},
    }
    return Drawing(alt=alt, data=out, frames=frames, durations=durations)


register(
    FigureSpec(
        name="boundary-evolution",
        summary="Decision boundaries without and with dropout evolving over the epochs",
        group="lab",
        params=(
            *_RUN_PARAMS,
            Param("n_frames", "int", 16, "number of frames (snapshots)", low=2, high=60),
        ),
        build=build_boundary_evolution,
        formats=("gif", "png"),
        cost=2.4,
    )
)
