"""Evidence behind the pages: mask counting, paired comparisons over seeds, calibration."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

from dropout_figs import theory
from dropout_figs._validate import DropoutFigsError


# --------------------------------------------------------------------------- counting masks
@pytest.mark.parametrize("n_units", [4, 10, 15])
@pytest.mark.parametrize("keep_prob", [0.3, 0.5, 0.8])
def test_exact_count_share_matches_enumeration(n_units, keep_prob):
    masks = np.array(list(itertools.product([0, 1], repeat=n_units)))
    s = theory.exact_count_share(n_units, keep_prob)
    kept = masks.sum(1)
    weights = keep_prob**kept * (1 - keep_prob) ** (n_units - kept)
    assert s.n_kept == round(n_units * keep_prob)
    assert s.share == pytest.approx(np.mean(kept == s.n_kept), rel=1e-12)
    assert s.probability == pytest.approx(weights[kept == s.n_kept].sum(), rel=1e-12)
    # one unit is in exactly half of the masks, whatever q; q is their probability mass
    assert np.mean(masks[:, 0]) == s.unit_share == 0.5
    assert weights[masks[:, 0] == 1].sum() == pytest.approx(s.unit_probability)


def test_exact_count_share_is_sqrt_2_over_pi_n_at_half():
    for n in (100, 300, 10_000):
        s = theory.exact_count_share(n, 0.5)
        assert s.share == pytest.approx(math.sqrt(2 / (math.pi * n)), rel=2 / n)
        assert s.share_approx == pytest.approx(s.share, rel=2 / n)
        # "almost as many" only in digits: within 2 digits, yet under 10 %
        assert s.log10_masks - s.log10_exact < 2.5
        assert s.share < 0.1


def test_exact_count_share_refuses_bad_input():
    with pytest.raises(DropoutFigsError, match="keep_prob"):
        theory.exact_count_share(10, 0.0)
    with pytest.raises(DropoutFigsError, match="n_units"):
        theory.exact_count_share(0, 0.5)


# --------------------------------------------------------------------------- statistics
def test_paired_summary_is_the_paired_t_interval():
    from scipy import stats

    from dropout_figs.lab import evidence as ev

    rng = np.random.default_rng(0)
    a = rng.normal(1.0, 0.2, size=20)
    b = a - 0.1 + rng.normal(0, 0.05, size=20)
    s = ev.paired_summary(a, b, higher_is_better=False)
    d = b - a
    lo, hi = stats.ttest_rel(b, a).confidence_interval(0.95)
    assert s.mean == pytest.approx(d.mean())
    assert (s.ci_low, s.ci_high) == pytest.approx((lo, hi))
    assert s.n_better == int(np.sum(d < 0))
    assert s.n_seeds == 20
    # the same differences, read as accuracies: "better" flips
    assert ev.paired_summary(a, b, higher_is_better=True).n_better == int(np.sum(d > 0))
    assert ev.paired_summary([1, 2, 3], [1, 2, 4], higher_is_better=True).n_ties == 2


def test_paired_summary_refuses_unpaired_input():
    from dropout_figs.lab import evidence as ev

    with pytest.raises(DropoutFigsError, match="same length"):
        ev.paired_summary([1, 2, 3], [1, 2], higher_is_better=True)


def test_ece_is_zero_when_calibrated_and_large_when_overconfident():
    from dropout_figs.lab import evidence as ev

    rng = np.random.default_rng(1)
    n = 200_000
    conf = rng.uniform(0.5, 1.0, size=n)
    y_pred = rng.integers(0, 2, size=n)
    right = rng.random(n) < conf  # correct with probability = confidence
    y = np.where(right, y_pred, 1 - y_pred)
    probs = np.where(y_pred[:, None] == np.arange(2), conf[:, None], 1 - conf[:, None])
    assert ev.expected_calibration_error(probs, y) < 0.005
    # claim 99 % on every point while being right 75 % of the time: ECE 0.24
    sure = np.where(y_pred[:, None] == np.arange(2), 0.99, 0.01)
    y_75 = np.where(rng.random(n) < 0.75, y_pred, 1 - y_pred)
    assert ev.expected_calibration_error(sure, y_75) == pytest.approx(0.24, abs=0.005)
    bins = ev.reliability_bins(sure, y_75)
    assert bins["count"].sum() == n
    assert bins["count"][-1] == n


def test_run_record_of_per_seed_data_counts_parameters_and_updates():
    from dropout_figs.lab import TrainConfig
    from dropout_figs.lab.record import run_record

    cfg = TrainConfig(hidden_layers=3, width=128, epochs=200, batch_size=16)
    shape = {"dataset": "moons", "n_train": 40, "n_val": 40, "n_test": 2000, "noise": 0.35}
    c = run_record(cfg, {**shape, "n_inputs": 2, "n_classes": 2}, seeds=[0])
    assert c["n_params"] == 33_666  # 3*128 + 2*128*129 + 129*2
    assert c["updates_per_epoch"] == 3
    assert c["n_updates"] == 600
    assert c["layer_sizes"] == [2, 128, 128, 128, 2]


# --------------------------------------------------------------------------- claims over seeds
def test_paired_over_seeds_pairs_runs_and_reports_configuration():
    from dropout_figs.lab import TrainConfig
    from dropout_figs.lab import evidence as ev

    small = TrainConfig(hidden_layers=1, width=8, epochs=3, batch_size=16)
    r = ev.paired_over_seeds(seeds=[5, 6, 7], config=small, n_test=300, jobs=1)
    assert set(r.variants) == {"without", "with", "with_2x"}
    c = r.variants["with_2x"]["config"]
    assert c["epochs"] == 6
    assert c["n_updates"] == 2 * r.variants["with"]["config"]["n_updates"]
    assert r.variants["with"]["config"]["keep_prob"] == 0.5
    assert r.variants["without"]["config"]["keep_prob"] == 1.0
    assert c["n_test"] == 300
    assert c["dataset"] == "moons"
    for v in r.variants.values():
        assert v["metrics"]["test_acc"].shape == (3,)
        assert np.all((v["metrics"]["test_acc"] >= 0) & (v["metrics"]["test_acc"] <= 1))
    # same seed, same data: a second call repeats every number
    again = ev.paired_over_seeds(seeds=[5, 6, 7], config=small, n_test=300, jobs=1)
    assert np.array_equal(
        again.variants["with"]["metrics"]["test_loss"], r.variants["with"]["metrics"]["test_loss"]
    )
    d = r.to_dict()
    assert d["summaries"]["with"]["test_loss"]["n_seeds"] == 3
    with pytest.raises(DropoutFigsError, match="keep_prob"):
        ev.paired_over_seeds(seeds=[1, 2], keep_prob=1.0)


# Seeds the preset was never tuned on (lab/config.py lists the tuning seeds).
_FRESH_SEEDS = tuple(range(10000, 10006))


@pytest.fixture(scope="module")
def fresh_headline():
    from dropout_figs.lab import evidence as ev

    return ev.paired_over_seeds(
        "severe-overfitting", seeds=_FRESH_SEEDS, doubled_budget=False, jobs=1
    )


def test_headline_preset_wins_on_fresh_seeds(fresh_headline):
    """`train --preset severe-overfitting --compare`: dropout ahead on held-out test
    loss on every seed and on test accuracy on nearly every seed (5 of 6 here),
    on seeds outside the tuning, at the same update budget."""
    r = fresh_headline
    loss, acc = r.summary("with", "test_loss"), r.summary("with", "test_acc")
    assert loss.n_better == len(_FRESH_SEEDS)
    assert acc.n_better >= len(_FRESH_SEEDS) - 1
    without, with_ = r.variants["without"]["config"], r.variants["with"]["config"]
    assert without["n_updates"] == with_["n_updates"]
    assert with_["n_test"] >= 1000


def test_paired_over_seeds_is_the_commands_run(fresh_headline, capsys):
    """Seed S of paired_over_seeds is `dropout-figs train ... --compare --seed S --json`."""
    import json

    from dropout_figs.cli.main import main

    seed = _FRESH_SEEDS[1]
    argv = ["train", "--preset", "severe-overfitting", "--compare", "--seed", str(seed)]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for variant, key in (("without", "without_dropout"), ("with", "with_dropout")):
        m = fresh_headline.variants[variant]["metrics"]
        for metric in ("test_loss", "test_acc", "val_loss", "train_loss"):
            assert m[metric][1] == pytest.approx(out[key][metric], rel=1e-9), (variant, metric)


def test_runs_are_shared_between_calls_with_the_same_configuration(monkeypatch):
    """The over-seeds figure and the regulariser table train their common runs once."""
    from dropout_figs.lab import TrainConfig
    from dropout_figs.lab import evidence as ev

    small = TrainConfig(hidden_layers=1, width=4, epochs=2, batch_size=16)
    first = ev.paired_over_seeds(seeds=[11, 12], config=small, n_test=200, jobs=1)

    def refuse(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(ev, "train_many", refuse)
    again = ev.paired_over_seeds(seeds=[12, 11], config=small, n_test=200, jobs=1)
    for v in ("without", "with", "with_2x"):
        m1, m2 = first.variants[v]["metrics"], again.variants[v]["metrics"]
        assert m2["test_loss"].tolist() == m1["test_loss"][::-1].tolist()
    with pytest.raises(AssertionError, match="trained again"):
        ev.paired_over_seeds(seeds=[11, 12], config=small, n_test=300, jobs=1)


@pytest.mark.slow
def test_dropout_wins_on_held_out_data_over_twenty_new_seeds():
    """The headline claim of the lab page over 20 seeds the tuning never saw."""
    from dropout_figs.lab import evidence as ev

    r = ev.paired_over_seeds("severe-overfitting", seeds=range(20000, 20020), doubled_budget=False)
    loss, acc = r.summary("with", "test_loss"), r.summary("with", "test_acc")
    assert loss.n_better == 20
    assert loss.ci_high < 0
    assert acc.n_better >= 18
    assert acc.ci_low > 0
    assert r.variants["with"]["config"]["n_test"] >= 1000


def test_dropout_over_seeds_figure_carries_its_runs():
    from dropout_figs.figures import get_figure

    spec = get_figure("dropout-over-seeds")
    drawing = spec.draw({"n_seeds": 3, "n_test": 200})
    d = drawing.data
    assert d["n_seeds"] == 3
    assert len(d["seeds"]) == 3
    assert d["n_test"] == 200
    cfg = d["variants"]["without"]["config"]
    for key in (
        "dataset",
        "n_train",
        "n_val",
        "n_test",
        "noise",
        "hidden_layers",
        "width",
        "n_params",
        "epochs",
        "batch_size",
        "optimizer",
        "lr",
        "keep_prob",
        "n_updates",
    ):
        assert key in cfg, key
    assert d["summaries"]["with"]["test_loss"]["n_seeds"] == 3
    ax_loss, ax_acc, ax_rel = drawing.figure.axes
    # one line per seed joining the three variants, plus one mean bar per variant
    assert len(ax_loss.lines) == 3 + 3
    assert [t.get_text() for t in ax_acc.get_xticklabels()] == [
        "no dropout",
        "dropout",
        "dropout,\n2x updates",
    ]
    assert f"over {d['n_seeds']} seeds" in drawing.alt
    # reliability: the calibrated diagonal and one curve per variant
    assert len(ax_rel.lines) == 1 + 3


def test_mc_vs_weight_scaling_figure_is_paired_over_seeds():
    """Per k, the figure's data hold the paired MC-minus-weight-scaling summary over its seeds."""
    from dropout_figs.figures import get_figure

    d = get_figure("mc-vs-weight-scaling").draw({"n_seeds": 3, "n_epochs": 3}).data
    assert d["n_seeds"] == len(d["seeds"]) == 3
    assert d["n_test"] == d["run"]["n_test"] >= 1000
    assert d["run"]["epochs"] == 3
    assert d["run"]["scheme"] == "classic"
    assert len(d["error_vs_ws"]) == len(d["loss_vs_ws"]) == len(d["counts"])
    for i, (e, s) in enumerate(zip(d["error_vs_ws"], d["loss_vs_ws"], strict=True)):
        assert e["n_seeds"] == s["n_seeds"] == 3
        assert e["ci_low"] <= e["mean"] <= e["ci_high"]
        # the mean paired difference is the difference of the means
        assert e["mean"] == pytest.approx(d["mc_error_mean"][i] - d["ws_error"], abs=2e-4)
        assert s["mean"] == pytest.approx(d["mc_loss_mean"][i] - d["ws_loss"], abs=2e-4)


