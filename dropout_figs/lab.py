"""The training lab: train small MLPs with and without dropout on toy data, fast.

:func:`train` trains one network; :func:`compare` trains the same network
without and with dropout from the same initial weights, data and batch order;
:func:`train_many` trains many small networks at once (a keep-probability
sweep over several seeds) and :data:`PRESETS` are tuned starting points.

The maths is :mod:`dropout_figs.mlp`; this module runs the same maths (the
tests check the gradients agree) on a stack of M same-shaped models in
lock-step. For the small networks of the presets the time goes into Python's
per-call overhead, not arithmetic, so:

* the weights of all M models sit in one ``(M, P)`` buffer (as do the
  gradients and the optimiser's state), so an Adam step is a dozen ufunc calls
  whatever the depth; layer ``l`` is the block ``[W; b]``, viewed for all
  models as ``(M, fan_in + 1, fan_out)``, and every layer input carries a
  column of ones, so one batched ``np.matmul(..., out=...)`` is the affine map
  and one more gives ``[dW; db]``;
* activations are preallocated once per batch size;
* masks are drawn once per epoch as uint16 integers (one mask per example)
  and thresholded into factors ``mask / keep_prob``; ReLU and mask fold into
  one factor that the backward pass reuses;
* BLAS runs one thread per training thread; :func:`train_many` splits big
  stacks over two threads (NumPy releases the GIL inside its loops), or, with
  ``processes=True``, deals a big job's stacks to two processes (at these
  sizes threads spend much of their time queueing for the GIL; processes
  do not: the site's 45-model keep-probability sweep runs about 1.5x faster
  on two cores than on one, the moons preset's 1.7x).

At width 128 and up the matrix products dominate (they run near the core's
peak already), so stacking helps less there; the threads still do.

Reproducibility: every model draws from its own three streams spawned from
its generator (initial weights, batch order, masks), so a model gives the same
result (to floating-point rounding, in practice bit for bit) whether trained
alone by :func:`train` or inside a stack by :func:`train_many`.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from . import mlp
from ._validate import DropoutFigsError, check_count, check_finite, check_probability
from .data import Dataset, as_rng, make_dataset
from .mlp import _one_blas_thread

__all__ = [
    "OPTIMIZERS",
    "PRESETS",
    "SCHEMES",
    "Preset",
    "TrainConfig",
    "TrainResult",
    "compare",
    "get_preset",
    "preset_data",
    "sweep_dataset_size",
    "sweep_keep_prob",
    "train",
    "train_many",
]

OPTIMIZERS = ("adam", "sgd")
SCHEMES = mlp.SCHEMES
HISTORY_KEYS = ("train_loss", "val_loss", "train_acc", "val_acc", "train_loss_dropout")

# Adam's constants, as in Kingma and Ba (2015) and PyTorch's defaults.
_BETA1, _BETA2, _EPS = 0.9, 0.999, 1e-8
# Masks come from 16-bit integers: a unit is kept when its integer is below
# round(keep_prob * 2**16), so the keep probability is exact to 1 / 65536.
_MASK_LEVELS = 1 << 16
# At most this many parameters (all models together) in one stack of train_many
# (measured: width 128 is best around 4-8 models per stack, width 32-64 around 8-30).
_STACK_ELEMENTS = 1 << 17
# A stack is split over threads only if each part has about this many activations
# per layer and step (smaller arrays leave the threads queueing for the GIL).
_THREAD_ELEMENTS = 1 << 15
# train_many hands part of its stacks to worker processes (no GIL to share) when
# the whole job is at least this much work, in units of models x epochs x
# parameters x (3 x training + evaluation examples): about 0.4-0.7 s on one core
# (measured 1.6e9-2.8e9 units/s), against ~0.1 s to start a worker from the
# fork server (~0.25 s the first time).
_PROCESS_WORK = 1e9


# =========================================================================== configuration
@dataclass(frozen=True)
class TrainConfig:
    """How to build and train one network (validated on creation).

    Attributes
    ----------
    hidden_layers : int, default 3
        Number of hidden ReLU layers (0 gives logistic regression).
    width : int, default 64
        Units per hidden layer.
    keep_prob : float, default 1.0
        Probability a hidden unit is kept (1 = no dropout; drop rate = 1 - keep_prob).
    input_keep_prob : float, default 1.0
        Probability an input coordinate is kept.
    epochs : int, default 150
    batch_size : int, default 32
        Mini-batch size (capped at the number of training points).
    optimizer : {"adam", "sgd"}
        ``"sgd"`` uses (heavy-ball) ``momentum``.
    lr : float, default 1e-3
    momentum : float, default 0.9
        SGD only.
    l2 : float, default 0.0
        Adds ``l2 / 2 * sum(W**2)`` (weights, not biases) to the loss; the
        reported losses are the cross-entropy alone.
    max_norm : float or None
        If set, after every update each unit's incoming weight vector is
        rescaled to norm at most ``max_norm`` (Srivastava et al., 2014).
    scheme : {"inverted", "classic"}
        Inverted dropout scales kept units by ``1 / keep_prob`` in training;
        the classic scheme does not, and scales the weights at test time.
    """

    hidden_layers: int = 3
    width: int = 64
    keep_prob: float = 1.0
    input_keep_prob: float = 1.0
    epochs: int = 150
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    l2: float = 0.0
    max_norm: float | None = None
    scheme: str = "inverted"

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        put("hidden_layers", check_count(self.hidden_layers, "hidden_layers", low=0, high=16))
        put("width", check_count(self.width, "width", low=1, high=4096))
        put("keep_prob", check_probability(self.keep_prob, "keep_prob"))
        put("input_keep_prob", check_probability(self.input_keep_prob, "input_keep_prob"))
        put("epochs", check_count(self.epochs, "epochs", low=1, high=100_000))
        put("batch_size", check_count(self.batch_size, "batch_size", low=1, high=1_000_000))
        if self.optimizer not in OPTIMIZERS:
            raise DropoutFigsError(f"optimizer must be 'adam' or 'sgd'; got {self.optimizer!r}")
        put("lr", check_finite(self.lr, "lr", low=0.0, high=10.0, low_open=True))
        put("momentum", check_finite(self.momentum, "momentum", low=0.0, high=1.0, high_open=True))
        put("l2", check_finite(self.l2, "l2", low=0.0, high=100.0))
        if self.max_norm is not None:
            put("max_norm", check_finite(self.max_norm, "max_norm", low=0.0, low_open=True))
        if self.scheme not in SCHEMES:
            raise DropoutFigsError(f"scheme must be 'inverted' or 'classic'; got {self.scheme!r}")

    @property
    def drop_rate(self) -> float:
        """``1 - keep_prob``: the probability a hidden unit is dropped."""
        return 1.0 - self.keep_prob

    @property
    def uses_dropout(self) -> bool:
        return self.keep_prob < 1.0 or self.input_keep_prob < 1.0

    def replace(self, **changes) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def layer_sizes(self, n_inputs: int = 2, n_classes: int = 2) -> tuple[int, ...]:
        return (n_inputs, *([self.width] * self.hidden_layers), n_classes)


@dataclass
class TrainResult:
    """A trained network and its learning curves.

    Attributes
    ----------
    config : TrainConfig
    params : list of (W, b)
        Weights ready for :func:`dropout_figs.mlp.predict_proba` (eval mode). For
        the classic scheme these are already weight-scaled.
    history : dict of str -> ndarray of shape (epochs,)
        Per epoch, in eval mode on the full sets: ``train_loss``, ``val_loss``
        (mean cross-entropy), ``train_acc``, ``val_acc``; and
        ``train_loss_dropout``, the mean of that epoch's mini-batch losses with
        dropout on (what a training loop prints; it sits above the eval-mode
        losses, which is why validation loss can be below it).
    snapshots : dict of int -> list of (W, b)
        Eval-ready weights at the end of the requested epochs (0 = initial).
    init_params : list of (W, b)
        The initial weights.
    seconds : float
        Wall-clock training time (for :func:`train_many`, the stack's time
        divided by the number of models in it).
    raw_params : list of (W, b)
        The weights as trained (differs from ``params`` for the classic scheme).
    cpu_seconds : float
        CPU time of the thread that trained it (for :func:`train_many`, the
        stack's, divided by the number of models in it), wherever it ran:
        summed over results, the CPU a sweep cost, worker processes included.
    """

    config: TrainConfig
    params: list
    history: dict[str, np.ndarray]
    snapshots: dict[int, list] = field(default_factory=dict)
    init_params: list = field(default_factory=list)
    seconds: float = 0.0
    raw_params: list = field(default_factory=list)
    cpu_seconds: float = 0.0

    def metrics(self) -> dict:
        """Final-epoch numbers: train/val loss and accuracy, the gap, epochs, seconds.

        ``gap = val_loss - train_loss`` (eval mode); large and growing = overfitting.
        """
        h = self.history
        out = {k: float(h[k][-1]) for k in ("train_loss", "val_loss", "train_acc", "val_acc")}
        out["gap"] = out["val_loss"] - out["train_loss"]
        out["epochs"] = len(h["train_loss"])
        out["seconds"] = float(self.seconds)
        return out


# =========================================================================== the engine
class _Buffers:
    """Preallocated arrays for a stack of M models on batches of n examples.

    Every layer input carries a trailing column of ones, so that ``[h, 1] @ [W; b]``
    is the affine map in one matmul, and ``[h, 1]^T @ dz`` gives ``[dW; db]`` in one.
    """

    def __init__(self, M, n, sizes, need_masks):
        n_in, *hidden, n_out = sizes
        self.xa = np.ones((M, n, n_in + 1))
        self.x = self.xa[:, :, :n_in]
        self.onehot = np.empty((M, n, n_out))
        self.ha = [np.ones((M, n, w + 1)) for w in hidden]
        self.h = [a[:, :, :-1] for a in self.ha]
        self.factor = [np.empty((M, n, w)) for w in hidden]
        self.dh = [np.empty((M, n, w)) for w in hidden]
        self.positive = [np.empty((M, n, w), dtype=bool) for w in hidden] if need_masks else None
        self.logits = np.empty((M, n, n_out))
        self.probs = np.empty((M, n, n_out))
        self.tmp = np.empty((M, n, n_out))
        self.rowmax = np.empty((M, n, 1))
        self.rowsum = np.empty((M, n, 1))
        self.picked = np.empty((M, n, 1))


class _Stack:
    """M same-shaped MLPs trained in lock-step on their own data, order and masks.

    All per-model hyperparameters (keep_prob, lr, l2, ...) are arrays over the
    model axis, so models in one stack may differ in everything but the layer
    sizes, epochs, batch size, optimizer and data set sizes.

    Layout: model m's parameters are row m of ``theta`` (M, P); layer l is the
    block ``[W_l; b_l]`` of shape (fan_in + 1, fan_out), viewed for all models at
    once as ``Wb[l]`` of shape (M, fan_in + 1, fan_out). The gradients and the
    optimiser's moments have the same layout, so the update is a few ufunc
    calls on (M, P) arrays.
    """

    def __init__(self, configs, datasets, inits, order_rngs, mask_rngs):
        c0 = configs[0]
        self.configs = configs
        self.M = M = len(configs)
        d0 = datasets[0]
        self.sizes = sizes = c0.layer_sizes(d0.x_train.shape[1], d0.n_classes)
        n_in, n_out = sizes[0], sizes[-1]
        self.n_layers = len(sizes) - 1
        self.epochs = c0.epochs
        self.optimizer = c0.optimizer
        self.n_train = n = len(d0.y_train)
        self.n_val = len(d0.y_val)
        self.batch_size = min(c0.batch_size, n)
        self.order_rngs = order_rngs
        self.mask_rngs = mask_rngs

        # ---- data: training rows of all models stacked, with a column of ones,
        # so one np.take gathers a batch for every model
        def aug(x):
            return np.concatenate([x, np.ones((*x.shape[:-1], 1))], axis=-1)

        eye = np.eye(n_out)
        self.x_train = aug(np.concatenate([d.x_train for d in datasets]).astype(np.float64))
        self.onehot_train = eye[np.concatenate([d.y_train for d in datasets])]
        # evaluation: training and validation points in one pass, (M, n + n_val, .)
        self.x_eval = aug(np.stack([np.concatenate([d.x_train, d.x_val]) for d in datasets]))
        self.y_eval = np.stack([np.concatenate([d.y_train, d.y_val]) for d in datasets])
        self.onehot_eval = eye[self.y_eval]
        self.row_offset = (np.arange(M) * n)[:, None]

        # ---- one flat buffer each for parameters, gradients, optimiser state
        shapes = list(itertools.pairwise(sizes))
        self.P = P = sum((i + 1) * o for i, o in shapes)
        self.theta = np.zeros((M, P))
        self.grad = np.zeros((M, P))
        self.tmp = np.empty((M, P))
        self.Wb, self.dWb = [], []
        is_weight = np.zeros(P, dtype=bool)
        off = 0
        for i, o in shapes:
            size = (i + 1) * o
            self.Wb.append(self.theta[:, off : off + size].reshape((M, i + 1, o), copy=False))
            self.dWb.append(self.grad[:, off : off + size].reshape((M, i + 1, o), copy=False))
            is_weight[off : off + i * o] = True
            off += size
        self.W = [Wb[:, :-1, :] for Wb in self.Wb]
        for m, params in enumerate(inits):
            for layer, (W, b) in enumerate(params):
                self.Wb[layer][m, :-1] = W
                self.Wb[layer][m, -1] = b
        if self.optimizer == "adam":
            self.adam_m = np.zeros((M, P))
            self.adam_v = np.zeros((M, P))
        else:
            self.velocity = np.zeros((M, P))
        self.step_count = 0

        # ---- per-model hyperparameters, shaped to broadcast
        def col(values, ndim):
            return np.array(values, dtype=np.float64).reshape((M,) + (1,) * (ndim - 1))

        kp = [c.keep_prob for c in configs]
        ikp = [c.input_keep_prob for c in configs]
        inverted = [c.scheme == "inverted" for c in configs]
        self.hidden_dropout = [k < 1.0 for k in kp]
        self.input_dropout = [k < 1.0 for k in ikp]
        self.any_hidden_dropout = any(self.hidden_dropout) and self.n_layers > 1
        self.any_input_dropout = any(self.input_dropout)
        self.need_masks = self.any_hidden_dropout or self.any_input_dropout
        self.any_classic = not all(inverted)
        self.eval_scale_h = col([1.0 if v else k for k, v in zip(kp, inverted, strict=True)], 3)
        self.eval_scale_in = col([1.0 if v else k for k, v in zip(ikp, inverted, strict=True)], 3)
        self.lr = col([c.lr for c in configs], 2)
        self.momentum = col([c.momentum for c in configs], 2)
        l2 = col([c.l2 for c in configs], 2)
        self.weight_decay = l2 * is_weight if np.any(l2 > 0) else None
        norms = [math.inf if c.max_norm is None else c.max_norm for c in configs]
        self.max_norm = col(norms, 3) if any(math.isfinite(v) for v in norms) else None

        # ---- masks: per epoch, uint16 integers for every example position (one
        # mask per example), turned into factors mask / keep_prob in one pass.
        # Columns: the inputs, then each hidden layer.
        self.hidden_cols = []
        c = n_in
        for w in sizes[1:-1]:
            self.hidden_cols.append((c, c + w))
            c += w
        self.n_mask_cols = c
        if self.need_masks:
            thr = np.empty((M, 1, c), dtype=np.uint16)
            scale = np.empty((M, 1, c))
            for m in range(M):
                thr[m, 0, :n_in] = _threshold(ikp[m])
                thr[m, 0, n_in:] = _threshold(kp[m])
                scale[m, 0, :n_in] = 1.0 / ikp[m] if inverted[m] else 1.0
                scale[m, 0, n_in:] = 1.0 / kp[m] if inverted[m] else 1.0
            self.mask_threshold, self.mask_scale = thr, scale
            self.bits = np.zeros((M, n, c), dtype=np.uint16)
            self.keep = np.empty((M, n, c), dtype=bool)
            self.mask_factor = np.empty((M, n, c))
        self.order = np.empty((M, n), dtype=np.int64)
        self.buffers = {}

    # ------------------------------------------------------------------ helpers
    def _buffers(self, n, need_masks=True):
        key = (n, need_masks)
        if key not in self.buffers:
            self.buffers[key] = _Buffers(self.M, n, self.sizes, need_masks and self.need_masks)
        return self.buffers[key]

    def _draw_epoch(self):
        """Batch order and masks for one epoch, model by model (each its own streams)."""
        n, n_in = self.n_train, self.sizes[0]
        for m in range(self.M):
            self.order[m] = self.order_rngs[m].permutation(n)
            if not self.need_masks:
                continue
            lo = 0 if self.input_dropout[m] else n_in
            hi = self.n_mask_cols if self.hidden_dropout[m] else n_in
            if hi > lo:
                self.bits[m, :, lo:hi] = _uint16_bits(self.mask_rngs[m], (n, hi - lo))
        self.order += self.row_offset
        if self.need_masks:
            # kept iff bits <= threshold; factor = kept / keep_prob (inverted scheme)
            np.less_equal(self.bits, self.mask_threshold, out=self.keep)
            np.multiply(self.keep, self.mask_scale, out=self.mask_factor)

    def masks_of(self, m, lo, hi):
        """Model m's masks (input, [hidden...]) for epoch positions lo:hi, as bools."""
        n_in = self.sizes[0]
        keep = self.bits[m, lo:hi] <= self.mask_threshold[m]
        return keep[:, :n_in], [keep[:, a:b] for a, b in self.hidden_cols]

    # ------------------------------------------------------------------ one step
    def _forward_backward(self, buf, lo, hi):
        """Forward and backward on the batch in ``buf`` (epoch positions lo:hi).

        Gradients go to ``self.grad``. Returns the per-example cross-entropy
        (with dropout on) in ``buf.picked``, shape (M, n, 1).
        """
        L = self.n_layers - 1  # hidden layers
        masks = self.mask_factor[:, lo:hi] if self.need_masks else None
        if self.any_input_dropout:
            np.multiply(buf.x, masks[:, :, : self.sizes[0]], out=buf.x)
        # forward: z = [h, 1] [W; b], then h = z * factor, factor = [z > 0] * mask / keep_prob
        h_prev = buf.xa
        for layer in range(L):
            h, f = buf.h[layer], buf.factor[layer]
            np.matmul(h_prev, self.Wb[layer], out=h)
            if self.any_hidden_dropout:
                a, b = self.hidden_cols[layer]
                np.greater(h, 0.0, out=buf.positive[layer])
                np.multiply(buf.positive[layer], masks[:, :, a:b], out=f)
            else:
                np.greater(h, 0.0, out=f)
            np.multiply(h, f, out=h)
            h_prev = buf.ha[layer]
        logits, probs = buf.logits, buf.probs
        np.matmul(h_prev, self.Wb[L], out=logits)

        # softmax cross-entropy: loss = log sum exp(logits - max) - (logit_y - max)
        _reduce_classes(np.maximum, logits, out=buf.rowmax)
        np.subtract(logits, buf.rowmax, out=probs)
        np.multiply(probs, buf.onehot, out=buf.tmp)
        _reduce_classes(np.add, buf.tmp, out=buf.picked)
        np.exp(probs, out=probs)
        _reduce_classes(np.add, probs, out=buf.rowsum)
        np.divide(probs, buf.rowsum, out=probs)
        np.log(buf.rowsum, out=buf.rowsum)
        np.subtract(buf.rowsum, buf.picked, out=buf.picked)
        # dL/dlogits = (softmax - one_hot) / n
        np.subtract(probs, buf.onehot, out=probs)
        np.multiply(probs, 1.0 / probs.shape[1], out=probs)

        # backward: [dW; db] = [h_prev, 1]^T dz, then dh_prev = dz W^T, dz_prev = dh_prev * factor
        dz = probs
        for layer in range(L, -1, -1):
            h_in = buf.ha[layer - 1] if layer > 0 else buf.xa
            np.matmul(h_in.transpose(0, 2, 1), dz, out=self.dWb[layer])
            if layer > 0:
                dh = buf.dh[layer - 1]
                np.matmul(dz, self.W[layer].transpose(0, 2, 1), out=dh)
                np.multiply(dh, buf.factor[layer - 1], out=dh)
                dz = dh
        return buf.picked

    def _update(self):
        """One optimiser step on the flat buffers (plus L2 and max-norm)."""
        g, theta, tmp = self.grad, self.theta, self.tmp
        if self.weight_decay is not None:
            np.multiply(theta, self.weight_decay, out=tmp)
            np.add(g, tmp, out=g)
        self.step_count += 1
        t = self.step_count
        if self.optimizer == "adam":
            m, v = self.adam_m, self.adam_v
            # m += (1 - beta1) (g - m);  v += (1 - beta2) (g^2 - v)
            np.subtract(g, m, out=tmp)
            np.multiply(tmp, 1.0 - _BETA1, out=tmp)
            np.add(m, tmp, out=m)
            np.multiply(g, g, out=tmp)
            np.subtract(tmp, v, out=tmp)
            np.multiply(tmp, 1.0 - _BETA2, out=tmp)
            np.add(v, tmp, out=v)
            # PyTorch's step, lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps), rearranged
            # as lr sqrt(bc2) / bc1 * m / (sqrt(v) + eps sqrt(bc2))
            root_bc2 = math.sqrt(1.0 - _BETA2**t)
            np.sqrt(v, out=tmp)
            np.add(tmp, _EPS * root_bc2, out=tmp)
            np.divide(m, tmp, out=tmp)
            np.multiply(tmp, self.lr * (root_bc2 / (1.0 - _BETA1**t)), out=tmp)
            np.subtract(theta, tmp, out=theta)
        else:
            vel = self.velocity
            np.multiply(vel, self.momentum, out=vel)
            np.add(vel, g, out=vel)
            np.multiply(vel, self.lr, out=tmp)
            np.subtract(theta, tmp, out=theta)
        if self.max_norm is not None:
            for W in self.W:
                norms = np.sqrt(np.sum(W * W, axis=1, keepdims=True))
                np.maximum(norms, 1e-300, out=norms)
                np.minimum(self.max_norm / norms, 1.0, out=norms)
                np.multiply(W, norms, out=W)

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self):
        """Eval-mode (loss, accuracy) per model on the training and on the validation set."""
        x = self.x_eval
        buf = self._buffers(x.shape[1], need_masks=False)
        h_prev = x
        if self.any_classic:
            np.multiply(x[:, :, :-1], self.eval_scale_in, out=buf.x)
            h_prev = buf.xa
        L = self.n_layers - 1
        for layer in range(L):
            h = buf.h[layer]
            np.matmul(h_prev, self.Wb[layer], out=h)
            np.maximum(h, 0.0, out=h)
            if self.any_classic:
                np.multiply(h, self.eval_scale_h, out=h)
            h_prev = buf.ha[layer]
        logits, probs = buf.logits, buf.probs
        np.matmul(h_prev, self.Wb[L], out=logits)
        _reduce_classes(np.maximum, logits, out=buf.rowmax)
        np.subtract(logits, buf.rowmax, out=probs)
        np.multiply(probs, self.onehot_eval, out=buf.tmp)
        _reduce_classes(np.add, buf.tmp, out=buf.picked)
        # correct iff the true class has the largest logit: logit_y - max == 0 exactly
        correct = (buf.picked == 0.0)[:, :, 0]
        np.exp(probs, out=probs)
        _reduce_classes(np.add, probs, out=buf.rowsum)
        np.log(buf.rowsum, out=buf.rowsum)
        np.subtract(buf.rowsum, buf.picked, out=buf.picked)
        losses = buf.picked[:, :, 0]
        n = self.n_train
        return (
            (losses[:, :n].mean(axis=1), correct[:, :n].mean(axis=1)),
            (losses[:, n:].mean(axis=1), correct[:, n:].mean(axis=1)),
        )

    def params_of(self, m, *, eval_ready=True):
        """Copies of model m's weights as a list of (W, b)."""
        c = self.configs[m]
        out = []
        for layer in range(self.n_layers):
            W = self.Wb[layer][m, :-1].copy()
            if eval_ready and c.scheme == "classic":
                W *= c.input_keep_prob if layer == 0 else c.keep_prob
            out.append((W, self.Wb[layer][m, -1].copy()))
        return out

    # ------------------------------------------------------------------ the loop
    def run(self, snapshot_epochs=(), progress=None):
        with _one_blas_thread():
            return self._run(snapshot_epochs, progress)

    def _run(self, snapshot_epochs, progress):
        M, n, B, E = self.M, self.n_train, self.batch_size, self.epochs
        history = {k: np.empty((M, E)) for k in HISTORY_KEYS}
        snapshots = [{} for _ in range(M)]
        want = set(snapshot_epochs)
        if 0 in want:
            for m in range(M):
                snapshots[m][0] = self.params_of(m)
        batch_losses = np.empty((M, n, 1))
        t0, cpu0 = time.perf_counter(), time.thread_time()
        for epoch in range(E):
            self._draw_epoch()
            for lo in range(0, n, B):
                hi = min(lo + B, n)
                buf = self._buffers(hi - lo)
                idx = self.order[:, lo:hi]
                np.take(self.x_train, idx, axis=0, out=buf.xa)
                np.take(self.onehot_train, idx, axis=0, out=buf.onehot)
                losses = self._forward_backward(buf, lo, hi)
                batch_losses[:, lo:hi] = losses
                self._update()
            history["train_loss_dropout"][:, epoch] = batch_losses.mean(axis=(1, 2))
            (tl, ta), (vl, va) = self._evaluate()
            history["train_loss"][:, epoch] = tl
            history["train_acc"][:, epoch] = ta
            history["val_loss"][:, epoch] = vl
            history["val_acc"][:, epoch] = va
            if epoch + 1 in want:
                for m in range(M):
                    snapshots[m][epoch + 1] = self.params_of(m)
            if progress is not None:
                progress(epoch + 1, E)
        seconds = (time.perf_counter() - t0) / M
        cpu_seconds = (time.thread_time() - cpu0) / M
        return [
            TrainResult(
                config=self.configs[m],
                params=self.params_of(m),
                history={k: v[m].copy() for k, v in history.items()},
                snapshots=snapshots[m],
                init_params=[],
                seconds=seconds,
                raw_params=self.params_of(m, eval_ready=False),
                cpu_seconds=cpu_seconds,
            )
            for m in range(M)
        ]


