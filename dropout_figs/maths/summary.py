"""One layer in numbers: kept and dropped units, the scale factor, the output ratio."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import as_rng, check_count, check_finite, resolve_keep_prob
from .counts import format_subnetworks, log10_subnetworks
from .masks import _check_rng, drop_rate_of, sample_keep_mask

__all__ = [
    "MATERIALISE_MAX",
    "SUM_EXACT_MAX",
    "LayerSummary",
    "layer_summary",
    "sample_activations",
]

#: Largest layer that :func:`layer_summary` draws unit by unit (2**24 units);
#: above it the kept count and the sums are drawn from their exact distributions.
MATERIALISE_MAX = 2**24

#: Above this many kept (or dropped) units, :func:`layer_summary` draws their
#: activation sum from a normal with the exact mean and variance.
SUM_EXACT_MAX = 1000


# --------------------------------------------------------------------------- one layer
def sample_activations(n_units: int, mean_activation: float = 1.0, *, rng) -> np.ndarray:
    """Positive example activations: ``mean_activation * (u + u')`` for two uniforms.

    A stand-in for the post-ReLU activations of a layer that are not zero:
    triangular on ``(0, 2 mean_activation)``, mean ``mean_activation``, standard
    deviation ``mean_activation / sqrt(6)``. Unit i uses the draws ``2i`` and
    ``2i + 1`` of ``rng.random``. Only ``+`` and ``*`` touch them, so the browser
    engine (web/src/engine/summary.ts) reproduces the values bit for bit from its
    port of NumPy's generator.
    """
    n = check_count(n_units, "n_units", low=0)
    mean = check_finite(mean_activation, "mean_activation", low=0, low_open=True)
    u = _check_rng(rng).random((n, 2))
    return mean * (u[:, 0] + u[:, 1])


def _activation_sum(k: int, mean: float, rng: np.random.Generator) -> float:
    """The sum of k activations of :func:`sample_activations`, without forming k values.

    Up to :data:`SUM_EXACT_MAX` units the 2k uniforms are drawn; above, the sum
    (of 2k uniforms) is normal with the exact mean ``k`` and variance ``k / 6``
    to within the central limit theorem's error, which at 2000 terms and more is
    far below what a ratio printed to four decimals shows.
    """
    if k <= SUM_EXACT_MAX:
        return mean * float(rng.random(2 * k).sum())
    return mean * (k + math.sqrt(k / 6.0) * float(rng.standard_normal()))


@dataclass(frozen=True)
class LayerSummary:
    """One layer under one dropout mask: counts, scale and the output sum ratio.

    Build it with :func:`layer_summary`. ``to_dict()`` gives the JSON form the
    command line prints and pages use.
    """

    n_units: int
    keep_prob: float
    drop_rate: float
    seed: int
    mean_activation: float
    kept: int
    dropped: int
    scale_factor: float
    expected_active: float
    log10_subnetworks: float
    output_scale_ratio: float

    @property
    def subnetworks(self) -> str:
        """``2**n_units`` formatted by :func:`format_subnetworks`."""
        return format_subnetworks(self.n_units)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able numbers (ints and floats)."""
        return {
            "n_units": self.n_units,
            "keep_prob": self.keep_prob,
            "drop_rate": self.drop_rate,
            "seed": self.seed,
            "mean_activation": self.mean_activation,
            "kept": self.kept,
            "dropped": self.dropped,
            "scale_factor": self.scale_factor,
            "expected_active": self.expected_active,
            "log10_subnetworks": self.log10_subnetworks,
            "output_scale_ratio": self.output_scale_ratio,
        }


def layer_summary(
    n_units: int,
    keep_prob: float | None = None,
    *,
    drop_rate: float | None = None,
    seed: int = 0,
    mean_activation: float = 1.0,
) -> LayerSummary:
    """Draw one dropout mask for a layer and summarise it.

    Parameters
    ----------
    n_units : int >= 1
        Units in the layer; any size (10**12 works).
    keep_prob : float in (0, 1], optional
    drop_rate : float in [0, 1), optional
        Give exactly one of the two.
    seed : int >= 0, default 0
        Seed of ``np.random.default_rng``.
    mean_activation : float > 0, default 1
        Mean of the example activations.

    Returns
    -------
    LayerSummary
        ``kept`` and ``dropped`` units of this mask, ``scale_factor = 1 / q``,
        ``expected_active = n q``, ``log10_subnetworks = n log10 2`` and
        ``output_scale_ratio``: the layer's output sum with inverted dropout
        divided by its sum without dropout, ``sum(m_i a_i / q) / sum(a_i)``,
        whose expectation is about 1.

    Notes
    -----
    With ``rng = np.random.default_rng(seed)``, the first draw is the mask
    ``sample_keep_mask((n_units,), keep_prob, rng=rng)``, the same first draw
    the figures make (frame 0 of ``mask-grid``, the observed count of
    ``kept-count-pmf``). Then the activations of :func:`sample_activations` are
    drawn (positive, mean ``mean_activation``, two uniforms per unit), and the
    sums are NumPy's (pairwise) sums, which the browser engine reproduces exactly.

    Up to :data:`MATERIALISE_MAX` (2**24) units every value is drawn. Above,
    nothing of size n is formed: the kept count is drawn as
    ``K ~ Binomial(n, q)`` and the sums of the kept and the dropped
    activations by :func:`_activation_sum` (exact up to 1000 units, normal
    with the exact mean and variance above). The numbers then differ from the
    unit-by-unit draw for the same seed.
    """
    # The kept count is drawn by numpy's Binomial, which takes an int64 n.
    n = check_count(n_units, "n_units", low=1, high=2**63 - 1)
    q = resolve_keep_prob(keep_prob, drop_rate)
    seed = check_count(seed, "seed", low=0, high=2**63 - 1)
    mean = check_finite(mean_activation, "mean_activation", low=0, low_open=True)
    rng = as_rng(seed, "seed")
    if n <= MATERIALISE_MAX:
        mask = sample_keep_mask((n,), q, rng=rng)
        a = sample_activations(n, mean, rng=rng)
        kept = int(np.count_nonzero(mask))
        kept_sum = float(a[mask].sum())
        total = float(a.sum())
    else:
        kept = int(rng.binomial(n, q))
        kept_sum = _activation_sum(kept, mean, rng)
        dropped_sum = _activation_sum(n - kept, mean, rng)
        total = kept_sum + dropped_sum
    return LayerSummary(
        n_units=n,
        keep_prob=q,
        drop_rate=drop_rate_of(q),
        seed=seed,
        mean_activation=mean,
        kept=kept,
        dropped=n - kept,
        scale_factor=1.0 / q,
        expected_active=n * q,
        log10_subnetworks=log10_subnetworks(n),
        output_scale_ratio=(kept_sum / q) / total,
    )
