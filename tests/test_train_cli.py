"""``dropout-figs train``: JSON and table output, presets and overrides, bad input."""

from __future__ import annotations

import io
import json

import pytest

from dropout_figs.cli import main
from dropout_figs.cli.train import _Bar

KEYS = {"train_loss", "val_loss", "train_acc", "val_acc", "gap", "epochs", "seconds"}
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
        (["--layers", "x"], "--layers must be a whole number; got 'x'"),
        (["--drop-rate", "1.5"], "drop_rate must be in [0, 1)"),
        (["--keep-prob", "0.5", "--drop-rate", "0.5"], "not allowed with"),
        (["--preset", "nope"], "preset must be one of"),
        (["--dataset", "donut"], "--dataset must be one of"),
        (["--optimizer", "rmsprop"], "--optimizer must be adam or sgd"),
        (["--lr", "-1"], "--lr must be"),
        (["--n-samples", "2"], "--n-samples"),
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
    from dropout_figs.figures import figure_names

    target = tmp_path / "curves.png"
    argv = ["--preset", "blobs", "--drop-rate", "0.2", *FAST, "-o", str(target)]
    status, _, err = run(capsys, *argv)
    if "loss-curves" not in figure_names():
        assert status == 2
        assert "figure not available" in err
        return
    assert status == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    status, _, err = run(capsys, *argv[:-1], str(tmp_path / "curves.gif"))
    assert status == 2
    assert "loss-curves" in err
    status, _, err = run(capsys, *argv[:-1], str(tmp_path / "missing" / "c.png"))
    assert status == 2
    assert "does not exist" in err


def test_progress_bar_only_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = _Bar("training", stream)
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