def _reduce_classes(ufunc, a, *, out):
    """``ufunc.reduce(a, axis=-1, keepdims=True)`` into ``out``, class by class.

    With 2 classes this is one elementwise call; NumPy's reduction over a
    length-2 last axis is several times slower.
    """
    n_classes = a.shape[-1]
    if n_classes == 1:
        np.copyto(out, a)
        return out
    ufunc(a[..., 0:1], a[..., 1:2], out=out)
    for c in range(2, n_classes):
        ufunc(out, a[..., c : c + 1], out=out)
    return out


def _uint16_bits(rng, shape):
    """``rng.integers(0, 2**16, size=shape, dtype=np.uint16)``, same numbers, faster.

    For the full 16-bit range NumPy splits each 32-bit draw into two uint16
    (low half first), and PCG64 splits each 64-bit output into two 32-bit
    draws (low half first): so when no half-used 32-bit draw is pending and
    the count is a multiple of 4, the result is the raw 64-bit outputs read as
    little-endian uint16, and the generator ends in the same state. This skips
    NumPy's per-number buffering loop (about 8 ns a number; the masks were
    ~12% of a stacked sweep). Anything else takes the ordinary call.
    """
    count = math.prod(shape)
    bitgen = rng.bit_generator
    if (
        count % 4 == 0
        and type(bitgen) is np.random.PCG64
        and sys.byteorder == "little"
        and not bitgen.state["has_uint32"]
    ):
        return bitgen.random_raw(count // 4).view(np.uint16).reshape(shape)
    return rng.integers(0, _MASK_LEVELS, size=shape, dtype=np.uint16)


def _threshold(keep_prob: float) -> int:
    """uint16 t with P(bits <= t) = (t + 1) / 65536 closest to keep_prob."""
    return min(max(round(keep_prob * _MASK_LEVELS) - 1, 0), _MASK_LEVELS - 1)


# =========================================================================== public API
def _check_data(data) -> Dataset:
    if not isinstance(data, Dataset):
        raise DropoutFigsError(
            "data must be a dropout_figs.data.Dataset (see make_dataset); "
            f"got {type(data).__name__}"
        )
    return data


def _check_config(config) -> TrainConfig:
    if not isinstance(config, TrainConfig):
        raise DropoutFigsError(f"config must be a TrainConfig; got {type(config).__name__}")
    return config


def _check_init(params, sizes):
    expected = list(itertools.pairwise(sizes))
    ok = isinstance(params, (list, tuple)) and len(params) == len(expected)
    if ok:
        for (W, b), (i, o) in zip(params, expected, strict=True):
            if np.shape(W) != (i, o) or np.shape(b) != (o,):
                ok = False
    if not ok:
        got = [(np.shape(W), np.shape(b)) for W, b in params] if params is not None else None
        raise DropoutFigsError(
            f"init_params must be (W, b) pairs of shapes {[((i, o), (o,)) for i, o in expected]}; "
            f"got {got}"
        )
    return [(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)) for W, b in params]


