"""Validation of user input at the package's public entry points.

Every check names the parameter, the constraint and the value received, so that
the command line can print the message as one line. Range checks are written
positively (``if not 0 < x <= 1``) so that NaN fails them too.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = [
    "DropoutFigsError",
    "as_rng",
    "check_count",
    "check_finite",
    "check_probability",
    "drop_name",
    "resolve_keep_prob",
]


class DropoutFigsError(ValueError):
    """Bad input from a user: a wrong value, an unknown figure or parameter.

    The command line prints the message as one line and exits with status 2.
    """


def _fmt(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _as_float(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise DropoutFigsError(f"{name} must be a number; got {value!r}")
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise DropoutFigsError(f"{name} must be a number; got {value!r}") from None
    if isinstance(value, numbers.Real):
        return float(value)
    raise DropoutFigsError(f"{name} must be a number; got {_fmt(value)}")


def check_finite(value: Any, name: str, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite float, optionally inside ``[low, high]``.

    ``low_open``/``high_open`` make the bound strict.
    """
    x = _as_float(value, name)
    ok = math.isfinite(x)
    if ok and low is not None:
        ok = x > low if low_open else x >= low
    if ok and high is not None:
        ok = x < high if high_open else x <= high
    if not ok:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        lb = "(" if low_open or low is None else "["
        rb = ")" if high_open or high is None else "]"
        raise DropoutFigsError(f"{name} must be a finite number in {lb}{lo}, {hi}{rb}; got {x:g}")
    return x


def check_probability(value: Any, name: str = "keep_prob") -> float:
    """Return a keep probability in (0, 1]; 1 means no dropout."""
    x = _as_float(value, name)
    if not 0.0 < x <= 1.0:
        raise DropoutFigsError(
            f"{name} must be in (0, 1] (the probability a unit is kept; 1 means no dropout); "
            f"got {x:g}"
        )
    return x


def check_count(value: Any, name: str = "n_units", *, low: int = 1, high: int | None = None) -> int:
    """Return ``value`` as an int in ``[low, high]``.

    Accepts ints, integral floats (``64.0``) and strings of digits; rejects
    ``2.5``, ``"abc"``, booleans, NaN and infinities.
    """
    if isinstance(value, bool):
        raise DropoutFigsError(f"{name} must be a whole number; got {value!r}")
    n: int | None = None
    if isinstance(value, numbers.Integral):
        n = int(value)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            n = int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                raise DropoutFigsError(f"{name} must be a whole number; got {value!r}") from None
            if math.isfinite(f) and f.is_integer():
                n = int(f)
    elif isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        n = int(value)
    if n is None:
        raise DropoutFigsError(f"{name} must be a whole number; got {_fmt(value)}")
    if n < low or (high is not None and n > high):
        bound = f"at least {low}" if high is None else f"from {low} to {high:,}"
        raise DropoutFigsError(f"{name} must be a whole number {bound}; got {n}")
    return n


def drop_name(prob_name: str) -> str:
    """The drop-rate spelling of a keep-probability name (``input_keep_prob`` ->
    ``input_drop_rate``): the one naming rule, used by the catalogue and the CLI."""
    return prob_name.replace("keep_prob", "drop_rate")


def resolve_keep_prob(
    keep_prob: Any = None,
    drop_rate: Any = None,
    *,
    default: float | None = None,
    name: str = "keep_prob",
):
    """Return the keep probability from exactly one of ``keep_prob`` or ``drop_rate``.

    ``keep_prob`` is the probability a unit is kept (the paper's p), in (0, 1];
    ``drop_rate`` is the probability it is zeroed (PyTorch's ``p``, Keras'
    ``rate``), in [0, 1). With neither, ``default`` is used if given. ``name``
    is the keep probability's name in messages (``input_keep_prob``); the drop
    rate's is :func:`drop_name` of it.
    """
    drop = drop_name(name)
    if keep_prob is not None and drop_rate is not None:
        raise DropoutFigsError(
            f"give {name} or {drop}, not both (got {name}={_fmt(keep_prob)}, "
            f"{drop}={_fmt(drop_rate)})"
        )
    if drop_rate is not None:
        r = _as_float(drop_rate, drop)
        if not 0.0 <= r < 1.0:
            raise DropoutFigsError(
                f"{drop} must be in [0, 1) (the probability a unit is dropped; 0 means no "
                f"dropout); got {r:g}"
            )
        return 1.0 - r
    if keep_prob is None:
        if default is None:
            raise DropoutFigsError(f"give {name} (or {drop} = 1 - {name})")
        keep_prob = default
    return check_probability(keep_prob, name)


def as_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    """The one way this package turns a seed into a random Generator.

    A Generator is returned as it is (its stream goes on where it was); an int
    seed (at least 0) or a ``numpy.random.SeedSequence`` becomes
    ``np.random.default_rng(rng)``. ``None`` is refused: every result of this
    package must be reproducible from its inputs, so there is no "fresh
    entropy" default.

    Parameters
    ----------
    rng : numpy.random.Generator, int or numpy.random.SeedSequence
    name : str, default "rng"
        The parameter's name, for the error message.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    DropoutFigsError
        For anything else, naming ``name`` and the value received.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise DropoutFigsError(
        f"{name} must be a numpy.random.Generator (e.g. np.random.default_rng(0)), an int seed "
        f">= 0 or a numpy.random.SeedSequence; got {rng!r}"
    )
