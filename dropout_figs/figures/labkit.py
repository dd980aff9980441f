"""What the training-lab figures share: runs, grids over the plane, parameters, text.

The figure modules (:mod:`.training`, :mod:`.inference`, :mod:`.sweeps`,
:mod:`.mechanisms`) compute with these helpers and draw with
:mod:`.plotting`; nothing here draws.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._validate import DropoutFigsError
from ..lab import PRESETS, compare, mlp
from ..lab.data import make_dataset
from ..lab.engine import _one_blas_thread
from ..lab.record import run_record, seed_of, train_command
from ..lab.sweeps import draw_splits
from ..style import COLORS
from .catalogue import Param

PRESET_NAMES = tuple(PRESETS)
WITHOUT, WITH = COLORS["without"], COLORS["with"]


# =========================================================================== experiments
def preset_run(preset, *, rng, n_samples=None, width=None, n_epochs=None, keep_prob=None):
    """The preset's data set and training configuration, with the figure's overrides."""
    spec = PRESETS[preset]
    kwargs = dict(spec.dataset_kwargs)
    if n_samples is not None:
        kwargs["n_samples"] = n_samples
    data = make_dataset(spec.dataset, rng=rng, **kwargs)
    changes = {
        k: v
        for k, v in (("width", width), ("epochs", n_epochs), ("keep_prob", keep_prob))
        if v is not None
    }
    return data, dataclasses.replace(spec.config, **changes)


def paired_runs(preset, *, rng, snapshot_epochs=(), **overrides):
    """A figure's with/without experiment: the preset's data, and the same net trained
    without and with dropout by :func:`dropout_figs.lab.compare`.

    ``rng`` is split into a data stream and a training stream; ``overrides``
    are those of :func:`preset_run`.

    Returns
    -------
    (Dataset, TrainConfig, dict)
        The data, the configuration with dropout, and ``compare``'s two results.
    """
    need_dropout(overrides["keep_prob"], "it compares training with and without dropout")
    r_data, r_train = rng.spawn(2)
    data, config = preset_run(preset, rng=r_data, **overrides)
    return data, config, compare(config, data, rng=r_train, snapshot_epochs=snapshot_epochs)


def run_header(preset, keep_prob):
    """The first entries of a lab figure's data: which preset, which keep probability."""
    return {"preset": preset, "keep_prob": keep_prob, "drop_rate": rounded(1 - keep_prob)}


def figure_run(config, data, *, rng, preset=None, paired=False, **kwargs):
    """A lab figure's ``data["run"]``: :func:`~dropout_figs.lab.record.run_record` of the
    configuration and data it trained, with the figure's seed (read from ``rng``).

    Every figure that trains puts this in its data, so a page prints the run's
    configuration from the figure itself (the ``run_config`` macro), never from a
    preset the figure overrode. ``kwargs`` go to ``run_record`` (``n_updates``);
    a figure repeated over seeds calls ``run_record`` with its ``seeds`` directly.
    The figure must draw its data from ``rng.spawn(k)[0]`` and train from ``[1]``:
    then ``run["command"]`` is the ``dropout-figs train`` command that repeats the run.
    """
    run = run_record(config, data, seeds=seed_of(rng), preset=preset, paired=paired, **kwargs)
    # Data from rng.spawn(k)[0] and training from [1], as `dropout-figs train` does.
    run["command"] = train_command(run)
    return run


@dataclass(frozen=True)
class Grid:
    """A regular grid over the plane around a data set."""

    extent: tuple[float, float, float, float]
    shape: tuple[int, int]  # (ny, nx)
    points: np.ndarray  # (ny * nx, 2)


def grid_for(data, *, nx=120, ny=80, margin=0.6):
    """A grid covering every point of ``data`` plus a ``margin`` (in data units)."""
    pts = np.concatenate([data.x_train, data.x_val])
    lo, hi = pts.min(0) - margin, pts.max(0) + margin
    gx = np.linspace(lo[0], hi[0], nx)
    gy = np.linspace(lo[1], hi[1], ny)
    xx, yy = np.meshgrid(gx, gy)
    return Grid((lo[0], hi[0], lo[1], hi[1]), (ny, nx), np.c_[xx.ravel(), yy.ravel()])


