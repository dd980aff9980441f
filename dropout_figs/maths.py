"""The maths of dropout: masks, inverted and classic dropout, kept counts, sub-networks.

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

import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any, NamedTuple

import numpy as np

from ._validate import DropoutFigsError, as_rng, check_count, check_finite, resolve_keep_prob

__all__ = [
    "MATERIALISE_MAX",
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

#: Largest layer that :func:`layer_summary` draws unit by unit (2**24 units);
#: above it the kept count and the sums are drawn from their exact distributions.
MATERIALISE_MAX = 2**24

#: Above this many kept (or dropped) units, :func:`layer_summary` draws their
#: activation sum from a normal with the exact mean and variance.
SUM_EXACT_MAX = 1000


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


# --------------------------------------------------------------------------- kept counts
@dataclass(frozen=True)
class KeptCountDistribution:
    """The number K of kept units in a layer: ``K ~ Binomial(n_units, keep_prob)``.

    Build it with :func:`kept_count_distribution`. Probabilities come from
    ``scipy.stats.binom`` (imported on first use), which is accurate for
    ``n_units`` from 1 to well beyond 10**9; :meth:`window` restricts a plot to
    where the probability mass is.
    """

    n_units: int
    keep_prob: float

    def __post_init__(self):
        # Built directly or by kept_count_distribution: validate either way.
        object.__setattr__(self, "n_units", check_count(self.n_units, "n_units", low=1))
        object.__setattr__(self, "keep_prob", resolve_keep_prob(self.keep_prob))

    @property
    def drop_rate(self) -> float:
        return drop_rate_of(self.keep_prob)

    @property
    def mean(self) -> float:
        """``n q``."""
        return self.n_units * self.keep_prob

    @property
    def var(self) -> float:
        """``n q (1 - q)``."""
        return self.n_units * self.keep_prob * (1.0 - self.keep_prob)

    @property
    def std(self) -> float:
        return math.sqrt(self.var)

    def _binom(self):
        from scipy.stats import binom

        return binom(self.n_units, self.keep_prob)

    def pmf(self, k):
        """``P(K = k)`` (0 outside 0..n)."""
        return self._binom().pmf(k)

    def logpmf(self, k):
        """``log P(K = k)`` (natural log; -inf outside 0..n)."""
        return self._binom().logpmf(k)

    def cdf(self, k):
        """``P(K <= k)``."""
        return self._binom().cdf(k)

    def interval(self, level: float = 0.9) -> tuple[int, int]:
        """Central interval ``(lo, hi)`` of whole numbers with ``P(lo <= K <= hi) >= level``.

        ``lo`` is the ``(1 - level) / 2`` quantile and ``hi`` the
        ``(1 + level) / 2`` quantile (smallest k with ``cdf(k) >=`` it).
        """
        level = check_finite(level, "level", low=0, high=1, low_open=True, high_open=True)
        if self.keep_prob == 1.0:
            return (self.n_units, self.n_units)
        lo, hi = self._binom().interval(level)
        return (int(lo), int(hi))

    def window(self, n_std: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
        """The counts where the mass is, and their probabilities.

        Parameters
        ----------
        n_std : float, default 6
            Half-width in standard deviations around the mean (clipped to 0..n),
            widened where needed to the binomial quantiles that leave out no more
            than the normal tail beyond ``n_std`` (about 1e-9 each side for 6).

        Returns
        -------
        k : ndarray of int
            Consecutive counts, always including the most likely ones.
        pmf : ndarray of float
            ``P(K = k)``; never all zero, even for ``n_units = 10**6`` and
            ``keep_prob`` of 0.001 or 0.999.
        """
        n_std = check_finite(n_std, "n_std", low=0, low_open=True)
        if self.keep_prob == 1.0:
            return np.array([self.n_units], dtype=np.int64), np.ones(1)
        lo = math.floor(self.mean - n_std * self.std)
        hi = math.ceil(self.mean + n_std * self.std)
        # A skewed binomial (n q of order 1) has longer tails than the normal
        # rule suggests: also reach the quantiles that leave out what n_std
        # normal standard deviations would.
        from scipy.stats import norm

        tail = float(norm.sf(n_std))
        binom = self._binom()
        lo = max(0, min(lo, int(binom.ppf(tail))))
        hi = min(self.n_units, max(hi, int(binom.isf(tail))))
        k = np.arange(lo, hi + 1, dtype=np.int64)
        # exp(logpmf) keeps the tails accurate where pmf would underflow piecemeal.
        return k, np.exp(binom.logpmf(k))


def kept_count_distribution(
    n_units: int, keep_prob: float | None = None, *, drop_rate: float | None = None
) -> KeptCountDistribution:
    """The distribution of the number of kept units in a layer of ``n_units``.

    Parameters
    ----------
    n_units : int >= 1
    keep_prob : float in (0, 1], optional
    drop_rate : float in [0, 1), optional
        Give exactly one of ``keep_prob`` and ``drop_rate``.

    Returns
    -------
    KeptCountDistribution
        Mean ``n q``, variance ``n q (1 - q)``, ``pmf``, ``cdf``, ``interval``
        and ``window``.
    """
    n = check_count(n_units, "n_units", low=1)
    q = resolve_keep_prob(keep_prob, drop_rate)
    return KeptCountDistribution(n, q)


def kept_count_band(n_units: int, keep_probs, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Central ``level`` interval of the kept count for many keep probabilities at once.

    Parameters
    ----------
    n_units : int >= 1
    keep_probs : array_like of float in [0, 1]
        0 is allowed here (nothing kept) so a sweep can start at 0.
    level : float in (0, 1), default 0.9

    Returns
    -------
    lo, hi : ndarray of float
        Quantiles ``(1 - level) / 2`` and ``(1 + level) / 2`` of
        ``Binomial(n_units, q)`` for each q (see :meth:`KeptCountDistribution.interval`).
    """
    from scipy.stats import binom

    n = check_count(n_units, "n_units", low=1)
    level = check_finite(level, "level", low=0, high=1, low_open=True, high_open=True)
    qs = np.asarray(keep_probs, dtype=float)
    if not np.all((qs >= 0) & (qs <= 1)):
        raise DropoutFigsError("keep_probs must all be in [0, 1]")
    lo = binom.ppf((1 - level) / 2, n, qs)
    hi = binom.ppf((1 + level) / 2, n, qs)
    # scipy's quantile at the degenerate ends is 0 or n (or -1); pin them.
    lo = np.where(qs == 0, 0.0, np.where(qs == 1, n, lo))
    hi = np.where(qs == 0, 0.0, np.where(qs == 1, n, hi))
    return lo, hi


