"""Numerical checks of two theoretical results about dropout, for the theory page.

1. **Dropout as adaptive L2** (Srivastava et al. 2014, section 9.1). For linear
   regression with dropout on the inputs, ``R_ij ~ Bernoulli(q)`` independently,

   .. math::

      E_R \\lVert y - (R \\ast X) w \\rVert^2
        = \\lVert y - q X w \\rVert^2 + q (1 - q) \\lVert \\Gamma w \\rVert^2,
      \\qquad \\Gamma = \\operatorname{diag}(X^\\top X)^{1/2}.

   :func:`linear_dropout_expected_loss` compares a Monte-Carlo average over
   sampled masks with the closed form.

2. **Weight scaling is the geometric mean of the sub-networks** for a single
   softmax layer (Baldi & Sadowski 2013; Srivastava et al. 2014, section 4).
   :func:`softmax_geometric_mean_check` enumerates all ``2**n`` input masks and
   compares their probability-weighted, renormalised geometric mean with the
   weight-scaled prediction ``softmax(q W x + b)``.

Both functions take ``rng`` (a :class:`numpy.random.Generator` or a seed) and
never touch global random state. This module never imports matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import DropoutFigsError, as_rng, check_count, check_probability

__all__ = [
    "ExactCountShare",
    "GeometricMeanCheck",
    "LinearDropoutLoss",
    "exact_count_share",
    "linear_dropout_expected_loss",
    "softmax_geometric_mean_check",
]

#: Enumerating 2**n masks is exact but exponential: keep it small.
_MAX_ENUMERATED_INPUTS = 16


@dataclass(frozen=True)
class LinearDropoutLoss:
    """Expected squared loss of a linear model under input dropout.

    Attributes
    ----------
    monte_carlo : float
        Mean of ``||y - (R * X) w||^2`` over ``n_masks`` sampled masks.
    monte_carlo_se : float
        Standard error of that mean.
    closed_form : float
        ``||y - q X w||^2 + q (1 - q) ||Gamma w||^2``.
    data_term : float
        ``||y - q X w||^2``, the loss of the weight-scaled model.
    penalty : float
        ``q (1 - q) ||Gamma w||^2``, the data-dependent L2 penalty.
    keep_prob : float
    n_masks : int
    """

    monte_carlo: float
    monte_carlo_se: float
    closed_form: float
    data_term: float
    penalty: float
    keep_prob: float
    n_masks: int

    @property
    def relative_error(self) -> float:
        """``|monte_carlo - closed_form| / closed_form``."""
        return abs(self.monte_carlo - self.closed_form) / self.closed_form

    @property
    def z_score(self) -> float:
        """Distance between the two in Monte-Carlo standard errors."""
        return abs(self.monte_carlo - self.closed_form) / self.monte_carlo_se


def linear_dropout_expected_loss(
    X=None,
    y=None,
    w=None,
    keep_prob: float = 0.5,
    *,
    n_samples: int = 50,
    n_features: int = 5,
    n_masks: int = 20_000,
    rng=0,
) -> LinearDropoutLoss:
    """Check the paper's section 9.1 identity by Monte Carlo.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), optional
        Inputs. With ``X``, ``y`` and ``w`` all omitted, a random problem of
        ``n_samples`` x ``n_features`` is drawn from ``rng``.
    y : ndarray of shape (n_samples,), optional
        Targets.
    w : ndarray of shape (n_features,), optional
        Weights (any weights: the identity holds for every ``w``).
    keep_prob : float
        Probability an input entry is kept, in (0, 1].
    n_samples, n_features : int
        Size of the random problem when ``X``, ``y``, ``w`` are omitted.
    n_masks : int
        Number of sampled masks ``R`` for the Monte-Carlo average.
    rng : numpy.random.Generator or int
        Source of randomness (a seed is turned into a generator).

    Returns
    -------
    LinearDropoutLoss

    Notes
    -----
    Row ``i`` of ``(R * X) w`` has mean ``q (X w)_i`` and variance
    ``q (1 - q) sum_j X_ij^2 w_j^2``; summing the variances over rows gives
    ``q (1 - q) sum_j w_j^2 (X^T X)_jj``. The masks here are the paper's
    (classic) Bernoulli masks, not rescaled by ``1 / q``.
    """
    q = check_probability(keep_prob, "keep_prob")
    n_masks = check_count(n_masks, "n_masks", low=2, high=10_000_000)
    gen = as_rng(rng)
    data_rng, mask_rng = gen.spawn(2)
    given = [a is not None for a in (X, y, w)]
    if any(given) and not all(given):
        raise DropoutFigsError("give all of X, y and w, or none of them (to draw a random problem)")
    if not any(given):
        n = check_count(n_samples, "n_samples", low=1, high=100_000)
        d = check_count(n_features, "n_features", low=1, high=1_000)
        X = data_rng.normal(size=(n, d))
        w = data_rng.normal(size=d)
        y = X @ w + 0.5 * data_rng.normal(size=n)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    if not (X.ndim == 2 and y.shape == (X.shape[0],) and w.shape == (X.shape[1],)):
        raise DropoutFigsError(
            "X must have shape (n, d), y shape (n,) and w shape (d,); "
            f"got X {X.shape}, y {y.shape}, w {w.shape}"
        )
    if not (np.isfinite(X).all() and np.isfinite(y).all() and np.isfinite(w).all()):
        raise DropoutFigsError("X, y and w must be finite")

    # Closed form: the paper's equation, with Gamma = diag(X^T X)^(1/2).
    gamma = np.sqrt((X * X).sum(axis=0))
    data_term = float(np.sum((y - q * (X @ w)) ** 2))
    penalty = float(q * (1.0 - q) * np.sum((gamma * w) ** 2))

    # Monte Carlo in chunks so memory stays bounded for any n_masks.
    losses = np.empty(n_masks)
    chunk = max(1, 2_000_000 // X.size)
    for start in range(0, n_masks, chunk):
        stop = min(n_masks, start + chunk)
        masks = mask_rng.random((stop - start, *X.shape)) < q
        pred = (masks * X) @ w
        losses[start:stop] = np.sum((y - pred) ** 2, axis=1)
    return LinearDropoutLoss(
        monte_carlo=float(losses.mean()),
        monte_carlo_se=float(losses.std(ddof=1) / np.sqrt(n_masks)),
        closed_form=data_term + penalty,
        data_term=data_term,
        penalty=penalty,
        keep_prob=q,
        n_masks=n_masks,
    )


@dataclass(frozen=True)
class GeometricMeanCheck:
    """Sub-network ensemble of a softmax layer versus weight scaling.

    Attributes
    ----------
    n_inputs, n_classes : int
    n_subnetworks : int
        ``2**n_inputs``: every input mask was enumerated.
    keep_prob : float
    geometric_mean : list of float
        Renormalised, probability-weighted geometric mean of the sub-networks'
        class probabilities.
    weight_scaled : list of float
        ``softmax(q W x + b)``: the prediction with classic weight scaling
        (equal to the unscaled net under inverted dropout).
    arithmetic_mean : list of float
        Probability-weighted arithmetic mean of the sub-networks' predictions.
    max_abs_diff_geometric : float
        ``max |geometric_mean - weight_scaled|`` (zero up to rounding).
    max_abs_diff_arithmetic : float
        ``max |arithmetic_mean - weight_scaled|`` (not zero in general).
    """

    n_inputs: int
    n_classes: int
    n_subnetworks: int
    keep_prob: float
    geometric_mean: list
    weight_scaled: list
    arithmetic_mean: list
    max_abs_diff_geometric: float
    max_abs_diff_arithmetic: float


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_geometric_mean_check(
    n_inputs: int = 10,
    n_classes: int = 3,
    keep_prob: float = 0.5,
    *,
    weight_scale: float = 1.0,
    rng=0,
) -> GeometricMeanCheck:
    """Average a softmax layer over all ``2**n_inputs`` dropout masks on its input.

    Parameters
    ----------
    n_inputs : int
        Inputs to the layer, 1 to 16 (every mask is enumerated).
    n_classes : int
        Softmax outputs, at least 2.
    keep_prob : float
        Probability an input is kept, in (0, 1].
    weight_scale : float
        Standard deviation of the random weights; larger makes the
        sub-networks disagree more, so the arithmetic mean drifts further.
    rng : numpy.random.Generator or int
        Source of the random weights, bias and input.

    Returns
    -------
    GeometricMeanCheck

    Notes
    -----
    With mask ``m`` the logits are ``z(m) = W (m * x) + b``, linear in ``m``.
    The weighted mean of ``log softmax(z(m))_k`` is
    ``E[z_k(m)] - E[logsumexp z(m)] = (q W x + b)_k - const``; the constant
    does not depend on the class ``k``, so renormalising gives exactly
    ``softmax(q W x + b)``.
    """
    n = check_count(n_inputs, "n_inputs", low=1, high=_MAX_ENUMERATED_INPUTS)
    c = check_count(n_classes, "n_classes", low=2, high=100)
    q = check_probability(keep_prob, "keep_prob")
    if not (np.isfinite(weight_scale) and weight_scale > 0):
        raise DropoutFigsError(f"weight_scale must be a positive number; got {weight_scale!r}")
    gen = as_rng(rng)
    W = weight_scale * gen.normal(size=(c, n))
    b = gen.normal(size=c)
    x = gen.normal(size=n)

    # Every mask as a row of 0/1: bit j of the row index.
    masks = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    n_kept = masks.sum(axis=1)
    # Probability of each mask; q == 1 gives 0 ** 0 == 1 for the full net.
    weights = q**n_kept * (1.0 - q) ** (n - n_kept)
    logits = (masks * x) @ W.T + b
    probs = _softmax(logits)

    # log-softmax directly, so a tiny probability never becomes log(0).
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_geo = weights @ log_probs
    geometric = _softmax(log_geo)
    arithmetic = weights @ probs
    scaled = _softmax(q * (W @ x) + b)
    return GeometricMeanCheck(
        n_inputs=n,
        n_classes=c,
        n_subnetworks=2**n,
        keep_prob=q,
        geometric_mean=geometric.tolist(),
        weight_scaled=scaled.tolist(),
        arithmetic_mean=arithmetic.tolist(),
        max_abs_diff_geometric=float(np.max(np.abs(geometric - scaled))),
        max_abs_diff_arithmetic=float(np.max(np.abs(arithmetic - scaled))),
    )


# --------------------------------------------------------------------------- counting masks


@dataclass(frozen=True)
class ExactCountShare:
    """How the ``2**n`` masks of a layer split by kept count and by unit.

    Attributes
    ----------
    n_units : int
    keep_prob : float
    n_kept : int
        ``round(n_units * keep_prob)``, the most likely kept count.
    log10_masks : float
        Digits of ``2**n_units``, all masks.
    log10_exact : float
        Digits of ``C(n_units, n_kept)``, the masks keeping exactly ``n_kept`` units.
    share : float
        ``C(n_units, n_kept) / 2**n_units``: their share of the *count* of masks.
    share_approx : float
        ``sqrt(2 / (pi n_units))``, the large-``n`` value of ``share`` at ``n_kept = n/2``.
    probability : float
        ``P(K = n_kept)`` under ``Binomial(n_units, keep_prob)``: their probability *mass*.
    unit_share : float
        Share of the ``2**n_units`` masks that keep one given unit: always 1/2.
    unit_probability : float
        Probability that a sampled mask keeps one given unit: ``keep_prob``.
    """

    n_units: int
    keep_prob: float
    n_kept: int
    log10_masks: float
    log10_exact: float
    share: float
    share_approx: float
    probability: float
    unit_share: float
    unit_probability: float


def exact_count_share(n_units: int = 300, keep_prob: float = 0.5) -> ExactCountShare:
    """Count the masks that keep exactly ``round(n q)`` units, and those that keep one unit.

    Parameters
    ----------
    n_units : int
        Droppable units in the layer, 1 to 10**6.
    keep_prob : float
        Probability a unit is kept, in (0, 1].

    Returns
    -------
    ExactCountShare

    Notes
    -----
    Counting and probability differ. Of the ``2**n`` masks, ``C(n, k)`` keep
    exactly ``k`` units; at ``k = n/2`` Stirling's formula gives
    ``C(n, n/2) / 2**n ~ sqrt(2 / (pi n))``, a small share (4.6 % at n = 300)
    that looks "almost all" only in decimal digits. Likewise one unit is kept by
    exactly half of the masks whatever ``q`` is; ``q`` is the probability mass
    of that half, since a mask keeping ``k`` units has probability
    ``q**k (1 - q)**(n - k)``.
    """
    from scipy.stats import binom

    from .maths import log10_binomial

    n = check_count(n_units, "n_units", low=1, high=1_000_000)
    q = check_probability(keep_prob, "keep_prob")
    k = round(n * q)
    log10_masks = n * float(np.log10(2.0))
    log10_exact = float(log10_binomial(n, k))
    return ExactCountShare(
        n_units=n,
        keep_prob=q,
        n_kept=k,
        log10_masks=log10_masks,
        log10_exact=log10_exact,
        share=float(10.0 ** (log10_exact - log10_masks)),
        share_approx=float(np.sqrt(2.0 / (np.pi * n))),
        probability=float(binom.pmf(k, n, q)),
        unit_share=0.5,
        unit_probability=q,
    )
