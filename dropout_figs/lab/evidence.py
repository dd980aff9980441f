"""Claims measured over seeds: paired comparisons with 95 % intervals, and calibration.

A claim such as "dropout lowers the held-out loss" is a statement about a
distribution of runs, not about one run. :func:`paired_over_seeds` trains the
same network without and with dropout on many seeds (each seed draws its own
data set, initial weights, batch order and masks; within a seed the two runs
share the data, the initial weights and the batch order), evaluates both on a
large held-out test set drawn from the same distribution, and summarises the
per-seed differences by their mean, a 95 % Student-t interval and the number
of seeds on which dropout wins. All runs of one call train together in stacks
(:func:`dropout_figs.lab.train_many`), so 20 seeds cost a few seconds.

Computation only: this module never draws and never prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._validate import DropoutFigsError, check_count, check_probability
from . import mlp
from .config import TrainConfig, get_preset
from .data import make_dataset
from .record import data_shape, run_record
from .training import train_many

__all__ = [
    "PairedSummary",
    "SeedComparison",
    "cli_streams",
    "expected_calibration_error",
    "mean_interval",
    "paired_over_seeds",
    "paired_summary",
    "regulariser_table",
    "regulariser_variants",
    "reliability_bins",
]

#: Held-out test points per seed: at 2,000 one point is 0.05 % of accuracy.
N_TEST = 2000

#: Bins of the reliability diagram and of the expected calibration error.
N_BINS = 10


# =========================================================================== statistics
@dataclass(frozen=True)
class PairedSummary:
    """Per-seed differences ``b - a`` summarised.

    Attributes
    ----------
    mean : float
        Mean difference over seeds.
    ci_low, ci_high : float
        95 % Student-t interval of the mean difference.
    n_seeds : int
    n_better : int
        Seeds on which ``b`` is better than ``a`` (strictly).
    n_ties : int
        Seeds on which they are equal.
    """

    mean: float
    ci_low: float
    ci_high: float
    n_seeds: int
    n_better: int
    n_ties: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def paired_summary(a, b, *, higher_is_better: bool, level: float = 0.95) -> PairedSummary:
    """Mean of ``b - a`` over paired seeds, its t-interval, and how often ``b`` wins.

    Parameters
    ----------
    a, b : array_like of shape (n_seeds,)
        The same metric for the two variants, seed by seed.
    higher_is_better : bool
        True for accuracy, False for a loss or an error.
    level : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    PairedSummary

    Notes
    -----
    The interval is ``mean +/- t_{n-1} * sd / sqrt(n)`` (Student's t quantile,
    ``scipy.special.stdtrit``, the same numbers as ``scipy.stats.t.ppf``), the
    paired t-interval: it treats seeds as independent draws and the mean
    difference as roughly normal, which 20 or more seeds make reasonable.
    """
    # scipy.special, not scipy.stats: the same quantile for a quarter of the import time
    # (~0.35 s against ~1.4 s of CPU), which every cold build of these figures pays.
    from scipy.special import stdtrit

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise DropoutFigsError(
            f"a and b must be 1-d of the same length >= 2 (one value per seed); "
            f"got shapes {a.shape} and {b.shape}"
        )
    if not 0 < level < 1:
        raise DropoutFigsError(f"level must be in (0, 1); got {level!r}")
    d = b - a
    n = len(d)
    mean = float(d.mean())
    half = float(stdtrit(n - 1, 0.5 + level / 2) * d.std(ddof=1) / np.sqrt(n))
    better = d > 0 if higher_is_better else d < 0
    return PairedSummary(
        mean=mean,
        ci_low=mean - half,
        ci_high=mean + half,
        n_seeds=n,
        n_better=int(better.sum()),
        n_ties=int((d == 0).sum()),
    )


def reliability_bins(probs, y, *, n_bins: int = N_BINS) -> dict:
    """Confidence against accuracy in equal-width bins of the top-class probability.

    Parameters
    ----------
    probs : ndarray of shape (n, n_classes)
        Predicted class probabilities.
    y : ndarray of shape (n,)
        True labels.
    n_bins : int
        Equal-width bins of the confidence ``max_k probs[:, k]``.

    Returns
    -------
    dict
        ``edges`` (n_bins + 1,), and per bin ``count``, ``confidence`` (mean
        top probability) and ``accuracy`` (share of correct predictions); empty
        bins hold NaN.
    """
    probs = np.asarray(probs, dtype=float)
    y = np.asarray(y)
    n_bins = check_count(n_bins, "n_bins", low=1, high=1000)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # right-closed bins, so a confidence of exactly 1 lands in the last one
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(idx, weights=conf, minlength=n_bins) / count
        accuracy = np.bincount(idx, weights=correct, minlength=n_bins) / count
    return {"edges": edges, "count": count, "confidence": confidence, "accuracy": accuracy}


def expected_calibration_error(probs, y, *, n_bins: int = N_BINS) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over bins.

    ``sum_b (n_b / n) |accuracy_b - confidence_b|`` with equal-width bins of the
    top-class probability (Guo et al. 2017). 0 is perfectly calibrated.
    """
    bins = reliability_bins(probs, y, n_bins=n_bins)
    used = bins["count"] > 0
    gap = np.abs(bins["accuracy"][used] - bins["confidence"][used])
    return float(np.sum(bins["count"][used] * gap) / np.sum(bins["count"]))


