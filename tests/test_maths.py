"""Properties and exact numbers of dropout_figs.maths (fixed seeds, no pixels)."""

from __future__ import annotations

import math
import subprocess
import sys
from decimal import Decimal

import numpy as np
import pytest

from dropout_figs import maths
from dropout_figs._validate import DropoutFigsError
from dropout_figs.maths import (
    classic_dropout,
    format_subnetworks,
    inverted_dropout,
    kept_count_band,
    kept_count_distribution,
    layer_summary,
    log10_subnetworks,
    sample_keep_mask,
)


# --------------------------------------------------------------------------- masks
@pytest.mark.parametrize("keep_prob", [0.1, 0.5, 0.7, 0.95])
def test_keep_fraction_within_a_few_sigma(keep_prob):
    n = 200_000
    mask = sample_keep_mask((n,), keep_prob, rng=np.random.default_rng(1))
    assert mask.dtype == np.bool_
    sigma = math.sqrt(keep_prob * (1 - keep_prob) / n)
    assert abs(mask.mean() - keep_prob) < 4 * sigma


def test_mask_drop_rate_spelling_is_the_same_draw():
    a = sample_keep_mask((5, 7), 0.7, rng=np.random.default_rng(3))
    b = sample_keep_mask((5, 7), drop_rate=0.3, rng=np.random.default_rng(3))
    assert a.shape == (5, 7)
    np.testing.assert_array_equal(a, b)


