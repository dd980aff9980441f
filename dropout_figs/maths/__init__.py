"""The maths of dropout: masks, inverted and classic dropout, kept counts, sub-networks.

:mod:`.masks` draws masks and applies the two schemes, :mod:`.counts` holds the
kept-count distribution and the sub-network count, :mod:`.summary` one layer in numbers.

Conventions (see the package docstring): ``keep_prob`` (q) is the probability
that a unit is *kept*; ``drop_rate = 1 - keep_prob``. Every function that takes
a keep probability also accepts ``drop_rate=`` instead (exactly one of the two).

This module needs only numpy (and the standard library); ``scipy.stats`` is
imported inside the functions that use it, and matplotlib never, so that the
command line can print numbers quickly.

Randomness comes only from an ``rng: numpy.random.Generator`` passed
keyword-only, or, in :func:`layer_summary`, from ``np.random.default_rng(seed)``.
"""

from __future__ import annotations

from .counts import (
    KeptCountDistribution,
    format_subnetworks,
    kept_count_band,
    kept_count_distribution,
    log10_binomial,
    log10_subnetworks,
)
from .masks import DropoutOutput, classic_dropout, drop_rate_of, inverted_dropout, sample_keep_mask
from .summary import MATERIALISE_MAX, SUM_EXACT_MAX, LayerSummary, layer_summary, sample_activations

__all__ = [
    "MATERIALISE_MAX",
    "SUM_EXACT_MAX",
    "DropoutOutput",
    "KeptCountDistribution",
    "LayerSummary",
    "classic_dropout",
    "drop_rate_of",
    "format_subnetworks",
    "inverted_dropout",
    "kept_count_band",
    "kept_count_distribution",
    "layer_summary",
    "log10_binomial",
    "log10_subnetworks",
    "sample_activations",
    "sample_keep_mask",
]
