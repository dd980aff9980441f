"""Benchmark the training lab (``make bench``). Prints numbers; never asserts.

1. One network, 2-128-128-2, dropout on both hidden layers (keep_prob 0.5,
   drop rate 0.5), Adam, 200 training points, batch 32, every epoch followed by
   an eval-mode pass over the training and validation sets: this package vs
   PyTorch on the CPU (if torch is importable; it is never a dependency).
   Model-epochs per second of each and the ratio (target >= 7x).
2. THE SWEEP TARGET (the guide: "a 45-model keep-probability sweep
   (batched models, both cores) at least 5x faster than the same 45 models
   trained one at a time"): the keep-probability sweep as the site runs it
   (the keep-prob-sweep figure: the severe-overfitting preset's 3 hidden
   layers at the figure's width 32, Adam, batch 16, 100 epochs, 40 training
   and 16 validation points evaluated after every epoch), 9 keep
   probabilities x 5 seeds. "One at a time" is 45 ``train`` calls doing the
   same work: same models, data, epochs and per-epoch evaluation (both paths
   record the full history), and the same engine with a stack of one.
3. For scale, not the target: the same 45-model sweep on the moons preset's
   2-64-64-64-2 and on the 2-128-128-2 of part 1. These are bound by the
   matrix products' arithmetic, which stacking cannot remove; the script
   prints the arithmetic (GFLOP), the rate reached and a one-core bound.

Timings are interleaved and repeated (the machine is shared; the load
average is printed with every measurement, and the minimum wall time is the
least disturbed run). CPU is the training threads' CPU time summed over all
models, worker processes included (``TrainResult.cpu_seconds``); on a busy
machine it shows the work saved even when the wall clock cannot show the
second core. Takes about a minute and a half.
"""

from __future__ import annotations

import itertools
import os
import time

import numpy as np

from dropout_figs import lab
from dropout_figs.lab.data import make_dataset

EPOCHS = 30
SWEEP_EPOCHS = 10
KEEP_PROBS = np.round(np.linspace(0.2, 1.0, 9), 2)
SEEDS = (0, 1, 2, 3, 4)
SITE_WIDTH = 32  # the keep-prob-sweep figure's default width
SITE_EPOCHS = 100  # and epochs


CPU = {}  # label -> best CPU seconds (all threads of this process)


def best_of(fn, repeats=3, label=None):
    """Best wall-clock time of ``repeats`` runs (CPU time of that run kept in CPU)."""
    best = None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if best is None or wall < best:
            best = wall
            if label:
                CPU[label] = cpu
    return best


def bench_numpy(config, data):
    return best_of(lambda: lab.train(config, data, rng=np.random.default_rng(0)), label="numpy")


def bench_torch(config, data, n_threads, repeats):
    import torch
    from torch import nn

    torch.set_num_threads(n_threads)
    torch.manual_seed(0)
    dtype = torch.float64  # the package trains in float64 too
    width = config.width
    model = nn.Sequential(
        nn.Linear(2, width),
        nn.ReLU(),
        nn.Dropout(config.drop_rate),
        nn.Linear(width, width),
        nn.ReLU(),
        nn.Dropout(config.drop_rate),
        nn.Linear(width, 2),
    ).to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.tensor(data.x_train, dtype=dtype)
    y = torch.tensor(data.y_train)
    x_all = torch.tensor(np.concatenate([data.x_train, data.x_val]), dtype=dtype)
    y_all = torch.tensor(np.concatenate([data.y_train, data.y_val]))
    n, batch = len(y), config.batch_size
    gen = torch.Generator().manual_seed(0)

    def run():
        for _ in range(config.epochs):
            model.train()
            order = torch.randperm(n, generator=gen)
            for lo in range(0, n, batch):
                idx = order[lo : lo + batch]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():  # the eval-mode pass the package does every epoch
                logits = model(x_all)
                loss_fn(logits[:n], y_all[:n]).item()
                loss_fn(logits[n:], y_all[n:]).item()
                (logits.argmax(1) == y_all).double().mean().item()

    return best_of(run, repeats=repeats, label=f"torch{n_threads}")