# --------------------------------------------------------------------------- sub-networks
def _log10_2(n_units: int) -> Decimal:
    """``n * log10(2)`` as a Decimal with ~40 correct digits after the point."""
    with localcontext() as ctx:
        ctx.prec = 45 + len(str(n_units))
        return Decimal(n_units) * Decimal(2).log10()


def log10_subnetworks(n_units: int) -> float:
    """``log10(2 ** n_units)``: how many digits the number of sub-networks has.

    A layer of n units has ``2**n`` keep masks, i.e. sub-networks that share
    weights. Computed with :mod:`decimal`, so it is exact to float precision
    for any ``n_units`` (10**9 and beyond), without forming ``2**n``.
    """
    n = check_count(n_units, "n_units", low=1)
    return float(_log10_2(n))


def _mantissa_exponent(n: int) -> tuple[str, int]:
    """``2**n = m × 10^e`` with m rounded to 3 significant figures, as text."""
    with localcontext() as ctx:
        ctx.prec = 45 + len(str(n))
        x = _log10_2(n)
        e = int(x.to_integral_value(rounding=ROUND_FLOOR))
        frac = x - e
        ctx.prec = 45
        mant = Decimal(10) ** frac
    rounded = round(mant, 2)
    if rounded >= 10:  # 9.995... rounds to 10.0: write 1.00 × 10^(e+1)
        rounded, e = Decimal("1.00"), e + 1
    return f"{rounded:.2f}", e


def format_subnetworks(n_units: int, *, latex: bool = False) -> str:
    """The number of sub-networks ``2**n_units``, for people.

    Parameters
    ----------
    n_units : int >= 1
    latex : bool, default False
        LaTeX (and matplotlib mathtext) form, without the dollar signs.

    Returns
    -------
    str
        All digits with thousands separators while ``2**n < 10**7``
        (``'1,048,576'`` for n = 20; LaTeX ``'1{,}048{,}576'``); otherwise
        three significant figures, ``'1.84 × 10^19'`` for n = 64
        (LaTeX ``'1.84 \\times 10^{19}'``), ``'1.16 × 10^77'`` for n = 256.

    Notes
    -----
    The mantissa comes from the exact fractional part of ``n log10 2``
    (:mod:`decimal`), so it is right for any n; a mantissa that rounds up to 10
    moves to the exponent.
    """
    n = check_count(n_units, "n_units", low=1)
    if n < 24:  # 2**23 = 8,388,608 < 10**7 <= 2**24
        text = f"{2**n:,}"
        return text.replace(",", "{,}") if latex else text
    mant, e = _mantissa_exponent(n)
    return f"{mant} \\times 10^{{{e}}}" if latex else f"{mant} × 10^{e}"


def log10_binomial(n, k) -> np.ndarray | float:
    """``log10 C(n, k)``: the digits of the number of masks of n units that keep exactly k.

    Parameters
    ----------
    n : int or array_like of int, >= 0
    k : int or array_like of int, 0 <= k <= n (broadcast against ``n``)

    Returns
    -------
    float or ndarray
        Via ``gammaln``, accurate for any size.
    """
    n_arr = np.asarray(n, dtype=float)
    k_arr = np.asarray(k, dtype=float)
    if not (np.all(n_arr >= 0) and np.all(n_arr == np.floor(n_arr))):
        raise DropoutFigsError(f"n must be whole numbers >= 0; got {n!r}")
    if not (np.all(k_arr >= 0) and np.all(k_arr <= n_arr) and np.all(k_arr == np.floor(k_arr))):
        raise DropoutFigsError(f"k must be whole numbers in [0, n]; got {k!r}")
    from scipy.special import gammaln

    out = (gammaln(n_arr + 1) - gammaln(k_arr + 1) - gammaln(n_arr - k_arr + 1)) / math.log(10)
    return float(out) if np.ndim(out) == 0 else out


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
