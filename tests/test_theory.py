"""The theory page's numerical checks: adaptive L2 and the geometric-mean view."""

import numpy as np
import pytest

from dropout_figs._validate import DropoutFigsError
from dropout_figs.theory import linear_dropout_expected_loss, softmax_geometric_mean_check


@pytest.mark.parametrize("keep_prob", [0.3, 0.5, 0.8])
def test_monte_carlo_matches_the_closed_form(keep_prob):
    r = linear_dropout_expected_loss(keep_prob=keep_prob, n_masks=20_000, rng=1)
    # 5 standard errors: a false alarm is a one-in-a-million event.
    assert abs(r.monte_carlo - r.closed_form) < 5 * r.monte_carlo_se
    assert r.closed_form == pytest.approx(r.data_term + r.penalty)


def test_closed_form_by_hand_on_a_tiny_problem():
    # One row, two features: E||y - (r*x).w||^2 can be enumerated over 4 masks.
    X = np.array([[1.0, 2.0]])
    y = np.array([3.0])
    w = np.array([0.5, -1.0])
    q = 0.6
    exact = 0.0
    for r1 in (0, 1):
        for r2 in (0, 1):
            prob = (q if r1 else 1 - q) * (q if r2 else 1 - q)
            exact += prob * (y[0] - (r1 * 1.0 * 0.5 + r2 * 2.0 * -1.0)) ** 2
    r = linear_dropout_expected_loss(X, y, w, keep_prob=q, n_masks=10, rng=0)
    assert r.closed_form == pytest.approx(exact)


def test_penalty_vanishes_without_dropout():
    r = linear_dropout_expected_loss(keep_prob=1.0, n_masks=100, rng=0)
    assert r.penalty == 0.0
    assert r.monte_carlo == pytest.approx(r.closed_form)


def test_same_rng_same_numbers():
    a = linear_dropout_expected_loss(keep_prob=0.5, n_masks=500, rng=7)
    b = linear_dropout_expected_loss(keep_prob=0.5, n_masks=500, rng=np.random.default_rng(7))
    assert a == b


@pytest.mark.parametrize("keep_prob", [0.2, 0.5, 0.9])
def test_geometric_mean_equals_weight_scaling(keep_prob):
    g = softmax_geometric_mean_check(n_inputs=8, n_classes=4, keep_prob=keep_prob, rng=3)
    assert g.n_subnetworks == 256
    assert g.max_abs_diff_geometric < 1e-12
    assert sum(g.geometric_mean) == pytest.approx(1.0)


def test_arithmetic_mean_differs_from_weight_scaling():
    g = softmax_geometric_mean_check(n_inputs=10, keep_prob=0.5, weight_scale=3.0, rng=0)
    assert g.max_abs_diff_arithmetic > 1e-3
    assert sum(g.arithmetic_mean) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"keep_prob": 0.0}, "keep_prob"),
        ({"keep_prob": float("nan")}, "keep_prob"),
        ({"n_masks": 1}, "n_masks"),
        ({"rng": "seed"}, "rng"),
        ({"X": np.ones((2, 2))}, "X, y and w"),
    ],
)
def test_linear_check_rejects_bad_input(kwargs, match):
    with pytest.raises(DropoutFigsError, match=match):
        linear_dropout_expected_loss(**kwargs)


def test_linear_check_rejects_mismatched_shapes():
    with pytest.raises(DropoutFigsError, match="shape"):
        linear_dropout_expected_loss(np.ones((3, 2)), np.ones(2), np.ones(2))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_inputs": 17}, "n_inputs"), ({"n_classes": 1}, "n_classes"), ({"weight_scale": 0}, "w")],
)
def test_geometric_check_rejects_bad_input(kwargs, match):
    with pytest.raises(DropoutFigsError, match=match):
        softmax_geometric_mean_check(**kwargs)