def test_dataset_size_sweep_doubled_budget_is_the_dropout_net_trained_twice_as_long():
    from dropout_figs.lab import TrainConfig, train_many
    from dropout_figs.lab.sweeps import draw_splits, held_out_metrics, sweep_dataset_size

    pools = draw_splits("moons", n_train=24, n_test=200, n_replicates=2, rng=7)
    config = TrainConfig(hidden_layers=1, width=8, keep_prob=0.5, batch_size=8)
    out = sweep_dataset_size(
        config, pools, [12, 24], seeds=[3, 4], n_updates=6, doubled_budget=True, jobs=1
    )
    assert out["updates"].tolist() == [6, 6]
    assert out["epochs"].tolist() == [3, 2]
    # size 24 (3 batches a epoch, 2 epochs): the 2x net is the same net trained 4 epochs
    data = [dataclasses.replace(p.data, x_train=p.data.x_train[:24]) for p in pools]
    again = train_many([config.replace(epochs=4)] * 2, data, seeds=[4])
    for j, (res, pool) in enumerate(zip(again, pools, strict=True)):
        loss, error = held_out_metrics(res.params, pool.x_test, pool.y_test)
        assert out["with_dropout_2x"]["test_loss"][1, j] == pytest.approx(loss, rel=1e-12)
        assert out["with_dropout_2x"]["test_error"][1, j] == error
        assert out["with_dropout_2x"]["train_loss"][1, j] == pytest.approx(
            res.metrics()["train_loss"], rel=1e-12
        )
    assert "with_dropout_2x" not in sweep_dataset_size(config, pools, [12], seeds=[3], n_updates=6)


