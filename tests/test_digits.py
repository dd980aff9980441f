"""The digits experiment: the figure's data, its tie to the command line, and the PyTorch tab.

The ``digits-over-seeds`` figure must carry its whole configuration, compute
its summaries from its own per-seed numbers, and be, seed by seed, exactly
``dropout-figs train --dataset digits --compare``; the PyTorch snippet the page
shows (docs/snippets/digits_torch.py) must run, learn, and switch dropout off in
``eval()`` mode. Small parameters throughout: the defaults are the site build's.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path

import numpy as np
import pytest

from dropout_figs import DropoutFigsError
from dropout_figs.cli import main
from dropout_figs.figures import get_figure
from dropout_figs.lab import TrainConfig, compare, make_dataset, train_many
from dropout_figs.lab.record import RUN_KEYS

SNIPPET = Path(__file__).resolve().parents[1] / "docs" / "snippets" / "digits_torch.py"
SMALL = {"n_seeds": 3, "n_epochs": 3, "width": 16, "n_samples": 100, "hidden_layers": 1}


@pytest.fixture(scope="module")
def small():
    return get_figure("digits-over-seeds").draw(SMALL).data


def test_the_figure_carries_its_whole_configuration(small):
    cfg = small["run"]
    assert tuple(cfg) == RUN_KEYS
    assert cfg["dataset"] == "digits"
    assert (cfg["n_train"], cfg["n_val"], cfg["n_test"]) == (50, 50, 1797 - 100)
    assert cfg["layer_sizes"] == [64, 16, 10]
    assert cfg["n_params"] == 65 * 16 + 17 * 10
    assert (cfg["epochs"], cfg["batch_size"], cfg["optimizer"]) == (3, 16, "adam")
    assert cfg["n_updates"] == 3 * 4  # 50 images in batches of 16: 4 updates an epoch
    assert (cfg["keep_prob"], cfg["input_keep_prob"], cfg["lr"]) == (0.8, 1.0, 3e-3)
    assert len(cfg["seeds"]) == len(set(cfg["seeds"])) == 3
    assert small["command"].split("--seed ")[1].split()[0] == str(cfg["seeds"][0])
    assert cfg["paired"]  # also trained without dropout, from the same weights and batches
    for name in ("without_dropout", "with_dropout"):
        for key in ("val_loss", "val_acc"):
            band = small["curves"][name][key]
            assert len(band["mean"]) == 3
            assert np.all(np.array(band["low"]) <= np.array(band["mean"]))
            assert np.all(np.array(band["mean"]) <= np.array(band["high"]))


def test_the_summaries_are_the_per_seed_numbers(small):
    per_seed = small["per_seed"]
    for key, higher in (("test_loss", False), ("test_acc", True)):
        d = np.subtract(per_seed["with_dropout"][key], per_seed["without_dropout"][key])
        s = small["summaries"][key]
        assert s["n_seeds"] == 3
        assert s["mean"] == pytest.approx(d.mean(), abs=2e-4)  # per-seed values are rounded
        assert s["ci_low"] < s["mean"] < s["ci_high"]
        assert s["n_better"] == int(np.sum(d > 0 if higher else d < 0))
    # Twice the updates for dropout, against the same equal-budget network without it.
    assert small["n_updates_2x"] == 2 * small["run"]["n_updates"]
    for key, higher in (("test_loss", False), ("test_acc", True)):
        d = np.subtract(per_seed["with_dropout_2x"][key], per_seed["without_dropout"][key])
        s = small["summaries_2x"][key]
        assert s["mean"] == pytest.approx(d.mean(), abs=2e-4)
        assert s["n_better"] == int(np.sum(d > 0 if higher else d < 0))
    # The last epoch of the validation curve is the seeds' final validation loss.
    mean = small["curves"]["with_dropout"]["val_loss"]["mean"][-1]
    assert mean == pytest.approx(np.mean(per_seed["with_dropout"]["val_loss"]), abs=2e-4)


def test_each_seed_of_the_figure_is_the_command_line_run(small, capsys):
    argv = shlex.split(small["command"])
    assert argv[:2] == ["dropout-figs", "train"]
    assert main([*argv[1:], "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    for name in ("without_dropout", "with_dropout"):
        for key in ("test_loss", "test_acc", "val_loss", "train_loss"):
            assert runs[name][key] == pytest.approx(small["per_seed"][name][key][0], abs=1e-4)


def test_train_many_takes_the_command_lines_training_stream():
    # What `dropout-figs train --compare --seed 7` does with its generators ...
    data_rng, train_rng = np.random.default_rng(7).spawn(2)
    data = make_dataset("digits", n_samples=60, rng=data_rng)
    config = TrainConfig(hidden_layers=1, width=8, epochs=2, keep_prob=0.5)
    pair = compare(config, data, rng=train_rng)
    # ... and train_many from the training stream's SeedSequence, given twice: each
    # model must start from its own copy of it.
    train_seq = np.random.SeedSequence(7).spawn(2)[1]
    stacked = train_many(
        [config.replace(keep_prob=1.0), config], data, seeds=[train_seq] * 2, paired=True
    )
    for res, name in zip(stacked, ("without_dropout", "with_dropout"), strict=True):
        for key in ("val_loss", "test_loss"):
            np.testing.assert_array_equal(res.history[key], pair[name].history[key])


def test_the_figure_refuses_no_dropout_and_too_few_test_images():
    spec = get_figure("digits-over-seeds")
    with pytest.raises(DropoutFigsError, match="keep_prob must be below 1"):
        spec.draw({**SMALL, "keep_prob": 1.0})
    with pytest.raises(DropoutFigsError, match="n_samples"):
        spec.resolve({"n_samples": 1000})  # would leave fewer than 1,000 test images


# --------------------------------------------------------------------------- PyTorch tab
@pytest.fixture(scope="module")
def snippet():
    torch = pytest.importorskip(
        "torch", reason="torch is not installed: the PyTorch tab's code is not run"
    )
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("digits_torch", SNIPPET)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pytorch_tab_runs_the_figures_experiment(snippet):
    snippet_settings = {
        "n_samples": snippet.N_SAMPLES,
        "hidden_layers": snippet.HIDDEN_LAYERS,
        "width": snippet.WIDTH,
        "keep_prob": snippet.KEEP_PROB,
        "input_keep_prob": snippet.INPUT_KEEP_PROB,
        "n_epochs": snippet.EPOCHS,
        "batch_size": snippet.BATCH_SIZE,
        "lr": snippet.LR,
    }
    defaults = get_figure("digits-over-seeds").defaults()
    assert snippet_settings == {k: defaults[k] for k in snippet_settings}
    # PyTorch's p is the drop rate
    drops = [m.p for m in snippet.make_model(keep_prob=0.7) if type(m).__name__ == "Dropout"]
    assert drops[1:] == pytest.approx([0.3] * snippet.HIDDEN_LAYERS)


def test_the_pytorch_tab_learns(snippet):
    runs = snippet.compare(0, epochs=6)
    for run in runs.values():
        assert run["test_acc"] > 0.8  # chance is 0.1
        assert len(run["history"]) == 6
        assert run["history"][-1][0] < run["history"][0][0]  # validation loss fell


def test_the_pytorch_tab_switches_dropout_off_in_eval_mode(snippet):
    import torch

    model = snippet.make_model(keep_prob=0.5)
    x = snippet.load_splits(0)[0][0][:32]
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))
    with torch.no_grad():  # no_grad is not eval: dropout stays on
        assert not torch.equal(model(x), model(x))
    loss, acc = snippet.evaluate(model, *snippet.load_splits(0)[1])
    assert not model.training  # evaluate() leaves the model in eval mode
    assert 0 <= acc <= 1
    assert loss > 0
