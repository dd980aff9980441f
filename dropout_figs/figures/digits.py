"""Real data: the 8x8 handwritten digits, a wide MLP trained without and with dropout over seeds.

Seed ``s`` of the figure is exactly ``dropout-figs train --dataset digits
--compare --seed s`` with the figure's settings: the data come from
``default_rng(s).spawn(2)[0]`` and the training streams from ``[1]``, as in the
command line, and all seeds train together in :func:`dropout_figs.lab.train_many`
stacks. The figure's data carry its run record (``data["run"]``), the per-epoch
validation curves (mean over seeds and its 95 % interval), each seed's final
test metrics, the paired differences with their 95 % intervals, and the
command that reproduces one seed.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FormatStrFormatter, LogLocator, MaxNLocator, NullFormatter

from ..lab import TrainConfig, train_many
from ..lab.config import check_cost
from ..lab.data import make_dataset
from ..lab.evidence import mean_interval, paired_summary
from ..lab.record import run_record
from .catalogue import Drawing, FigureSpec, Param, register
from .labkit import (
    LABELS,
    RUN_COLORS,
    drop_text,
    epochs_param,
    keep_param,
    need_dropout,
    width_param,
)

__all__ = ["build_digits_over_seeds", "digits_command"]

_RUNS = ("without_dropout", "with_dropout")


def _finals(runs, keys):
    """Each run's last-epoch value of each history key, rounded for the figure's data."""
    return {k: [round(float(r.history[k][-1]), 4) for r in runs] for k in keys}


def _paired(without, other, metrics):
    """Per metric, the paired summary of ``other`` minus ``without`` at the last epoch."""
    out = {}
    for m in metrics:
        summary = paired_summary(
            [r.history[m][-1] for r in without],
            [r.history[m][-1] for r in other],
            higher_is_better=m.endswith("acc"),
        ).to_dict()
        out[m] = {k: round(v, 4) if isinstance(v, float) else v for k, v in summary.items()}
    return out


def _band(curves):
    """Mean over seeds (rows) per epoch and the 95 % Student-t interval of that mean."""
    columns = [mean_interval(c) for c in np.asarray(curves, dtype=float).T]
    return tuple(np.array(v) for v in zip(*columns, strict=True))


def digits_command(run: dict, seed: int) -> str:
    """The ``dropout-figs train`` command that trains seed ``seed`` of the figure.

    ``run`` is the figure's ``data["run"]`` (:func:`~dropout_figs.lab.record.run_record`
    of the pair); every setting is spelled out, so the command does not
    depend on the command line's defaults for the digits.
    """
    return (
        f"dropout-figs train --dataset digits --compare --seed {seed} "
        f"--n-samples {run['n_train'] + run['n_val']} "
        f"--layers {run['hidden_layers']} --width {run['width']} "
        f"--epochs {run['epochs']} --batch-size {run['batch_size']} "
        f"--lr {run['lr']:g} --keep-prob {run['keep_prob']:g} "
        f"--input-keep-prob {run['input_keep_prob']:g}"
    )


def _paired_dots(ax, diffs, summary, *, scale):
    """Each seed's difference (dropout minus none) as a dot; the mean and its 95 % interval."""
    # A fixed vertical spread, so that dots of equal value stay visible.
    ys = np.linspace(-0.25, 0.25, len(diffs))
    ax.axvline(0.0, color="0.5", linewidth=1)
    ax.scatter(diffs, ys, s=12, color=RUN_COLORS["with_dropout"], alpha=0.7, zorder=2)
    mean, lo, hi = (scale * summary[k] for k in ("mean", "ci_low", "ci_high"))
    ax.errorbar(mean, -0.55, xerr=[[mean - lo], [hi - mean]], fmt="o", color="black", capsize=4)
    ax.set_ylim(-0.8, 0.4)
    ax.set_yticks([])
    ax.tick_params(axis="x", labelsize="small")
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.grid(axis="x", alpha=0.3)


