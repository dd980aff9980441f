"""A picture of training runs you already have: loss curves and decision boundaries.

``dropout-figs train -o FILE`` draws the run it just printed with
:func:`draw_training_runs`, so the picture and the table always describe the
same networks, whatever flags shaped them. Nothing here trains.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from ..lab import mlp
from ..lab.record import run_record
from ..style import COLORS
from . import plotting as pl
from .catalogue import Canvas, Drawing
from .labkit import LABELS, RUN_COLORS, eval_grid, grid_for

__all__ = ["draw_training_runs", "run_numbers"]


def run_numbers(result) -> dict:
    """The final metrics of a :class:`~dropout_figs.lab.TrainResult` without wall-clock time.

    A picture is a pure function of its runs, so ``seconds`` is left out; every
    other number is ``result.metrics()``'s, unrounded.
    """
    return {k: v for k, v in result.metrics().items() if k != "seconds"}


def draw_training_runs(
    results: Mapping, data, *, canvas: Canvas | None = None, seed: int | None = None
) -> Drawing:
    """Loss curves of ``results`` and, for two-dimensional data, each run's decision boundary.

    Parameters
    ----------
    results : mapping of label -> TrainResult
        ``{"final": r}`` for one run or ``compare``'s ``{"without_dropout": r0,
        "with_dropout": r1}``.
    data : Dataset
        The data set they were trained on.
    canvas : Canvas, optional
        Size of the picture (default 1200 x 520 pixels).
    seed : int, optional
        The seed the runs were trained from, for their run records.

    Returns
    -------
    Drawing
        ``data`` holds each run's configuration, its run record
        (:func:`dropout_figs.lab.record.run_record`, under ``"run"``) and its
        :func:`run_numbers`.
    """
    canvas = canvas or Canvas.from_size((1200, 520))
    labels = {k: LABELS.get(k, k) for k in results}
    colors = {k: RUN_COLORS.get(k, COLORS["with"]) for k in results}
    two_d = data.x_train.shape[1] == 2
    fig = canvas.figure()
    n_maps = len(results) if two_d else 0
    axes = fig.subplots(
        1, 1 + n_maps, squeeze=False, gridspec_kw={"width_ratios": [2.2] + [1] * n_maps}
    )[0]
    first = next(iter(results.values()))
    epochs = np.arange(1, len(first.history["train_loss"]) + 1)
    runs = {
        labels[k]: {
            "train": r.history["train_loss"],
            "val": r.history["val_loss"],
            "color": colors[k],
        }
        for k, r in results.items()
    }
    pl.draw_loss_curves(axes[0], epochs, runs)
    numbers = {k: run_numbers(r) for k, r in results.items()}
    if two_d:
        grid = grid_for(data)
        for ax, (k, r) in zip(axes[1:], results.items(), strict=True):
            proba = eval_grid(lambda x, p=r.params: mlp.predict_proba(p, x), grid.points, 2)
            pl.draw_class_map(ax, grid.extent, proba.reshape(*grid.shape, 2))
            pl.draw_points(ax, data.x_val, data.y_val, size=12, hollow=True)
            pl.draw_points(ax, data.x_train, data.y_train, size=18)
            m = numbers[k]
            ax.set_title(
                f"{labels[k]}\nval loss {m['val_loss']:.3f}\nval acc {100 * m['val_acc']:.1f} %",
                color=colors[k],
                fontsize="small",
            )
    c = first.config
    sizes = "-".join(map(str, c.layer_sizes(data.x_train.shape[1], data.n_classes)))
    fig.suptitle(
        f"{data.name}, {data.n_train} training points; network {sizes}, {c.optimizer} "
        f"lr {c.lr:g}, {c.epochs} epochs",
        fontsize="medium",
    )
    alt = (
        f"Training and validation loss over {c.epochs} epochs on {data.name} "
        f"({data.n_train} training points), network {sizes}, {c.optimizer} lr {c.lr:g}. "
        + " ".join(
            f"{labels[k]}: training loss {m['train_loss']:.4f}, validation loss "
            f"{m['val_loss']:.4f}, validation accuracy {100 * m['val_acc']:.1f} %."
            for k, m in numbers.items()
        )
    )
    out = {
        "dataset": data.name,
        "n_train": data.n_train,
        "n_val": data.n_val,
        "noise": data.noise,
        "runs": {
            k: {
                "config": dataclasses.asdict(r.config),
                "run": run_record(
                    r.config, data, seeds=[] if seed is None else seed, paired=len(results) > 1
                ),
                **numbers[k],
            }
            for k, r in results.items()
        },
    }
    return Drawing(alt=alt, data=out, figure=fig)