def test_mask_is_uniform_threshold():
    # documented: rng.random(shape) < keep_prob
    expected = np.random.default_rng(9).random((4, 3)) < 0.4
    got = sample_keep_mask((4, 3), 0.4, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(got, expected)


def test_keep_prob_one_keeps_everything():
    assert sample_keep_mask(1000, 1.0, rng=np.random.default_rng(0)).all()


def test_kept_counts_match_binomial_mean_and_variance():
    n, q, draws = 64, 0.7, 20_000
    masks = sample_keep_mask((draws, n), q, rng=np.random.default_rng(2))
    counts = masks.sum(axis=1)
    dist = kept_count_distribution(n, q)
    se_mean = dist.std / math.sqrt(draws)
    assert abs(counts.mean() - dist.mean) < 4 * se_mean
    # variance of a sample variance ~ 2 sigma^4 / draws for near-normal counts
    assert abs(counts.var() - dist.var) < 4 * dist.var * math.sqrt(2 / draws)


def test_kept_counts_chi_square_against_pmf():
    from scipy.stats import chi2

    n, q, draws = 20, 0.6, 20_000
    counts = sample_keep_mask((draws, n), q, rng=np.random.default_rng(4)).sum(axis=1)
    observed = np.bincount(counts, minlength=n + 1)
    expected = draws * kept_count_distribution(n, q).pmf(np.arange(n + 1))
    # pool the tails (expected < 5) into their neighbours
    keep = expected >= 5
    obs = np.r_[observed[~keep & (np.arange(n + 1) < n * q)].sum(), observed[keep]]
    obs = np.r_[obs, observed[~keep & (np.arange(n + 1) > n * q)].sum()]
    exp = np.r_[expected[~keep & (np.arange(n + 1) < n * q)].sum(), expected[keep]]
    exp = np.r_[exp, expected[~keep & (np.arange(n + 1) > n * q)].sum()]
    stat = ((obs - exp) ** 2 / exp).sum()
    assert chi2.sf(stat, len(obs) - 1) > 1e-3


def test_rng_must_be_a_generator():
    with pytest.raises(DropoutFigsError, match="rng"):
        sample_keep_mask(4, 0.5, rng=0)
    with pytest.raises(DropoutFigsError, match="rng"):
        sample_keep_mask(4, 0.5, rng=np.random.RandomState(0))


# --------------------------------------------------------------------------- dropout
def test_inverted_dropout_is_unbiased():
    a = np.random.default_rng(0).gamma(4, 0.25, size=50)
    q, draws = 0.6, 20_000
    out, mask = inverted_dropout(
        np.broadcast_to(a, (draws, 50)), q, training=True, rng=np.random.default_rng(5)
    )
    assert mask.shape == (draws, 50)
    np.testing.assert_array_equal(out[~mask], 0)
    np.testing.assert_allclose(out[mask], np.broadcast_to(a, (draws, 50))[mask] / q)
    se = a * math.sqrt((1 - q) / q) / math.sqrt(draws)
    assert np.all(np.abs(out.mean(axis=0) - a) < 5 * se)


def test_inverted_eval_is_identity():
    a = np.arange(6.0).reshape(2, 3)
    res = inverted_dropout(a, 0.5, training=False)
    np.testing.assert_array_equal(res.output, a)
    assert res.mask is None
    assert res.output is not a


def test_classic_eval_equals_train_expectation():
    a = np.random.default_rng(1).gamma(4, 0.25, size=40)
    q, draws = 0.7, 20_000
    train = classic_dropout(
        np.broadcast_to(a, (draws, 40)), q, training=True, rng=np.random.default_rng(6)
    )
    test = classic_dropout(a, q, training=False)
    np.testing.assert_allclose(test.output, a * q)
    se = a * math.sqrt(q * (1 - q)) / math.sqrt(draws)
    assert np.all(np.abs(train.output.mean(axis=0) - test.output) < 5 * se)
    np.testing.assert_array_equal(train.output, np.where(train.mask, a, 0))


def test_mask_is_reused_exactly_and_schemes_differ_by_one_factor():
    a = np.linspace(0.5, 2.0, 8)
    mask = np.array([1, 0, 1, 1, 0, 0, 1, 1], dtype=bool)
    inv = inverted_dropout(a, drop_rate=0.25, training=True, mask=mask)
    cla = classic_dropout(a, 0.75, training=True, mask=mask)
    assert inv.mask is not None
    np.testing.assert_array_equal(inv.mask, mask)
    np.testing.assert_allclose(inv.output * 0.75, cla.output)
    # 0/1 integer masks and broadcasting over a batch
    batch = np.tile(a, (3, 1))
    out = inverted_dropout(batch, 0.75, training=True, mask=mask.astype(int)).output
    np.testing.assert_allclose(out, np.tile(a * mask / 0.75, (3, 1)))


def test_float32_stays_float32():
    a = np.ones(5, dtype=np.float32)
    out = inverted_dropout(a, 0.5, training=True, rng=np.random.default_rng(0)).output
    assert out.dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"training": True}, "rng"),
        ({"training": True, "rng": np.random.default_rng(0), "mask": np.ones(3, bool)}, "not both"),
        ({"training": False, "mask": np.ones(3, bool)}, "only used in training"),
        ({"training": True, "mask": np.ones(4, bool)}, "broadcast"),
        ({"training": True, "mask": np.full(3, 2)}, "0/1"),
        ({"training": 1}, "training"),
    ],
)
def test_dropout_argument_errors(kwargs, match):
    for fn in (inverted_dropout, classic_dropout):
        with pytest.raises(DropoutFigsError, match=match):
            fn(np.ones(3), 0.5, **kwargs)


# --------------------------------------------------------------------------- kept counts
@pytest.mark.parametrize("n", [1, 2, 17, 256, 10_000, 10**6])
@pytest.mark.parametrize("q", [0.001, 0.3, 0.7, 0.999, 1.0])
def test_pmf_sums_to_one_with_binomial_moments(n, q):
    dist = kept_count_distribution(n, q)
    k, pmf = dist.window()
    assert k[0] >= 0
    assert k[-1] <= n
    assert pmf.max() > 0
    assert abs(pmf.sum() - 1) < 1e-7
    mean = (k * pmf).sum()
    var = ((k - mean) ** 2 * pmf).sum()
    assert mean == pytest.approx(n * q, rel=1e-7, abs=1e-9)
    assert var == pytest.approx(n * q * (1 - q), rel=1e-6, abs=1e-9)
    assert dist.mean == pytest.approx(n * q)
    assert dist.std == pytest.approx(math.sqrt(n * q * (1 - q)))


@pytest.mark.parametrize("q", [0.001, 0.999])
def test_window_is_where_the_mass_is_for_a_million_units(q):
    k, pmf = kept_count_distribution(10**6, q).window()
    assert len(k) < 5000
    assert pmf.max() > 1e-3
    assert np.count_nonzero(pmf > 1e-12) > 100


