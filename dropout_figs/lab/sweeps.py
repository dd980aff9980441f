"""The lab's two experiments over many runs: the keep probability and the training-set size.

Computation only (the figures in :mod:`dropout_figs.figures.sweeps` draw these
numbers). Both experiments train every run at once with :func:`train_many`,
on common random numbers: the runs of one replicate start from the same
weights and see the same batch order, so differences between them come from
the swept quantity, not from luck.

A replicate is a :class:`Split`: a training set, a token validation set (the
engine evaluates it every epoch) and a large held-out test set, evaluated once
at the end. :func:`draw_splits` draws independent replicates of a toy data set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._validate import DropoutFigsError, as_rng, check_count, check_probability
from . import mlp
from .config import TrainConfig
from .data import Dataset, make_dataset
from .training import train_many

__all__ = [
    "Split",
    "draw_split",
    "draw_splits",
    "held_out_metrics",
    "sweep_dataset_size",
    "sweep_keep_prob",
]

#: The metrics of ``TrainResult.metrics()`` that a sweep reports, final epoch, eval mode.
_METRICS = ("train_loss", "val_loss", "train_acc", "val_acc", "gap")


# =========================================================================== replicates
@dataclass(frozen=True)
class Split:
    """A training data set (with a token validation set) and a large separate test set.

    Attributes
    ----------
    data : Dataset
        What the network trains on (and validates on, every epoch).
    x_test : ndarray of shape (n_test, 2)
    y_test : ndarray of shape (n_test,), int
        Held out: evaluated once, after training, by :func:`held_out_metrics`.
    """

    data: Dataset
    x_test: np.ndarray
    y_test: np.ndarray


def draw_split(dataset, *, n_train, n_test, noise=None, rng, n_val=16) -> Split:
    """Draw ``n_train + n_val + n_test`` points of ``dataset`` in one go and split them.

    Parameters
    ----------
    dataset : str
        One of :data:`dropout_figs.lab.DATASETS`.
    n_train, n_test, n_val : int
        Training, held-out test and validation points. The validation set is
        small on purpose: the engine evaluates it after every epoch, and the
        numbers that matter come from the test set.
    noise : float, optional
        As in :func:`~dropout_figs.lab.make_dataset`.
    rng : numpy.random.Generator

    Returns
    -------
    Split
    """
    total = n_train + n_val + n_test
    d = make_dataset(
        dataset, n_samples=total, noise=noise, val_fraction=(n_val + n_test) / total, rng=rng
    )
    small = dataclasses.replace(d, x_val=d.x_val[:n_val], y_val=d.y_val[:n_val])
    return Split(small, d.x_val[n_val:], d.y_val[n_val:])


def draw_splits(dataset, *, n_train, n_test=1000, n_replicates=5, noise=None, rng) -> list[Split]:
    """``n_replicates`` independent :func:`draw_split` s, one stream spawned from ``rng`` each."""
    n_replicates = check_count(n_replicates, "n_replicates", low=1, high=10_000)
    return [
        draw_split(dataset, n_train=n_train, n_test=n_test, noise=noise, rng=stream)
        for stream in as_rng(rng).spawn(n_replicates)
    ]


def held_out_metrics(params, x, y) -> tuple[float, float]:
    """Mean cross-entropy and error rate of eval-ready ``params`` on ``(x, y)``.

    Returns
    -------
    (loss, error) : (float, float)
        ``error`` is the fraction of points whose most probable class is wrong.
    """
    logits = mlp.forward(params, x)
    loss, probs = mlp.softmax_xent_forward(logits, np.asarray(y))
    return loss, float(np.mean(probs.argmax(1) != y))


def _replicates(data, seeds):
    """(data set, test set or None, seed) per replicate: one data set for every seed,
    or one seed (or one each) for every data set."""
    seeds = list(seeds)
    if isinstance(data, (Dataset, Split)):
        data = [data] * len(seeds)
    else:
        data = list(data)
        if len(seeds) == 1:
            seeds = seeds * len(data)
        if len(seeds) != len(data):
            raise DropoutFigsError(
                f"seeds must hold one seed, or one per data set ({len(data)}); got {len(seeds)}"
            )
    if not data:
        raise DropoutFigsError("a sweep needs at least one data set and one seed; got none")
    out = []
    for d, seed in zip(data, seeds, strict=True):
        if isinstance(d, Split):
            out.append((d.data, d, seed))
        elif isinstance(d, Dataset):
            out.append((d, None, seed))
        else:
            raise DropoutFigsError(
                f"data must be a Dataset, a Split or a sequence of them; got {type(d).__name__}"
            )
    return out


def _collect(results, tests, shape):
    """The metric arrays of ``results`` (one per run, in ``shape`` order); test metrics
    where every run has a held-out test set."""
    out = {k: np.array([r.metrics()[k] for r in results]).reshape(shape) for k in _METRICS}
    if all(t is not None for t in tests):
        scores = np.array(
            [
                held_out_metrics(r.params, t.x_test, t.y_test)
                for r, t in zip(results, tests, strict=True)
            ]
        )
        out["test_loss"] = scores[:, 0].reshape(shape)
        out["test_error"] = scores[:, 1].reshape(shape)
    return out


# =========================================================================== keep probability
def sweep_keep_prob(
    config: TrainConfig,
    data,
    keep_probs: Sequence[float],
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    units_kept: float | None = None,
    jobs: int | None = None,
    processes: bool = False,
) -> dict[str, np.ndarray]:
    """Final metrics as a function of the keep probability, over several replicates.

    Parameters
    ----------
    config : TrainConfig
        Everything but the keep probability (and, with ``units_kept``, the width).
    data : Dataset, Split, or sequence of them
        One data set trained with every seed, or one replicate per data set
        (trained with ``seeds[j]``, or with ``seeds[0]`` if there is one seed).
        :class:`Split` s add held-out test metrics.
    keep_probs : sequence of float
    seeds : sequence of int
    units_kept : float, optional
        If given, the width is ``max(2, round(units_kept / keep_prob))``: the
        expected number of kept units is held fixed (the paper's Figure 9b)
        instead of the width (Figure 9a).
    jobs, processes
        As in :func:`~dropout_figs.lab.train_many`.

    Returns
    -------
    dict of str -> ndarray
        ``keep_probs`` (K,), ``widths`` (K,), ``seeds`` (R,), and
        ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``, ``gap`` of
        shape (K, R): final-epoch, eval-mode numbers, one column per replicate;
        with Splits also ``test_loss`` and ``test_error`` (K, R). Every keep
        probability of a replicate starts from the same weights and batch order.
    """
    keep_probs = [check_probability(k, "keep_probs entry") for k in keep_probs]
    reps = _replicates(data, seeds)
    widths = [
        config.width if units_kept is None else max(2, round(units_kept / q)) for q in keep_probs
    ]
    configs, datasets, run_seeds, tests = [], [], [], []
    for q, w in zip(keep_probs, widths, strict=True):
        for d, test, seed in reps:
            configs.append(config.replace(keep_prob=q, width=w))
            datasets.append(d)
            run_seeds.append(seed)
            tests.append(test)
    results = train_many(
        configs, datasets, seeds=run_seeds, paired=True, jobs=jobs, processes=processes
    )
    out = {
        "keep_probs": np.array(keep_probs),
        "widths": np.array(widths),
        "seeds": np.array([seed for _, _, seed in reps]),
    }
    out.update(_collect(results, tests, (len(keep_probs), len(reps))))
    return out


# =========================================================================== data-set size
def sweep_dataset_size(
    config: TrainConfig,
    pools: Sequence[Split],
    sizes: Sequence[int],
    *,
    seeds: Sequence[int],
    n_updates: int | None = 300,
    doubled_budget: bool = False,
    jobs: int | None = None,
    processes: bool = False,
) -> dict:
    """Held-out error and loss without and with dropout against the training-set size.

    Size ``n`` trains on the first ``n`` training points of each pool (nested
    training sets, as in the paper's Figure 10) and is scored on the pool's
    test set. Within a size, the nets of every pool start from the weights and
    batch order of that size's seed, without dropout (``keep_prob`` and
    ``input_keep_prob`` 1) and with ``config``'s dropout.

    Parameters
    ----------
    config : TrainConfig
        The net with dropout; its ``epochs`` is used if ``n_updates`` is None.
    pools : sequence of Split
        Replicates with at least ``max(sizes)`` training points (:func:`draw_splits`).
    sizes : sequence of int
    seeds : sequence of int
        One per size.
    n_updates : int or None, default 300
        Mini-batch updates per net: every size gets about as many (epochs =
        ``n_updates`` / batches per epoch), so small sets are not under-trained
        and large ones not over-trained; the batch is ``min(batch_size, n)``.
    doubled_budget : bool, default False
        Also train the dropout net for twice the epochs (``"with_dropout_2x"``):
        the paper advises longer training with dropout.

    Returns
    -------
    dict
        ``sizes`` (N,), ``epochs`` (N,), ``updates`` (N,: updates per net at the
        equal budget), and ``"without_dropout"`` / ``"with_dropout"`` (/
        ``"with_dropout_2x"``), each a dict of ``test_loss``, ``test_error`` and
        ``train_loss`` (final, eval mode, on the size's training points) of
        shape (N, R) for R pools.
    """
    pools = list(pools)
    sizes = [check_count(n, "sizes entry", low=2) for n in sizes]
    seeds = list(seeds)
    if len(seeds) != len(sizes):
        raise DropoutFigsError(
            f"seeds must hold one seed per size ({len(sizes)}); got {len(seeds)}"
        )
    if not pools or min(p.data.n_train for p in pools) < max(sizes):
        raise DropoutFigsError(
            f"pools must be at least one Split with at least max(sizes) = {max(sizes)} "
            f"training points; got {[p.data.n_train for p in pools]}"
        )
    if not config.uses_dropout:
        raise DropoutFigsError(
            "sweep_dataset_size compares without and with dropout: config needs keep_prob or "
            f"input_keep_prob below 1 (got keep_prob={config.keep_prob:g}, "
            f"input_keep_prob={config.input_keep_prob:g})"
        )
    plain = config.replace(keep_prob=1.0, input_keep_prob=1.0)
    runs = {"without_dropout": (plain, 1), "with_dropout": (config, 1)}
    if doubled_budget:
        runs["with_dropout_2x"] = (config, 2)
    out = {
        "sizes": np.array(sizes),
        "epochs": np.empty(len(sizes), dtype=int),
        "updates": np.empty(len(sizes), dtype=int),
        **{
            key: {
                k: np.empty((len(sizes), len(pools)))
                for k in ("test_loss", "test_error", "train_loss")
            }
            for key in runs
        },
    }
    for i, (n, seed) in enumerate(zip(sizes, seeds, strict=True)):
        batch = min(config.batch_size, n)
        epochs = config.epochs
        if n_updates is not None:
            epochs = max(1, round(n_updates / int(np.ceil(n / batch))))
        out["epochs"][i] = epochs
        out["updates"][i] = epochs * int(np.ceil(n / batch))
        subsets = [
            dataclasses.replace(p.data, x_train=p.data.x_train[:n], y_train=p.data.y_train[:n])
            for p in pools
        ]
        configs = [c.replace(epochs=k * epochs, batch_size=batch) for c, k in runs.values()]
        results = train_many(
            [c for c in configs for _ in pools],
            subsets * len(configs),
            seeds=[seed],
            jobs=jobs,
            processes=processes,
        )
        for j, key in enumerate(runs):
            scores = np.array(
                [
                    held_out_metrics(r.params, p.x_test, p.y_test)
                    for r, p in zip(
                        results[j * len(pools) : (j + 1) * len(pools)], pools, strict=True
                    )
                ]
            )
            out[key]["test_loss"][i] = scores[:, 0]
            out[key]["test_error"][i] = scores[:, 1]
            out[key]["train_loss"][i] = [
                r.metrics()["train_loss"] for r in results[j * len(pools) : (j + 1) * len(pools)]
            ]
    return out
