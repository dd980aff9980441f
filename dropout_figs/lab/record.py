"""One record per run: everything that produced a trained network, as plain data.

A figure, a page and a notebook that describe a run read it from this record,
so the configuration printed next to a figure is the one that figure trained
(one run, one source). :func:`run_record` makes it from the configuration and
the data actually used; :func:`describe_run` turns it into the one sentence
the pages print. The parameter count is computed from the layer sizes.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from .._validate import DropoutFigsError
from .config import PRESETS, TrainConfig

__all__ = [
    "RUN_KEYS",
    "data_shape",
    "describe_run",
    "n_parameters",
    "run_record",
    "seed_of",
    "train_command",
]

#: The keys of every run record, in order (the JSON a page or a test reads).
RUN_KEYS = (
    "preset",
    "changed_from_preset",
    "dataset",
    "n_train",
    "n_val",
    "n_test",
    "noise",
    "n_inputs",
    "hidden_layers",
    "width",
    "n_classes",
    "layer_sizes",
    "n_params",
    "epochs",
    "batch_size",
    "updates_per_epoch",
    "n_updates",
    "optimizer",
    "lr",
    "momentum",
    "keep_prob",
    "drop_rate",
    "input_keep_prob",
    "input_drop_rate",
    "scheme",
    "l2",
    "max_norm",
    "paired",
    "seeds",
    "command",
)

_SHAPE_KEYS = ("dataset", "n_train", "n_val", "n_test", "noise", "n_inputs", "n_classes")


def n_parameters(layer_sizes: Sequence[int]) -> int:
    """Weights and biases of a dense network with these layer sizes: sum of (in + 1) * out."""
    return int(sum((i + 1) * o for i, o in itertools.pairwise(layer_sizes)))


def data_shape(data) -> dict:
    """What a run record needs to know about a data set: name, sizes, noise, inputs, classes.

    ``data`` is a :class:`~dropout_figs.lab.Dataset`, or a mapping with the keys
    ``dataset, n_train, n_val, n_test, noise, n_inputs, n_classes`` (for runs
    whose data are drawn per seed, such as the experiments over seeds).
    """
    if isinstance(data, Mapping):
        missing = [k for k in _SHAPE_KEYS if k not in data]
        if missing:
            raise DropoutFigsError(
                f"data must be a Dataset or a mapping with keys {', '.join(_SHAPE_KEYS)}; "
                f"missing {', '.join(missing)}"
            )
        return {k: data[k] for k in _SHAPE_KEYS}
    return {
        "dataset": data.name,
        "n_train": data.n_train,
        "n_val": data.n_val,
        "n_test": data.n_test,
        "noise": data.noise,
        "n_inputs": int(data.x_train.shape[1]),
        "n_classes": int(data.n_classes),
    }


def seed_of(rng: np.random.Generator) -> int:
    """The integer seed a generator descends from (``default_rng(seed)`` and its spawns)."""
    entropy = rng.bit_generator.seed_seq.entropy
    if not isinstance(entropy, int):
        raise DropoutFigsError(f"rng must come from an integer seed; its entropy is {entropy!r}")
    return entropy


def _num(x, nd=6):
    """Floats rounded (``1 - 0.8`` is 0.2 here, not 0.19999999999999996); None kept."""
    return None if x is None else float(round(float(x), nd))


def run_record(
    config: TrainConfig,
    data,
    *,
    seeds,
    preset: str | None = None,
    n_updates: int | None = None,
    paired: bool = False,
) -> dict:
    """The full configuration of a run (or of one arm of a comparison), as plain data.

    Parameters
    ----------
    config : TrainConfig
        The configuration the network was trained with (after any override).
    data : Dataset or mapping
        The data it was trained on, or its :func:`data_shape`.
    seeds : int or sequence of int
        The seed of the run, or the seeds of a run repeated over seeds.
    preset : str, optional
        The preset the configuration started from, if any.
    n_updates : int, optional
        Mini-batch updates actually made, when not ``epochs * updates_per_epoch``
        (e.g. a fixed update budget).
    paired : bool
        True when the same network was also trained without dropout (keep
        probabilities 1) from the same initial weights on the same batches, as
        :func:`~dropout_figs.lab.compare` does; ``config`` is then the arm with dropout.

    Returns
    -------
    dict
        The keys of :data:`RUN_KEYS`, in that order: ``changed_from_preset``
        names the settings (configuration fields, ``n_train``, ``n_val``, ``noise``)
        that differ from the preset's (empty without a preset); ``n_params`` is computed
        from ``layer_sizes``, ``momentum`` is None unless the optimiser is SGD,
        and the drop rates are ``1 - keep_prob``. Equal inputs give equal dicts.
    """
    shape = data_shape(data)
    sizes = config.layer_sizes(shape["n_inputs"], shape["n_classes"])
    per_epoch = -(-int(shape["n_train"]) // min(config.batch_size, int(shape["n_train"])))
    if isinstance(seeds, (int, np.integer)):
        seeds = [int(seeds)]
    record = {
        "preset": preset,
        "changed_from_preset": _changes(preset, config, shape),
        **{k: shape[k] for k in ("dataset", "n_train", "n_val", "n_test")},
        "noise": _num(shape["noise"]),
        "n_inputs": int(shape["n_inputs"]),
        "hidden_layers": config.hidden_layers,
        "width": config.width,
        "n_classes": int(shape["n_classes"]),
        "layer_sizes": list(sizes),
        "n_params": n_parameters(sizes),
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "updates_per_epoch": per_epoch,
        "n_updates": int(n_updates) if n_updates is not None else per_epoch * config.epochs,
        "optimizer": config.optimizer,
        "lr": config.lr,
        "momentum": config.momentum if config.optimizer == "sgd" else None,
        "keep_prob": config.keep_prob,
        "drop_rate": _num(1 - config.keep_prob),
        "input_keep_prob": config.input_keep_prob,
        "input_drop_rate": _num(1 - config.input_keep_prob),
        "scheme": config.scheme,
        "l2": config.l2,
        "max_norm": config.max_norm,
        "paired": bool(paired),
        "seeds": [int(s) for s in seeds],
        "command": None,
    }
    return {k: record[k] for k in RUN_KEYS}


# TrainConfig fields and their `dropout-figs train` flags.
_FLAGS = {
    "hidden_layers": "--layers",
    "width": "--width",
    "keep_prob": "--keep-prob",
    "input_keep_prob": "--input-keep-prob",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "optimizer": "--optimizer",
    "lr": "--lr",
    "momentum": "--momentum",
    "l2": "--l2",
    "max_norm": "--max-norm",
    "scheme": "--scheme",
}


def train_command(run: Mapping) -> str | None:
    """The ``dropout-figs train`` command that trains the run of a record, or None.

    Only for a run on its preset's data (``changed_from_preset`` names no data
    setting) with one seed, trained the way the command trains: data from
    ``default_rng(seed).spawn(2)[0]``, the network (or the pair, with
    ``--compare``) from ``[1]``. A figure that draws its streams so sets
    ``run["command"]`` to this.
    """
    changed = run["changed_from_preset"]
    if run["preset"] is None or len(run["seeds"]) != 1 or not set(changed) <= set(_FLAGS):
        return None
    parts = ["dropout-figs train", "--preset", run["preset"]]
    if run["paired"]:
        parts.append("--compare")
    for name in changed:
        parts += [
            _FLAGS[name],
            f"{run[name]:g}" if isinstance(run[name], float) else str(run[name]),
        ]
    return " ".join([*parts, "--seed", str(run["seeds"][0])])


def _changes(preset, config, shape) -> list[str]:
    """What a run changed from its preset: configuration fields and data-set settings."""
    if preset is None:
        return []
    spec = PRESETS[preset]
    base, mine = dataclasses.asdict(spec.config), dataclasses.asdict(config)
    changed = [k for k in base if base[k] != mine[k]]
    kw = spec.dataset_kwargs
    n_val = round(kw["n_samples"] * kw.get("val_fraction", 0.5))
    preset_data = {
        "dataset": spec.dataset,
        "n_train": kw["n_samples"] - n_val,
        "n_val": n_val,
        "noise": kw.get("noise"),
    }
    for k, v in preset_data.items():
        if k == "noise" and v is None:
            continue  # the data set's default noise
        if v != shape[k] and not (k == "noise" and abs(v - shape[k]) < 1e-12):
            changed.append(k)
    return changed


def _and(words) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def describe_run(run: Mapping) -> str:
    """One sentence stating a run record: data, network, training, dropout, seed(s).

    The pages print this (through the site's ``run_config`` macro), so the
    sentence and the record cannot disagree.
    """
    source = ""
    if run["preset"]:
        changed = run["changed_from_preset"]
        source = f"{run['preset']} preset" + (
            f" with its {_and(changed)} changed, " if changed else ", "
        )
    noise = "" if not run["noise"] else f" (noise {run['noise']:g})"
    points = f"{run['n_train']:,} training, {run['n_val']:,} validation"
    points += f" and {run['n_test']:,} test points" if run["n_test"] else " points"
    layers = run["hidden_layers"]
    net = (
        f"a {'-'.join(map(str, run['layer_sizes']))} network ({layers} hidden "
        f"layer{'s' if layers != 1 else ''} of {run['width']:,} units, "
        f"{run['n_params']:,} parameters)"
    )
    opt = "Adam" if run["optimizer"] == "adam" else f"SGD with momentum {run['momentum']:g}"
    train = (
        f"{opt}, learning rate {run['lr']:g}, mini-batches of {run['batch_size']:,}, "
        f"{run['epochs']:,} epochs ({run['n_updates']:,} updates)"
    )
    extras = [f"L2 {run['l2']:g}"] if run["l2"] else []
    if run["max_norm"] is not None:
        extras.append(f"max-norm {run['max_norm']:g}")
    if run["keep_prob"] < 1:
        drop = "without dropout and with " if run["paired"] else ""
        drop += (
            f"keep probability {run['keep_prob']:g} (drop rate {run['drop_rate']:g}) "
            f"on hidden units, {run['scheme']} scheme"
        )
    else:
        drop = "no dropout on hidden units"
    if run["input_keep_prob"] < 1:
        drop += (
            f", input keep probability {run['input_keep_prob']:g} "
            f"(drop rate {run['input_drop_rate']:g})"
        )
    seeds = run["seeds"]
    if not seeds:
        seed = "seed not recorded"
    elif len(seeds) == 1:
        seed = f"seed {seeds[0]}"
    else:
        seed = f"{len(seeds)} seeds ({', '.join(map(str, seeds[:3]))}, …)"
    return (
        f"{source}{run['dataset']} data{noise}: {points}; {net}; {train}"
        + "".join(f", {e}" for e in extras)
        + f"; {drop}; {seed}."
    )