def build_digits_over_seeds(
    *,
    rng,
    canvas,
    width,
    hidden_layers,
    n_epochs,
    keep_prob,
    input_keep_prob,
    n_seeds,
    n_samples,
    batch_size,
    lr,
):
    need_dropout(keep_prob, "it compares training with and without dropout")
    # Small distinct integers, so the command that reproduces a seed stays short.
    seeds = [int(s) for s in rng.choice(1_000_000, size=n_seeds, replace=False)]
    config = TrainConfig(
        hidden_layers=hidden_layers,
        width=width,
        keep_prob=keep_prob,
        input_keep_prob=input_keep_prob,
        epochs=n_epochs,
        batch_size=batch_size,
        lr=lr,
    )
    without = config.replace(keep_prob=1.0, input_keep_prob=1.0)
    datasets, train_seqs = [], []
    for s in seeds:
        # As `dropout-figs train --seed s`: data from the first child, training from the second.
        data_seq, train_seq = np.random.SeedSequence(s).spawn(2)
        datasets.append(
            make_dataset("digits", n_samples=n_samples, rng=np.random.default_rng(data_seq))
        )
        train_seqs.append(train_seq)
    # The catalogue's cost model is rough; refuse a run over the lab's cap before any work.
    check_cost(config, datasets[0], n_models=2 * n_seeds)
    # The paper advises longer training with dropout: the dropout net also gets twice the
    # updates (the same seed's stream: it repeats the equal-budget run, then goes on).
    doubled = config.replace(epochs=2 * n_epochs)
    results = train_many(
        [without] * n_seeds + [config] * n_seeds + [doubled] * n_seeds,
        datasets * 3,
        seeds=train_seqs * 3,
        paired=True,
    )
    runs = dict(zip(_RUNS, (results[:n_seeds], results[n_seeds : 2 * n_seeds]), strict=True))
    runs_2x = results[2 * n_seeds :]
    # One record for the pair (the arm with dropout; the other is the same with keep 1).
    cfg = run_record(config, datasets[0], seeds=seeds, paired=True)

    per_seed, curves = {}, {}
    for name, rs in runs.items():
        per_seed[name] = _finals(
            rs, ("train_loss", "val_loss", "test_loss", "train_acc", "val_acc", "test_acc")
        )
        curves[name] = {}
        for k in ("val_loss", "val_acc", "train_loss"):
            mean, low, high = _band([r.history[k] for r in rs])
            curves[name][k] = {
                "mean": np.round(mean, 4).tolist(),
                "low": np.round(low, 4).tolist(),
                "high": np.round(high, 4).tolist(),
            }
    plain = runs["without_dropout"]
    summaries = _paired(
        plain, runs["with_dropout"], ("test_loss", "test_acc", "val_loss", "val_acc")
    )
    per_seed["with_dropout_2x"] = _finals(
        runs_2x, ("train_loss", "test_loss", "train_acc", "test_acc")
    )
    summaries_2x = _paired(plain, runs_2x, ("test_loss", "test_acc"))
    means = {
        name: {k: round(float(np.mean(v)), 4) for k, v in m.items()} for name, m in per_seed.items()
    }

    fig = canvas.figure()
    axes = fig.subplot_mosaic(
        [["loss", "acc", "dloss"], ["loss", "acc", "dacc"]],
        gridspec_kw={"width_ratios": [1, 1, 0.8]},
    )
    epochs = np.arange(1, n_epochs + 1)
    for name in _RUNS:
        for key, ax, scale in (("val_loss", axes["loss"], 1), ("val_acc", axes["acc"], 100)):
            c = curves[name][key]
            color = RUN_COLORS[name]
            ax.fill_between(
                epochs,
                scale * np.array(c["low"]),
                scale * np.array(c["high"]),
                color=color,
                alpha=0.25,
                linewidth=0,
            )
            ax.plot(epochs, scale * np.array(c["mean"]), color=color, label=LABELS[name])
    axes["loss"].set_yscale("log")
    axes["loss"].yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
    axes["loss"].yaxis.set_major_formatter(FormatStrFormatter("%g"))
    axes["loss"].yaxis.set_minor_formatter(NullFormatter())
    axes["loss"].set_ylabel("validation cross-entropy (log scale)")
    axes["acc"].set_ylabel("validation accuracy (%)")
    # The first epochs sit near chance (10 %): start where the curves become readable.
    lowest = 100 * min(min(curves[n]["val_acc"]["mean"][min(2, n_epochs - 1) :]) for n in _RUNS)
    axes["acc"].set_ylim(max(0.0, lowest - 3), 100)
    for ax in (axes["loss"], axes["acc"]):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes["loss"].legend(fontsize="small")
    for key, ax, scale, label, better in (
        ("test_loss", axes["dloss"], 1, "test loss", "lower"),
        ("test_acc", axes["dacc"], 100, "test accuracy (pts)", "higher"),
    ):
        diffs = np.subtract(per_seed["with_dropout"][key], per_seed["without_dropout"][key])
        _paired_dots(ax, scale * diffs, summaries[key], scale=scale)
        wins = summaries[key]["n_better"]
        ax.set_title(
            f"{label}, dropout - none:\n{better} on {wins} of {n_seeds} seeds",
            fontsize="small",
            fontweight="normal",
        )
    sizes_text = "-".join(str(s) for s in cfg["layer_sizes"])
    fig.suptitle(
        f"8x8 digits, network {sizes_text}, {n_seeds} seeds: {cfg['n_train']} training, "
        f"{cfg['n_val']} validation, {cfg['n_test']:,} test images each\n"
        f"hidden {drop_text(keep_prob)}, input keep probability {input_keep_prob:g}; "
        f"{cfg['n_updates']:,} updates each; bands and bars are 95 % intervals",
        fontsize="small",
    )

    sl, sa = summaries["test_loss"], summaries["test_acc"]
    alt = (
        f"Validation loss and accuracy per epoch of a {sizes_text} network on {cfg['n_train']} "
        f"handwritten digits, without dropout and with {drop_text(keep_prob)}, mean over "
        f"{n_seeds} seeds with 95 % bands. On {cfg['n_test']:,} test images per seed, dropout "
        f"changes the test loss by {sl['mean']:+.3f} (95 % interval {sl['ci_low']:+.3f} to "
        f"{sl['ci_high']:+.3f}; lower on {sl['n_better']} of {n_seeds} seeds) and the test "
        f"accuracy by {100 * sa['mean']:+.2f} points ({100 * sa['ci_low']:+.2f} to "
        f"{100 * sa['ci_high']:+.2f}; higher on {sa['n_better']} seeds). With twice the "
        f"updates for dropout: loss {summaries_2x['test_loss']['mean']:+.3f}, accuracy "
        f"{100 * summaries_2x['test_acc']['mean']:+.2f} points."
    )
    data = {
        "run": cfg,
        "n_seeds": n_seeds,
        "keep_prob": keep_prob,
        "drop_rate": round(1 - keep_prob, 10),
        "input_keep_prob": input_keep_prob,
        "per_seed": per_seed,
        "means": means,
        "curves": curves,
        "summaries": summaries,
        # dropout with twice the updates (2 x n_epochs) against the equal-budget net without
        "summaries_2x": summaries_2x,
        "n_updates_2x": 2 * cfg["n_updates"],
        "command": digits_command(cfg, seeds[0]),
    }
    return Drawing(alt=alt, data=data, figure=fig)


register(
    FigureSpec(
        name="digits-over-seeds",
        summary="Real handwritten digits: a wide MLP without and with dropout, over seeds",
        group="lab",
        params=(
            width_param(64),
            Param("hidden_layers", "int", 2, "hidden layers", low=1, high=4),
            epochs_param(20),
            keep_param(0.8),
            Param("input_keep_prob", "prob", 1.0, "probability an input pixel is kept"),
            Param("n_seeds", "int", 20, "paired seeds (runs per variant)", low=2, high=200),
            # At most 797 of the 1,797 images, so that at least 1,000 are left for testing.
            Param(
                "n_samples",
                "int",
                500,
                "training + validation images, half each (the rest are the test set)",
                low=20,
                high=797,
            ),
            Param("batch_size", "int", 16, "mini-batch size", low=1, high=1000),
            Param("lr", "float", 3e-3, "Adam learning rate", low=0.0, high=1.0, low_open=True),
        ),
        build=build_digits_over_seeds,
        formats=("png", "svg", "pdf"),
        size=(1000, 460),
        cost=6.0,
    )
)
