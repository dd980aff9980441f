"""The teaching MLP: gradients against finite differences, eval mode, MC dropout, schemes."""

from __future__ import annotations

import numpy as np
import pytest

from dropout_figs import mlp
from dropout_figs._validate import DropoutFigsError

SIZES = (2, 6, 5, 3)  # two hidden layers, three classes: nothing special-cased for 2


@pytest.fixture
def net():
    rng = np.random.default_rng(7)
    params = mlp.init_params(SIZES, rng=rng)
    # non-zero biases so their gradients are tested too
    params = [(W, rng.normal(0, 0.1, b.shape)) for W, b in params]
    x = rng.standard_normal((9, 2))
    y = rng.integers(0, 3, 9)
    masks = [rng.random((9, w)) < 0.6 for w in SIZES[1:-1]]
    input_mask = rng.random((9, 2)) < 0.8
    return params, x, y, masks, input_mask


def test_init_params_shapes_and_he_scale():
    params = mlp.init_params((2, 400, 300, 2), rng=np.random.default_rng(0))
    assert [W.shape for W, _ in params] == [(2, 400), (400, 300), (300, 2)]
    assert all(W.dtype == np.float64 and not b.any() for W, b in params)
    # He: Var(W) = 2 / fan_in
    assert params[1][0].var() == pytest.approx(2 / 400, rel=0.05)


def _numeric_grads(f, params, eps=1e-6):
    grads = []
    for W, b in params:
        pair = []
        for a in (W, b):
            g = np.zeros_like(a)
            for idx in np.ndindex(a.shape):
                old = a[idx]
                a[idx] = old + eps
                up = f()
                a[idx] = old - eps
                down = f()
                a[idx] = old
                g[idx] = (up - down) / (2 * eps)
            pair.append(g)
        grads.append(tuple(pair))
    return grads


def _rel_err(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-12)


@pytest.mark.parametrize(
    ("keep_prob", "use_masks", "use_input", "scheme"),
    [
        (1.0, False, False, "inverted"),
        (0.6, True, False, "inverted"),
        (0.6, True, True, "inverted"),
        (0.6, True, True, "classic"),
    ],
)
def test_gradients_match_central_differences(net, keep_prob, use_masks, use_input, scheme):
    params, x, y, masks, input_mask = net
    kwargs = {
        "keep_masks": masks if use_masks else None,
        "keep_prob": keep_prob,
        "input_mask": input_mask if use_input else None,
        "input_keep_prob": 0.8,
        "scheme": scheme,
    }
    loss, grads = mlp.loss_and_grads(params, x, y, **kwargs)
    numeric = _numeric_grads(lambda: mlp.loss_and_grads(params, x, y, **kwargs)[0], params)
    assert np.isfinite(loss)
    for (dW, db), (nW, nb) in zip(grads, numeric, strict=True):
        assert _rel_err(dW, nW) < 1e-6
        assert _rel_err(db, nb) < 1e-6


def test_loss_matches_forward(net):
    params, x, y, masks, _ = net
    loss, _ = mlp.loss_and_grads(params, x, y, keep_masks=masks, keep_prob=0.6)
    p = mlp.softmax(mlp.forward(params, x, keep_masks=masks, keep_prob=0.6))
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(len(y)), y])))


def test_inverted_dropout_scales_kept_units(net):
    params, x, _, _, _ = net
    ones = np.ones((len(x), SIZES[1]), dtype=bool)
    # all units kept, scaled by 1/keep_prob: the first hidden layer doubles
    h_eval = mlp.hidden_activations(params, x)[0]
    W, b = params[0]
    h = mlp.relu_forward(mlp.affine_forward(x, W, b))
    np.testing.assert_allclose(mlp.dropout_forward(h, ones, keep_prob=0.5), 2 * h_eval)
    # the classic scheme does not scale in training
    np.testing.assert_array_equal(
        mlp.dropout_forward(h, ones, keep_prob=0.5, scheme="classic"), h_eval
    )


def test_relu_and_dropout_are_separate_steps_with_their_gradients():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((4, 5))
    mask = rng.random((4, 5)) < 0.5
    da = rng.standard_normal((4, 5))
    np.testing.assert_array_equal(mlp.relu_forward(z), np.where(z > 0, z, 0.0))
    np.testing.assert_array_equal(mlp.relu_backward(da, z), np.where(z > 0, da, 0.0))
    a = mlp.dropout_forward(z, mask, keep_prob=0.25)
    np.testing.assert_allclose(a, np.where(mask, 4 * z, 0.0))
    np.testing.assert_allclose(
        mlp.dropout_backward(da, mask, keep_prob=0.25), np.where(mask, 4 * da, 0.0)
    )
    np.testing.assert_array_equal(
        mlp.dropout_backward(da, mask, keep_prob=0.25, scheme="classic"), np.where(mask, da, 0.0)
    )
    assert mlp.dropout_forward(z, None, keep_prob=0.25) is z  # eval mode: nothing changes


