"""A small multilayer perceptron with dropout, in plain NumPy, with hand-written backprop.

This is the teaching core: read it top to bottom, then :mod:`.loop` (the
masks, SGD and Adam steps and the training loop). Each building block has its
forward pass and its backward pass (the local gradient) side by side, as in
micrograd, and :func:`loss_and_grads` shows the whole forward and backward
pass. The fast engine (:mod:`.engine`) runs the same maths on many models at
once; its tests check it gives the same numbers.

The network::

    h_0 = x * input_mask / input_keep_prob            (optional input dropout)
    z_l = h_{l-1} W_l + b_l                            (affine)
    a_l = relu(z_l)                                    (ReLU)
    h_l = a_l * mask_l / keep_prob                     (inverted dropout, hidden layers)
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

from .._random import standard_normal
from .._validate import DropoutFigsError, check_count, check_probability

__all__ = [
    "affine_backward",
    "affine_forward",
    "dropout_backward",
    "dropout_forward",
    "dropout_scale",
    "forward",
    "hidden_activations",
    "init_params",
    "loss_and_grads",
    "mc_predict_proba",
    "mean_log_loss",
    "predict_proba",
    "relu_backward",
    "relu_forward",
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
        The normals are Box-Muller draws (:func:`dropout_figs._random.standard_normal`),
        layer by layer in row-major order, so the browser engine starts a run
        from the same seed with the same weights.
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
        W = standard_normal(rng, (fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
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


# ---- ReLU: a = max(z, 0) -------------------------------------------------------------------
def relu_forward(z):
    """``a = max(z, 0)`` elementwise."""
    return np.maximum(z, 0.0)


def relu_backward(da, z):
    """The slope of ReLU is 1 where z > 0 and 0 elsewhere: dL/dz = dL/da * [z > 0]."""
    return da * (z > 0)


# ---- dropout: a = h * mask * scale ---------------------------------------------------------
def _check_scheme(scheme):
    if scheme not in SCHEMES:
        raise DropoutFigsError(f"scheme must be 'inverted' or 'classic'; got {scheme!r}")


def dropout_scale(keep_prob, scheme="inverted"):
    """The factor on kept units in training: ``1 / keep_prob`` (inverted) or 1 (classic)."""
    _check_scheme(scheme)
    return 1.0 / keep_prob if scheme == "inverted" else 1.0


def dropout_forward(h, mask, *, keep_prob, scheme="inverted"):
    """``a = h * mask * scale``: dropped units (mask False) become 0, kept ones are scaled.

    ``mask=None`` keeps every unit unscaled (eval mode). The mask itself is
    what the backward pass needs, so the caller keeps it.
    """
    if mask is None:
        return h
    return h * mask * dropout_scale(keep_prob, scheme)


def dropout_backward(da, mask, *, keep_prob, scheme="inverted"):
    """a = h * mask * scale is linear in h: dL/dh = dL/da * mask * scale."""
    if mask is None:
        return da
    return da * mask * dropout_scale(keep_prob, scheme)


# ---- softmax cross-entropy -------------------------------------------------------------
def softmax(logits):
    """Row-wise softmax, shifted by the row maximum so ``exp`` cannot overflow."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_xent_forward(logits, y):
    """Mean cross-entropy of ``softmax(logits)`` against integer labels ``y``.

    Returns ``(loss, probs)``. This is the package's one softmax cross-entropy
    (the engine's fused version is tested equal to it). The loss is computed
    with log-sum-exp, so it stays finite for confident wrong predictions.
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


def mean_log_loss(probs, y):
    """Mean ``-log probs[y]`` of probabilities that are not one softmax (e.g. an MC average).

    A probability that underflowed to 0 counts as 1e-300 (a loss of about
    691), so the mean stays finite.
    """
    picked = probs[np.arange(len(y)), y]
    return float(-np.mean(np.log(np.maximum(picked, 1e-300))))


# =========================================================================== the network
def _check(params, x, keep_masks, keep_prob, input_mask, input_keep_prob, scheme):
    check_probability(keep_prob, "keep_prob")
    check_probability(input_keep_prob, "input_keep_prob")
    _check_scheme(scheme)
    n, n_hidden = len(x), len(params) - 1
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
    _check(params, x, keep_masks, keep_prob, input_mask, input_keep_prob, scheme)
    masks = keep_masks if keep_masks is not None else [None] * (len(params) - 1)
    h = np.asarray(x, dtype=np.float64)
    h = dropout_forward(h, input_mask, keep_prob=input_keep_prob, scheme=scheme)
    for (W, b), mask in zip(params[:-1], masks, strict=True):
        h = dropout_forward(
            relu_forward(affine_forward(h, W, b)), mask, keep_prob=keep_prob, scheme=scheme
        )
    return affine_forward(h, *params[-1])


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
    the gradient is exact (a finite-difference check agrees to ~1e-8).
    """
    _check(params, x, keep_masks, keep_prob, input_mask, input_keep_prob, scheme)
    y = np.asarray(y)
    masks = keep_masks if keep_masks is not None else [None] * (len(params) - 1)
    drop = {"keep_prob": keep_prob, "scheme": scheme}

    # forward, keeping what the backward pass needs: each layer's input h and its z
    h = dropout_forward(
        np.asarray(x, dtype=np.float64), input_mask, keep_prob=input_keep_prob, scheme=scheme
    )
    hs, zs = [], []
    for (W, b), mask in zip(params[:-1], masks, strict=True):
        hs.append(h)
        z = affine_forward(h, W, b)
        zs.append(z)
        h = dropout_forward(relu_forward(z), mask, **drop)
    hs.append(h)
    logits = affine_forward(h, *params[-1])
    loss, probs = softmax_xent_forward(logits, y)

    # backward, from the loss to the first layer
    dz = softmax_xent_backward(probs, y)
    grads = []
    for i in range(len(params) - 1, -1, -1):
        dh, dW, db = affine_backward(dz, hs[i], params[i][0])
        grads.append((dW, db))
        if i > 0:
            dz = relu_backward(dropout_backward(dh, masks[i - 1], **drop), zs[i - 1])
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