def _streams(rng):
    """Three independent streams: initial weights, batch order, masks."""
    return as_rng(rng).spawn(3)


def _copy_params(params):
    return [(W.copy(), b.copy()) for W, b in params]


def train(
    config: TrainConfig,
    data: Dataset,
    *,
    rng,
    init_params=None,
    snapshot_epochs: Iterable[int] = (),
    progress: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Train one network with mini-batch gradient descent and (optionally) dropout.

    Parameters
    ----------
    config : TrainConfig
    data : Dataset
        From :func:`dropout_figs.data.make_dataset`.
    rng : numpy.random.Generator
        Three streams are spawned from it: initial weights, batch order, masks.
    init_params : list of (W, b), optional
        Start from these weights instead of a He initialisation.
    snapshot_epochs : iterable of int
        Epochs after which to keep a copy of the weights (0 = the initial ones).
    progress : callable, optional
        Called as ``progress(epoch, n_epochs)`` after every epoch (for a progress bar).

    Returns
    -------
    TrainResult
    """
    config = _check_config(config)
    data = _check_data(data)
    epochs = _check_snapshots(snapshot_epochs, config.epochs)
    init_rng, order_rng, mask_rng = _streams(rng)
    sizes = config.layer_sizes(data.x_train.shape[1], data.n_classes)
    if init_params is None:
        init_params = mlp.init_params(sizes, rng=init_rng)
    else:
        init_params = _check_init(init_params, sizes)
    stack = _Stack([config], [data], [init_params], [order_rng], [mask_rng])
    (result,) = stack.run(epochs, progress)
    result.init_params = _copy_params(init_params)
    return result


def _check_snapshots(snapshot_epochs, n_epochs):
    out = []
    for e in snapshot_epochs:
        out.append(check_count(e, "snapshot_epochs entry", low=0, high=n_epochs))
    return tuple(sorted(set(out)))


def compare(
    config: TrainConfig,
    data: Dataset,
    *,
    rng,
    snapshot_epochs: Iterable[int] = (),
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, TrainResult]:
    """Train the same network without and with dropout, everything else equal.

    Both runs start from the same initial weights and see the same mini-batches
    in the same order; only the dropout masks differ. "without_dropout" uses
    ``keep_prob = input_keep_prob = 1``; "with_dropout" uses ``config``. The two
    networks train together in one stack (about the cost of one run), and each
    equals ``train(its_config, data, rng=rng)`` for a generator in the same state.
    ``snapshot_epochs`` and ``progress`` are as in :func:`train`.

    Returns
    -------
    dict
        ``{"without_dropout": TrainResult, "with_dropout": TrainResult}``.
    """
    config = _check_config(config)
    data = _check_data(data)
    if not config.uses_dropout:
        raise DropoutFigsError(
            "compare needs dropout in config: keep_prob or input_keep_prob below 1 "
            f"(got keep_prob={config.keep_prob:g}, input_keep_prob={config.input_keep_prob:g})"
        )
    epochs = _check_snapshots(snapshot_epochs, config.epochs)
    init_rng, order_rng, mask_rng = _streams(rng)
    without = config.replace(keep_prob=1.0, input_keep_prob=1.0)
    sizes = config.layer_sizes(data.x_train.shape[1], data.n_classes)
    init = mlp.init_params(sizes, rng=init_rng)
    # The same batch order: each run gets an identical copy of the order stream.
    stack = _Stack(
        [without, config],
        [data, data],
        [init, init],
        [copy.deepcopy(order_rng), order_rng],
        [copy.deepcopy(mask_rng), mask_rng],
    )
    res_without, res_with = stack.run(epochs, progress)
    for r in (res_without, res_with):
        r.init_params = _copy_params(init)
        r.seconds *= 2  # both ran in one stack; each took its full share of the time
        r.cpu_seconds *= 2
    return {"without_dropout": res_without, "with_dropout": res_with}


def _group_key(config, data):
    return (
        config.layer_sizes(data.x_train.shape[1], data.n_classes),
        config.epochs,
        min(config.batch_size, len(data.y_train)),
        config.optimizer,
        len(data.y_train),
        len(data.y_val),
    )


def _group_work(entries):
    """Rough single-core cost of training ``entries`` (see _PROCESS_WORK)."""
    config, data = entries[0][1], entries[0][2]
    sizes = config.layer_sizes(data.x_train.shape[1], data.n_classes)
    n_params = sum((i + 1) * o for i, o in itertools.pairwise(sizes))
    n_train, n_val = len(data.y_train), len(data.y_val)
    return len(entries) * config.epochs * n_params * (4 * n_train + n_val)


def _run_chunk(chunk):
    """Train one stack; ``chunk`` holds (slot, config, data, init, order rng, mask rng)."""
    stack = _Stack(
        [e[1] for e in chunk],
        [e[2] for e in chunk],
        [e[3] for e in chunk],
        [e[4] for e in chunk],
        [e[5] for e in chunk],
    )
    return stack.run()


def _run_chunks(chunks):
    return [_run_chunk(c) for c in chunks]


def _process_context():
    """Fork server where there is one (cheap workers, forked from a clean process)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # Preload this module, not the caller's __main__: a script without an
    # ``if __name__ == "__main__"`` guard would otherwise run again in the server.
    # (No effect if the fork server is already running.)
    ctx.set_forkserver_preload(["dropout_figs.lab"])
    return ctx


def _run_in_processes(chunks, jobs):
    """Deal the stacks (longest first) into ``jobs`` equal shares; train share 0
    here and the others in ``jobs - 1`` worker processes at the same time."""
    shares = [[] for _ in range(jobs)]
    load = [0] * jobs
    for i, chunk in enumerate(chunks):
        j = load.index(min(load))
        shares[j].append(i)
        load[j] += _group_work(chunk)
    outs = [None] * len(chunks)
    with ProcessPoolExecutor(max_workers=jobs - 1, mp_context=_process_context()) as pool:
        futures = [
            (share, pool.submit(_run_chunks, [chunks[i] for i in share]))
            for share in shares[1:]
            if share
        ]
        for i in shares[0]:
            outs[i] = _run_chunk(chunks[i])
        for share, future in futures:
            for i, out in zip(share, future.result(), strict=True):
                outs[i] = out
    return outs


def train_many(
    configs: Sequence[TrainConfig],
    data: Dataset | Sequence[Dataset],
    *,
    seeds: Sequence[int],
    jobs: int | None = None,
    paired: bool = False,
    processes: bool = False,
) -> list[TrainResult]:
    """Train every config with every seed (or config i with seed i), many models at once.

    Models that share layer sizes, epochs, batch size, optimizer and data set
    sizes are stacked and trained in lock-step with batched matrix products
    (other groups get stacks of their own); big stacks are split over ``jobs``
    threads (NumPy releases the GIL inside its loops).

    Results are *equal* to separate runs, not merely statistically
    equivalent: every model keeps its own random streams, so the result for
    ``(configs[i], seeds[j])`` is that of
    ``train(configs[i], data_i, rng=np.random.default_rng(seeds[j]))`` to
    floating-point rounding (bit for bit in the tests, which check it).

    Parameters
    ----------
    configs : sequence of TrainConfig
    data : Dataset or sequence of Dataset
        One data set for all, or one per config (e.g. a data-set-size sweep).
    seeds : sequence of int
        Every config is trained once per seed. The same seed gives the same
        initial weights and batch order for configs of the same shape, so
        configs are compared on common random numbers.
    jobs : int, optional
        Cores to use. Default: 2 (the machines this is tuned for have 2 cores),
        but 1 inside a worker process (the parallel figure build already keeps
        every core busy, and extra workers only contend). Threads by default:
        a stack is split over threads only if each part keeps big arrays;
        threads help while NumPy works on large arrays with the GIL released,
        and hurt when many small calls make them queue for it. The numbers do
        not depend on ``jobs``.
    paired : bool, default False
        If True, ``seeds`` has one seed per config and config i is trained
        with seed i only (e.g. 5 seeds x 2 variants listed explicitly).
    processes : bool, default False
        Use ``jobs`` processes instead of threads for a big job (about half a
        second of work or more; smaller ones stay in threads): the stacks are
        dealt into ``jobs`` equal shares, one trained here and the others in
        worker processes from a fork server (2 cores: about 1.4-1.7x faster
        than one, where threads give 1.2x at these sizes). As with any use of
        :mod:`multiprocessing`, the calling script must guard its top level
        with ``if __name__ == "__main__":`` (the workers import it).

    Returns
    -------
    list of TrainResult
        Config-major: ``results[i * len(seeds) + j]`` is config i with seed j;
        with ``paired=True``, ``results[i]`` is config i with seed i.

    Examples
    --------
    >>> from dropout_figs.data import make_dataset
    >>> data = make_dataset("moons", n_samples=100, rng=np.random.default_rng(0))
    >>> configs = [TrainConfig(width=16, keep_prob=q, epochs=5) for q in (1.0, 0.5)]
    >>> [r.config.keep_prob for r in train_many(configs, data, seeds=[0, 1])]
    [1.0, 1.0, 0.5, 0.5]
    """
    configs = [_check_config(c) for c in configs]
    if isinstance(data, Dataset):
        datasets = [data] * len(configs)
    else:
        datasets = [_check_data(d) for d in data]
        if len(datasets) != len(configs):
            raise DropoutFigsError(
                f"data must be one Dataset or one per config ({len(configs)}); got {len(datasets)}"
            )
    seeds = [check_count(s, "seeds entry", low=0, high=2**63 - 1) for s in seeds]
    if not configs or not seeds:
        raise DropoutFigsError(
            f"train_many needs at least one config and one seed; got {len(configs)} configs "
            f"and {len(seeds)} seeds"
        )
    if paired and len(seeds) != len(configs):
        raise DropoutFigsError(
            f"with paired=True, seeds must have one seed per config ({len(configs)}); "
            f"got {len(seeds)}"
        )
    if jobs is None:
        jobs = 2 if multiprocessing.parent_process() is None else 1
    jobs = check_count(jobs, "jobs", low=1, high=64)

    # One entry per model: (slot, config, data, init, order rng, mask rng)
    groups: dict[tuple, list] = {}
    for i, (config, d) in enumerate(zip(configs, datasets, strict=True)):
        sizes = config.layer_sizes(d.x_train.shape[1], d.n_classes)
        for j, seed in enumerate(seeds):
            if paired and j != i:
                continue
            init_rng, order_rng, mask_rng = _streams(np.random.default_rng(seed))
            init = mlp.init_params(sizes, rng=init_rng)
            slot = i if paired else i * len(seeds) + j
            entry = (slot, config, d, init, order_rng, mask_rng)
            groups.setdefault(_group_key(config, d), []).append(entry)

    # Stacks amortise Python's per-call overhead and keep each thread inside
    # NumPy's loops (where it has released the GIL) most of the time; but past
    # about 1 MB per flat buffer the optimiser's passes and the activations
    # fall out of cache, and a stack gets slower per model than a lone one.
    # So: at most _STACK_ELEMENTS parameters per stack, at least one per thread.
    # A big job goes to processes instead: at these sizes two threads queue for
    # the GIL (measured 1.2x at 1.4x the CPU time), two processes do not.
    work = sum(_group_work(entries) for entries in groups.values())
    processes = processes and jobs > 1 and work >= _PROCESS_WORK
    chunks, big_chunks = [], 0
    for entries in groups.values():
        sizes = entries[0][1].layer_sizes(entries[0][2].x_train.shape[1], entries[0][2].n_classes)
        n_params = sum((i + 1) * o for i, o in itertools.pairwise(sizes))
        per_stack = max(1, _STACK_ELEMENTS // n_params)
        # activations per model and step: batch x width
        batch = min(entries[0][1].batch_size, len(entries[0][2].y_train))
        per_model = batch * max(sizes[1:-1], default=sizes[-1])
        k = -(-len(entries) // per_stack)
        if processes and _group_work(entries) * 2 * jobs > work:
            # a big group: a multiple of jobs stacks, so the workers get equal shares
            k = min(len(entries), jobs * -(-k // jobs))
        else:
            k = max(k, min(jobs, max(1, len(entries) * per_model // _THREAD_ELEMENTS)))
        for part in np.array_split(np.arange(len(entries)), k):
            if len(part):
                chunks.append([entries[p] for p in part])
                big_chunks += len(part) * per_model >= _THREAD_ELEMENTS // 2
    # longest first, so the workers finish together
    chunks.sort(key=lambda c: -_group_work(c))

    results: list[TrainResult | None] = [None] * (
        len(configs) if paired else len(configs) * len(seeds)
    )
    if processes and len(chunks) > 1:
        outs = _run_in_processes(chunks, jobs)
    elif jobs == 1 or big_chunks < 2:  # small stacks only queue for the GIL in threads
        outs = [_run_chunk(c) for c in chunks]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            outs = list(pool.map(_run_chunk, chunks))
    for chunk, out in zip(chunks, outs, strict=True):
        for entry, res in zip(chunk, out, strict=True):
            res.init_params = _copy_params(entry[3])
            results[entry[0]] = res
    return results


# =========================================================================== sweeps
def sweep_keep_prob(
    config: TrainConfig,
    data: Dataset,
    keep_probs: Sequence[float],
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    jobs: int | None = None,
    processes: bool = False,
) -> dict[str, np.ndarray]:
    """Final metrics as a function of the keep probability, over several seeds.

    ``jobs`` and ``processes`` are as in :func:`train_many`.

    Returns
    -------
    dict of str -> ndarray
        ``keep_probs`` (K,), ``seeds`` (S,), and ``train_loss``, ``val_loss``,
        ``train_acc``, ``val_acc``, ``gap`` each of shape (K, S): final-epoch,
        eval-mode numbers. Seed j starts every keep probability from the same
        weights and batch order.
    """
    keep_probs = [check_probability(k, "keep_probs entry") for k in keep_probs]
    configs = [config.replace(keep_prob=k) for k in keep_probs]
    results = train_many(configs, data, seeds=seeds, jobs=jobs, processes=processes)
    out = {"keep_probs": np.array(keep_probs), "seeds": np.array(list(seeds))}
    out.update(_metric_grid(results, len(keep_probs), len(seeds)))
    return out


def _metric_grid(results, *shape):
    keys = ("train_loss", "val_loss", "train_acc", "val_acc", "gap")
    grid = {k: np.empty(len(results)) for k in keys}
    for i, r in enumerate(results):
        m = r.metrics()
        for k in keys:
            grid[k][i] = m[k]
    return {k: v.reshape(shape) for k, v in grid.items()}


def sweep_dataset_size(
    config: TrainConfig,
    dataset: str,
    n_samples: Sequence[int],
    *,
    keep_probs: Sequence[float] = (1.0, 0.5),
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    noise: float | None = None,
    val_fraction: float = 0.5,
    jobs: int | None = None,
    processes: bool = False,
) -> dict[str, np.ndarray]:
    """Final metrics as a function of the data set size, without and with dropout.

    ``jobs`` and ``processes`` are as in :func:`train_many`.

    For every size and seed a fresh data set is drawn (from a stream spawned
    from the seed, independent of the training streams); every keep
    probability is trained on it.

    Returns
    -------
    dict of str -> ndarray
        ``n_samples`` (N,), ``keep_probs`` (K,), ``seeds`` (S,), and
        ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``, ``gap`` of
        shape (N, K, S).
    """
    sizes = [check_count(n, "n_samples entry", low=4) for n in n_samples]
    keep_probs = [check_probability(k, "keep_probs entry") for k in keep_probs]
    seeds = list(seeds)
    # Seed j: its own data set of each size (from a stream independent of the
    # training streams); every keep probability trained on it from seed j's
    # weights. One train_many call: each size is its own stack, all in parallel.
    configs, datasets, pair_seeds = [], [], []
    for n in sizes:
        for seed in seeds:
            data_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(4)[3])
            d = make_dataset(
                dataset, n_samples=n, noise=noise, val_fraction=val_fraction, rng=data_rng
            )
            for k in keep_probs:
                configs.append(config.replace(keep_prob=k))
                datasets.append(d)
                pair_seeds.append(seed)
    flat = train_many(
        configs, datasets, seeds=pair_seeds, jobs=jobs, paired=True, processes=processes
    )
    # flat is ordered (size, seed, keep_prob); report (size, keep_prob, seed)
    grid = _metric_grid(flat, len(sizes), len(seeds), len(keep_probs))
    out = {
        "n_samples": np.array(sizes),
        "keep_probs": np.array(keep_probs),
        "seeds": np.array(seeds),
    }
    for key, value in grid.items():
        out[key] = value.transpose(0, 2, 1)
    return out


# =========================================================================== presets
@dataclass(frozen=True)
class Preset:
    """A named, tuned experiment: a data set and a training configuration.

    ``dataset_kwargs`` holds ``n_samples``, ``noise`` and ``val_fraction`` for
    :func:`dropout_figs.data.make_dataset`.
    """

    name: str
    title: str
    description: str
    dataset: str
    dataset_kwargs: dict
    config: TrainConfig

    def make_data(self, *, rng) -> Dataset:
        """The preset's data set, drawn from ``rng``."""
        return make_dataset(self.dataset, rng=rng, **self.dataset_kwargs)


def _preset(name, title, description, dataset, n_samples, noise, config, val_fraction=0.5):
    return Preset(
        name=name,
        title=title,
        description=description,
        dataset=dataset,
        dataset_kwargs={"n_samples": n_samples, "noise": noise, "val_fraction": val_fraction},
        config=config,
    )


# A big net on few noisy points: 40 training points, 3 x 128 hidden units.
_SEVERE = TrainConfig(hidden_layers=3, width=128, keep_prob=1.0, epochs=200, batch_size=16, lr=2e-3)

#: Tuned starting points, by name (see ``dropout-figs train --preset NAME``).
#: Checked over 5 seeds (tests/test_lab.py): on "moons", "spiral" and
#: "severe-overfitting" the net without dropout overfits (validation loss
#: climbing well above its minimum) and dropout ends with the lower
#: validation loss; "blobs" needs no regularisation; "circles" and "xor" show
#: that mild dropout costs little on an easy problem.
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        _preset(
            "blobs",
            "Blobs",
            "Two well-separated Gaussian blobs: a small net learns them at once; "
            "nothing to regularise.",
            "blobs",
            200,
            None,
            TrainConfig(hidden_layers=1, width=16, keep_prob=1.0, epochs=50, lr=1e-2),
        ),
        _preset(
            "circles",
            "Circles",
            "One class inside a ring of the other: a curved boundary, mild dropout.",
            "circles",
            200,
            None,
            TrainConfig(hidden_layers=2, width=32, keep_prob=0.75, epochs=100, lr=1e-2),
        ),
        _preset(
            "xor",
            "XOR",
            "Opposite quadrants share a class: no straight line separates them.",
            "xor",
            200,
            None,
            TrainConfig(hidden_layers=2, width=32, keep_prob=0.75, epochs=100, lr=5e-3),
        ),
        _preset(
            "moons",
            "Moons",
            "Two interleaving half-moons with plenty of noise: enough capacity to "
            "overfit, and dropout keeps the boundary smooth.",
            "moons",
            200,
            0.3,
            TrainConfig(hidden_layers=3, width=64, keep_prob=0.6, epochs=150, lr=3e-3),
        ),
        _preset(
            "spiral",
            "Spiral",
            "Two interleaved spiral arms: a deep net, and strong dropout to keep it honest.",
            "spiral",
            300,
            None,
            TrainConfig(hidden_layers=4, width=64, keep_prob=0.6, epochs=250, lr=1e-2),
        ),
        _preset(
            "severe-overfitting",
            "Severe overfitting",
            "A big network (3 x 128 units) on 40 noisy training points, no dropout: "
            "the training loss goes to zero while the validation loss climbs.",
            "moons",
            80,
            0.35,
            _SEVERE,
        ),
        _preset(
            "same-network-dropout",
            "The same network with dropout",
            "The severe-overfitting network and data with half its hidden units "
            "dropped (keep probability 0.5): the validation loss stays low.",
            "moons",
            80,
            0.35,
            _SEVERE.replace(keep_prob=0.5),
        ),
    )
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; an unknown name lists the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise DropoutFigsError(
            f"preset must be one of {', '.join(PRESETS)}; got {name!r}"
        ) from None


def preset_data(name: str, *, rng) -> Dataset:
    """Draw the data set of preset ``name``."""
    return get_preset(name).make_data(rng=rng)