# =========================================================================== runs
@dataclass
class SeedComparison:
    """Without and with dropout, seed by seed, on a large held-out test set.

    Attributes
    ----------
    seeds : list of int
    variants : dict of str -> dict
        For each variant (``"without"``, ``"with"``, and ``"with_2x"`` when the
        doubled budget was run): ``config`` (a :func:`~dropout_figs.lab.record.run_record`) and
        per-seed arrays ``test_loss``, ``test_acc``, ``test_ece``, ``val_loss``,
        ``val_acc``, ``train_loss``, ``train_acc``.
    reliability : dict of str -> dict
        Per variant, the reliability bins of all seeds' test predictions pooled.
    """

    seeds: list
    variants: dict
    reliability: dict

    def summary(self, variant: str = "with", metric: str = "test_loss") -> PairedSummary:
        """``variant`` minus ``"without"`` for ``metric``, over the seeds."""
        if variant not in self.variants or variant == "without":
            raise DropoutFigsError(
                f"variant must be one of {[v for v in self.variants if v != 'without']}; "
                f"got {variant!r}"
            )
        a = self.variants["without"]["metrics"][metric]
        b = self.variants[variant]["metrics"][metric]
        return paired_summary(a, b, higher_is_better=metric.endswith("acc"))

    def to_dict(self) -> dict:
        """Plain JSON-ready data: configurations, per-seed metrics and summaries."""
        out = {"seeds": list(self.seeds), "variants": {}, "summaries": {}}
        for name, v in self.variants.items():
            out["variants"][name] = {
                "config": v["config"],
                "metrics": {k: np.asarray(m).tolist() for k, m in v["metrics"].items()},
                "reliability": {
                    k: np.asarray(m).tolist() for k, m in self.reliability[name].items()
                },
            }
            if name != "without":
                out["summaries"][name] = {
                    m: self.summary(name, m).to_dict()
                    for m in ("test_loss", "test_acc", "test_ece", "val_loss", "val_acc")
                }
        return out


def _metrics(params, x, y):
    p = mlp.predict_proba(params, x)
    loss = float(-np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-300))))
    return p, loss, float(np.mean(p.argmax(1) == y))


def cli_streams(seed: int) -> tuple[np.random.Generator, np.random.SeedSequence]:
    """The data stream and the training seed of ``dropout-figs train --seed S``.

    The command draws its data from ``default_rng(S).spawn(2)[0]`` and trains
    from ``[1]``; a SeedSequence for that second stream is what
    :func:`~dropout_figs.lab.train_many` takes, so a run here is the command's run.
    """
    seed = check_count(seed, "seed", low=0, high=2**63 - 1)
    return np.random.default_rng(seed).spawn(2)[0], np.random.SeedSequence(seed).spawn(2)[1]


def _preset_splits(spec, seeds, *, n_samples, noise, n_test):
    """Each seed's own draw of the preset's data (with a test set), as the CLI draws it."""
    kwargs = dict(spec.dataset_kwargs)
    if n_samples is not None:
        kwargs["n_samples"] = n_samples
    if noise is not None:
        kwargs["noise"] = noise
    data, train_seeds = [], []
    for s in seeds:
        data_rng, train_seed = cli_streams(s)
        data.append(make_dataset(spec.dataset, rng=data_rng, n_test=n_test, **kwargs))
        train_seeds.append(train_seed)
    # What the data of a seed depend on, for _train_shared's keys.
    data_key = (spec.dataset, tuple(sorted(kwargs.items())), n_test)
    return data, train_seeds, data_shape(data[0]), data_key


# Runs already trained in this process, by (config, data key, seed): the over-seeds
# comparison and the regulariser table share their plain and dropout runs (the same
# preset, seeds and configuration), so a build that draws both trains those once.
_RUNS: dict = {}
_MAX_RUNS = 2000


