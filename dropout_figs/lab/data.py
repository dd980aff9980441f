"""Data sets for the training lab: toy two-dimensional ones and the 8x8 digits.

Every toy data set is binary (``n_classes == 2``), drawn only from the ``rng``
you pass, split into a training and a validation half, and standardised (each
input coordinate to mean 0 and standard deviation 1 over the training and
validation points) so the same learning rate suits all of them. ``noise`` is
the standard deviation of Gaussian jitter added to the points, in the
generator's own units, before standardising. A large held-out test set is
drawn from the same distribution, after the other points, from a stream of its
own, so it never changes them.

``"digits"`` is real data: the 1,797 8x8 handwritten digits that scikit-learn
ships (nothing is downloaded), 10 classes, pixels scaled to [0, 1].

NumPy only at import: scikit-learn is imported when the digits are first asked for.
"""

from __future__ import annotations

import functools
import gzip
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._random import standard_normal
from .._validate import DropoutFigsError, as_rng, check_count, check_finite

__all__ = ["ALL_DATASETS", "DATASETS", "DEFAULT_NOISE", "Dataset", "make_dataset"]

#: The toy two-dimensional data sets, easiest first.
DATASETS = ("blobs", "circles", "xor", "moons", "spiral")
#: Every name :func:`make_dataset` knows: the toy sets and the real digits.
ALL_DATASETS = (*DATASETS, "digits")

#: ``noise=None`` means this: the standard deviation of the Gaussian jitter.
DEFAULT_NOISE = {
    "blobs": 0.6,
    "circles": 0.1,
    "xor": 0.15,
    "moons": 0.2,
    "spiral": 0.1,
    "digits": 0.0,
}

#: ``n_test=None`` means this many held-out test points (digits: all the images
#: not used for training or validation).
DEFAULT_N_TEST = 2000


def _empty(*shape, dtype=np.float64):
    return np.empty(shape, dtype=dtype)


