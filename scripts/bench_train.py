"""Benchmark the training lab (``make bench``). Prints numbers; never asserts.

1. One network, 2-128-128-2, dropout on both hidden layers (keep_prob 0.5,
   drop rate 0.5), Adam, 200 training points, batch 32, every epoch followed by
   an eval-mode pass over the training and validation sets: this package vs
   PyTorch on the CPU (if torch is importable; it is never a dependency).
   Model-epochs per second of each and the ratio (target >= 3x).
2. A sweep of 45 networks (9 keep probabilities x 5 seeds): ``train_many``
   (stacked models, split over both cores) vs 45 separate ``train`` calls.
   Both times and the ratio (target >= 3x); once for the 2-128-128-2 network
   above (dominated by the matrix products themselves) and once for the
   moons preset's smaller network (dominated by per-call overhead, which
   stacking removes).

Each timing is the best of a few repeats (the machine is shared; the minimum
is the least disturbed), printed with the CPU time of the same run: on a busy
machine the CPU time shows the work saved by stacking even when the wall
clock cannot show the second core. Takes about a minute.
"""

from __future__ import annotations

import os
import time

import numpy as np

from dropout_figs import lab
from dropout_figs.data import make_dataset

EPOCHS = 30
SWEEP_EPOCHS = 10
KEEP_PROBS = np.round(np.linspace(0.2, 1.0, 9), 2)
SEEDS = (0, 1, 2, 3, 4)


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


def main():
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.2f} (shared machine)")
    data = make_dataset("moons", n_samples=400, val_fraction=0.5, rng=np.random.default_rng(0))
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
        f"{CPU['numpy']:.3f} s CPU)"
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
                f"{CPU[f'torch{n_threads}']:.3f} s CPU)"
            )
            best = t if best is None else min(best, t)
        print(f"   ratio vs PyTorch's best thread count: {best / t_np:.1f}x (target >= 3x)")

    bench_sweep("2-128-128-2 as above", config.replace(epochs=SWEEP_EPOCHS), data)
    moons = lab.PRESETS["moons"]
    moons_data = moons.make_data(rng=np.random.default_rng(0))
    bench_sweep(
        "the moons preset's 2-64-64-64-2, 100 training points",
        moons.config.replace(epochs=3 * SWEEP_EPOCHS),
        moons_data,
    )


def bench_sweep(label, config, data):
    configs = [config.replace(keep_prob=float(k)) for k in KEEP_PROBS]
    n_models = len(configs) * len(SEEDS)
    print(
        f"\n2. sweep, {label}: {len(configs)} keep probabilities x {len(SEEDS)} seeds = "
        f"{n_models} models, {config.epochs} epochs each"
    )

    def one_at_a_time():
        for c in configs:
            for s in SEEDS:
                lab.train(c, data, rng=np.random.default_rng(s))

    # interleaved, best of two each: the machine is shared and its load drifts
    times = {"alone": [], "jobs1": [], "jobs2": []}
    cpu = {}
    runs = {
        "alone": one_at_a_time,
        "jobs1": lambda: lab.train_many(configs, data, seeds=SEEDS, jobs=1),
        "jobs2": lambda: lab.train_many(configs, data, seeds=SEEDS, jobs=2),
    }
    for _ in range(2):  # interleaved, best of two each: the machine's load drifts
        for key, fn in runs.items():
            times[key].append(best_of(fn, repeats=1, label=key))
            if times[key][-1] == min(times[key]):
                cpu[key] = CPU[key]
    t_alone, t_stack1, t_stack2 = (min(times[k]) for k in ("alone", "jobs1", "jobs2"))
    rows = [
        (f"one at a time ({n_models} x train)", t_alone, "alone"),
        ("train_many, stacked, 1 thread", t_stack1, "jobs1"),
        ("train_many, stacked, 2 threads", t_stack2, "jobs2"),
    ]
    for text, t, key in rows:
        print(
            f"   {text:<34} {t:6.2f} s wall ({t_alone / t:.1f}x)  "
            f"{cpu[key]:6.2f} s CPU ({cpu['alone'] / cpu[key]:.1f}x)"
        )
    print(f"   ratio: {t_alone / t_stack2:.1f}x (target >= 3x)")
    print(f"   throughput: {n_models * config.epochs / t_stack2:.0f} model-epochs/s batched")


if __name__ == "__main__":
    main()