def _train_shared(configs, data, seeds, *, data_key, jobs):
    """``train_many(configs, data, seeds=cli training seeds, paired=True)``, reusing
    the runs of earlier calls with the same configuration, data and seed."""
    keys = [(c, data_key, s) for c, s in zip(configs, seeds, strict=True)]
    todo = [i for i, k in enumerate(keys) if k not in _RUNS]
    if todo:
        fresh = train_many(
            [configs[i] for i in todo],
            [data[i] for i in todo],
            seeds=[cli_streams(seeds[i])[1] for i in todo],
            paired=True,
            jobs=jobs,
        )
        if len(_RUNS) + len(todo) > _MAX_RUNS:
            _RUNS.clear()
        for i, res in zip(todo, fresh, strict=True):
            _RUNS[keys[i]] = res
    return [_RUNS[k] for k in keys]


def paired_over_seeds(
    preset: str = "severe-overfitting",
    *,
    seeds: Sequence[int] = tuple(range(20)),
    keep_prob: float = 0.5,
    n_test: int = N_TEST,
    doubled_budget: bool = True,
    config: TrainConfig | None = None,
    n_samples: int | None = None,
    noise: float | None = None,
    jobs: int | None = None,
) -> SeedComparison:
    """Train a preset's network without and with dropout on every seed; test on held-out points.

    Parameters
    ----------
    preset : str
        Its data set, sizes, noise and configuration are used (``config``,
        ``n_samples`` and ``noise`` override them, e.g. to tune a preset).
    seeds : sequence of int
        One run per variant per seed, seeded as ``dropout-figs train --seed s``
        seeds it (:func:`cli_streams`): with the preset's own configuration,
        seed ``s``'s two runs are ``dropout-figs train --preset NAME --compare
        --seed s``. The variants of a seed share data, initial weights and batch order.
    keep_prob : float
        Keep probability of the dropout variants (the drop rate is ``1 - keep_prob``).
    n_test : int
        Held-out test points per seed (same distribution as the training data).
    doubled_budget : bool
        Also train the dropout network for twice the epochs (``"with_2x"``):
        the paper advises longer training with dropout.

    Returns
    -------
    SeedComparison
    """
    spec = get_preset(preset)
    keep_prob = check_probability(keep_prob, "keep_prob")
    if keep_prob >= 1:
        raise DropoutFigsError(f"keep_prob must be below 1 for a comparison; got {keep_prob:g}")
    seeds = [check_count(s, "seeds entry", low=0, high=2**63 - 1) for s in seeds]
    if len(seeds) < 2:
        raise DropoutFigsError(f"seeds must hold at least 2 seeds; got {len(seeds)}")
    base = (config or spec.config).replace(keep_prob=1.0, input_keep_prob=1.0)
    variants = {"without": base, "with": base.replace(keep_prob=keep_prob)}
    if doubled_budget:
        variants["with_2x"] = variants["with"].replace(epochs=2 * base.epochs)
    data, _, shape, data_key = _preset_splits(
        spec, seeds, n_samples=n_samples, noise=noise, n_test=n_test
    )
    configs = [cfg for cfg in variants.values() for _ in seeds]
    results = _train_shared(
        configs, data * len(variants), seeds * len(variants), data_key=data_key, jobs=jobs
    )

    out, reliability = {}, {}
    for v, (name, cfg) in enumerate(variants.items()):
        m = {k: np.empty(len(seeds)) for k in _METRICS}
        pooled_p, pooled_y = [], []
        for j, d in enumerate(data):
            res = results[v * len(seeds) + j]
            p, m["test_loss"][j], m["test_acc"][j] = _metrics(res.params, d.x_test, d.y_test)
            m["test_ece"][j] = expected_calibration_error(p, d.y_test)
            for k in ("val_loss", "val_acc", "train_loss", "train_acc"):
                m[k][j] = res.history[k][-1]
            pooled_p.append(p)
            pooled_y.append(d.y_test)
        reliability[name] = reliability_bins(np.concatenate(pooled_p), np.concatenate(pooled_y))
        out[name] = {
            "config": run_record(cfg, shape, seeds=seeds, preset=spec.name, paired=True),
            "metrics": m,
        }
    return SeedComparison(seeds=seeds, variants=out, reliability=reliability)


_METRICS = ("test_loss", "test_acc", "test_ece", "val_loss", "val_acc", "train_loss", "train_acc")


