"""The fast engine: M same-shaped MLPs trained in lock-step on flat buffers.

The maths is the teaching core's (:mod:`.mlp` for the network, :mod:`.loop`
for the masks, the optimisers and the training loop); this module runs it on
a stack of M same-shaped models at once, and the tests check that it gives
the numbers of :func:`.loop.train_loop` (same streams, same masks) to ~1e-10.
For the small networks of the presets the time goes into Python's per-call
overhead, not arithmetic, so:

* the weights of all M models sit in one ``(M, P)`` buffer (as do the
  gradients and the optimiser's state), so an Adam step is a dozen ufunc calls
  whatever the depth; layer ``l`` is the block ``[W; b]``, viewed for all
  models as ``(M, fan_in + 1, fan_out)``, and every layer input carries a
  column of ones, so one batched ``np.matmul(..., out=...)`` is the affine map
  and one more gives ``[dW; db]``;
* activations are preallocated once per batch size;
* masks are drawn once per epoch as uint16 integers (one mask per example,
  laid out as :func:`.loop.epoch_masks` draws them) and thresholded into
  factors ``mask / keep_prob``; ReLU and mask fold into one factor that the
  backward pass reuses; softmax cross-entropy is fused into a few ``out=``
  calls (tested equal to :func:`.mlp.softmax_xent_forward`);
* BLAS runs one thread per training thread (small matrices gain nothing from
  more); :func:`.training.train_many` splits big stacks over threads, or deals
  a big job's stacks to processes. ``scripts/bench_train.py`` measures all this.

Reproducibility: every model draws from its own three streams spawned from
its generator (initial weights, batch order, masks), so a model gives the same
result (to floating-point rounding, in practice bit for bit) whether trained
alone by :func:`.training.train` or inside a stack by :func:`.training.train_many`.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import itertools
import math
import os
import sys
import time

import numpy as np

from .config import HISTORY_KEYS, TrainResult
from .loop import ADAM_BETA1 as _BETA1
from .loop import ADAM_BETA2 as _BETA2
from .loop import ADAM_EPS as _EPS
from .loop import MASK_LEVELS, keep_threshold, mask_columns

# At most this many parameters (all models together) in one stack of train_many:
# past about 1 MB per flat buffer a stack falls out of cache (see bench_train.py).
_STACK_ELEMENTS = 1 << 17
# A stack is split over threads only if each part has about this many activations
# per layer and step (smaller arrays leave the threads queueing for the GIL).
_THREAD_ELEMENTS = 1 << 15


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
        # the held-out test points, evaluated once, after training (keeps epochs cheap)
        self.n_test = len(d0.y_test)
        if self.n_test:
            self.x_test = aug(np.stack([d.x_test for d in datasets]))
            self.onehot_test = eye[np.stack([d.y_test for d in datasets])]
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
                thr[m, 0, :n_in] = keep_threshold(ikp[m])
                thr[m, 0, n_in:] = keep_threshold(kp[m])
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
        n = self.n_train
        for m in range(self.M):
            self.order[m] = self.order_rngs[m].permutation(n)
            if not self.need_masks:
                continue
            c = self.configs[m]
            lo, hi = mask_columns(self.sizes, c.keep_prob, c.input_keep_prob)
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
        losses, correct = self._eval_points(self.x_eval, self.onehot_eval)
        n = self.n_train
        return (
            (losses[:, :n].mean(axis=1), correct[:, :n].mean(axis=1)),
            (losses[:, n:].mean(axis=1), correct[:, n:].mean(axis=1)),
        )

    def _eval_points(self, x, onehot):
        """Eval-mode cross-entropy and correctness per model and point, both (M, n)."""
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
        np.multiply(probs, onehot, out=buf.tmp)
        _reduce_classes(np.add, buf.tmp, out=buf.picked)
        # correct iff the true class has the largest logit: logit_y - max == 0 exactly
        correct = (buf.picked == 0.0)[:, :, 0]
        np.exp(probs, out=probs)
        _reduce_classes(np.add, probs, out=buf.rowsum)
        np.log(buf.rowsum, out=buf.rowsum)
        np.subtract(buf.rowsum, buf.picked, out=buf.picked)
        return buf.picked[:, :, 0], correct

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
    def run(self, snapshot_epochs=(), progress=None, *, stop_on_divergence=False):
        """Train every model; with ``stop_on_divergence``, stop after the first epoch
        in which any model's loss is not finite (overflow is expected there, so
        NumPy's overflow warnings are silenced; the finiteness check reports it)."""
        with _one_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
            return self._run(snapshot_epochs, progress, stop_on_divergence)

    def _run(self, snapshot_epochs, progress, stop_on_divergence):
        M, n, B, E = self.M, self.n_train, self.batch_size, self.epochs
        history = {k: np.empty((M, E)) for k in HISTORY_KEYS}
        snapshots = [{} for _ in range(M)]
        want = set(snapshot_epochs)
        if 0 in want:
            for m in range(M):
                snapshots[m][0] = self.params_of(m)
        batch_losses = np.empty((M, n, 1))
        diverged = np.zeros(M, dtype=np.int64)  # epoch of divergence, 0 = none
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
            finite = np.isfinite(history["train_loss_dropout"][:, epoch]) & np.isfinite(tl)
            newly = ~finite & (diverged == 0)
            diverged[newly] = epoch + 1
            if epoch + 1 in want:
                for m in range(M):
                    snapshots[m][epoch + 1] = self.params_of(m)
            if progress is not None:
                progress(epoch + 1, E)
            if stop_on_divergence and diverged.any():
                history = {k: v[:, : epoch + 1] for k, v in history.items()}
                break
        if self.n_test:
            losses, correct = self._eval_points(self.x_test, self.onehot_test)
            for key, per_point in (("test_loss", losses), ("test_acc", correct)):
                history[key] = np.full((M, epoch + 1), np.nan)
                history[key][:, -1] = per_point.mean(axis=1)
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
                diverged_epoch=int(diverged[m]) if diverged[m] else None,
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
    NumPy's per-number buffering loop. Anything else takes the ordinary call.
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
    return rng.integers(0, MASK_LEVELS, size=shape, dtype=np.uint16)


# =========================================================================== plumbing: BLAS threads
@functools.cache
def _blas_thread_setter():
    """OpenBLAS's ``openblas_set_num_threads_local`` from NumPy's own copy, or None.

    On small matrices OpenBLAS's worker threads cost far more than they save
    (they spin, and steal the core the other half of a sweep runs on; the
    figures are built two processes at a time on two cores), so the training
    loop and the forward passes here ask for one BLAS thread, for the calling
    thread only.
    """
    numpy_dir = os.path.dirname(np.__file__)
    patterns = (
        os.path.join(numpy_dir, os.pardir, "numpy.libs", "*openblas*"),
        os.path.join(numpy_dir, ".dylibs", "*openblas*"),
    )
    for path in sorted(p for pattern in patterns for p in glob.glob(pattern)):
        try:
            setter = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        setter.restype = ctypes.c_int
        setter.argtypes = [ctypes.c_int]
        return setter
    return None


@contextlib.contextmanager
def _one_blas_thread():
    """Run the block with one BLAS thread in this thread (no-op without OpenBLAS)."""
    setter = _blas_thread_setter()
    if setter is None:
        yield
        return
    previous = setter(1)
    try:
        yield
    finally:
        setter(max(previous, 1))