def load():
    return f"load {os.getloadavg()[0]:.2f}"


def main():
    print(f"cores: {os.cpu_count()}; {load()} (1-minute load average; shared machine)")
    print(f"one core's large-matrix rate (1000^3 dgemm, 1 BLAS thread): {dgemm_rate():.1f} GFLOP/s")
    data = make_dataset(
        "moons", n_samples=400, val_fraction=0.5, n_test=0, rng=np.random.default_rng(0)
    )
    config = lab.TrainConfig(
        hidden_layers=2, width=128, keep_prob=0.5, epochs=EPOCHS, batch_size=32, lr=1e-3
    )
    print(
        f"\n1. one 2-128-128-2 MLP, keep_prob 0.5 (drop rate 0.5), Adam, "
        f"{data.n_train} training points, batch 32, {EPOCHS} epochs, float64"
    )
    t_np = bench_numpy(config, data)
    rate_np = EPOCHS / t_np
    print(
        f"   dropout_figs (NumPy)     {rate_np:8.1f} model-epochs/s  ({t_np:.3f} s wall, "
        f"{CPU['numpy']:.3f} s CPU, {load()})"
    )
    try:
        import torch
    except ImportError:
        print("   PyTorch not importable: skipped (pip install torch to compare)")
    else:
        best = None
        for n_threads in (1, 2):
            # two threads spin badly on a busy machine: one try is enough
            t = bench_torch(config, data, n_threads, repeats=3 if n_threads == 1 else 1)
            print(
                f"   PyTorch {torch.__version__} CPU, {n_threads} thread(s)"
                f" {EPOCHS / t:8.1f} model-epochs/s  ({t:.3f} s wall, "
                f"{CPU[f'torch{n_threads}']:.3f} s CPU, {load()})"
            )
            best = t if best is None else min(best, t)
        print(f"   ratio vs PyTorch's best thread count: {best / t_np:.1f}x (target >= 7x)")

    site = lab.PRESETS["severe-overfitting"]
    site_config = site.config.replace(width=SITE_WIDTH, epochs=SITE_EPOCHS)
    # the figure's split: 40 training points, 16 validation points (its test set
    # of 1000 is scored once at the end, outside the training engine)
    n_val = 16
    n_train = 40
    site_data = make_dataset(
        site.dataset,
        n_samples=n_train + n_val,
        noise=site.dataset_kwargs["noise"],
        val_fraction=n_val / (n_train + n_val),
        n_test=0,  # timing training only, as before the lab had test sets
        rng=np.random.default_rng(0),
    )
    bench_sweep(
        "2. THE TARGET: the site's keep-probability sweep",
        site_config,
        site_data,
        target=True,
        repeats=3,
    )
    moons = lab.PRESETS["moons"]
    bench_sweep(
        "3a. for scale: the moons preset's network",
        moons.config.replace(epochs=3 * SWEEP_EPOCHS),
        make_dataset(moons.dataset, **moons.dataset_kwargs, n_test=0, rng=np.random.default_rng(0)),
    )
    bench_sweep(
        "3b. for scale: the 2-128-128-2 of part 1", config.replace(epochs=SWEEP_EPOCHS), data
    )


def dgemm_rate():
    from dropout_figs.lab.engine import _one_blas_thread

    a = np.random.default_rng(0).random((1000, 1000))
    with _one_blas_thread():
        a @ a
        t0 = time.process_time()
        for _ in range(3):
            a @ a
        return 3 * 2e9 / (time.process_time() - t0) / 1e9


