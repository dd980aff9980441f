"""Data sets and the training lab: the fast engine against the teaching MLP, determinism,
batched training equal to separate runs, and the presets' claims over several seeds."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dropout_figs import lab, mlp
from dropout_figs._validate import DropoutFigsError, as_rng
from dropout_figs.lab import engine, loop, training
from dropout_figs.lab.data import DATASETS, Dataset, make_dataset

SEEDS = (0, 1, 2, 3, 4)


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.fixture(scope="module")
def moons():
    return make_dataset("moons", n_samples=60, noise=0.3, rng=rng(0))


SMALL = lab.TrainConfig(hidden_layers=2, width=12, keep_prob=0.6, epochs=6, batch_size=8, lr=1e-2)


# --------------------------------------------------------------------------- seeds
def test_as_rng_is_default_rng_for_seeds_and_passes_generators_through():
    expected = np.random.default_rng(7).random(4)
    np.testing.assert_array_equal(as_rng(7).random(4), expected)
    np.testing.assert_array_equal(as_rng(np.int64(7)).random(4), expected)
    np.testing.assert_array_equal(as_rng(np.random.SeedSequence(7)).random(4), expected)
    g = np.random.default_rng(3)
    g.random()
    assert as_rng(g) is g


@pytest.mark.parametrize("bad", [None, -1, 2.5, "7", True, [1, 2]])
def test_as_rng_refuses_anything_else_naming_the_value(bad):
    with pytest.raises(DropoutFigsError, match=r"seed must be .* got " + re.escape(repr(bad))):
        as_rng(bad, "seed")


# --------------------------------------------------------------------------- data
@pytest.mark.parametrize("name", DATASETS)
def test_datasets_shapes_balance_and_scale(name):
    d = make_dataset(name, n_samples=101, val_fraction=0.3, rng=rng(1))
    assert isinstance(d, Dataset)
    assert d.x_train.shape == (71, 2)
    assert d.x_val.shape == (30, 2)
    assert d.x_train.dtype == np.float64
    assert d.y_train.dtype == np.int64
    assert d.n_classes == 2
    assert set(np.unique(d.y_train)) <= {0, 1}
    y = np.concatenate([d.y_train, d.y_val])
    assert abs(int(y.sum()) - 50) <= 1  # balanced classes
    x = np.concatenate([d.x_train, d.x_val])
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(x.std(axis=0), 1.0)


def test_dataset_is_seeded_and_noise_default():
    a = make_dataset("spiral", rng=rng(5))
    b = make_dataset("spiral", rng=rng(5))
    c = make_dataset("spiral", rng=rng(6))
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.noise == 0.1
    assert make_dataset("spiral", noise=0.0, rng=rng(5)).noise == 0.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "donut"}, r"dataset must be one of 'blobs'.*got 'donut'"),
        ({"n_samples": 3}, r"n_samples .* got 3"),
        ({"n_samples": 2.5}, r"n_samples .* got 2.5"),
        ({"noise": -1}, r"noise .* got -1"),
        ({"noise": float("nan")}, r"noise"),
        ({"val_fraction": 1.0}, r"val_fraction .* got 1"),
        ({"val_fraction": 0.01, "n_samples": 100}, r"val_fraction must leave"),
        ({"rng": None}, r"rng must be a numpy.random.Generator"),
    ],
)
def test_dataset_errors_name_argument_and_value(kwargs, match):
    args = {"name": "moons", "rng": rng(0), **kwargs}
    name = args.pop("name")
    with pytest.raises(DropoutFigsError, match=match):
        make_dataset(name, **args)


# --------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("keep_prob", 0.0),
        ("keep_prob", 1.5),
        ("input_keep_prob", float("nan")),
        ("width", 0),
        ("hidden_layers", -1),
        ("epochs", 0),
        ("batch_size", 0),
        ("optimizer", "rmsprop"),
        ("lr", 0.0),
        ("momentum", 1.0),
        ("l2", -0.1),
        ("max_norm", 0.0),
        ("scheme", "paper"),
    ],
)
def test_config_validation_names_field(field, value):
    with pytest.raises(DropoutFigsError, match=field):
        lab.TrainConfig(**{field: value})


def test_config_helpers():
    c = lab.TrainConfig(keep_prob=0.7)
    assert c.drop_rate == pytest.approx(0.3)
    assert c.layer_sizes() == (2, 64, 64, 64, 2)
    assert c.replace(width=8).width == 8
    with pytest.raises(DropoutFigsError):
        c.replace(width=-1)


def test_mask_threshold_is_exact_for_halves():
    # keep iff uint16 <= t: P = (t + 1) / 65536
    assert (loop.keep_threshold(0.5) + 1) / 65536 == 0.5
    assert loop.keep_threshold(1.0) == 65535
    assert abs((loop.keep_threshold(0.3) + 1) / 65536 - 0.3) < 1 / 65536


# --------------------------------------------------------------------------- the engine
@pytest.mark.parametrize("scheme", ["inverted", "classic"])
def test_engine_gradients_equal_teaching_mlp(moons, scheme):
    """The stacked engine computes exactly mlp.loss_and_grads under the same masks."""
    configs = [
        lab.TrainConfig(
            hidden_layers=2, width=7, keep_prob=0.5, input_keep_prob=0.8, scheme=scheme
        ),
        lab.TrainConfig(hidden_layers=2, width=7, keep_prob=1.0, scheme=scheme),
        lab.TrainConfig(hidden_layers=2, width=7, keep_prob=0.3, scheme=scheme),
    ]
    sizes = configs[0].layer_sizes()
    inits = [mlp.init_params(sizes, rng=rng(i)) for i in range(3)]
    stack = engine._Stack(
        configs,
        [moons] * 3,
        inits,
        [rng(10 + i) for i in range(3)],
        [rng(20 + i) for i in range(3)],
    )
    stack._draw_epoch()
    n = 8
    buf = stack._buffers(n)
    idx = stack.order[:, :n]
    np.take(stack.x_train, idx, axis=0, out=buf.xa)
    np.take(stack.onehot_train, idx, axis=0, out=buf.onehot)
    x_batch, y_batch = buf.x.copy(), buf.onehot.argmax(axis=2)
    losses = stack._forward_backward(buf, 0, n)[:, :, 0].mean(axis=1)
    for m, c in enumerate(configs):
        keep_in, keep = stack.masks_of(m, 0, n)
        loss, grads = mlp.loss_and_grads(
            inits[m],
            x_batch[m],
            y_batch[m],
            keep_masks=keep,
            keep_prob=c.keep_prob,
            input_mask=keep_in,
            input_keep_prob=c.input_keep_prob,
            scheme=scheme,
        )
        assert losses[m] == pytest.approx(loss, rel=1e-12)
        for layer, (dW, db) in enumerate(grads):
            np.testing.assert_allclose(stack.dWb[layer][m, :-1], dW, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(stack.dWb[layer][m, -1], db, rtol=1e-10, atol=1e-14)
    bits = stack.bits
    # the model with keep_prob 1 and no input dropout drew no masks: nothing dropped
    assert (bits[1] == 0).all()


@pytest.mark.parametrize(
    "config",
    [
        SMALL,
        SMALL.replace(optimizer="sgd", lr=0.05, momentum=0.9),
        SMALL.replace(input_keep_prob=0.8, scheme="classic", l2=1e-3, max_norm=2.0),
        SMALL.replace(keep_prob=1.0, optimizer="sgd", batch_size=7),
    ],
    ids=["adam", "sgd", "input-classic-l2-maxnorm", "no-dropout-ragged-batches"],
)
def test_engine_trains_exactly_like_the_teaching_loop(moons, config):
    """lab.train (the stacked engine) and loop.train_loop, from the same three streams."""
    result = lab.train(config, moons, rng=rng(11))
    init_rng, order_rng, mask_rng = rng(11).spawn(3)
    init = mlp.init_params(config.layer_sizes(), rng=init_rng)
    params, history = loop.train_loop(init, moons, config, order_rng=order_rng, mask_rng=mask_rng)
    assert set(history) == set(result.history)
    for key, values in history.items():
        np.testing.assert_allclose(result.history[key], values, rtol=1e-10, atol=1e-12)
    for (W, b), (eW, eb) in zip(params, result.raw_params, strict=True):
        np.testing.assert_allclose(eW, W, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(eb, b, rtol=1e-10, atol=1e-12)
    # the loop really trained: the weights moved
    assert not np.allclose(params[0][0], init[0][0])


def test_epoch_masks_are_the_engines_masks(moons):
    config = SMALL.replace(input_keep_prob=0.7)
    stack = engine._Stack(
        [config], [moons], [mlp.init_params(config.layer_sizes(), rng=rng(0))], [rng(1)], [rng(2)]
    )
    stack._draw_epoch()
    keep_in, keep = stack.masks_of(0, 0, moons.n_train)
    in_mask, masks = loop.epoch_masks(
        rng(2), moons.n_train, config.layer_sizes(), keep_prob=0.6, input_keep_prob=0.7
    )
    np.testing.assert_array_equal(in_mask, keep_in)
    for a, b in zip(masks, keep, strict=True):
        np.testing.assert_array_equal(a, b)
    assert loop.epoch_masks(rng(2), 5, (2, 3, 2), keep_prob=1.0, input_keep_prob=1.0) == (
        None,
        None,
    )


def test_masks_keep_the_right_fraction(moons):
    config = lab.TrainConfig(hidden_layers=2, width=200, keep_prob=0.3, input_keep_prob=0.8)
    sizes = config.layer_sizes()
    stack = engine._Stack(
        [config], [moons], [mlp.init_params(sizes, rng=rng())], [rng(1)], [rng(2)]
    )
    stack._draw_epoch()
    hidden = stack.bits[0, :, 2:] <= loop.keep_threshold(0.3)
    n = hidden.size
    assert abs(hidden.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / n)
    # per example: masks differ between examples
    assert not (hidden[0] == hidden[1]).all()


def test_train_is_deterministic_and_records_history(moons):
    a = lab.train(SMALL, moons, rng=rng(3), snapshot_epochs=(0, 3, 6))
    b = lab.train(SMALL, moons, rng=rng(3))
    for key in lab.HISTORY_KEYS:
        assert a.history[key].shape == (6,)
        assert np.isfinite(a.history[key]).all()
        np.testing.assert_array_equal(a.history[key], b.history[key])
    assert sorted(a.snapshots) == [0, 3, 6]
    for (W0, _), (Wi, _) in zip(a.snapshots[0], a.init_params, strict=True):
        np.testing.assert_array_equal(W0, Wi)
    for (W6, _), (W, _) in zip(a.snapshots[6], a.params, strict=True):
        np.testing.assert_array_equal(W6, W)
    m = a.metrics()
    assert set(m) == {
        *("train_loss", "val_loss", "test_loss", "train_acc", "val_acc", "test_acc"),
        *("gap", "epochs", "seconds"),
    }
    assert m["gap"] == pytest.approx(m["val_loss"] - m["train_loss"])
    assert m["epochs"] == 6
    # eval-mode numbers are those of mlp.predict_proba on the final weights
    p = mlp.predict_proba(a.params, moons.x_val)
    assert m["val_acc"] == pytest.approx(np.mean(p.argmax(axis=1) == moons.y_val))
    ce = -np.mean(np.log(p[np.arange(moons.n_val), moons.y_val]))
    assert m["val_loss"] == pytest.approx(ce, rel=1e-10)


def test_training_lowers_the_loss(moons):
    r = lab.train(SMALL.replace(epochs=40), moons, rng=rng(0))
    assert r.history["train_loss"][-1] < 0.7 * r.history["train_loss"][0]


def test_train_from_given_init_and_bad_init(moons):
    init = mlp.init_params(SMALL.layer_sizes(), rng=rng(9))
    r = lab.train(SMALL, moons, rng=rng(0), init_params=init)
    np.testing.assert_array_equal(r.init_params[0][0], init[0][0])
    with pytest.raises(DropoutFigsError, match="init_params"):
        lab.train(SMALL, moons, rng=rng(0), init_params=init[:-1])
    with pytest.raises(DropoutFigsError, match="snapshot_epochs"):
        lab.train(SMALL, moons, rng=rng(0), snapshot_epochs=(99,))
    with pytest.raises(DropoutFigsError, match="data must be"):
        lab.train(SMALL, "moons", rng=rng(0))


def test_classic_scheme_params_are_weight_scaled(moons):
    c = SMALL.replace(scheme="classic", input_keep_prob=0.9)
    r = lab.train(c, moons, rng=rng(0))
    expected = mlp.weight_scaled(r.raw_params, c.keep_prob, input_keep_prob=0.9)
    for (W, b), (We, be) in zip(r.params, expected, strict=True):
        np.testing.assert_allclose(W, We)
        np.testing.assert_array_equal(b, be)
    p = mlp.predict_proba(r.params, moons.x_val)
    ce = -np.mean(np.log(p[np.arange(moons.n_val), moons.y_val]))
    assert r.metrics()["val_loss"] == pytest.approx(ce, rel=1e-10)


@pytest.mark.parametrize(
    "config",
    [
        SMALL.replace(optimizer="sgd", lr=0.05, momentum=0.9),
        SMALL.replace(l2=1e-2),
        SMALL.replace(max_norm=0.5),
        SMALL.replace(hidden_layers=0),
        SMALL.replace(batch_size=1000),
    ],
    ids=["sgd", "l2", "max_norm", "no-hidden", "full-batch"],
)
def test_optimiser_variants_run(moons, config):
    r = lab.train(config.replace(epochs=20), moons, rng=rng(0))
    assert np.isfinite(r.history["train_loss"]).all()
    assert r.history["train_loss"][-1] < r.history["train_loss"][0]
    if config.max_norm is not None:
        for W, _ in r.params:
            assert np.linalg.norm(W, axis=0).max() <= 0.5 + 1e-9


def test_l2_shrinks_the_weights(moons):
    plain = lab.train(SMALL.replace(epochs=20), moons, rng=rng(0))
    decayed = lab.train(SMALL.replace(epochs=20, l2=0.1), moons, rng=rng(0))
    norm = lambda r: sum(float((W**2).sum()) for W, _ in r.params)  # noqa: E731
    assert norm(decayed) < norm(plain)


def test_compare_shares_init_and_batch_order(moons):
    out = lab.compare(SMALL, moons, rng=rng(4))
    without, with_ = out["without_dropout"], out["with_dropout"]
    assert without.config.keep_prob == 1.0
    assert with_.config.keep_prob == SMALL.keep_prob
    np.testing.assert_array_equal(without.init_params[1][0], with_.init_params[1][0])
    # "without" is exactly a plain training run with the same generator: the same
    # init and batch order as the dropout run (which spawns its streams the same way)
    alone = lab.train(SMALL.replace(keep_prob=1.0), moons, rng=rng(4))
    np.testing.assert_allclose(without.history["val_loss"], alone.history["val_loss"], rtol=1e-12)
    dropout_alone = lab.train(SMALL, moons, rng=rng(4))
    np.testing.assert_allclose(
        with_.history["val_loss"], dropout_alone.history["val_loss"], rtol=1e-12
    )
    with pytest.raises(DropoutFigsError, match="compare needs dropout"):
        lab.compare(SMALL.replace(keep_prob=1.0), moons, rng=rng(0))


def test_train_many_equals_separate_runs(moons):
    configs = [SMALL.replace(keep_prob=k) for k in (1.0, 0.8, 0.5)]
    configs.append(SMALL.replace(width=5, keep_prob=0.7))  # another architecture: own group
    configs.append(SMALL.replace(scheme="classic", optimizer="sgd", lr=0.05))
    seeds = (11, 12)
    batched = lab.train_many(configs, moons, seeds=seeds, jobs=2)
    assert len(batched) == len(configs) * len(seeds)
    for i, c in enumerate(configs):
        for j, s in enumerate(seeds):
            alone = lab.train(c, moons, rng=rng(s))
            got = batched[i * len(seeds) + j]
            assert got.config == c
            for key in lab.HISTORY_KEYS:
                np.testing.assert_allclose(got.history[key], alone.history[key], rtol=1e-10)
            np.testing.assert_allclose(got.params[-1][0], alone.params[-1][0], rtol=1e-10)


def test_train_many_per_config_data_and_errors(moons):
    other = make_dataset("circles", n_samples=60, rng=rng(1))
    res = lab.train_many([SMALL, SMALL], [moons, other], seeds=[0])
    alone = lab.train(SMALL, other, rng=rng(0))
    np.testing.assert_allclose(res[1].history["val_loss"], alone.history["val_loss"], rtol=1e-10)
    with pytest.raises(DropoutFigsError, match="one per config"):
        lab.train_many([SMALL], [moons, other], seeds=[0])
    with pytest.raises(DropoutFigsError, match="seeds"):
        lab.train_many([SMALL], moons, seeds=[-1])


def test_sweep_keep_prob_shapes(moons):
    out = lab.sweep_keep_prob(SMALL, moons, [1.0, 0.5], seeds=(0, 1, 2))
    assert out["val_loss"].shape == (2, 3)
    np.testing.assert_array_equal(out["keep_probs"], [1.0, 0.5])


def test_sweep_dataset_size_shapes():
    pools = lab.draw_splits("moons", n_train=40, n_test=100, n_replicates=3, rng=rng(0))
    out = lab.sweep_dataset_size(SMALL.replace(keep_prob=0.5), pools, [20, 40], seeds=(0, 1))
    for key in ("without_dropout", "with_dropout"):
        assert out[key]["test_loss"].shape == (2, 3)
        assert np.isfinite(out[key]["test_loss"]).all()
        assert ((out[key]["test_error"] >= 0) & (out[key]["test_error"] <= 1)).all()


# --------------------------------------------------------------------------- presets
def test_presets_exist_and_are_consistent():
    expected = {
        "blobs",
        "circles",
        "xor",
        "moons",
        "spiral",
        "severe-overfitting",
        "same-network-dropout",
    }
    assert set(lab.PRESETS) == expected
    for name, p in lab.PRESETS.items():
        assert p.name == name
        assert p.title
        assert p.description
        assert set(p.dataset_kwargs) == {"n_samples", "noise", "val_fraction"}
        assert isinstance(p.config, lab.TrainConfig)
    severe, same = lab.PRESETS["severe-overfitting"], lab.PRESETS["same-network-dropout"]
    assert same.config.replace(keep_prob=1.0) == severe.config
    assert same.dataset_kwargs == severe.dataset_kwargs
    assert same.config.keep_prob < 1
    with pytest.raises(DropoutFigsError, match="preset must be one of"):
        lab.get_preset("nope")


def _preset_pairs(name, without_name=None):
    """Train preset ``name`` without and with its dropout over 5 seeds (data and weights)."""
    preset = lab.PRESETS[name]
    with_config = preset.config
    without_config = (
        lab.PRESETS[without_name].config
        if without_name
        else with_config.replace(keep_prob=1.0, input_keep_prob=1.0)
    )
    configs, datasets = [], []
    for s in SEEDS:
        d = preset.make_data(rng=rng(100 + s))
        configs += [without_config, with_config]
        datasets += [d, d]
    seeds = [s for s in SEEDS for _ in range(2)]
    res = lab.train_many(configs, datasets, seeds=seeds, paired=True)
    return list(zip(res[::2], res[1::2], strict=True))


def test_severe_overfitting_preset_overfits_and_dropout_helps():
    """Over 5 seeds: train loss ~0 and val loss climbing; dropout ends with lower val loss."""
    better = 0
    for without, with_ in _preset_pairs("same-network-dropout", "severe-overfitting"):
        h = without.history
        assert h["train_loss"][-1] < 0.1
        assert h["val_loss"][-1] > 2 * h["val_loss"].min()  # validation loss climbs
        better += with_.metrics()["val_loss"] < 0.7 * without.metrics()["val_loss"]
    assert better >= 4


@pytest.mark.slow
@pytest.mark.parametrize("name", ["moons", "spiral"])
def test_dropout_presets_overfit_without_dropout(name):
    better = 0
    for without, with_ in _preset_pairs(name):
        better += with_.metrics()["val_loss"] < without.metrics()["val_loss"]
    assert better >= 4


def test_blobs_preset_is_learned():
    preset = lab.PRESETS["blobs"]
    r = lab.train(preset.config, preset.make_data(rng=rng(0)), rng=rng(1))
    assert r.metrics()["val_acc"] > 0.95


def test_one_blas_thread_is_restored():
    setter = engine._blas_thread_setter()
    if setter is None:
        pytest.skip("NumPy is not linked to OpenBLAS here")
    before = setter(2)
    try:
        with engine._one_blas_thread():
            assert setter(1) == 1  # inside: one thread
        assert setter(2) == 2  # restored on exit
    finally:
        setter(before)


def test_train_many_threads_equal_separate_runs(moons, monkeypatch):
    """The two-thread path (forced here on small models) gives the same numbers."""
    used = []

    class Pool(training.ThreadPoolExecutor):
        def __init__(self, *args, **kwargs):
            used.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(training, "_THREAD_ELEMENTS", 2)
    monkeypatch.setattr(training, "ThreadPoolExecutor", Pool)
    configs = [SMALL.replace(keep_prob=k) for k in (1.0, 0.7, 0.4)]
    batched = lab.train_many(configs, moons, seeds=(5, 6), jobs=2)
    assert used == [2]
    for i, c in enumerate(configs):
        for j, s in enumerate((5, 6)):
            alone = lab.train(c, moons, rng=rng(s))
            np.testing.assert_array_equal(
                batched[2 * i + j].history["val_loss"], alone.history["val_loss"]
            )


def test_train_many_small_stacks_stay_in_one_thread(moons, monkeypatch):
    used = []
    monkeypatch.setattr(training, "ThreadPoolExecutor", lambda *a, **k: used.append(1))
    lab.train_many([SMALL, SMALL.replace(width=5)], moons, seeds=(0, 1), jobs=2)
    assert used == []


def test_train_many_default_is_one_thread_in_a_worker_process(moons, monkeypatch):
    used = []
    monkeypatch.setattr(training, "_THREAD_ELEMENTS", 2)
    monkeypatch.setattr(training, "ThreadPoolExecutor", lambda *a, **k: used.append(1))
    monkeypatch.setattr(training.multiprocessing, "parent_process", lambda: object())
    lab.train_many([SMALL, SMALL.replace(keep_prob=0.5)], moons, seeds=(0, 1))
    assert used == []


def test_train_many_processes_equal_separate_runs(moons, monkeypatch):
    """The worker-process path (forced here on small models) gives the same numbers."""
    used = []

    def spy(chunks, jobs):
        used.append((len(chunks), jobs))
        return run_in_processes(chunks, jobs)

    run_in_processes = training._run_in_processes
    monkeypatch.setattr(training, "_PROCESS_WORK", 0)
    monkeypatch.setattr(training, "_run_in_processes", spy)
    configs = [SMALL.replace(keep_prob=k) for k in (1.0, 0.7, 0.4)]
    configs.append(SMALL.replace(width=5))  # a group of its own
    batched = lab.train_many(configs, moons, seeds=(5, 6), jobs=2, processes=True)
    assert len(used) == 1
    assert used[0][1] == 2
    assert used[0][0] >= 2
    for i, c in enumerate(configs):
        for j, s in enumerate((5, 6)):
            alone = lab.train(c, moons, rng=rng(s))
            got = batched[2 * i + j]
            assert got.config == c
            assert got.cpu_seconds > 0
            for key in lab.HISTORY_KEYS:
                np.testing.assert_array_equal(got.history[key], alone.history[key])
            for (W, b), (W0, b0) in zip(got.params, alone.params, strict=True):
                np.testing.assert_array_equal(W, W0)
                np.testing.assert_array_equal(b, b0)


def test_train_many_small_jobs_stay_out_of_processes(moons, monkeypatch):
    used = []
    monkeypatch.setattr(training, "_run_in_processes", lambda *a: used.append(1))
    lab.train_many([SMALL, SMALL.replace(keep_prob=0.5)], moons, seeds=(0, 1), processes=True)
    assert used == []


def test_cpu_seconds_recorded(moons):
    res = lab.train(SMALL, moons, rng=rng(0))
    assert 0 < res.cpu_seconds < 60
    many = lab.train_many([SMALL, SMALL.replace(keep_prob=0.5)], moons, seeds=(0,))
    assert all(r.cpu_seconds > 0 for r in many)


def test_sweep_keep_prob_same_numbers_in_processes(moons, monkeypatch):
    monkeypatch.setattr(training, "_PROCESS_WORK", 0)
    kw = {"seeds": (0, 1), "jobs": 2}
    here = lab.sweep_keep_prob(SMALL, moons, [1.0, 0.5], **kw)
    there = lab.sweep_keep_prob(SMALL, moons, [1.0, 0.5], processes=True, **kw)
    for key in ("train_loss", "val_loss", "gap"):
        np.testing.assert_array_equal(here[key], there[key])


@pytest.mark.parametrize("bitgen", [np.random.PCG64, np.random.Philox])
def test_mask_bits_are_numpys_uint16_integers(bitgen):
    """The fast mask draw gives rng.integers' numbers and leaves the same state."""
    fast = np.random.Generator(bitgen(7))
    slow = np.random.Generator(bitgen(7))
    # counts that are and are not multiples of 4, so the fast path sees both a
    # clean and a half-used 32-bit draw pending
    for shape in [(40, 98), (3, 4), (5, 3), (8, 2), (7, 7), (2, 2), (16, 66), (1, 1), (4, 4)]:
        got = engine._uint16_bits(fast, shape)
        want = slow.integers(0, 1 << 16, size=shape, dtype=np.uint16)
        assert got.shape == shape
        assert got.dtype == np.uint16
        np.testing.assert_array_equal(got, want)
    # the same state: the next draws agree, 32-bit ones (which use a pending
    # half of a 64-bit output) included
    for _ in range(3):
        np.testing.assert_array_equal(
            fast.integers(0, 1 << 32, size=3, dtype=np.uint32),
            slow.integers(0, 1 << 32, size=3, dtype=np.uint32),
        )
        np.testing.assert_array_equal(fast.random(5), slow.random(5))


