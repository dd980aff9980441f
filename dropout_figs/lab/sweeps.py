"""Sweeps over the keep probability and the training-set size."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validate import as_rng, check_count, check_probability
from .config import TrainConfig
from .data import Dataset, make_dataset
from .training import train_many

__all__ = ["sweep_dataset_size", "sweep_keep_prob"]


# =========================================================================== sweeps
def sweep_keep_prob(
    config: TrainConfig,
    data: Dataset,
    keep_probs: Sequence[float],
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    jobs: int | None = None,
    processes: bool = False,
) -> dict[str, np.ndarray]:
    """Final metrics as a function of the keep probability, over several seeds.

    ``jobs`` and ``processes`` are as in :func:`train_many`.

    Returns
    -------
    dict of str -> ndarray
        ``keep_probs`` (K,), ``seeds`` (S,), and ``train_loss``, ``val_loss``,
        ``train_acc``, ``val_acc``, ``gap`` each of shape (K, S): final-epoch,
        eval-mode numbers. Seed j starts every keep probability from the same
        weights and batch order.
    """
    keep_probs = [check_probability(k, "keep_probs entry") for k in keep_probs]
    configs = [config.replace(keep_prob=k) for k in keep_probs]
    results = train_many(configs, data, seeds=seeds, jobs=jobs, processes=processes)
    out = {"keep_probs": np.array(keep_probs), "seeds": np.array(list(seeds))}
    out.update(_metric_grid(results, len(keep_probs), len(seeds)))
    return out


def _metric_grid(results, *shape):
    keys = ("train_loss", "val_loss", "train_acc", "val_acc", "gap")
    grid = {k: np.empty(len(results)) for k in keys}
    for i, r in enumerate(results):
        m = r.metrics()
        for k in keys:
            grid[k][i] = m[k]
    return {k: v.reshape(shape) for k, v in grid.items()}


def sweep_dataset_size(
    config: TrainConfig,
    dataset: str,
    n_samples: Sequence[int],
    *,
    keep_probs: Sequence[float] = (1.0, 0.5),
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    noise: float | None = None,
    val_fraction: float = 0.5,
    jobs: int | None = None,
    processes: bool = False,
) -> dict[str, np.ndarray]:
    """Final metrics as a function of the data set size, without and with dropout.

    ``jobs`` and ``processes`` are as in :func:`train_many`.

    For every size and seed a fresh data set is drawn (from a stream spawned
    from the seed, independent of the training streams); every keep
    probability is trained on it.

    Returns
    -------
    dict of str -> ndarray
        ``n_samples`` (N,), ``keep_probs`` (K,), ``seeds`` (S,), and
        ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``, ``gap`` of
        shape (N, K, S).
    """
    sizes = [check_count(n, "n_samples entry", low=4) for n in n_samples]
    keep_probs = [check_probability(k, "keep_probs entry") for k in keep_probs]
    seeds = list(seeds)
    # Seed j: its own data set of each size (from a stream independent of the
    # training streams); every keep probability trained on it from seed j's
    # weights. One train_many call: each size is its own stack, all in parallel.
    configs, datasets, pair_seeds = [], [], []
    for n in sizes:
        for seed in seeds:
            data_rng = as_rng(seed).spawn(4)[3]
            d = make_dataset(
                dataset, n_samples=n, noise=noise, val_fraction=val_fraction, rng=data_rng
            )
            for k in keep_probs:
                configs.append(config.replace(keep_prob=k))
                datasets.append(d)
                pair_seeds.append(seed)
    flat = train_many(
        configs, datasets, seeds=pair_seeds, jobs=jobs, paired=True, processes=processes
    )
    # flat is ordered (size, seed, keep_prob); report (size, keep_prob, seed)
    grid = _metric_grid(flat, len(sizes), len(seeds), len(keep_probs))
    out = {
        "n_samples": np.array(sizes),
        "keep_probs": np.array(keep_probs),
        "seeds": np.array(seeds),
    }
    for key, value in grid.items():
        out[key] = value.transpose(0, 2, 1)
    return out
