"""Kept counts (a binomial, in log space) and the number of sub-networks, 2^n."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext

import numpy as np

from .._validate import DropoutFigsError, check_count, check_finite, resolve_keep_prob
from .masks import drop_rate_of

__all__ = [
    "KeptCountDistribution",
    "format_subnetworks",
    "kept_count_band",
    "kept_count_distribution",
    "log10_binomial",
    "log10_subnetworks",
]


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
