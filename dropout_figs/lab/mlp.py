"""A small multilayer perceptron with dropout, in plain NumPy, with hand-written backprop.

This is the teaching core: read it top to bottom. Each building block has its
forward pass and its backward pass (the local gradient) side by side, as in
micrograd. The training lab (:mod:`dropout_figs.lab`) runs the same maths on
many models at once with preallocated buffers; its tests check it against the
functions here.

The network::

    h_0 = x * input_mask / input_keep_prob            (optional input dropout)
    z_l = h_{l-1} W_l + b_l                            (affine)
    h_l = relu(z_l) * mask_l / keep_prob               (inverted dropout, hidden layers)
    logits = h_L W_out + b_out                         (no dropout on the output)
    loss = mean over examples of -log softmax(logits)[y]

A mask is drawn per example: ``mask_l`` has shape ``(batch, width)``.
Parameters are a list of ``(W, b)`` pairs, ``W`` of shape ``(fan_in, fan_out)``.

Two schemes (``scheme=``):

``"inverted"`` (the default, what PyTorch and Keras do)
    scale kept units by ``1 / keep_prob`` while training; use the weights
    unchanged at test time.
``"classic"`` (the 2014 paper)
    do not scale while training; at test time multiply the weights leaving a
    dropped layer by ``keep_prob`` (:func:`weight_scaled`).

NumPy only: importing this module never imports matplotlib or scipy.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from .._validate import DropoutFigsError, check_count, check_probability

__all__ = [
    "affine_backward",
    "affine_forward",
    "forward",
    "hidden_activations",
    "init_params",
    "loss_and_grads",
    "mc_predict_proba",
    "predict_proba",
    "relu_dropout_backward",
    "relu_dropout_forward",
    "sample_masks",
    "softmax",
    "softmax_xent_backward",
    "softmax_xent_forward",
    "weight_scaled",
]

Params = list[tuple[np.ndarray, np.ndarray]]
SCHEMES = ("inverted", "classic")


# =========================================================================== parameters
def init_params(layer_sizes: Sequence[int], *, rng: np.random.Generator) -> Params:
    """He-initialised weights and zero biases.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_inputs, width_1, ..., width_L, n_classes)``, at least two entries.
    rng : numpy.random.Generator

    Returns
    -------
    list of (W, b)
        ``W`` of shape ``(fan_in, fan_out)`` drawn from N(0, 2 / fan_in) (He et
        al., 2015, suited to ReLU), ``b`` zeros of shape ``(fan_out,)``; float64.
    """
    sizes = [check_count(s, "layer_sizes entry", low=1, high=100_000) for s in layer_sizes]
    if len(sizes) < 2:
        raise DropoutFigsError(
            f"layer_sizes needs at least 2 entries (inputs and outputs); got {list(layer_sizes)}"
        )
    if not isinstance(rng, np.random.Generator):
        raise DropoutFigsError(f"rng must be a numpy.random.Generator; got {rng!r}")
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        W = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        params.append((W, np.zeros(fan_out)))
    return params


# =========================================================================== building blocks
# ---- affine: z = h W + b ---------------------------------------------------------------
def affine_forward(h, W, b):
    """``z = h @ W + b`` for a batch ``h`` of shape (n, fan_in)."""
    return h @ W + b


def affine_backward(dz, h, W):
    """Given dL/dz, return ``(dL/dh, dL/dW, dL/db)``.

    z = h W + b, so dL/dh = dz W^T, dL/dW = h^T dz and dL/db = sum over the batch of dz.
    """
    return dz @ W.T, h.T @ dz, dz.sum(axis=0)


# ---- ReLU followed by dropout, folded into one factor ------------------------------------
def relu_dropout_forward(z, mask=None, scale=1.0):
    """``a = relu(z) * mask * scale``, returned with the factor ``a / z``.

    The factor is ``[z > 0] * mask * scale`` (``scale = 1 / keep_prob`` for
    inverted dropout, 1 for the classic scheme); ``mask=None`` keeps every unit.
    Keeping the factor is all the backward pass needs.
    """
    factor = (z > 0).astype(z.dtype)
    if mask is not None:
        factor *= mask
        factor *= scale
    return z * factor, factor


def relu_dropout_backward(da, factor):
    """a = z * factor with factor constant almost everywhere, so dL/dz = dL/da * factor."""
    return da * factor


# ---- softmax cross-entropy ---------------------------------------------------------------
def softmax(logits):
    """Row-wise softmax, shifted by the row maximum so ``exp`` cannot overflow."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_xent_forward(logits, y):
    """Mean cross-entropy of ``softmax(logits)`` against integer labels ``y``.

    Returns ``(loss, probs)``; the loss is computed with log-sum-exp so that it
    stays finite for confident wrong predictions.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1))
    n = len(y)
    loss = float(np.mean(log_z - shifted[np.arange(n), y]))
    return loss, np.exp(shifted - log_z[:, None])


def softmax_xent_backward(probs, y):
    """dL/dlogits = (softmax - one_hot(y)) / n for the mean cross-entropy."""
    n = len(y)
    d = probs.copy()
    d[np.arange(n), y] -= 1.0
    return d / n


# =========================================================================== the network
def _scales(scheme, keep_prob, input_keep_prob):
    if scheme not in SCHEMES:
        raise DropoutFigsError(f"scheme must be 'inverted' or 'classic'; got {scheme!r}")
    keep_prob = check_probability(keep_prob, "keep_prob")
    input_keep_prob = check_probability(input_keep_prob, "input_keep_prob")
    if scheme == "classic":
        return 1.0, 1.0
    return 1.0 / keep_prob, 1.0 / input_keep_prob


def _check_masks(params, x, keep_masks, input_mask):
    n = len(x)
    n_hidden = len(params) - 1
    if keep_masks is not None:
        if len(keep_masks) != n_hidden:
            raise DropoutFigsError(
                f"keep_masks must hold one mask per hidden layer ({n_hidden}); "
                f"got {len(keep_masks)}"
            )
        for i, ((W, _), m) in enumerate(zip(params[:-1], keep_masks, strict=True)):
            if np.shape(m) != (n, W.shape[1]):
                raise DropoutFigsError(
                    f"keep_masks[{i}] must have shape (batch, width) = {(n, W.shape[1])}; "
                    f"got {np.shape(m)}"
                )
    if input_mask is not None and np.shape(input_mask) != np.shape(x):
        raise DropoutFigsError(
            f"input_mask must have the shape of x, {np.shape(x)}; got {np.shape(input_mask)}"
        )


def _forward_cache(params, x, keep_masks, keep_prob, input_mask, input_keep_prob, scheme):
    """Forward pass keeping what backprop needs: the layer inputs and the factors."""
    _check_masks(params, x, keep_masks, input_mask)
    scale, input_scale = _scales(scheme, keep_prob, input_keep_prob)
    h = np.asarray(x, dtype=np.float64)
    if input_mask is not None:
        h = h * input_mask * input_scale
    inputs, factors = [], []
    for i, (W, b) in enumerate(params[:-1]):
        inputs.append(h)
        z = affine_forward(h, W, b)
        mask = None if keep_masks is None else keep_masks[i]
        h, factor = relu_dropout_forward(z, mask, scale)
        factors.append(factor)
    inputs.append(h)
    W, b = params[-1]
    return affine_forward(h, W, b), inputs, factors


def forward(
    params: Params,
    x,
    *,
    keep_masks=None,
    keep_prob: float = 1.0,
    input_mask=None,
    input_keep_prob: float = 1.0,
    scheme: str = "inverted",
) -> np.ndarray:
    """Logits of the network for a batch ``x``.

    Parameters
    ----------
    params : list of (W, b)
    x : ndarray of shape (n, n_inputs)
    keep_masks : list of bool ndarray of shape (n, width), optional
        One mask per hidden layer (True = kept); ``None`` = no dropout (eval mode).
    keep_prob : float, default 1.0
        Probability a hidden unit is kept; the kept units are scaled by
        ``1 / keep_prob`` (inverted scheme).
    input_mask : bool ndarray of shape (n, n_inputs), optional
        Input dropout mask; ``None`` keeps every input.
    input_keep_prob : float, default 1.0
    scheme : {"inverted", "classic"}
        ``"classic"`` applies the masks without scaling.

    Returns
    -------
    ndarray of shape (n, n_classes)
        Dropout is never applied to the output layer.
    """
    logits, _, _ = _forward_cache(
        params, x, keep_masks, keep_prob, input_mask, input_keep_prob, scheme
    )
    return logits


def loss_and_grads(
    params: Params,
    x,
    y,
    *,
    keep_masks,
    keep_prob: float,
    input_mask=None,
    input_keep_prob: float = 1.0,
    scheme: str = "inverted",
) -> tuple[float, Params]:
    """Mean softmax cross-entropy and its gradient for every parameter, under fixed masks.

    Parameters
    ----------
    params : list of (W, b)
    x : ndarray of shape (n, n_inputs)
    y : ndarray of shape (n,), int
    keep_masks : list of bool ndarray of shape (n, width), or None
        One mask per hidden layer; ``None`` means no dropout.
    keep_prob, input_mask, input_keep_prob, scheme
        As in :func:`forward`.

    Returns
    -------
    loss : float
    grads : list of (dW, db)
        Same shapes as ``params``.

    Notes
    -----
    With the masks fixed, the network is a fixed piecewise-linear function, so
    the gradient is exact (a finite-difference check agrees to ~1e-8). Walking
    backward from the loss: dlogits = (softmax - one_hot) / n, then for each
    layer dz = dh * factor and ``affine_backward`` gives dh, dW and db.
    """
    y = np.asarray(y)
    logits, inputs, factors = _forward_cache(
        params, x, keep_masks, keep_prob, input_mask, input_keep_prob, scheme
    )
    loss, probs = softmax_xent_forward(logits, y)
    dz = softmax_xent_backward(probs, y)
    grads = []
    for i in range(len(params) - 1, -1, -1):
        W, _ = params[i]
        dh, dW, db = affine_backward(dz, inputs[i], W)
        grads.append((dW, db))
        if i > 0:
            dz = relu_dropout_backward(dh, factors[i - 1])
    return loss, grads[::-1]


# =========================================================================== inference
def predict_proba(params: Params, x) -> np.ndarray:
    """Class probabilities in eval mode: no masks, no scaling, deterministic.

    Returns an ndarray of shape (n, n_classes). For a net trained with the
    classic scheme, pass ``weight_scaled(params, keep_prob)``.
    """
    return softmax(forward(params, x))


def hidden_activations(params: Params, x) -> list[np.ndarray]:
    """Eval-mode activations ``relu(z_l)`` of every hidden layer: a list of (n, width)."""
    h = np.asarray(x, dtype=np.float64)
    out = []
    for W, b in params[:-1]:
        h = np.maximum(affine_forward(h, W, b), 0.0)
        out.append(h)
    return out


def sample_masks(params: Params, n: int, *, keep_prob: float, rng: np.random.Generator):
    """One Bernoulli(keep_prob) bool mask of shape (n, width) per hidden layer."""
    keep_prob = check_probability(keep_prob, "keep_prob")
    return [rng.random((n, W.shape[1])) < keep_prob for W, _ in params[:-1]]


def mc_predict_proba(
    params: Params, x, *, keep_prob: float, n_samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Monte-Carlo dropout: the mean and spread of the probabilities over random masks.

    Runs ``n_samples`` forward passes, each with fresh per-example masks on the
    hidden layers (inverted scaling, as in training), and returns the mean and
    the standard deviation (over passes, ddof=0) of the class probabilities,
    both of shape (n, n_classes). Gal and Ghahramani (2016) read the spread as
    the model's uncertainty.
    """
    keep_prob = check_probability(keep_prob, "keep_prob")
    n_samples = check_count(n_samples, "n_samples", low=1, high=100_000)
    x = np.asarray(x, dtype=np.float64)
    total = None
    total_sq = None
    for _ in range(n_samples):
        masks = sample_masks(params, len(x), keep_prob=keep_prob, rng=rng)
        p = softmax(forward(params, x, keep_masks=masks, keep_prob=keep_prob))
        if total is None:
            total, total_sq = p, p * p
        else:
            total += p
            total_sq += p * p
    mean = total / n_samples
    var = np.maximum(total_sq / n_samples - mean * mean, 0.0)
    return mean, np.sqrt(var)


def weight_scaled(params: Params, keep_prob: float, *, input_keep_prob: float = 1.0) -> Params:
    """Test-time weights for a net trained with the classic scheme (no scaling in training).

    Every unit of a dropped layer was present with probability ``keep_prob``
    during training, so at test time the weights leaving it are multiplied by
    ``keep_prob``: the expected input to the next layer is then the same as in
    training. The first layer's weights are scaled by ``input_keep_prob``.
    Biases are unchanged. Returns new arrays; ``params`` is not modified.
    """
    keep_prob = check_probability(keep_prob, "keep_prob")
    input_keep_prob = check_probability(input_keep_prob, "input_keep_prob")
    out = []
    for i, (W, b) in enumerate(params):
        factor = input_keep_prob if i == 0 else keep_prob
        out.append((W * factor, b.copy()))
    return out