def test_softmax_xent_backward_is_the_gradient_of_forward():
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((6, 3)) * 3
    y = rng.integers(0, 3, 6)
    loss, probs = mlp.softmax_xent_forward(logits, y)
    assert loss == pytest.approx(mlp.mean_log_loss(mlp.softmax(logits), y), rel=1e-12)
    grad = mlp.softmax_xent_backward(probs, y)
    eps = 1e-6
    for idx in np.ndindex(logits.shape):
        up, down = logits.copy(), logits.copy()
        up[idx] += eps
        down[idx] -= eps
        numeric = (mlp.softmax_xent_forward(up, y)[0] - mlp.softmax_xent_forward(down, y)[0]) / (
            2 * eps
        )
        assert grad[idx] == pytest.approx(numeric, abs=1e-8)
    # confident and wrong: finite, about the logit gap
    assert mlp.softmax_xent_forward(np.array([[800.0, -800.0]]), np.array([1]))[0] == (
        pytest.approx(1600.0)
    )


def test_eval_mode_is_deterministic_and_normalised(net):
    params, x, _, _, _ = net
    p = mlp.predict_proba(params, x)
    assert p.shape == (len(x), 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(p, mlp.predict_proba(params, x))
    acts = mlp.hidden_activations(params, x)
    assert [a.shape for a in acts] == [(9, 6), (9, 5)]
    assert all((a >= 0).all() for a in acts)


def test_mc_dropout_keep_prob_one_is_eval_mode(net):
    params, x, _, _, _ = net
    mean, std = mlp.mc_predict_proba(
        params, x, keep_prob=1.0, n_samples=5, rng=np.random.default_rng(0)
    )
    np.testing.assert_allclose(mean, mlp.predict_proba(params, x))
    np.testing.assert_allclose(std, 0.0, atol=1e-7)  # sqrt of rounding noise


def test_mc_dropout_spreads_and_is_seeded(net):
    params, x, _, _, _ = net
    a = mlp.mc_predict_proba(params, x, keep_prob=0.5, n_samples=50, rng=np.random.default_rng(1))
    b = mlp.mc_predict_proba(params, x, keep_prob=0.5, n_samples=50, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1].max() > 0.01
    np.testing.assert_allclose(a[0].sum(axis=1), 1.0)


def test_weight_scaling_is_the_expectation_for_one_hidden_layer():
    # With one hidden layer the logits are linear in the mask, so the classic
    # scheme's expected logits equal those of the weight-scaled net exactly.
    rng = np.random.default_rng(3)
    params = mlp.init_params((2, 8, 2), rng=rng)
    x = rng.standard_normal((5, 2))
    q = 0.3
    expected_mask = [np.full((5, 8), q)]
    classic_mean = mlp.forward(params, x, keep_masks=expected_mask, keep_prob=q, scheme="classic")
    scaled = mlp.forward(mlp.weight_scaled(params, q), x)
    np.testing.assert_allclose(classic_mean, scaled)
    # and inverted dropout needs no scaling at test time: its expectation is the eval net
    inverted_mean = mlp.forward(params, x, keep_masks=expected_mask, keep_prob=q)
    np.testing.assert_allclose(inverted_mean, mlp.forward(params, x))


def test_weight_scaled_leaves_input_layer_and_biases(net):
    params = net[0]
    scaled = mlp.weight_scaled(params, 0.5)
    np.testing.assert_array_equal(scaled[0][0], params[0][0])
    np.testing.assert_array_equal(scaled[1][0], 0.5 * params[1][0])
    np.testing.assert_array_equal(scaled[2][1], params[2][1])
    assert scaled[1][0] is not params[1][0]


def test_bad_input_names_the_parameter(net):
    params, x, _y, masks, _ = net
    with pytest.raises(DropoutFigsError, match="keep_masks"):
        mlp.forward(params, x, keep_masks=masks[:1], keep_prob=0.5)
    with pytest.raises(DropoutFigsError, match=r"keep_masks\[1\]"):
        mlp.forward(params, x, keep_masks=[masks[0], masks[0]], keep_prob=0.5)
    with pytest.raises(DropoutFigsError, match="keep_prob"):
        mlp.forward(params, x, keep_masks=masks, keep_prob=0.0)
    with pytest.raises(DropoutFigsError, match="scheme"):
        mlp.forward(params, x, scheme="paper")
    with pytest.raises(DropoutFigsError, match="layer_sizes"):
        mlp.init_params((2,), rng=np.random.default_rng(0))
    with pytest.raises(DropoutFigsError, match="rng"):
        mlp.init_params((2, 3), rng=0)