# --------------------------------------------------------------------------- regularisers
def test_regulariser_variants_follow_table_9_and_appendix_a():
    from dropout_figs.lab import PRESETS
    from dropout_figs.lab import evidence as ev

    v = ev.regulariser_variants(PRESETS["severe-overfitting"].config, l2=1e-3, max_norm=3.0)
    assert v["none"].keep_prob == 1.0
    assert v["none"].l2 == 0.0
    assert v["none"].max_norm is None
    assert v["L2"].l2 == 1e-3
    assert v["max-norm"].max_norm == 3.0
    assert v["dropout + max-norm"].keep_prob == 0.5
    assert v["dropout + max-norm"].max_norm == 3.0
    recipe = [c for n, c in v.items() if n.startswith("SGD")]
    assert {c.momentum for c in recipe} == {0.9, 0.95, 0.99}
    base_lr = min(c.lr for c in recipe)
    assert {c.lr / base_lr for c in recipe} == {1.0, 10.0}
    assert all(c.optimizer == "sgd" and c.max_norm == 3.0 for c in recipe)


def test_early_stopping_replays_the_long_run():
    """Stopping at epoch E by retraining E epochs with the same seed is the same run."""
    from dropout_figs.lab import TrainConfig, make_dataset, train_many

    data = make_dataset("moons", n_samples=60, rng=np.random.default_rng(3))
    long, short = train_many(
        [
            TrainConfig(hidden_layers=2, width=16, epochs=12),
            TrainConfig(hidden_layers=2, width=16, epochs=5),
        ],
        data,
        seeds=[7, 7],
        paired=True,
        jobs=1,
    )
    np.testing.assert_allclose(short.history["val_loss"], long.history["val_loss"][:5], rtol=1e-12)


def test_mean_interval_is_the_one_sample_t_interval():
    from scipy import stats

    from dropout_figs.lab import evidence as ev

    x = np.random.default_rng(2).normal(3.0, 1.0, size=25)
    mean, lo, hi = ev.mean_interval(x)
    ref = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert mean == pytest.approx(x.mean())
    assert (lo, hi) == pytest.approx(ref)