# --------------------------------------------------------------------------- bounded work
def test_cost_grows_with_epochs_models_and_size():
    c = lab.TrainConfig(width=32, hidden_layers=2, epochs=10)
    kw = {"n_inputs": 2, "n_classes": 2, "n_train": 100, "n_eval": 200}
    one = lab.estimate_cost(c, **kw)
    assert lab.estimate_cost(c.replace(epochs=20), **kw).units == 2 * one.units
    assert lab.estimate_cost(c, **kw, n_models=3).units == 3 * one.units
    assert lab.estimate_cost(c.replace(width=64), **kw).bytes > one.bytes
    big = lab.estimate_cost(c.replace(width=4096, hidden_layers=16, epochs=1), **kw)
    assert big.bytes > 2 * 2**30  # measured: 17.9 GB
    assert big.seconds > 30


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"width": 4096, "hidden_layers": 16, "epochs": 1}, "lower width or hidden_layers"),
        ({"epochs": 100_000}, "lower epochs to at most"),
    ],
)
def test_too_big_a_run_is_refused_before_any_work(moons, monkeypatch, changes, message):
    def no_work(*args, **kwargs):
        raise AssertionError("work started before the cost check")

    monkeypatch.setattr(training.mlp, "init_params", no_work)
    config = lab.TrainConfig(**changes)
    for run in (lab.train, lab.compare):
        with pytest.raises(DropoutFigsError, match=r"too big: about [\d,]+ s .*" + message):
            run(config.replace(keep_prob=0.5), moons, rng=rng(0))


