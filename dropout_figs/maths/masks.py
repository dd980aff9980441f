"""Dropout masks and the two schemes: inverted (the default) and classic dropout."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._validate import DropoutFigsError, check_count, resolve_keep_prob

__all__ = [
    "DropoutOutput",
    "classic_dropout",
    "drop_rate_of",
    "inverted_dropout",
    "sample_keep_mask",
]


# --------------------------------------------------------------------------- helpers
def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise DropoutFigsError(
            "rng must be a numpy.random.Generator (e.g. np.random.default_rng(0)); "
            f"got {type(rng).__name__}"
        )
    return rng


def _check_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (tuple, list)):
        return tuple(check_count(s, "shape", low=0) for s in shape)
    return (check_count(shape, "shape", low=0),)


def drop_rate_of(keep_prob: float) -> float:
    """``1 - keep_prob`` without binary noise (``0.3``, not ``0.30000000000000004``).

    Rounded to 15 decimals, which is below the resolution of a float keep
    probability in (0, 1] that anyone types, and makes JSON and captions clean.
    """
    return round(1.0 - float(keep_prob), 15)


# --------------------------------------------------------------------------- masks
def sample_keep_mask(
    shape: int | tuple[int, ...],
    keep_prob: float | None = None,
    *,
    drop_rate: float | None = None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw a dropout mask: True where a unit is kept.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of the mask, e.g. ``(n_units,)`` or ``(batch, n_units)``.
    keep_prob : float in (0, 1], optional
        Probability that each unit is kept (the paper's p).
    drop_rate : float in [0, 1), optional
        ``1 - keep_prob``; give exactly one of the two.
    rng : numpy.random.Generator
        The random source (keyword-only, required).

    Returns
    -------
    mask : ndarray of bool, shape ``shape``
        Independent Bernoulli(keep_prob) draws.

    Notes
    -----
    The mask is ``rng.random(shape) < keep_prob``: one uniform double per unit,
    in C order. Every figure and :func:`layer_summary` use this same first draw,
    so the mask of a mask-grid frame 0 and the kept count of a layer summary
    with the same ``n_units``, ``keep_prob`` and seed agree. With
    ``keep_prob = 1`` every unit is kept (``random()`` is below 1).
    """
    q = resolve_keep_prob(keep_prob, drop_rate)
    rng = _check_rng(rng)
    return np.asarray(rng.random(_check_shape(shape)) < q)


class DropoutOutput(NamedTuple):
    """The result of :func:`inverted_dropout` and :func:`classic_dropout`.

    Attributes
    ----------
    output : ndarray of float
        The layer's output, same shape as the input.
    mask : ndarray of bool or None
        The keep mask used in training (True = kept), so a gradient check or a
        figure can reuse it; ``None`` in evaluation, where no mask is drawn.
    """

    output: np.ndarray
    mask: np.ndarray | None


def _prepare(a, keep_prob, drop_rate, training, rng, mask):
    q = resolve_keep_prob(keep_prob, drop_rate)
    if not isinstance(training, (bool, np.bool_)):
        raise DropoutFigsError(f"training must be True or False; got {training!r}")
    a = np.asarray(a)
    if not (np.issubdtype(a.dtype, np.number) and not np.iscomplexobj(a)):
        raise DropoutFigsError(f"a must be an array of real numbers; got dtype {a.dtype}")
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)
    if not training:
        if mask is not None:
            raise DropoutFigsError("mask is only used in training (training=True); got a mask")
        return a, q, None
    if mask is not None:
        if rng is not None:
            raise DropoutFigsError("give rng (to draw a mask) or mask (to reuse one), not both")
        mask = np.asarray(mask)
        if mask.dtype != np.bool_:
            if not (np.issubdtype(mask.dtype, np.number) and np.isin(mask, (0, 1)).all()):
                raise DropoutFigsError("mask must hold booleans (or 0/1); got other values")
            mask = mask.astype(bool)
        try:
            full = np.broadcast_shapes(mask.shape, a.shape)
        except ValueError:
            full = None
        if full != a.shape:
            raise DropoutFigsError(
                f"mask of shape {mask.shape} does not broadcast to the input's shape {a.shape}"
            )
        return a, q, mask
    if rng is None:
        raise DropoutFigsError("training=True needs rng (to draw a mask) or mask (to reuse one)")
    return a, q, sample_keep_mask(a.shape, q, rng=rng)


def inverted_dropout(
    a,
    keep_prob: float | None = None,
    *,
    drop_rate: float | None = None,
    training: bool,
    rng: np.random.Generator | None = None,
    mask=None,
) -> DropoutOutput:
    """Inverted dropout (the default): scale kept units by ``1 / keep_prob`` in training.

    Parameters
    ----------
    a : array_like of float
        Activations of a layer, any shape.
    keep_prob : float in (0, 1], optional
        Probability a unit is kept; or give ``drop_rate = 1 - keep_prob``.
    drop_rate : float in [0, 1), optional
    training : bool
        Keyword-only and required: training applies a mask; evaluation does not.
    rng : numpy.random.Generator, optional
        Draws the mask in training when no ``mask`` is given.
    mask : array_like of bool, optional
        A keep mask to reuse exactly (e.g. for a gradient check); it must
        broadcast to ``a.shape``. Give ``rng`` or ``mask`` in training, not both.

    Returns
    -------
    DropoutOutput
        ``(output, mask)``; ``mask`` is None in evaluation.

    Notes
    -----
    Training: ``y = m * a / q`` with ``m ~ Bernoulli(q)``, so ``E[y] = a``.
    Evaluation: ``y = a`` (a copy; the network is used as trained, nothing to
    rescale). Compare :func:`classic_dropout`.
    """
    a, q, mask = _prepare(a, keep_prob, drop_rate, training, rng, mask)
    if mask is None:
        return DropoutOutput(a.copy(), None)
    out = a * mask
    out /= q
    return DropoutOutput(out, mask)


def classic_dropout(
    a,
    keep_prob: float | None = None,
    *,
    drop_rate: float | None = None,
    training: bool,
    rng: np.random.Generator | None = None,
    mask=None,
) -> DropoutOutput:
    """Classic dropout (Srivastava et al. 2014): mask in training, scale by q at test time.

    Same parameters and result as :func:`inverted_dropout`.

    Notes
    -----
    Training: ``y = m * a`` with ``m ~ Bernoulli(q)``, so ``E[y] = q a``.
    Evaluation: ``y = q a`` (the paper scales the outgoing weights by p), which
    equals the training expectation. Inverted dropout moves the factor into
    training so the evaluated network is unchanged.
    """
    a, q, mask = _prepare(a, keep_prob, drop_rate, training, rng, mask)
    if mask is None:
        return DropoutOutput(a * q, None)
    return DropoutOutput(a * mask, mask)
