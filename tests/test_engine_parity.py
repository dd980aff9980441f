"""The browser engine (web/src/engine, TypeScript) against the package, number for number.

pytest writes the package's values for random inputs into a temporary JSON file, bundles the
engine for node with esbuild, and runs ``node --test web/test/`` with both paths in the
environment. Nothing is committed: the expected numbers come from the package at test time.
Without node or node_modules the tests skip, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import dropout_figs as df
from dropout_figs.lab import make_dataset
from dropout_figs.lab import mlp as tmlp
from dropout_figs.lab.loop import keep_threshold
from dropout_figs.maths import format_subnetworks

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "node_modules" / ".bin"


def _need(tool: str) -> str:
    path = shutil.which(tool) if tool == "node" else str(BIN / tool)
    if path is None or not Path(path).is_file():
        message = f"{tool} not found (install Node 20 and run `make setup`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _bits(mask: np.ndarray) -> str:
    return "".join("1" if m else "0" for m in mask.ravel())


def _random_cases(rng):
    seeds = [0, 1, 42, 2**32 + 5, 2**53 - 1, int(rng.integers(0, 2**31))]
    out = []
    for seed in seeds:
        g = np.random.default_rng(seed)
        first = g.random(8).tolist()
        ints = g.integers(0, 7, 20).tolist()  # bounded integers after doubles: shared buffer
        perm = g.permutation(53).tolist()
        after = g.random(3).tolist()
        u16 = g.integers(0, 2**16, 37, dtype=np.uint16).tolist()
        kids = [k.random(2).tolist() for k in np.random.default_rng(seed).spawn(3)]
        out.append(
            {
                "seed": str(seed),
                "first": first,
                "ints": ints,
                "perm": perm,
                "after": after,
                "u16": u16,
                "spawn": kids,
            }
        )
    return out


def _mask_cases(rng):
    out = []
    for _ in range(60):
        n = int(rng.integers(1, 3000))
        q = float(rng.choice([1.0, 0.5, round(float(rng.uniform(0.01, 1.0)), 3), rng.random()]))
        q = q if q > 0 else 0.5
        seed = int(rng.integers(0, 2**40))
        g = np.random.default_rng(seed)
        frames = [_bits(df.sample_keep_mask((n,), q, rng=g)) for _ in range(2)]
        out.append({"n": n, "keep_prob": q, "seed": seed, "frames": frames})
    return out


def _summary_cases(rng):
    triples = [(137, 0.63, 4242, 1.0), (1, 1.0, 0, 1.0), (4096, 0.5, 7, 2.5), (20000, 0.8, 3, 0.1)]
    for _ in range(20):
        triples.append(
            (
                int(rng.integers(1, 5000)),
                round(float(rng.uniform(0.05, 1.0)), 2),
                int(rng.integers(0, 10**6)),
                float(rng.choice([1.0, 0.5, 3.0])),
            )
        )
    cases = []
    for n, q, seed, mean in triples:
        s = df.layer_summary(n, q, seed=seed, mean_activation=mean)
        cases.append(
            {"args": [n, q, seed, mean], "want": s.to_dict(), "subnetworks": s.subnetworks}
        )
    sizes = [1, 2, 10, 23, 24, 64, 256, 1000, 4096, 123457, 2**24, 10**9, 3 * 10**12]
    sizes += [int(x) for x in rng.integers(24, 10**7, 30)]
    return cases, {str(n): format_subnetworks(n) for n in sizes}


def _binomial_cases():
    from scipy.stats import binom

    cases = []
    for n, q in [
        (1, 0.5),
        (10, 0.3),
        (64, 1.0),
        (137, 0.63),
        (1000, 0.001),
        (4096, 0.5),
        (10**5, 0.9),
        (10**6, 0.5),
        (10**6, 0.001),
        (10**6, 0.999),
        (10**6, 0.37),
    ]:
        mean, sd = n * q, (n * q * (1 - q)) ** 0.5
        ks = {0, 1, n - 1, n, int(mean), int(mean) + 1}
        for z in (-40, -12, -6, -3, -1, -0.3, 0.3, 1, 3, 6, 12, 40):
            ks.add(round(mean + z * sd))
        ks = sorted(k for k in ks if 0 <= k <= n)
        logpmf = binom.logpmf(ks, n, q)
        keep = [i for i, lp in enumerate(logpmf) if lp > np.log(1e-300)]
        ks = [ks[i] for i in keep]
        cases.append(
            {
                "n": n,
                "keep_prob": q,
                "k": ks,
                "pmf": binom.pmf(ks, n, q).tolist(),
                "cdf": binom.cdf(ks, n, q).tolist(),
            }
        )
    return cases


def _mlp_cases(rng):
    cases = []
    for sizes, q, batch in [
        ((2, 2), 1.0, 5),
        ((2, 8, 2), 0.5, 7),
        ((2, 32, 32, 2), 0.8, 16),
        ((2, 16, 16, 16, 2), 0.3, 9),
        ((2, 64, 2), 1.0, 1),
    ]:
        params = tmlp.init_params(sizes, rng=rng)
        params = [(W, rng.normal(0, 0.1, b.shape)) for W, b in params]
        x = rng.normal(size=(batch, 2))
        y = rng.integers(0, 2, batch)
        masks = None if q == 1.0 else tmlp.sample_masks(params, batch, keep_prob=q, rng=rng)
        loss, grads = tmlp.loss_and_grads(params, x, y, keep_masks=masks, keep_prob=q)
        flat = lambda pairs: np.concatenate([np.r_[a.ravel(), b.ravel()] for a, b in pairs])  # noqa: E731
        cases.append(
            {
                "sizes": list(sizes),
                "keep_prob": q,
                "params": flat(params).tolist(),
                "x": x.ravel().tolist(),
                "y": y.tolist(),
                "masks": None if masks is None else [_bits(m) for m in masks],
                "loss": loss,
                "grads": flat(grads).tolist(),
            }
        )
    return cases


def _data_cases(rng):
    cases = []
    for name in ("blobs", "circles", "xor", "moons", "spiral"):
        for n_samples, noise, val_fraction, seed in [
            (200, None, 0.5, 0),
            (int(rng.integers(4, 400)), float(rng.uniform(0, 1)), 0.3, int(rng.integers(0, 10**9))),
            (1001, 0.0, 0.5, 12345),
        ]:
            d = make_dataset(
                name, n_samples=n_samples, noise=noise, val_fraction=val_fraction, rng=seed
            )
            cases.append(
                {
                    "name": name,
                    "opts": {
                        "nSamples": n_samples,
                        "noise": noise,
                        "valFraction": val_fraction,
                        "seed": seed,
                    },
                    "noise": d.noise,
                    "x_train": d.x_train.ravel().tolist(),
                    "y_train": d.y_train.tolist(),
                    "x_val": d.x_val.ravel().tolist(),
                    "y_val": d.y_val.tolist(),
                }
            )
    return cases


def _lab_cases():
    """The package's training runs, for the browser's pair started from the same weights."""
    from dropout_figs.lab import TrainConfig, train

    cases = []
    for name, q, optimizer, seed in [("moons", 0.7, "adam", 3), ("xor", 0.5, "sgd", 11)]:
        data = make_dataset(name, n_samples=150, rng=seed)
        config = TrainConfig(
            hidden_layers=2, width=12, keep_prob=q, epochs=6, batch_size=32,
            optimizer=optimizer, lr=0.01,
        )  # fmt: skip
        runs = {
            key: train(config.replace(keep_prob=k), data, rng=np.random.default_rng(seed))
            for key, k in (("plain", 1.0), ("dropout", q))
        }
        init = runs["plain"].init_params
        cases.append(
            {
                "data": {"nSamples": 150, "seed": seed},
                "name": name,
                "opts": {
                    "hiddenLayers": 2, "width": 12, "keepProb": q, "batchSize": 32,
                    "optimizer": optimizer, "lr": 0.01, "seed": seed,
                },
                "init": np.concatenate([np.r_[W.ravel(), b] for W, b in init]).tolist(),
                "history": {
                    key: {k: r.history[k].tolist() for k in ("train_loss", "val_loss", "val_acc")}
                    for key, r in runs.items()
                },
            }
        )  # fmt: skip
    return cases


def _cli_cases():
    """`dropout-figs train --compare --json` as a user runs it (the training-lab widget's path)."""
    import contextlib
    import io

    from dropout_figs.cli import main

    cases = []
    runs = [("spiral", 4, 0.3, "adam"), ("moons", 2**40 + 3, 0.5, "adam")]
    for name, seed, drop, optimizer in runs:
        flags = {
            "dataset": name, "n-samples": 160, "noise": 0.2, "layers": 2, "width": 12,
            "drop-rate": drop, "lr": 0.01, "epochs": 7, "batch-size": 32, "seed": seed,
        }  # fmt: skip
        argv = ["train", *(f"--{k}={v}" for k, v in flags.items()), "--compare", "--json"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            assert main(argv) == 0
        cases.append({"flags": flags, "optimizer": optimizer, "json": json.loads(out.getvalue())})
    return cases


def _boundary_cases(rng):
    """The package's eval-mode P(class 1) (``predict_proba``) on the training lab's grid.

    The grid is the browser's: every train and validation point plus 0.6, 100 x 100, row 0
    at the top; the browser draws it with LabPair.boundary (engine/grid.ts).
    """
    cases = []
    for sizes, name, seed in [
        ((2, 32, 32, 2), "moons", 0),
        ((2, 64, 64, 64, 2), "spiral", 5),
        ((2, 12, 2), "xor", 2),
        ((2, 2), "circles", 1),
    ]:
        data = make_dataset(name, n_samples=200, rng=seed)
        params = tmlp.init_params(sizes, rng=rng)
        params = [(W, rng.normal(0, 0.5, b.shape)) for W, b in params]
        pts = np.concatenate([data.x_train, data.x_val])
        (x0, y0), (x1, y1) = pts.min(0) - 0.6, pts.max(0) + 0.6
        i = np.arange(100)
        xs, ys = x0 + (x1 - x0) * i / 99, y1 - (y1 - y0) * i / 99
        grid = np.c_[np.tile(xs, 100), np.repeat(ys, 100)]
        cases.append(
            {
                "data": {"name": name, "nSamples": 200, "seed": seed},
                "sizes": list(sizes),
                "params": np.concatenate([np.r_[W.ravel(), b] for W, b in params]).tolist(),
                "proba": tmlp.predict_proba(params, grid)[:, 1].tolist(),
            }
        )
    return cases


@pytest.fixture(scope="module")
def engine_env(tmp_path_factory):
    node = _need("node")
    esbuild = _need("esbuild")
    tmp = tmp_path_factory.mktemp("engine")
    engine = tmp / "engine.cjs"
    subprocess.run(
        [esbuild, "web/src/engine/index.ts", "--bundle", "--format=cjs", "--platform=node",
         "--target=es2020", "--log-level=warning", f"--outfile={engine}"],
        cwd=ROOT, check=True,
    )  # fmt: skip
    rng = np.random.default_rng(20241201)
    summaries, subnetworks = _summary_cases(rng)
    values = {
        "random": _random_cases(rng),
        "masks": _mask_cases(rng),
        "summaries": summaries,
        "subnetworks": subnetworks,
        "binomial": _binomial_cases(),
        "mlp": _mlp_cases(rng),
        "data": _data_cases(rng),
        "lab": _lab_cases(),
        "cli": _cli_cases(),
        "boundary": _boundary_cases(rng),
        "thresholds": {
            str(q): keep_threshold(q) for q in (1e-9, 0.3, 0.5, 0.63, 0.7, 0.999999, 1.0)
        },
    }
    path = tmp / "package-values.json"
    path.write_text(json.dumps(values))
    env = {**os.environ, "DROPOUT_FIGS_ENGINE": str(engine), "DROPOUT_FIGS_VALUES": str(path)}
    return node, env


def test_engine_equals_package(engine_env):
    node, env = engine_env
    done = subprocess.run(
        [node, "--test", "web/test/"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    # every node test ran: none skipped for want of the values
    assert "# skipped 0" in done.stdout, done.stdout[-3000:]
    assert "# fail 0" in done.stdout, done.stdout[-3000:]


def test_typescript_types_check():
    tsc = _need("tsc")
    done = subprocess.run([tsc, "-p", "tsconfig.json"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:]
