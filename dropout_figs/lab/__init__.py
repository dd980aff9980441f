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
from .sweeps import (
    Split,
    draw_split,
    draw_splits,
    held_out_metrics,
    sweep_dataset_size,
    sweep_keep_prob,
)
from .training import compare, train, train_many

__all__ = [
    "DATASETS",
    "HISTORY_KEYS",
    "OPTIMIZERS",
    "PRESETS",
    "SCHEMES",
    "Dataset",
    "Preset",
    "Split",
    "TrainConfig",
    "TrainCost",
    "TrainResult",
    "check_cost",
    "compare",
    "draw_split",
    "draw_splits",
    "estimate_cost",
    "get_preset",
    "held_out_metrics",
    "make_dataset",
    "preset_data",
    "sweep_dataset_size",
    "sweep_keep_prob",
    "train",
    "train_many",
]
