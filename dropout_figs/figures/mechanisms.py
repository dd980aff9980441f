"""How dropout acts inside a trained net: MC averaging against weight scaling (the
paper's Figure 11), sparser activations (Figure 8), and the variance shift it
causes in a batch-norm layer after it (Li et al., 2019)."""

from __future__ import annotations

import numpy as np

from ..lab import PRESETS, mlp, train_many
from ..lab import evidence as ev
from ..lab.data import make_dataset
from ..lab.engine import _one_blas_thread
from ..lab.record import run_record
from ..lab.sweeps import held_out_metrics
from ..style import COLORS
from . import plotting as pl
from .catalogue import Drawing, FigureSpec, Param, register
from .labkit import (
    LABELS,
    RUN_COLORS,
    WITH,
    drop_text,
    epochs_param,
    figure_run,
    keep_param,
    need_dropout,
    paired_runs,
    preset_param,
    rounded,
    run_header,
    width_param,
)

_MC_COUNTS = (1, 2, 4, 8, 16, 32, 64)
_MC_N_TEST = 1000  # per seed: T = 8 and T = 64 differ by a fraction of a per cent


def mc_vs_weight_scaling(result, x, y, *, rng, counts=_MC_COUNTS, n_repeats=4):
    """Error and loss of MC averaging over ``T`` sampled nets, against weight scaling.

    For each repeat, ``max(counts)`` stochastic passes are drawn (fresh masks per
    example and pass) and the estimate for ``T`` averages the first ``T`` of
    them, so the estimates of one repeat are nested, as when a user adds passes.
    A classic-scheme net is sampled with its raw (unscaled) weights and compared
    with :func:`~dropout_figs.lab.mlp.weight_scaled` weights; an inverted-scheme net
    is sampled with inverted scaling and compared with eval mode, its exact
    equivalent.

    Returns
    -------
    dict
        ``error`` and ``loss`` of shape (len(counts), n_repeats) on ``(x, y)``,
        and weight scaling's ``ws_error`` and ``ws_loss`` (floats).
    """
    config = result.config
    raw = result.raw_params or result.params
    n_max = max(counts)
    error = np.empty((len(counts), n_repeats))
    loss = np.empty((len(counts), n_repeats))
    for r, stream in enumerate(rng.spawn(n_repeats)):
        total = np.zeros((len(y), 2))
        for t in range(1, n_max + 1):
            # One stochastic pass: fresh per-example masks, as in training.
            masks = mlp.sample_masks(raw, len(x), keep_prob=config.keep_prob, rng=stream)
            total += mlp.softmax(
                mlp.forward(
                    raw, x, keep_masks=masks, keep_prob=config.keep_prob, scheme=config.scheme
                )
            )
            if t in counts:
                i = counts.index(t)
                mean = total / t
                error[i, r] = np.mean(mean.argmax(1) != y)
                loss[i, r] = mlp.mean_log_loss(mean, y)
    # result.params is eval-ready: weight-scaled if the scheme is classic.
    ws_loss, ws_error = held_out_metrics(result.params, x, y)
    return {"error": error, "loss": loss, "ws_error": ws_error, "ws_loss": ws_loss}


def mc_over_seeds(preset, *, seeds, keep_prob, scheme, n_epochs, width, n_test, rng):
    """:func:`mc_vs_weight_scaling` on every seed's own data, network and test set.

    Seed ``S`` draws the preset's data and trains as ``dropout-figs train --preset
    PRESET --seed S`` does (:func:`dropout_figs.lab.evidence.cli_streams`), all
    seeds in one :func:`~dropout_figs.lab.train_many` stack; ``rng`` gives each
    seed's sampled masks. One repeat per seed: the seeds are the repeats.

    Returns
    -------
    dict
        ``error``, ``loss`` of shape (len(counts), n_seeds); ``ws_error``,
        ``ws_loss`` of shape (n_seeds,); ``config`` (the full run configuration).
    """
    spec = PRESETS[preset]
    config = spec.config.replace(keep_prob=keep_prob, scheme=scheme, epochs=n_epochs, width=width)
    data, train_seeds = [], []
    for s in seeds:
        data_rng, train_seed = ev.cli_streams(s)
        data.append(
            spec.make_data(rng=data_rng)
            if n_test is None
            else make_dataset(spec.dataset, rng=data_rng, n_test=n_test, **spec.dataset_kwargs)
        )
        train_seeds.append(train_seed)
    results = train_many([config] * len(seeds), data, seeds=train_seeds, paired=True)
    out = {k: np.empty((len(_MC_COUNTS), len(seeds))) for k in ("error", "loss")}
    out.update({k: np.empty(len(seeds)) for k in ("ws_error", "ws_loss")})
    streams = rng.spawn(len(seeds))
    for j, (res, d, stream) in enumerate(zip(results, data, streams, strict=True)):
        # One BLAS thread: on a busy machine OpenBLAS's threads spin on these small products.
        with _one_blas_thread():
            one = mc_vs_weight_scaling(res, d.x_test, d.y_test, rng=stream, n_repeats=1)
        for k in ("error", "loss"):
            out[k][:, j] = one[k][:, 0]
        out["ws_error"][j], out["ws_loss"][j] = one["ws_error"], one["ws_loss"]
    d = data[0]
    out["run"] = run_record(config, data[0], seeds=seeds, preset=preset, paired=True)
    return out


