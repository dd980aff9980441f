"""The teaching training loop: per-example masks, a plain SGD and Adam step, ``train_loop``.

Read it after :mod:`dropout_figs.lab.mlp` (the network, forward and backward).
:func:`dropout_figs.lab.train` runs the same steps in the fast stacked engine
(:mod:`dropout_figs.lab.engine`), which draws its masks with the functions here,
and the tests check that both give the same numbers.

NumPy only: importing this module never imports matplotlib or scipy.
"""

from __future__ import annotations

import numpy as np

from .mlp import forward, loss_and_grads, softmax_xent_forward, weight_scaled

__all__ = [
    "ADAM_BETA1",
    "ADAM_BETA2",
    "ADAM_EPS",
    "MASK_LEVELS",
    "adam_step",
    "epoch_masks",
    "evaluate",
    "keep_threshold",
    "mask_columns",
    "optimizer_state",
    "sgd_step",
    "train_loop",
]

# =========================================================================== masks
# Masks come from 16-bit integers: a unit is kept when its integer is at most
# keep_threshold(keep_prob), so the keep probability is exact to 1 / 65536.
MASK_LEVELS = 1 << 16


def keep_threshold(keep_prob: float) -> int:
    """The uint16 ``t`` with P(bits <= t) = (t + 1) / 65536 closest to ``keep_prob``."""
    return min(max(round(keep_prob * MASK_LEVELS) - 1, 0), MASK_LEVELS - 1)


def mask_columns(layer_sizes, keep_prob, input_keep_prob) -> tuple[int, int]:
    """Columns ``lo:hi`` of an epoch's mask bits that are drawn (``hi <= lo``: none).

    Column layout: the inputs, then every hidden layer in turn; only the layers
    with dropout are drawn, so a run without dropout draws nothing.
    """
    n_in, *hidden, _ = layer_sizes
    lo = 0 if input_keep_prob < 1 else n_in
    hi = n_in + sum(hidden) if keep_prob < 1 else n_in
    return lo, hi


def epoch_masks(rng, n, layer_sizes, *, keep_prob, input_keep_prob):
    """One epoch's masks, a row per example position: ``(input_mask, hidden_masks)``.

    Drawn from ``rng`` as ``n x (hi - lo)`` uint16 integers (:func:`mask_columns`).
    Each part is None when that kind of dropout is off (keep probability 1).
    """
    n_in, *hidden, _ = layer_sizes
    lo, hi = mask_columns(layer_sizes, keep_prob, input_keep_prob)
    if hi <= lo:
        return None, None
    thresholds = [keep_threshold(input_keep_prob), keep_threshold(keep_prob)]
    threshold = np.repeat(thresholds, [n_in, sum(hidden)])[lo:hi]
    bits = rng.integers(0, MASK_LEVELS, size=(n, hi - lo), dtype=np.uint16)
    keep = np.ones((n, n_in + sum(hidden)), dtype=bool)
    keep[:, lo:hi] = bits <= threshold
    input_mask = keep[:, :n_in] if input_keep_prob < 1 else None
    hidden_masks = np.split(keep, np.cumsum([n_in, *hidden]), axis=1)[1:-1]
    return input_mask, hidden_masks if keep_prob < 1 and hidden else None


# =========================================================================== optimisers
def _arrays(pairs):
    return [a for pair in pairs for a in pair]


def sgd_step(params, grads, velocity, *, lr, momentum):
    """SGD with heavy-ball momentum, in place: ``v = momentum v + g``, then ``p -= lr v``."""
    for p, g, v in zip(_arrays(params), _arrays(grads), velocity, strict=True):
        v *= momentum
        v += g
        p -= lr * v


# Adam's constants, as in Kingma and Ba (2015) and PyTorch's defaults.
ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8