def test_window_full_for_tiny_layers():
    k, pmf = kept_count_distribution(1, 0.5).window()
    np.testing.assert_array_equal(k, [0, 1])
    np.testing.assert_allclose(pmf, [0.5, 0.5])


@pytest.mark.parametrize(("n", "q"), [(1, 0.5), (10, 0.3), (256, 0.7), (10**6, 0.999)])
@pytest.mark.parametrize("level", [0.5, 0.9, 0.99])
def test_interval_coverage(n, q, level):
    dist = kept_count_distribution(n, q)
    lo, hi = dist.interval(level)
    assert isinstance(lo, int)
    assert isinstance(hi, int)
    assert 0 <= lo <= hi <= n
    inside = dist.cdf(hi) - dist.cdf(lo - 1)
    assert inside >= level - 1e-12
    # central: neither tail holds more than (1 - level) / 2
    assert dist.cdf(lo - 1) <= (1 - level) / 2 + 1e-12
    assert 1 - dist.cdf(hi) <= (1 - level) / 2 + 1e-12


def test_distribution_validates_when_built_directly():
    with pytest.raises(DropoutFigsError, match="keep_prob"):
        maths.KeptCountDistribution(10, 1.5)
    with pytest.raises(DropoutFigsError, match="n_units"):
        maths.KeptCountDistribution(0, 0.5)


def test_degenerate_keep_prob_one():
    dist = kept_count_distribution(12, 1.0)
    assert dist.interval() == (12, 12)
    assert dist.var == 0
    k, pmf = dist.window()
    np.testing.assert_array_equal(k, [12])
    np.testing.assert_array_equal(pmf, [1.0])


def test_band_matches_interval():
    qs = np.array([0.0, 0.2, 0.7, 1.0])
    lo, hi = kept_count_band(100, qs, 0.9)
    assert (lo[0], hi[0]) == (0, 0)
    assert (lo[-1], hi[-1]) == (100, 100)
    for i in (1, 2):
        assert (lo[i], hi[i]) == kept_count_distribution(100, qs[i]).interval(0.9)


# --------------------------------------------------------------------------- sub-networks
def test_format_subnetworks_exact_strings():
    assert format_subnetworks(20) == "1,048,576"
    assert format_subnetworks(23) == "8,388,608"
    assert format_subnetworks(24) == "1.68 × 10^7"
    assert format_subnetworks(64) == "1.84 × 10^19"
    assert format_subnetworks(256) == "1.16 × 10^77"
    assert format_subnetworks(64, latex=True) == r"1.84 \times 10^{19}"
    assert format_subnetworks(20, latex=True) == "1{,}048{,}576"
    assert format_subnetworks(1) == "2"


def _exact_format(n: int) -> str:
    digits = str(2**n)
    e = len(digits) - 1
    head = digits[:30]
    mant = round(Decimal(head).scaleb(1 - len(head)), 2)
    if mant >= 10:
        mant, e = Decimal("1.00"), e + 1
    return f"{mant:.2f} × 10^{e}"


def test_format_subnetworks_agrees_with_exact_integers():
    for n in range(24, 3001):
        assert format_subnetworks(n) == _exact_format(n), n


def test_exponent_bump_when_mantissa_rounds_to_ten():
    # find n where 2**n starts with 9995..9999: the mantissa rounds up to 10.0
    n = next(n for n in range(24, 100_000) if str(2**n)[:4] >= "9995")
    e = len(str(2**n)) - 1
    assert format_subnetworks(n) == f"1.00 × 10^{e + 1}"


def test_log10_subnetworks_huge():
    assert log10_subnetworks(64) == pytest.approx(64 * math.log10(2), rel=1e-15)
    big = log10_subnetworks(10**9)
    assert big == pytest.approx(301029995.66398119521373889472449, rel=1e-15)
    assert format_subnetworks(10**9) == "4.61 × 10^301029995"
    assert format_subnetworks(10**12).endswith("× 10^301029995663")


