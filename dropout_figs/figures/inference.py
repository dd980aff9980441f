"""Dropout at prediction time: left on by mistake, and on purpose (MC dropout)."""

from __future__ import annotations

import numpy as np

from ..lab import PRESETS, mlp, train
from ..style import COLORS
from . import plotting as pl
from .catalogue import Drawing, FigureSpec, Param, register
from .labkit import (
    drop_text,
    epochs_param,
    eval_grid,
    figure_run,
    grid_for,
    keep_param,
    need_dropout,
    preset_param,
    preset_run,
    proba_grid,
    rounded,
    run_header,
)


def _subnetwork_proba(params, x, masks, *, keep_prob):
    """Class probabilities of the ONE sub-network ``masks`` picks, for every row of ``x``.

    ``masks`` are :func:`~dropout_figs.lab.mlp.sample_masks` drawn for one
    input; broadcast views share them across the batch (no copy).
    """
    n = len(x)
    views = [np.broadcast_to(m[:1], (n, m.shape[1])) for m in masks]
    return mlp.softmax(mlp.forward(params, x, keep_masks=views, keep_prob=keep_prob))


def build_forgot_eval_mode(*, rng, canvas, preset, keep_prob, n_epochs, n_frames):
    """Dropout left on at inference: the class map of one trained net changes call to call.

    Each of ``n_frames`` frames samples one sub-network; the last frame is eval mode,
    stable.

    Returns
    -------
    Drawing
        ``frames`` and ``data`` with each call's validation accuracy and the
        fraction of the plane that disagrees with eval mode.
    """
    need_dropout(keep_prob, "it shows dropout left on at inference")
    r_data, r_train, r_passes = rng.spawn(3)
    data, config = preset_run(preset, rng=r_data, n_epochs=n_epochs, keep_prob=keep_prob)
    net = train(config, data, rng=r_train).params
    grid = grid_for(data, nx=72, ny=48)
    eval_proba = proba_grid(net, grid)
    eval_acc = float(np.mean(mlp.predict_proba(net, data.x_val).argmax(1) == data.y_val))
    passes, accs, flipped = [], [], []
    for stream in r_passes.spawn(n_frames):
        # A call on one input at a time samples one sub-network per call; the same
        # masks are used for every grid point and validation point of a frame.
        masks = mlp.sample_masks(net, 1, keep_prob=keep_prob, rng=stream)
        proba = eval_grid(
            lambda x, m=masks: _subnetwork_proba(net, x, m, keep_prob=keep_prob),
            grid.points,
            2,
        ).reshape(*grid.shape, 2)
        passes.append(proba)
        flipped.append(float(np.mean(proba.argmax(-1) != eval_proba.argmax(-1))))
        p_val = _subnetwork_proba(net, data.x_val, masks, keep_prob=keep_prob)
        accs.append(float(np.mean(p_val.argmax(1) == data.y_val)))

    fig = canvas.figure()
    ax = fig.subplots()
    artists = []

    def title(k):
        if k < n_frames:
            text = (
                f"Dropout left on at inference: call {k + 1} of {n_frames}\n"
                f"val accuracy {100 * accs[k]:.0f} %, {100 * flipped[k]:.0f} % of the plane "
                "differs from eval mode"
            )
            ax.set_title(text, color=COLORS["warn"], fontsize="medium")
        else:
            text = (
                "Eval mode (dropout off): the same answer every call\n"
                f"val accuracy {100 * eval_acc:.0f} %"
            )
            ax.set_title(text, color=COLORS["good"], fontsize="medium")

    def setup():
        artists.append(pl.draw_class_map(ax, grid.extent, passes[0]))
        pl.draw_points(ax, data.x_train, data.y_train, size=16)
        title(0)

    def update(k):
        artists[0] = pl.update_class_map(
            ax, artists[0], grid.extent, passes[k] if k < n_frames else eval_proba
        )
        title(k)

    frames = pl.animate(fig, setup, update, n_frames + 1)
    durations = [500] * n_frames + [3000]
    alt = (
        f"Animation: {n_frames} predictions of one trained network with dropout "
        f"({drop_text(keep_prob)}) left on at inference; each call samples new masks, so the "
        f"predicted class map changes from call to call: validation accuracy varies from "
        f"{100 * min(accs):.0f} % to {100 * max(accs):.0f} % and "
        f"{100 * min(flipped):.0f}-{100 * max(flipped):.0f} % of the plane disagrees with eval "
        f"mode. The last frame is eval mode: stable, validation accuracy {100 * eval_acc:.0f} %."
    )
    out = {
        **run_header(preset, keep_prob),
        "run": figure_run(config, data, rng=rng, preset=preset),
        "train_mode_val_acc": [rounded(a) for a in accs],
        "flipped_fraction": [rounded(f) for f in flipped],
        "eval_val_acc": rounded(eval_acc),
    }
    return Drawing(alt=alt, data=out, frames=frames, durations=durations)


register(
    FigureSpec(
        name="forgot-eval-mode",
        summary="Dropout left on at inference: predictions change from call to call",
        group="pitfalls",
        params=(
            preset_param("moons"),
            keep_param(0.5),
            epochs_param(100),
            Param("n_frames", "int", 8, "number of train-mode calls shown", low=1, high=40),
        ),
        build=build_forgot_eval_mode,
        formats=("gif", "png"),
        cost=1.3,
    )
)