def eval_grid(predict, points, n_out, *, chunk=2048):
    """``predict(points)`` evaluated chunk by chunk into one preallocated buffer.

    Small chunks keep the hidden activations in cache and avoid allocating (and
    page-faulting) a large temporary per layer for the whole grid.
    """
    out = np.empty((len(points), n_out))
    # One BLAS thread: on these small matrices OpenBLAS's extra threads only spin.
    with _one_blas_thread():
        for start in range(0, len(points), chunk):
            out[start : start + chunk] = predict(points[start : start + chunk])
    return out


def proba_grid(params, grid):
    """Eval-mode class probabilities of ``params`` over ``grid``: shape (ny, nx, n_classes)."""
    flat = eval_grid(lambda x: mlp.predict_proba(params, x), grid.points, 2)
    return flat.reshape(*grid.shape, 2)


def rounded(x, nd=4):
    """``x`` as a float rounded to ``nd`` decimals (the figures' data are rounded)."""
    return float(round(float(x), nd))


def final_metrics(result):
    # Wall-clock seconds are left out: a figure's numbers are a pure function of its inputs.
    """A run's final scalar metrics, rounded (wall-clock time left out)."""
    return {k: rounded(v) for k, v in result.metrics().items() if np.isscalar(v) and k != "seconds"}


def need_dropout(keep_prob, what):
    """These figures compare a net with dropout to one without: keep_prob = 1 is no figure."""
    if not keep_prob < 1.0:
        raise DropoutFigsError(
            f"keep_prob must be below 1 for this figure ({what}); got {keep_prob:g} "
            "(drop rate 0). Try keep_prob=0.5."
        )


def drop_text(keep_prob):
    """``keep probability 0.5 (drop rate 0.5)``: both names, for titles and alt text."""
    return f"keep probability {keep_prob:g} (drop rate {1 - keep_prob:g})"


# --------------------------------------------------------------------------- shared params
def preset_param(default):
    """The ``preset`` parameter of a lab figure, one of the lab's presets."""
    return Param("preset", "choice", default, "training-lab preset", choices=PRESET_NAMES)


def keep_param(default=0.5):
    """The ``keep_prob`` parameter (hidden units) of a lab figure."""
    return Param("keep_prob", "prob", default, "probability a hidden unit is kept")


def epochs_param(default):
    """The ``n_epochs`` parameter of a lab figure."""
    return Param("n_epochs", "int", default, "training epochs", low=1, high=5000)


def width_param(default):
    """The ``width`` parameter (units per hidden layer) of a lab figure."""
    return Param("width", "int", default, "units per hidden layer", low=2, high=1024)


LABELS = {"without_dropout": "without dropout", "with_dropout": "with dropout"}
RUN_COLORS = {"without_dropout": WITHOUT, "with_dropout": WITH}


def seed_ints(rng, n):
    """``n`` independent integer seeds drawn from ``rng`` (``train_many`` takes ints)."""
    return [int(s) for s in rng.integers(0, 2**62, size=n)]


N_SEEDS = 5


def preset_train_size(preset):
    """How many training points the preset's data set has."""
    kwargs = PRESETS[preset].dataset_kwargs
    n_total = kwargs.get("n_samples", 200)
    return n_total - round(n_total * kwargs.get("val_fraction", 0.5))


def preset_splits(preset, *, rng, n_test, n_replicates=N_SEEDS):
    """Independent draws of the preset's training set, each with its own test set."""
    spec = PRESETS[preset]
    return draw_splits(
        spec.dataset,
        n_train=preset_train_size(preset),
        n_test=n_test,
        n_replicates=n_replicates,
        noise=spec.dataset_kwargs.get("noise"),
        rng=rng,
    )