def sweep_gflop(config, data, n_models):
    """Floating-point operations of the matrix products (forward, dW, dh, evaluation)."""
    sizes = config.layer_sizes(data.x_train.shape[1], data.n_classes)
    pairs = list(itertools.pairwise(sizes))
    fwd = 2 * sum((i + 1) * o for i, o in pairs)  # per example, bias row included
    dh = 2 * sum(i * o for i, o in pairs[1:])
    n_train, n_eval = data.n_train, data.n_train + len(data.y_val)
    per_epoch = n_train * (2 * fwd + dh) + n_eval * fwd
    return n_models * config.epochs * per_epoch / 1e9


def bench_sweep(title, config, data, *, target=False, repeats=2):
    configs = [config.replace(keep_prob=float(k)) for k in KEEP_PROBS]
    n_models = len(configs) * len(SEEDS)
    sizes = "-".join(str(s) for s in config.layer_sizes(data.x_train.shape[1], data.n_classes))
    print(
        f"\n{title}\n   network {sizes}, Adam lr {config.lr:g}, batch {config.batch_size}, "
        f"{config.epochs} epochs, {data.n_train} training + {len(data.y_val)} validation points "
        f"(both evaluated after every epoch), float64\n"
        f"   keep probabilities {', '.join(f'{k:g}' for k in KEEP_PROBS)} "
        f"(drop rates {', '.join(f'{1 - k:.1g}' for k in KEEP_PROBS)}) x seeds {SEEDS} "
        f"= {n_models} models"
    )

    def one_at_a_time():
        return [lab.train(c, data, rng=np.random.default_rng(s)) for c in configs for s in SEEDS]

    runs = {
        "alone": (f"one at a time ({n_models} x train)", one_at_a_time),
        "jobs1": (
            "train_many, stacked, 1 core",
            lambda: lab.train_many(configs, data, seeds=SEEDS, jobs=1),
        ),
        "threads": (
            "train_many, stacked, 2 threads",
            lambda: lab.train_many(configs, data, seeds=SEEDS, jobs=2),
        ),
        "procs": (
            "train_many, 2 processes",
            lambda: lab.train_many(configs, data, seeds=SEEDS, jobs=2, processes=True),
        ),
    }
    best = {}  # key -> (wall, training CPU, this process's CPU, load)
    for _ in range(repeats):  # interleaved: the machine's load drifts
        for key, (_, fn) in runs.items():
            c0, t0 = time.process_time(), time.perf_counter()
            results = fn()
            wall, own = time.perf_counter() - t0, time.process_time() - c0
            cpu = sum(r.cpu_seconds for r in results)
            if key not in best or wall < best[key][0]:
                best[key] = (wall, cpu, own, os.getloadavg()[0])
    t_alone, c_alone = best["alone"][:2]
    for key, (text, _) in runs.items():
        wall, cpu, own, avg = best[key]
        print(
            f"   {text:<32} {wall:6.2f} s wall ({t_alone / wall:3.1f}x)  {cpu:6.2f} s CPU "
            f"({c_alone / cpu:3.1f}x)  [this process {own:5.2f} s CPU, load {avg:.2f}]"
        )
    gflop = sweep_gflop(config, data, n_models)
    c_stack = best["jobs1"][1]
    print(
        f"   arithmetic: {gflop:.1f} GFLOP in matrix products; one core reaches "
        f"{gflop / c_alone:.1f} GFLOP/s one at a time, {gflop / c_stack:.1f} stacked"
    )
    t_best = min(best["threads"][0], best["procs"][0])
    if target:
        print(
            "   (2 threads = train_many's default: it splits a stack over threads only when its"
            " arrays are\n   big, which these are not; 2 processes = processes=True, one share"
            " here, one in a worker)"
        )
        print(
            f"   RATIO (target >= 5x, both cores, wall clock): {t_alone / t_best:.1f}x; "
            f"on one core alone, CPU time: {c_alone / c_stack:.1f}x"
        )
    else:
        print(
            f"   ratio, both cores, wall clock: {t_alone / t_best:.1f}x "
            f"(not the target: see the docstring)"
        )


if __name__ == "__main__":
    main()
