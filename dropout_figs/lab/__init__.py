"""The training lab: toy data, the teaching MLP, configurations, training and sweeps.

:mod:`.data` makes the data sets, :mod:`.mlp` and :mod:`.loop` are the
teaching core (the network, then the training loop: read them first),
:mod:`.config` holds training configurations and the tuned presets,
:mod:`.training` trains one network, a with/without-dropout pair or many at once,
:mod:`.sweeps` runs the experiments over keep probability and data-set size,
and :mod:`.engine` is the fast stacked engine that :mod:`.training` runs on.
"""

from __future__ import annotations

from .config import (
    HISTORY_KEYS,
    OPTIMIZERS,
    PRESETS,
    SCHEMES,
    Preset,
    TrainConfig,
    TrainCost,
    TrainResult,
    check_cost,
    estimate_cost,
    get_preset,
    preset_data,
)
from .data import DATASETS, Dataset, make_dataset
from .sweeps import sweep_dataset_size, sweep_keep_prob
from .training import compare, train, train_many

__all__ = [
    "DATASETS",
    "HISTORY_KEYS",
    "OPTIMIZERS",
    "PRESETS",
    "SCHEMES",
    "Dataset",
    "Preset",
    "TrainConfig",
    "TrainCost",
    "TrainResult",
    "check_cost",
    "compare",
    "estimate_cost",
    "get_preset",
    "make_dataset",
    "preset_data",
    "sweep_dataset_size",
    "sweep_keep_prob",
    "train",
    "train_many",
]