# =========================================================================== 5 MC dropout
def mc_grid(params, points, *, keep_prob, n_passes, rng):
    """Mean and standard deviation of P(class 1) over ``n_passes`` sampled sub-networks.

    Each pass samples one mask per hidden layer and applies it to every point
    (the per-point distribution is the same as with per-example masks, and the
    map is smooth instead of speckled). Accumulated chunk by chunk.

    Returns
    -------
    (ndarray, ndarray)
        The mean and the spread at each of ``points``, each of shape (len(points),).
    """
    masks = [mlp.sample_masks(params, 1, keep_prob=keep_prob, rng=s) for s in rng.spawn(n_passes)]

    def moments(x):
        total = np.zeros(len(x))
        total_sq = np.zeros(len(x))
        for m in masks:
            p1 = _subnetwork_proba(params, x, m, keep_prob=keep_prob)[:, 1]
            total += p1
            total_sq += p1 * p1
        mean = total / n_passes
        return np.c_[mean, np.sqrt(np.maximum(total_sq / n_passes - mean * mean, 0.0))]

    flat = eval_grid(moments, points, 2)
    return flat[:, 0], flat[:, 1]


def build_mc_dropout_uncertainty(*, rng, canvas, preset, keep_prob, n_epochs, n_passes):
    """MC dropout: the mean and the spread of ``n_passes`` stochastic passes over the plane.

    The spread is summarised near the decision boundary, near the training data
    away from it, and far from any training point.

    Returns
    -------
    Drawing
        ``data`` with those spreads, the mean spread and the largest.
    """
    need_dropout(keep_prob, "MC dropout needs dropout")
    r_data, r_train, r_mc = rng.spawn(3)
    data, config = preset_run(preset, rng=r_data, n_epochs=n_epochs, keep_prob=keep_prob)
    net = train(config, data, rng=r_train).params
    grid = grid_for(data, nx=80, ny=50, margin=1.5)
    mean, spread = mc_grid(net, grid.points, keep_prob=keep_prob, n_passes=n_passes, rng=r_mc)
    mean, spread = mean.reshape(grid.shape), spread.reshape(grid.shape)
    # Where is the spread? Near the data vs far from it; near the boundary vs away.
    dist = np.min(
        np.linalg.norm(grid.points[:, None, :] - data.x_train[None, :, :], axis=-1), axis=1
    ).reshape(grid.shape)
    near_data, far = dist < 0.25, dist > 1.0
    near_boundary = np.abs(mean - 0.5) < 0.15

    def mean_over(mask):
        return rounded(spread[mask].mean()) if mask.any() else float("nan")

    summary = {
        "mean_spread": rounded(spread.mean()),
        "spread_near_data": mean_over(near_data & ~near_boundary),
        "spread_far_from_data": mean_over(far),
        "spread_near_boundary": mean_over(near_boundary),
        "spread_away_from_boundary": mean_over(~near_boundary),
        "max_spread": rounded(spread.max()),
    }

    fig = canvas.figure()
    ax_mean, ax_std = fig.subplots(1, 2, sharex=True, sharey=True)
    pl.draw_class_map(ax_mean, grid.extent, np.stack([1 - mean, mean], axis=-1))
    pl.draw_points(ax_mean, data.x_train, data.y_train, size=14)
    ax_mean.set_title(f"mean of {n_passes} passes", fontsize="medium")
    image = pl.draw_uncertainty_map(ax_std, grid.extent, spread, mean, data.x_train, data.y_train)
    ax_std.set_title("spread: std of P(class 1)", fontsize="medium")
    pl.draw_note(
        ax_std,
        f"near the boundary {summary['spread_near_boundary']:.2f}\n"
        f"near data, off the boundary {summary['spread_near_data']:.2f}\n"
        f"far from the data {summary['spread_far_from_data']:.2f}",
        corner="lower left",
    )
    fig.colorbar(image, ax=ax_std, shrink=0.85, label="std over passes")
    fig.suptitle(
        f"MC dropout on {PRESETS[preset].title.lower()}: {n_passes} passes, {drop_text(keep_prob)}",
        fontsize="medium",
    )
    alt = (
        f"Monte-Carlo dropout on the {preset} preset: {n_passes} stochastic forward passes "
        f"({drop_text(keep_prob)}). Left: the mean prediction; right: the standard deviation "
        f"of the predicted probability over passes, mean {summary['mean_spread']:.2f}, "
        f"{summary['spread_near_boundary']:.2f} near the decision boundary, "
        f"{summary['spread_near_data']:.2f} near the training data away from the boundary and "
        f"{summary['spread_far_from_data']:.2f} far from any training point."
    )
    out = {
        **run_header(preset, keep_prob),
        "run": figure_run(config, data, rng=rng, preset=preset),
        "n_passes": n_passes,
        **summary,
    }
    return Drawing(alt=alt, data=out, figure=fig)


register(
    FigureSpec(
        name="mc-dropout-uncertainty",
        summary="MC dropout: the spread of T stochastic passes over the plane",
        group="lab",
        params=(
            preset_param("moons"),
            keep_param(0.5),
            epochs_param(100),
            Param("n_passes", "int", 30, "number of MC forward passes T", low=2, high=1000),
        ),
        build=build_mc_dropout_uncertainty,
        formats=("png", "svg", "pdf"),
        cost=1.1,
    )
)
