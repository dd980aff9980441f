"""Toy two-dimensional classification data sets for the training lab.

Every data set is binary (``n_classes == 2``), drawn only from the ``rng`` you
pass, split into a training and a validation half, and standardised (each
input coordinate to mean 0 and standard deviation 1 over all points) so the
same learning rate suits all of them. ``noise`` is the standard deviation of
Gaussian jitter added to the points, in the generator's own units, before
standardising.

NumPy only: importing this module never imports matplotlib or scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validate import DropoutFigsError, as_rng, check_count, check_finite

__all__ = ["DATASETS", "DEFAULT_NOISE", "Dataset", "make_dataset"]

#: The data sets :func:`make_dataset` knows, easiest first.
DATASETS = ("blobs", "circles", "xor", "moons", "spiral")

#: ``noise=None`` means this: the standard deviation of the Gaussian jitter.
DEFAULT_NOISE = {"blobs": 0.6, "circles": 0.1, "xor": 0.15, "moons": 0.2, "spiral": 0.1}


@dataclass(frozen=True)
class Dataset:
    """A two-class, two-dimensional data set split into training and validation.

    Attributes
    ----------
    name : str
        One of :data:`DATASETS`.
    x_train : ndarray of shape (n_train, 2), float64
    y_train : ndarray of shape (n_train,), int64
        Class labels 0 or 1.
    x_val : ndarray of shape (n_val, 2), float64
    y_val : ndarray of shape (n_val,), int64
    n_classes : int
        Always 2.
    noise : float
        The jitter actually used (the default if none was asked for).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    noise: float

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def n_val(self) -> int:
        return len(self.y_val)


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


def _normal_pairs(n, rng):
    # Box-Muller from two uniforms per point, not rng.standard_normal (NumPy's
    # table-driven ziggurat): the browser engine (web/src/engine/data.ts) draws
    # the same jitter from its port of rng.random(). 1 - u lies in (0, 1].
    u = rng.random((n, 2))
    r = np.sqrt(-2.0 * np.log1p(-u[:, 0]))
    t = 2.0 * math.pi * u[:, 1]
    return np.c_[r * np.cos(t), r * np.sin(t)]


_GENERATORS = {
    "blobs": _blobs,
    "circles": _circles,
    "xor": _xor,
    "moons": _moons,
    "spiral": _spiral,
}


def make_dataset(
    name: str,
    *,
    n_samples: int = 200,
    noise: float | None = None,
    val_fraction: float = 0.5,
    rng,
) -> Dataset:
    """Draw a toy data set and split it into training and validation points.

    Parameters
    ----------
    name : {"blobs", "circles", "xor", "moons", "spiral"}
        Which data set.
    n_samples : int, default 200
        Total number of points (training plus validation), at least 4. The
        classes get ``n_samples // 2`` and the rest.
    noise : float, optional
        Standard deviation of the Gaussian jitter added to every point, in the
        generator's units (the moons have radius 1); ``None`` uses the data
        set's own default, :data:`DEFAULT_NOISE`.
    val_fraction : float, default 0.5
        Share of the points held out for validation, in (0, 1); both parts get
        at least 2 points.
    rng : numpy.random.Generator
        The only source of randomness (an int seed is also accepted).

    Returns
    -------
    Dataset
        Inputs standardised to mean 0 and unit standard deviation per
        coordinate (over all points), labels int64.

    Examples
    --------
    >>> import numpy as np
    >>> d = make_dataset("moons", n_samples=100, rng=np.random.default_rng(0))
    >>> d.x_train.shape, d.x_val.shape
    ((50, 2), (50, 2))
    """
    if name not in _GENERATORS:
        raise DropoutFigsError(
            f"dataset must be one of {', '.join(map(repr, DATASETS))}; got {name!r}"
        )
    n_samples = check_count(n_samples, "n_samples", low=4, high=1_000_000)
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
    rng = as_rng(rng)

    n0 = n_samples // 2
    x, y = _GENERATORS[name](n0, n_samples - n0, rng)
    x = x + noise * _normal_pairs(n_samples, rng)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    order = rng.permutation(n_samples)
    x = np.ascontiguousarray(x[order], dtype=np.float64)
    y = y[order].astype(np.int64)
    n_train = n_samples - n_val
    for a in (x, y):
        a.flags.writeable = False
    return Dataset(
        name=name,
        x_train=x[:n_train],
        y_train=y[:n_train],
        x_val=x[n_train:],
        y_val=y[n_train:],
        n_classes=2,
        noise=noise,
    )
