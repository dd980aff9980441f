"""Evidence behind the pages: mask counting, paired comparisons over seeds, calibration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from dropout_figs import theory
from dropout_figs._validate import DropoutFigsError


# --------------------------------------------------------------------------- counting masks
@pytest.mark.parametrize("n_units", [4, 10, 15])
@pytest.mark.parametrize("keep_prob", [0.3, 0.5, 0.8])
def test_exact_count_share_matches_enumeration(n_units, keep_prob):
    masks = np.array(list(itertools.product([0, 1], repeat=n_units)))
    s = theory.exact_count_share(n_units, keep_prob)
    kept = masks.sum(1)
    weights = keep_prob**kept * (1 - keep_prob) ** (n_units - kept)
    assert s.n_kept == round(n_units * keep_prob)
    assert s.share == pytest.approx(np.mean(kept == s.n_kept), rel=1e-12)
    assert s.probability == pytest.approx(weights[kept == s.n_kept].sum(), rel=1e-12)
    # one unit is in exactly half of the masks, whatever q; q is their probability mass
    assert np.mean(masks[:, 0]) == s.unit_share == 0.5
    assert weights[masks[:, 0] == 1].sum() == pytest.approx(s.unit_probability)


def test_exact_count_share_is_sqrt_2_over_pi_n_at_half():
    for n in (100, 300, 10_000):
        s = theory.exact_count_share(n, 0.5)
        assert s.share == pytest.approx(math.sqrt(2 / (math.pi * n)), rel=2 / n)
        assert s.share_approx == pytest.approx(s.share, rel=2 / n)
        # "almost as many" only in digits: within 2 digits, yet under 10 %
        assert s.log10_masks - s.log10_exact < 2.5
        assert s.share < 0.1


def test_exact_count_share_refuses_bad_input():
    with pytest.raises(DropoutFigsError, match="keep_prob"):
        theory.exact_count_share(10, 0.0)
    with pytest.raises(DropoutFigsError, match="n_units"):
        theory.exact_count_share(0, 0.5)