def test_presets_are_under_the_cost_cap():
    for preset in lab.PRESETS.values():
        data = preset.make_data(rng=rng(0))
        lab.check_cost(preset.config, data, n_models=2)


def test_a_diverged_run_stops_at_once_and_says_so(moons):
    config = lab.TrainConfig(optimizer="sgd", lr=10, epochs=50)
    result = lab.train(config, moons, rng=rng(0))
    e = result.diverged_epoch
    assert e is not None
    assert e < 50
    assert all(len(v) == e for v in result.history.values())
    assert not np.isfinite(result.history["train_loss"][-1])
    assert np.isfinite(result.history["train_loss"][: e - 1]).all()
    m = result.metrics()
    assert m["diverged"] is True
    assert m["diverged_epoch"] == e == m["epochs"]
    pair = lab.compare(config.replace(keep_prob=0.5), moons, rng=rng(0))
    assert {len(r.history["val_loss"]) for r in pair.values()} == {
        min(r.diverged_epoch or 50 for r in pair.values())
    }
    healthy = lab.train(SMALL, moons, rng=rng(0))
    assert healthy.diverged_epoch is None
    assert "diverged" not in healthy.metrics()


# --------------------------------------------------------------------------- held-out test set
def test_test_points_never_change_the_training_and_validation_points():
    a = make_dataset("spiral", n_samples=90, rng=rng(4))
    b = make_dataset("spiral", n_samples=90, n_test=0, rng=rng(4))
    c = make_dataset("spiral", n_samples=90, n_test=37, rng=rng(4))
    for d in (b, c):
        np.testing.assert_array_equal(d.x_train, a.x_train)
        np.testing.assert_array_equal(d.y_val, a.y_val)
    assert (a.n_test, b.n_test, c.n_test) == (2000, 0, 37)
    assert a.x_test.shape == (2000, 2)
    # same distribution, same standardisation: about balanced, mean ~0, sd ~1
    assert abs(a.y_test.mean() - 0.5) < 0.02
    np.testing.assert_allclose(a.x_test.mean(axis=0), 0.0, atol=0.25)
    np.testing.assert_allclose(a.x_test.std(axis=0), 1.0, atol=0.25)
    assert not a.x_test.flags.writeable
    with pytest.raises(DropoutFigsError, match="n_test must be a whole number"):
        make_dataset("moons", n_test=-1, rng=rng(0))