# =========================================================================== regularisers
def mean_interval(values, *, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` over seeds and its Student-t interval: ``(mean, low, high)``."""
    from scipy.special import stdtrit

    x = np.asarray(values, dtype=float)
    half = float(stdtrit(len(x) - 1, 0.5 + level / 2) * x.std(ddof=1) / np.sqrt(len(x)))
    return float(x.mean()), float(x.mean()) - half, float(x.mean()) + half


def regulariser_variants(
    base: TrainConfig, *, keep_prob: float = 0.5, l2: float = 1e-3, max_norm: float = 3.0
) -> dict[str, TrainConfig]:
    """The rows of a toy Table 9 and of the Appendix A.2 recipe, as configurations.

    ``"early stopping"`` is the plain network; :func:`regulariser_table`
    stops it at each seed's best validation epoch. The last three rows train
    dropout + max-norm with SGD: the usual learning rate, then 10x higher
    with momentum 0.95 and 0.99 (the paper's advice).
    """
    plain = base.replace(keep_prob=1.0, input_keep_prob=1.0, l2=0.0, max_norm=None)
    drop = plain.replace(keep_prob=keep_prob)
    sgd = {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9}
    return {
        "none": plain,
        "L2": plain.replace(l2=l2),
        "max-norm": plain.replace(max_norm=max_norm),
        "early stopping": plain,
        "dropout": drop,
        "dropout + L2": drop.replace(l2=l2),
        "dropout + max-norm": drop.replace(max_norm=max_norm),
        "SGD, lr 0.01, momentum 0.9, dropout + max-norm": drop.replace(**sgd, max_norm=max_norm),
        "SGD, lr 0.1, momentum 0.95, dropout + max-norm": drop.replace(
            **{**sgd, "lr": 0.1, "momentum": 0.95}, max_norm=max_norm
        ),
        "SGD, lr 0.1, momentum 0.99, dropout + max-norm": drop.replace(
            **{**sgd, "lr": 0.1, "momentum": 0.99}, max_norm=max_norm
        ),
    }


def regulariser_table(
    preset: str = "severe-overfitting",
    *,
    seeds: Sequence[int] = tuple(range(20)),
    n_test: int = N_TEST,
    keep_prob: float = 0.5,
    l2: float = 1e-3,
    max_norm: float = 3.0,
    jobs: int | None = None,
) -> dict:
    """Held-out error and loss of each regulariser over seeds, on one toy data set.

    Every row trains the preset's network on the same per-seed data, initial
    weights and batch order (see :func:`paired_over_seeds`). Early stopping
    picks, per seed, the epoch with the lowest validation loss of the plain run
    and retrains to that epoch (same seed, so the same run, stopped there).

    Returns
    -------
    dict
        ``rows``: name -> ``config``, per-seed ``test_error`` and ``test_loss``,
        their ``(mean, low, high)`` 95 % intervals, and the paired difference
        from ``"none"`` (:class:`PairedSummary` as a dict); and ``seeds``.
    """
    spec = get_preset(preset)
    seeds = [check_count(s, "seeds entry", low=0, high=2**63 - 1) for s in seeds]
    if len(seeds) < 2:
        raise DropoutFigsError(f"seeds must hold at least 2 seeds; got {len(seeds)}")
    variants = regulariser_variants(spec.config, keep_prob=keep_prob, l2=l2, max_norm=max_norm)
    data, train_seeds, shape, data_key = _preset_splits(
        spec, seeds, n_samples=None, noise=None, n_test=n_test
    )
    names = [n for n in variants if n != "early stopping"]
    results = _train_shared(
        [variants[n] for n in names for _ in seeds],
        data * len(names),
        seeds * len(names),
        data_key=data_key,
        jobs=jobs,
    )
    runs = {n: results[i * len(seeds) : (i + 1) * len(seeds)] for i, n in enumerate(names)}
    # Early stopping: the same plain run, stopped at its best validation epoch.
    stops = [int(np.argmin(r.history["val_loss"])) + 1 for r in runs["none"]]
    plain = variants["early stopping"]
    runs["early stopping"] = train_many(
        [plain.replace(epochs=e) for e in stops], data, seeds=train_seeds, paired=True, jobs=jobs
    )

    rows = {}
    for name in variants:
        err = np.empty(len(seeds))
        loss = np.empty(len(seeds))
        for j, (res, d) in enumerate(zip(runs[name], data, strict=True)):
            _, loss[j], acc = _metrics(res.params, d.x_test, d.y_test)
            err[j] = 1.0 - acc
        config = run_record(variants[name], shape, seeds=seeds, preset=spec.name, paired=True)
        if name == "early stopping":
            config["epochs"] = stops
            config["n_updates"] = [config["updates_per_epoch"] * e for e in stops]
        rows[name] = {"config": config, "test_error": err, "test_loss": loss}
    for row in rows.values():
        row["test_error_ci"] = mean_interval(row["test_error"])
        row["test_loss_ci"] = mean_interval(row["test_loss"])
        row["vs_none_error"] = paired_summary(
            rows["none"]["test_error"], row["test_error"], higher_is_better=False
        ).to_dict()
        row["vs_none_loss"] = paired_summary(
            rows["none"]["test_loss"], row["test_loss"], higher_is_better=False
        ).to_dict()
    return {"seeds": seeds, "rows": rows}