@dataclass(frozen=True)
class Dataset:
    """A classification data set split into training, validation and test points.

    Attributes
    ----------
    name : str
        One of :data:`ALL_DATASETS`.
    x_train : ndarray of shape (n_train, n_inputs), float64
    y_train : ndarray of shape (n_train,), int64
        Class labels 0 .. n_classes - 1.
    x_val : ndarray of shape (n_val, n_inputs), float64
    y_val : ndarray of shape (n_val,), int64
    n_classes : int
        2 for the toy sets, 10 for the digits.
    noise : float
        The jitter actually used (the default if none was asked for).
    x_test : ndarray of shape (n_test, n_inputs), float64
    y_test : ndarray of shape (n_test,), int64
        Held-out points from the same distribution, for claims that need many
        points; nothing in training looks at them.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    noise: float
    x_test: np.ndarray = field(default_factory=lambda: _empty(0, 2))
    y_test: np.ndarray = field(default_factory=lambda: _empty(0, dtype=np.int64))

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def n_val(self) -> int:
        return len(self.y_val)

    @property
    def n_test(self) -> int:
        return len(self.y_test)


# --------------------------------------------------------------------------- generators
# Each returns points x of shape (n, 2) and labels y of shape (n,), class by class,
# before jitter; n0 points of class 0 and n1 of class 1.
def _blobs(n0, n1, rng):
    centres = np.array([[-1.0, -1.0], [1.0, 1.0]])
    y = np.repeat([0, 1], [n0, n1])
    return centres[y].copy(), y


def _circles(n0, n1, rng):
    # Outer circle (class 0) of radius 1, inner (class 1) of radius 0.5, as in
    # scikit-learn's make_circles(factor=0.5).
    t0 = rng.uniform(0.0, 2.0 * math.pi, n0)
    t1 = rng.uniform(0.0, 2.0 * math.pi, n1)
    x = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], 0.5 * np.c_[np.cos(t1), np.sin(t1)]], axis=0)
    return x, np.repeat([0, 1], [n0, n1])


def _xor(n0, n1, rng):
    # Class 1 in the quadrants where x0 * x1 > 0. A small margin around the axes
    # keeps the noiseless problem separable.
    def quadrants(n, same_sign):
        mag = rng.uniform(0.1, 1.0, (n, 2))
        s0 = rng.choice([-1.0, 1.0], n)
        s1 = s0 if same_sign else -s0
        return mag * np.c_[s0, s1]

    x = np.concatenate([quadrants(n0, False), quadrants(n1, True)], axis=0)
    return x, np.repeat([0, 1], [n0, n1])


def _moons(n0, n1, rng):
    # scikit-learn's make_moons: two interleaving half circles.
    t0 = rng.uniform(0.0, math.pi, n0)
    t1 = rng.uniform(0.0, math.pi, n1)
    outer = np.c_[np.cos(t0), np.sin(t0)]
    inner = np.c_[1.0 - np.cos(t1), 0.5 - np.sin(t1)]
    return np.concatenate([outer, inner], axis=0), np.repeat([0, 1], [n0, n1])


def _spiral(n0, n1, rng):
    # Two interleaved arms, each turning 1.5 times around the centre.
    def arm(n, phase):
        t = np.sqrt(rng.uniform(0.0, 1.0, n)) * 0.95 + 0.05
        angle = 3.0 * math.pi * t + phase
        return t[:, None] * np.c_[np.cos(angle), np.sin(angle)]

    x = np.concatenate([arm(n0, 0.0), arm(n1, math.pi)], axis=0)
    return x, np.repeat([0, 1], [n0, n1])


_GENERATORS = {
    "blobs": _blobs,
    "circles": _circles,
    "xor": _xor,
    "moons": _moons,
    "spiral": _spiral,
}


def _toy_points(name, n, noise, rng):
    """``n`` points of toy set ``name`` with jitter, in class order."""
    n0 = n // 2
    x, y = _GENERATORS[name](n0, n - n0, rng)
    return x + noise * standard_normal(rng, (n, 2)), y


@functools.cache
def _digits():
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise DropoutFigsError(
            "dataset 'digits' needs scikit-learn (pip install scikit-learn), which ships them"
        )
    # The very file load_digits reads, read the same way (np.loadtxt), but without
    # importing scikit-learn: that import costs ~1.6 s of CPU in every cold figure build.
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    try:
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",")
    except OSError:  # an unusual layout: let scikit-learn find its own file
        from sklearn.datasets import load_digits

        x, y = load_digits(return_X_y=True)
    else:
        x, y = table[:, :-1], table[:, -1]
    x = np.ascontiguousarray(x / 16.0, dtype=np.float64)  # pixels 0..16 -> [0, 1]
    return x, y.astype(np.int64)


def _frozen(*arrays):
    for a in arrays:
        a.flags.writeable = False
    return arrays


def make_dataset(
    name: str,
    *,
    n_samples: int | None = None,
    noise: float | None = None,
    val_fraction: float = 0.5,
    n_test: int | None = None,
    rng,
) -> Dataset:
    """Draw a data set and split it into training, validation and test points.

    Parameters
    ----------
    name : {"blobs", "circles", "xor", "moons", "spiral", "digits"}
        Which data set (:data:`ALL_DATASETS`).
    n_samples : int, optional
        Training plus validation points, at least 4 (default 200; digits 600 of
        its 1,797 images). The toy classes get ``n_samples // 2`` and the rest.
    noise : float, optional
        Standard deviation of the Gaussian jitter added to every point, in the
        generator's units (the moons have radius 1; the digits' pixels [0, 1]);
        ``None`` uses the data set's own default, :data:`DEFAULT_NOISE`.
    val_fraction : float, default 0.5
        Share of ``n_samples`` held out for validation, in (0, 1); both parts
        get at least 2 points.
    n_test : int, optional
        Held-out test points, drawn after the others from a stream of their own
        (so the training and validation points do not depend on it); default
        :data:`DEFAULT_N_TEST`, for the digits all the remaining images.
    rng : numpy.random.Generator
        The only source of randomness (an int seed is also accepted).

    Returns
    -------
    Dataset
        Toy inputs standardised to mean 0 and unit standard deviation per
        coordinate (over the training and validation points; the test points
        get the same transform), labels int64.

    Examples
    --------
    >>> import numpy as np
    >>> d = make_dataset("moons", n_samples=100, rng=np.random.default_rng(0))
    >>> d.x_train.shape, d.x_val.shape, d.x_test.shape
    ((50, 2), (50, 2), (2000, 2))
    """
    if name not in ALL_DATASETS:
        raise DropoutFigsError(
            f"dataset must be one of {', '.join(map(repr, ALL_DATASETS))}; got {name!r}"
        )
    digits = name == "digits"
    n_max = len(_digits()[1]) - 1 if digits else 1_000_000
    if n_samples is None:
        n_samples = 600 if digits else 200
    n_samples = check_count(n_samples, "n_samples", low=4, high=n_max)
    if noise is None:
        noise = DEFAULT_NOISE[name]
    noise = check_finite(noise, "noise", low=0.0, high=10.0)
    val_fraction = check_finite(
        val_fraction, "val_fraction", low=0.0, high=1.0, low_open=True, high_open=True
    )
    n_val = round(n_samples * val_fraction)
    if not (2 <= n_val <= n_samples - 2):
        raise DropoutFigsError(
            f"val_fraction must leave at least 2 training and 2 validation points; got "
            f"val_fraction={val_fraction:g} with n_samples={n_samples} ({n_val} for validation)"
        )
    n_left = n_max + 1 - n_samples
    if n_test is None:
        n_test = n_left if digits else DEFAULT_N_TEST
    n_test = check_count(n_test, "n_test", low=0, high=n_left if digits else 1_000_000)
    rng = as_rng(rng)
    n_train = n_samples - n_val

    if digits:
        images, labels = _digits()
        order = rng.permutation(len(labels))
        x = images[order[: n_samples + n_test]]
        x = x + noise * rng.standard_normal(x.shape) if noise else x.copy()
        y = labels[order[: n_samples + n_test]]
        x, x_test, y, y_test = x[:n_samples], x[n_samples:], y[:n_samples], y[n_samples:]
        n_classes = 10
    else:
        x, y = _toy_points(name, n_samples, noise, rng)
        mean, std = x.mean(axis=0), x.std(axis=0)
        x = (x - mean) / std
        order = rng.permutation(n_samples)
        x, y = x[order], y[order]
        # The test points: a stream of their own, spawned after every draw above.
        (test_rng,) = rng.spawn(1)
        x_test, y_test = _toy_points(name, n_test, noise, test_rng)
        shuffle = test_rng.permutation(n_test)
        x_test, y_test = (x_test[shuffle] - mean) / std, y_test[shuffle]
        n_classes = 2
    x, y, x_test, y_test = _frozen(
        np.ascontiguousarray(x, dtype=np.float64),
        y.astype(np.int64),
        np.ascontiguousarray(x_test, dtype=np.float64).reshape(n_test, x.shape[1]),
        y_test.astype(np.int64),
    )
    return Dataset(
        name=name,
        x_train=x[:n_train],
        y_train=y[:n_train],
        x_val=x[n_train:],
        y_val=y[n_train:],
        n_classes=n_classes,
        noise=noise,
        x_test=x_test,
        y_test=y_test,
    )