def adam_step(params, grads, state, *, lr, t):
    """Adam with PyTorch's formula, in place; ``t`` counts the steps from 1.

    ``state`` holds the running means of g and g**2, ``{"m": [...], "v": [...]}``,
    zeros like the parameters at the start (:func:`optimizer_state`).
    """
    bc1, bc2 = 1.0 - ADAM_BETA1**t, 1.0 - ADAM_BETA2**t  # bias corrections
    for p, g, m, v in zip(_arrays(params), _arrays(grads), state["m"], state["v"], strict=True):
        m += (1.0 - ADAM_BETA1) * (g - m)
        v += (1.0 - ADAM_BETA2) * (g * g - v)
        p -= lr / bc1 * m / (np.sqrt(v) / np.sqrt(bc2) + ADAM_EPS)


def optimizer_state(params, optimizer):
    """Zero state for :func:`adam_step` (``"adam"``) or :func:`sgd_step` (``"sgd"``)."""
    zeros = [np.zeros_like(a) for a in _arrays(params)]
    return {"m": zeros, "v": [z.copy() for z in zeros]} if optimizer == "adam" else zeros


def _max_norm(params, radius):
    """Rescale each unit's incoming weight vector (a column of W) to norm <= radius."""
    for W, _ in params:
        W *= np.minimum(radius / np.maximum(np.sqrt(np.sum(W * W, axis=0)), 1e-300), 1.0)


# =========================================================================== the loop
def evaluate(params, x, y, *, config):
    """Eval-mode ``(loss, accuracy)`` of ``params`` trained with ``config`` on ``(x, y)``."""
    if config.scheme == "classic":
        params = weight_scaled(params, config.keep_prob, input_keep_prob=config.input_keep_prob)
    loss, probs = softmax_xent_forward(forward(params, x), y)
    return loss, float(np.mean(probs.argmax(axis=1) == y))


def train_loop(params, data, config, *, order_rng, mask_rng):
    """Train a copy of ``params`` on ``data`` as ``config`` says; return ``(params, history)``.

    ``history`` has the keys of ``TrainResult.history``, one value per epoch.
    """
    c, params = config, [(W.copy(), b.copy()) for W, b in params]
    sizes = [params[0][0].shape[0]] + [W.shape[1] for W, _ in params]
    n, batch = data.n_train, min(c.batch_size, data.n_train)
    state, step = optimizer_state(params, c.optimizer), 0
    history = {"train_loss_dropout": []}
    for _ in range(c.epochs):
        order = order_rng.permutation(n)  # a new shuffle every epoch, one mask per example
        in_masks, masks = epoch_masks(
            mask_rng, n, sizes, keep_prob=c.keep_prob, input_keep_prob=c.input_keep_prob
        )
        total = 0.0
        for lo in range(0, n, batch):
            rows, at = order[lo : lo + batch], slice(lo, lo + batch)
            loss, grads = loss_and_grads(
                params, data.x_train[rows], data.y_train[rows],
                keep_masks=None if masks is None else [m[at] for m in masks],
                input_mask=None if in_masks is None else in_masks[at],
                keep_prob=c.keep_prob, input_keep_prob=c.input_keep_prob, scheme=c.scheme,
            )  # fmt: skip
            total += loss * len(rows)
            if c.l2:  # the gradient of l2 / 2 * sum(W**2): weights, not biases
                grads = [(dW + c.l2 * W, db) for (W, _), (dW, db) in zip(params, grads)]  # noqa: B905
            step += 1
            if c.optimizer == "adam":
                adam_step(params, grads, state, lr=c.lr, t=step)
            else:
                sgd_step(params, grads, state, lr=c.lr, momentum=c.momentum)
            if c.max_norm is not None:
                _max_norm(params, c.max_norm)
        history["train_loss_dropout"].append(total / n)
        for split in ("train", "val"):
            x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
            loss, acc = evaluate(params, x, y, config=c)
            history.setdefault(f"{split}_loss", []).append(loss)
            history.setdefault(f"{split}_acc", []).append(acc)
    history = {k: np.array(v) for k, v in history.items()}
    if data.n_test:  # the held-out test set, once at the end (NaN for the epochs before)
        loss, acc = evaluate(params, data.x_test, data.y_test, config=c)
        for key, value in (("test_loss", loss), ("test_acc", acc)):
            history[key] = np.full(c.epochs, np.nan)
            history[key][-1] = value
    return params, history
