"""``dropout-figs train``: JSON and table output, presets and overrides, bad input."""

from __future__ import annotations

import io
import json

import pytest

from dropout_figs.cli import main
from dropout_figs.cli._progress import Progress

KEYS = {
    "train_loss",
    "val_loss",
    "test_loss",
    "train_acc",
    "val_acc",
    "test_acc",
    "gap",
    "epochs",
    "seconds",
}
FAST = ["--layers", "1", "--width", "8", "--epochs", "3", "--n-samples", "40"]


def run(capsys, *argv):
    status = main(["train", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_json_has_the_metrics(capsys):
    status, out, err = run(capsys, "--dataset", "xor", "--drop-rate", "0.3", "--json", *FAST)
    assert status == 0
    m = json.loads(out)
    assert set(m) == KEYS
    assert m["epochs"] == 3
    assert m["gap"] == pytest.approx(m["val_loss"] - m["train_loss"])
    assert err == ""  # no progress bar when stderr is not a terminal


def test_same_seed_same_numbers_and_seed_matters(capsys):
    a = json.loads(run(capsys, "--json", "--seed", "3", *FAST)[1])
    b = json.loads(run(capsys, "--json", "--seed", "3", *FAST)[1])
    c = json.loads(run(capsys, "--json", "--seed", "4", *FAST)[1])
    assert a["val_loss"] == b["val_loss"]
    assert a["val_loss"] != c["val_loss"]


def test_preset_with_overrides(capsys):
    status, out, _ = run(capsys, "--preset", "blobs", "--epochs", "2", "--json")
    assert status == 0
    assert json.loads(out)["epochs"] == 2


def test_keep_prob_equals_drop_rate(capsys):
    a = json.loads(run(capsys, "--keep-prob", "0.75", "--json", *FAST)[1])
    b = json.loads(run(capsys, "--drop-rate", "0.25", "--json", *FAST)[1])
    assert a["val_loss"] == b["val_loss"]
    c = json.loads(run(capsys, "--input-keep-prob", "0.75", "--json", *FAST)[1])
    d = json.loads(run(capsys, "--input-drop-rate", "0.25", "--json", *FAST)[1])
    assert c["val_loss"] == d["val_loss"] != a["val_loss"]


def test_the_cli_does_not_repeat_the_configs_bounds():
    # flags are validated where the config and the data set are: no bound checks here
    import inspect

    from dropout_figs.cli import train

    source = inspect.getsource(train)
    assert "check_finite" not in source
    assert "DATASETS" not in source


def test_compare_json_and_table(capsys):
    status, out, _ = run(capsys, "--compare", "--drop-rate", "0.5", "--json", *FAST)
    assert status == 0
    both = json.loads(out)
    assert set(both) == {"without_dropout", "with_dropout"}
    assert set(both["with_dropout"]) == KEYS
    status, out, _ = run(capsys, "--compare", "--drop-rate", "0.5", *FAST)
    assert status == 0
    assert "without dropout" in out
    assert "with dropout" in out
    assert "drop rate 0.5" in out
    assert "gap" in out.splitlines()[-1]  # the closing sentence explains the gap


def test_compare_on_a_no_dropout_preset_uses_drop_rate_half(capsys):
    status, out, _ = run(capsys, "--preset", "blobs", "--compare", "--epochs", "2", "--json")
    assert status == 0
    assert set(json.loads(out)) == {"without_dropout", "with_dropout"}


def test_table_output(capsys):
    status, out, _ = run(capsys, "--dataset", "circles", *FAST)
    assert status == 0
    assert "circles: 20 training + 20 validation points" in out
    assert "2-8-2, no dropout" in out
    assert "val accuracy" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--layers", "x"], "hidden_layers must be a whole number; got 'x'"),
        (["--width", "0"], "width must be a whole number from 1 to 4,096; got 0"),
        (["--input-drop-rate", "1"], "input_drop_rate must be in [0, 1)"),
        (["--input-keep-prob", "0.5", "--input-drop-rate", "0.5"], "not allowed with"),
        (["--drop-rate", "1.5"], "drop_rate must be in [0, 1)"),
        (["--keep-prob", "0.5", "--drop-rate", "0.5"], "not allowed with"),
        (["--preset", "nope"], "preset must be one of"),
        (["--dataset", "donut"], "dataset must be one of"),
        (["--optimizer", "rmsprop"], "optimizer must be 'adam' or 'sgd'"),
        (["--scheme", "paper"], "scheme must be 'inverted' or 'classic'"),
        (["--lr", "-1"], "lr must be a finite number in (0, 10]; got -1"),
        (["--n-samples", "2"], "n_samples must be a whole number"),
        (["--noise", "nan"], "noise must be"),
        (["--compare", "--drop-rate", "0"], "--compare needs dropout"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_input_is_one_line_and_status_2(capsys, argv, message):
    status, out, err = run(capsys, *FAST, *argv)  # argv last: it wins over FAST
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err


def test_output_figure(capsys, tmp_path):
    target = tmp_path / "curves.png"
    argv = ["--preset", "blobs", "--drop-rate", "0.2", *FAST, "-o", str(target)]
    status, _, err = run(capsys, *argv)
    assert status == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    status, _, err = run(capsys, *argv[:-1], str(tmp_path / "curves.gif"))
    assert status == 2
    assert ".png, .svg, .pdf; got '.gif'" in err
    status, _, err = run(capsys, *argv[:-1], str(tmp_path / "missing" / "c.png"))
    assert status == 2
    assert "does not exist" in err


@pytest.mark.parametrize("compare", [False, True])
def test_output_figure_draws_the_run_it_printed(capsys, tmp_path, monkeypatch, compare):
    """The picture's numbers are the printed JSON's, for non-default flags of every kind."""
    from dropout_figs.figures import runs

    drawn = []
    original = runs.draw_training_runs
    monkeypatch.setattr(
        runs, "draw_training_runs", lambda *a, **k: drawn.append(original(*a, **k)) or drawn[-1]
    )
    argv = [
        "--dataset", "circles", "--lr", "0.02", "--width", "9", "--layers", "2", "--noise", "0.3",
        "--epochs", "4", "--n-samples", "50", "--optimizer", "sgd", "--momentum", "0.5",
        "--batch-size", "10", "--drop-rate", "0.3", "--seed", "5", "--json",
    ]  # fmt: skip
    if compare:
        argv.append("--compare")
    status, out, _ = run(capsys, *argv, "-o", str(tmp_path / "run.svg"))
    assert status == 0
    printed = json.loads(out)
    printed = printed if compare else {"final": printed}
    (drawing,) = drawn
    assert drawing.data["dataset"] == "circles"
    assert drawing.data["noise"] == 0.3
    assert set(drawing.data["runs"]) == set(printed)
    for key, metrics in printed.items():
        run_data = drawing.data["runs"][key]
        for name, value in metrics.items():
            if name != "seconds":
                assert run_data[name] == value, (key, name)
        assert run_data["config"]["lr"] == 0.02
        assert run_data["config"]["width"] == 9
        assert run_data["config"]["hidden_layers"] == 2
        assert run_data["config"]["optimizer"] == "sgd"
        assert f"validation loss {metrics['val_loss']:.4f}" in drawing.alt
    assert "lr 0.02" in drawing.alt
    assert "2-9-9-2" in drawing.alt
    assert (tmp_path / "run.svg").read_bytes().lstrip().startswith(b"<?xml")


def test_progress_bar_only_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = Progress("training", unit="epoch", stream=stream)
        for epoch in range(1, 5):
            bar(epoch, 4)
    assert "epoch 4/4" in tty.getvalue()
    assert tty.getvalue().endswith("\n")
    assert pipe.getvalue() == ""


def test_the_explanation_never_claims_better_accuracy_when_it_fell():
    from dropout_figs.cli.train import _explain
    from dropout_figs.lab import TrainConfig

    config = TrainConfig(keep_prob=0.5)
    without = {"gap": 1.5, "val_loss": 1.5, "val_acc": 0.825}
    better = {"gap": 0.6, "val_loss": 0.7, "val_acc": 0.85}
    worse = {"gap": 0.6, "val_loss": 0.7, "val_acc": 0.775}
    assert _explain(without, better, config).endswith("generalises better.")
    text = _explain(without, worse, config)
    assert "generalises better" not in text
    assert "82.5% -> 77.5%" in text


def test_a_diverged_run_is_one_line_status_2_and_recorded_in_json(capsys, tmp_path):
    target = tmp_path / "run.png"
    argv = ["--lr", "10", "--optimizer", "sgd", "--width", "256", "--epochs", "50"]
    argv += ["--json", "-o", str(target)]
    status, out, err = run(capsys, *argv)
    assert status == 2
    m = json.loads(out)  # strict JSON: a non-finite loss is null
    assert m["diverged"] is True
    assert 1 <= m["diverged_epoch"] == m["epochs"] < 50
    assert err.count("\n") == 1
    assert f"diverged at epoch {m['diverged_epoch']} of 50" in err
    assert "lower lr" in err
    assert not target.exists()  # no picture of a diverged run
    status, out, err = run(capsys, *argv[:-3])
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--width", "4096", "--layers", "16", "--epochs", "1"], "lower width or hidden_layers"),
        (["--epochs", "100000"], "lower epochs to at most"),
        (["--epochs", "100000", "--compare", "--drop-rate", "0.5"], "lower epochs to at most"),
    ],
)
def test_too_big_a_run_is_refused_in_one_line(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "too big" in err
    assert message in err


def test_digits_compare_with_their_defaults(capsys):
    status, out, _ = run(capsys, "--dataset", "digits", "--compare", "--epochs", "2")
    assert status == 0
    assert "digits: 250 training + 250 validation points (+ 1297 held-out test points)" in out
    assert "network 64-512-512-10, keep prob 0.5 (drop rate 0.5), input drop rate 0.2" in out
    assert "test accuracy" in out
    status, out, _ = run(capsys, "--dataset", "digits", "--compare", "--epochs", "2", "--json")
    both = json.loads(out)
    assert both["with_dropout"]["test_acc"] > 0.5