def test_engine_evaluates_the_test_set_once_at_the_end(moons):
    result = lab.train(SMALL, moons, rng=rng(3))
    for key in ("test_loss", "test_acc"):
        h = result.history[key]
        assert h.shape == (SMALL.epochs,)
        assert np.isnan(h[:-1]).all()
    loss, acc = loop.evaluate(result.raw_params, moons.x_test, moons.y_test, config=SMALL)
    m = result.metrics()
    assert m["test_loss"] == pytest.approx(loss, rel=1e-12)
    assert m["test_acc"] == acc
    assert 0.5 < m["test_acc"] <= 1.0
    no_test = make_dataset("moons", n_samples=60, noise=0.3, n_test=0, rng=rng(0))
    plain = lab.train(SMALL, no_test, rng=rng(3))
    assert "test_loss" not in plain.history
    assert "test_loss" not in plain.metrics()
    # the test set changes nothing else
    np.testing.assert_array_equal(plain.history["val_loss"], result.history["val_loss"])


# --------------------------------------------------------------------------- digits
def test_digits_are_real_images_split_three_ways():
    d = make_dataset("digits", rng=rng(0))
    assert (d.n_train, d.n_val, d.n_test) == (300, 300, 1197)
    assert d.x_train.shape == (300, 64)
    assert d.n_classes == 10
    assert set(np.unique(d.y_train)) == set(range(10))
    x = np.concatenate([d.x_train, d.x_val, d.x_test])
    assert x.min() == 0.0
    assert x.max() == 1.0
    # every image once: 1,797 distinct rows
    assert len(np.unique(x, axis=0)) == len(np.unique(_all_digit_images(), axis=0))
    small = make_dataset("digits", n_samples=100, n_test=50, rng=rng(0))
    assert (small.n_train, small.n_val, small.n_test) == (50, 50, 50)
    with pytest.raises(DropoutFigsError, match="n_samples must be a whole number from 4 to 1,796"):
        make_dataset("digits", n_samples=1797, rng=rng(0))
    with pytest.raises(DropoutFigsError, match=r"n_test .* got 1198"):
        make_dataset("digits", n_test=1198, rng=rng(0))


def _all_digit_images():
    from sklearn.datasets import load_digits

    return load_digits().data / 16.0


def test_digits_default_config_learns():
    data_kwargs, config = lab.config.DATASET_DEFAULTS["digits"]
    data = make_dataset("digits", **data_kwargs, rng=rng(0))
    assert config.layer_sizes(64, 10) == (64, 512, 512, 10)
    lab.check_cost(config, data, n_models=2)
    result = lab.train(config.replace(epochs=3), data, rng=rng(0))
    assert result.metrics()["test_acc"] > 0.6  # chance is 0.1