def build_mc_vs_weight_scaling(*, rng, canvas, preset, keep_prob, scheme, n_epochs, width, n_seeds):
    """MC averaging over T sampled nets against weight scaling over seeds (the paper's Fig. 11).

    Per seed (its own data, network and 1,000 test points), the test error and
    cross-entropy of the average of T = 1 ... 64 stochastic passes minus those
    of the one weight-scaled pass; the figure shows the mean difference over
    seeds with its 95 % interval.

    Returns
    -------
    Drawing
        ``data`` with the seeds, the run configuration, and per T the mean MC
        error and loss and the paired summaries (MC minus weight scaling:
        mean, interval, seeds where MC is better) of error and loss.
    """
    need_dropout(keep_prob, "MC averaging needs dropout")
    r_seeds, r_mc = rng.spawn(2)
    seeds = [int(s) for s in r_seeds.integers(0, 2**31, size=n_seeds)]
    res = mc_over_seeds(
        preset,
        seeds=seeds,
        keep_prob=keep_prob,
        scheme=scheme,
        n_epochs=n_epochs,
        width=width,
        n_test=_MC_N_TEST,
        rng=r_mc,
    )
    counts = np.array(_MC_COUNTS)
    summaries = {
        metric: [
            ev.paired_summary(res[f"ws_{metric}"], res[metric][i], higher_is_better=False)
            for i in range(len(counts))
        ]
        for metric in ("error", "loss")
    }
    fig = canvas.figure()
    axes = fig.subplots(1, 2)
    ws_name = "weight scaling" if scheme == "classic" else "eval mode (= weight scaling)"
    for ax, metric, scale, unit in (
        (axes[0], "error", 100, "test error, points"),
        (axes[1], "loss", 1, "test cross-entropy"),
    ):
        s = summaries[metric]
        mean = scale * np.array([x.mean for x in s])
        lo = scale * np.array([x.ci_low for x in s])
        hi = scale * np.array([x.ci_high for x in s])
        ax.fill_between(counts, lo, hi, color=WITH, alpha=0.2, lw=0, label="95 % interval")
        ax.plot(counts, mean, "o-", color=WITH, lw=1.8, ms=4, label="mean over seeds")
        ax.axhline(0, color=COLORS["accent"], lw=1.8, ls="--", label=f"{ws_name} (one pass)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(counts, [str(int(t)) for t in counts])
        ax.minorticks_off()
        ax.set_xlabel("number of sampled nets T (log scale)")
        ax.set_ylabel(f"MC average − {ws_name.split(' (')[0]}\n({unit})")
        ax.set_title(metric, fontsize="medium")
    axes[0].legend(fontsize="small")
    cfg = res["run"]
    spec = PRESETS[preset]
    fig.suptitle(
        f"MC averaging vs weight scaling, {spec.title.lower()}, {drop_text(keep_prob)}, "
        f"{scheme} scheme\n{n_seeds} seeds, each with its own data, network and "
        f"{cfg['n_test']:,} test points; {cfg['n_updates']:,} updates",
        fontsize="small",
    )
    se = summaries["error"]
    alt = (
        f"Test error of Monte-Carlo averaging over T sampled dropout nets minus that of "
        f"weight scaling, mean over {n_seeds} seeds with 95 % intervals, {scheme} scheme, "
        f"{drop_text(keep_prob)}, {cfg['n_test']:,} test points per seed: "
        + ", ".join(
            f"T = {t}: {100 * x.mean:+.1f} points ({100 * x.ci_low:+.1f} to {100 * x.ci_high:+.1f})"
            for t, x in zip(_MC_COUNTS, se, strict=True)
        )
        + "."
    )
    out = {
        **run_header(preset, keep_prob),
        "scheme": scheme,
        "n_seeds": n_seeds,
        "seeds": seeds,
        "n_test": cfg["n_test"],
        "run": cfg,
        "counts": list(_MC_COUNTS),
        "mc_error_mean": [rounded(v) for v in res["error"].mean(1)],
        "mc_loss_mean": [rounded(v) for v in res["loss"].mean(1)],
        "ws_error": rounded(res["ws_error"].mean()),
        "ws_loss": rounded(res["ws_loss"].mean()),
        "error_vs_ws": [
            {k: rounded(v) if isinstance(v, float) else v for k, v in x.to_dict().items()}
            for x in se
        ],
        "loss_vs_ws": [
            {k: rounded(v) if isinstance(v, float) else v for k, v in x.to_dict().items()}
            for x in summaries["loss"]
        ],
    }
    return Drawing(alt=alt, data=out, figure=fig)


register(
    FigureSpec(
        name="mc-vs-weight-scaling",
        summary="MC averaging over T sampled nets vs weight scaling, over seeds (paper, Fig. 11)",
        group="paper",
        params=(
            preset_param("moons"),
            keep_param(0.5),
            Param("scheme", "choice", "classic", "dropout scheme", choices=("classic", "inverted")),
            epochs_param(100),
            # 32, not the preset's 64: 20 seeds x 64 sampled passes then cost ~4 s, not ~8 s
            width_param(32),
            Param("n_seeds", "int", 20, "seeds (networks)", low=2, high=200),
        ),
        build=build_mc_vs_weight_scaling,
        formats=("png", "svg", "pdf"),
        cost=6.0,
    )
)


# --------------------------------------------------------------------------- 9 sparsity
def build_activation_sparsity(*, rng, canvas, preset, keep_prob, n_epochs):
    """Hidden activations of the same network without and with dropout (the paper's Figure 8).

    Histograms of the last hidden layer's activations and of each unit's mean
    activation, eval mode, over the training and validation points.

    Returns
    -------
    Drawing
        ``data`` with, per net, the mean activation, the fraction of zeros,
        the dead units and the mean number of active units.
    """
    data, config, runs = paired_runs(preset, rng=rng, n_epochs=n_epochs, keep_prob=keep_prob)
    x = np.concatenate([data.x_train, data.x_val])
    acts = {k: mlp.hidden_activations(r.params, x)[-1] for k, r in runs.items()}
    stats = {}
    for k, a in acts.items():
        stats[k] = {
            "mean_activation": rounded(a.mean()),
            "zero_fraction": rounded(np.mean(a <= 0.0)),
            "dead_units": int(np.sum(a.max(0) <= 0.0)),
            "mean_active_units": rounded(np.mean(np.sum(a > 0, axis=1))),
        }
    top = max(float(np.quantile(a, 0.995)) for a in acts.values())
    bins = np.linspace(0.0, top, 41)
    unit_means = {k: a.mean(0) for k, a in acts.items()}
    unit_bins = np.linspace(0.0, max(float(m.max()) for m in unit_means.values()), 31)

    fig = canvas.figure()
    ax_act, ax_unit = fig.subplots(1, 2)
    colors = {LABELS[k]: RUN_COLORS[k] for k in runs}
    pl.draw_activation_histograms(ax_act, {LABELS[k]: a for k, a in acts.items()}, colors, bins)
    pl.draw_activation_histograms(
        ax_unit, {LABELS[k]: m for k, m in unit_means.items()}, colors, unit_bins
    )
    ax_act.set_yscale("log")
    ax_act.set_xlabel("activation of a hidden unit (last hidden layer)")
    ax_act.set_ylabel("fraction of (example, unit) pairs")
    ax_act.set_title("activations", fontsize="medium")
    ax_unit.set_xlabel("mean activation of a unit over the data")
    ax_unit.set_ylabel("fraction of units")
    ax_unit.set_title("per-unit mean activation", fontsize="medium")
    text = "\n".join(
        f"{LABELS[k]}: mean {s['mean_activation']:.2f}, zeros {100 * s['zero_fraction']:.0f} %"
        for k, s in stats.items()
    )
    pl.draw_note(ax_act, text)
    ax_unit.legend(fontsize="small")
    fig.suptitle(
        f"Hidden activations (eval mode), {PRESETS[preset].title.lower()}, "
        f"same initial weights; {drop_text(keep_prob)}",
        fontsize="small",
    )
    w, d = stats["without_dropout"], stats["with_dropout"]
    alt = (
        f"Histograms of the last hidden layer's activations and of each unit's mean "
        f"activation, for the same network trained on the {preset} preset without and with "
        f"dropout ({drop_text(keep_prob)}). Without dropout: mean activation "
        f"{w['mean_activation']:.2f}, {100 * w['zero_fraction']:.0f} % zeros; with dropout: "
        f"mean {d['mean_activation']:.2f}, {100 * d['zero_fraction']:.0f} % zeros."
    )
    out = {
        **run_header(preset, keep_prob),
        "run": figure_run(config, data, rng=rng, preset=preset, paired=True),
        **stats,
    }
    return Drawing(alt=alt, data=out, figure=fig)


register(
    FigureSpec(
        name="activation-sparsity",
        summary="Hidden activations without and with dropout (paper, Figure 8)",
        group="paper",
        params=(preset_param("moons"), keep_param(0.5), epochs_param(100)),
        build=build_activation_sparsity,
        formats=("png", "svg", "pdf"),
        cost=1.2,
    )
)


# --------------------------------------------------------------------------- 10 BN shift
def batchnorm_variance_shift(
    keep_prob, *, rng, n_units=64, batch_size=64, n_batches=300, momentum=0.1
):
    """Simulate dropout feeding a batch-norm layer (Li et al., CVPR 2019).

    Inputs are ReLU(N(0, 1)) activations. During training, inverted dropout
    (``keep_prob``) is applied before batch norm, which tracks a running
    variance with ``momentum``; at evaluation dropout is off and batch norm
    uses that running variance.

    Returns
    -------
    dict
        ``train_var``: the running variance BN learnt (mean over units);
        ``eval_var``: the actual variance of the unit at evaluation;
        ``ratio = eval_var / train_var`` (1 = no shift); the theory
        ``(E[x^2] - E[x]^2) / (E[x^2] / q - E[x]^2)``; and ``train_out`` /
        ``eval_out``, the pre-activation of a next-layer unit fed by the BN
        outputs (unit-norm weights) at training and evaluation time.

    Notes
    -----
    With a ~ x * Bernoulli(q) / q, E[a] = E[x] and E[a^2] = E[x^2] / q, so
    Var_train = E[x^2] / q - E[x]^2 > Var_eval = E[x^2] - E[x]^2 for q < 1.
    """
    r_train, r_eval, r_w = rng.spawn(3)
    # The next layer: one unit reading every BN output through unit-norm weights, so
    # its pre-activation has variance 1 in training if BN's statistics are right.
    w = r_w.standard_normal(n_units)
    w /= np.linalg.norm(w)
    running_mean = np.zeros(n_units)
    running_var = np.ones(n_units)
    train_out = []
    for _ in range(n_batches):
        x = np.maximum(r_train.standard_normal((batch_size, n_units)), 0.0)
        mask = r_train.random((batch_size, n_units)) < keep_prob
        a = x * mask / keep_prob
        mu, var = a.mean(0), a.var(0)
        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var = (1 - momentum) * running_var + momentum * var * batch_size / (batch_size - 1)
        train_out.append(((a - mu) / np.sqrt(var + 1e-5)) @ w)
    x_eval = np.maximum(r_eval.standard_normal((n_batches * batch_size, n_units)), 0.0)
    eval_var = x_eval.var(0)
    eval_out = ((x_eval - running_mean) / np.sqrt(running_var + 1e-5)) @ w
    ex = 1.0 / np.sqrt(2 * np.pi)  # E[relu(z)] for z ~ N(0, 1)
    ex2 = 0.5  # E[relu(z)^2]
    return {
        "train_var": float(running_var.mean()),
        "eval_var": float(eval_var.mean()),
        "ratio": float(np.mean(eval_var / running_var)),
        "theory_ratio": (ex2 - ex**2) / (ex2 / keep_prob - ex**2),
        "train_out": np.concatenate(train_out),
        "eval_out": eval_out,
    }


_BN_KEEP_PROBS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def build_dropout_batchnorm_shift(*, rng, canvas, keep_prob):
    """Dropout before batch norm: the variance shift between training and evaluation.

    Left: the ratio of a unit's evaluation variance to batch norm's running variance
    against q, simulated and theory; right: the input of a next-layer unit in
    training and at evaluation, at ``keep_prob``.

    Returns
    -------
    Drawing
        ``data`` with the simulated and theoretical ratios per keep probability
        and, at ``keep_prob``, the variances, their ratio and both standard
        deviations.
    """
    r_sweep, r_one = rng.spawn(2)
    sweep = [
        batchnorm_variance_shift(q, rng=s, n_batches=100)
        for q, s in zip(_BN_KEEP_PROBS, r_sweep.spawn(len(_BN_KEEP_PROBS)), strict=True)
    ]
    one = batchnorm_variance_shift(keep_prob, rng=r_one)
    qs = np.linspace(0.05, 1.0, 96)
    ex, ex2 = 1.0 / np.sqrt(2 * np.pi), 0.5
    theory = (ex2 - ex**2) / (ex2 / qs - ex**2)

    fig = canvas.figure()
    ax_ratio, ax_hist = fig.subplots(1, 2)
    pl.draw_variance_ratio(
        ax_ratio,
        _BN_KEEP_PROBS,
        [s["ratio"] for s in sweep],
        (qs, theory),
        color=WITH,
        theory_color=COLORS["ink"],
    )
    ax_ratio.set_ylabel("eval variance / BN running variance")
    ax_ratio.set_ylim(0, 1.08)
    ax_ratio.set_title("variance shift (1 = none)", fontsize="medium")
    ax_ratio.legend(fontsize="small", loc="lower right")
    train_std, eval_std = float(one["train_out"].std()), float(one["eval_out"].std())
    bins = np.linspace(-4.0, 4.0, 61)
    pl.draw_bn_histograms(
        ax_hist, one["train_out"], one["eval_out"], bins, colors=(COLORS["warn"], WITH)
    )
    ax_hist.set_xlabel("input of a next-layer unit")
    ax_hist.set_ylabel("fraction")
    ax_hist.set_title(f"{drop_text(keep_prob)}", fontsize="medium")
    ax_hist.set_ylim(0, 1.4 * ax_hist.get_ylim()[1])  # room for the legend above the peak
    ax_hist.legend(fontsize="small", loc="upper left")
    ax_hist.text(
        0.02,
        0.8,
        f"std in training {train_std:.2f}\nstd at evaluation {eval_std:.2f}\n"
        f"variance ratio {one['ratio']:.2f} (theory {one['theory_ratio']:.2f})",
        transform=ax_hist.transAxes,
        ha="left",
        va="top",
        fontsize="small",
    )
    fig.suptitle(
        "Dropout before batch norm: BN learns the variance with dropout on,\n"
        "then sees a smaller one at evaluation (Li et al., CVPR 2019)",
        fontsize="medium",
    )
    alt = (
        f"Simulation of inverted dropout feeding a batch-norm layer, ReLU inputs. The ratio of "
        f"a unit's variance at evaluation to the running variance batch norm learnt in "
        f"training falls from 1 at keep_prob 1 to "
        f"{sweep[0]['ratio']:.2f} at keep_prob {_BN_KEEP_PROBS[0]:g}; at "
        f"{drop_text(keep_prob)} it is {one['ratio']:.2f} (theory {one['theory_ratio']:.2f}): "
        f"the next layer's input has standard deviation {train_std:.2f} in training and "
        f"{eval_std:.2f} at evaluation."
    )
    out = {
        "keep_probs": list(_BN_KEEP_PROBS),
        "ratio": [rounded(s["ratio"]) for s in sweep],
        "theory_ratio": [rounded(s["theory_ratio"]) for s in sweep],
        "keep_prob": keep_prob,
        "drop_rate": rounded(1 - keep_prob),
        "train_var": rounded(one["train_var"]),
        "eval_var": rounded(one["eval_var"]),
        "variance_ratio": rounded(one["ratio"]),
        "train_std": rounded(train_std),
        "eval_std": rounded(eval_std),
    }
    return Drawing(alt=alt, data=out, figure=fig)


register(
    FigureSpec(
        name="dropout-batchnorm-shift",
        summary="Dropout before batch norm: the variance shift between training and evaluation",
        group="pitfalls",
        params=(keep_param(0.5),),
        build=build_dropout_batchnorm_shift,
        formats=("png", "svg", "pdf"),
        cost=1.0,
    )
)