# --------------------------------------------------------------------------- layer summary
def test_layer_summary_fields_and_dict():
    s = layer_summary(256, keep_prob=0.7, seed=0)
    assert s.kept + s.dropped == 256
    assert s.scale_factor == pytest.approx(1 / 0.7)
    assert s.expected_active == pytest.approx(179.2)
    assert s.drop_rate == 0.3
    assert s.subnetworks == "1.16 × 10^77"
    d = s.to_dict()
    for key in (
        "n_units",
        "keep_prob",
        "drop_rate",
        "seed",
        "kept",
        "dropped",
        "scale_factor",
        "expected_active",
        "log10_subnetworks",
        "output_scale_ratio",
    ):
        assert key in d
    assert layer_summary(256, drop_rate=0.3, seed=0) == s


def test_layer_summary_first_draw_is_the_mask():
    for n, q, seed in [(1, 0.5, 0), (64, 0.7, 3), (1000, 0.2, 11)]:
        mask = sample_keep_mask((n,), q, rng=np.random.default_rng(seed))
        assert layer_summary(n, q, seed=seed).kept == mask.sum()


def test_layer_summary_ratio_averages_to_one():
    q, n = 0.6, 50
    ratios = np.array([layer_summary(n, q, seed=s).output_scale_ratio for s in range(400)])
    se = ratios.std(ddof=1) / math.sqrt(len(ratios))
    assert abs(ratios.mean() - 1) < 4 * se


def test_layer_summary_huge_layers():
    s = layer_summary(10**12, keep_prob=0.7, seed=1)
    assert s.kept + s.dropped == 10**12
    assert abs(s.kept - 0.7e12) < 6 * math.sqrt(10**12 * 0.21)
    assert s.output_scale_ratio == pytest.approx(1, abs=1e-4)
    just_above = layer_summary(maths.MATERIALISE_MAX + 1, drop_rate=0.5, seed=2)
    assert just_above.kept + just_above.dropped == maths.MATERIALISE_MAX + 1
    assert layer_summary(10**12, 1.0).output_scale_ratio == 1.0


@pytest.mark.parametrize("bad", [1.7, 0, -0.2, float("nan"), float("inf"), "abc"])
def test_bad_keep_prob(bad):
    with pytest.raises(DropoutFigsError, match="keep_prob"):
        layer_summary(10, keep_prob=bad)
    with pytest.raises(DropoutFigsError, match="keep_prob"):
        kept_count_distribution(10, bad)
    with pytest.raises(DropoutFigsError, match="keep_prob"):
        sample_keep_mask(3, bad, rng=np.random.default_rng(0))


@pytest.mark.parametrize("bad", [1.0, -0.1, float("nan")])
def test_bad_drop_rate(bad):
    with pytest.raises(DropoutFigsError, match="drop_rate"):
        layer_summary(10, drop_rate=bad)


def test_both_or_neither_probability():
    with pytest.raises(DropoutFigsError, match="not both"):
        layer_summary(10, keep_prob=0.5, drop_rate=0.5)
    with pytest.raises(DropoutFigsError, match="not both"):
        inverted_dropout(np.ones(2), 0.5, drop_rate=0.5, training=False)
    with pytest.raises(DropoutFigsError, match="keep_prob"):
        kept_count_distribution(10)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "abc", float("nan"), True])
def test_bad_n_units(bad):
    for fn in (layer_summary, log10_subnetworks, format_subnetworks):
        with pytest.raises(DropoutFigsError, match="n_units"):
            fn(bad) if fn is not layer_summary else fn(bad, 0.5)
    with pytest.raises(DropoutFigsError, match="n_units"):
        kept_count_distribution(bad, 0.5)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_bad_mean_activation(bad):
    with pytest.raises(DropoutFigsError, match="mean_activation"):
        layer_summary(10, 0.5, mean_activation=bad)


def test_errors_are_value_errors():
    with pytest.raises(ValueError, match="seed"):
        layer_summary(10, 0.5, seed=-1)


def test_maths_does_not_import_matplotlib_or_scipy_stats():
    code = (
        "import sys, dropout_figs.maths as m; m.layer_summary(100, 0.5); m.format_subnetworks(99);"
        "print('matplotlib' in sys.modules, 'scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
