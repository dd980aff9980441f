"""The command line: every bad input is one line on stderr, exit status 2, no file left."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dropout_figs import layer_summary
from dropout_figs.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *needles):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dropout-figs")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


# --------------------------------------------------------------------------- numbers
def test_numbers_json_has_the_documented_keys_and_matches_the_api(capsys):
    code, out, err = run(
        capsys, "numbers", "--n", "256", "--keep-prob", "0.7", "--seed", "0", "--json"
    )
    assert code == 0, err
    got = json.loads(out)
    keys = {
        "n_units", "keep_prob", "drop_rate", "seed", "kept", "dropped", "scale_factor",
        "expected_active", "log10_subnetworks", "output_scale_ratio",
    }  # fmt: skip
    assert keys <= set(got)
    want = layer_summary(256, keep_prob=0.7, seed=0, mean_activation=1.0)
    assert got["kept"] == want.kept
    assert got["kept"] + got["dropped"] == 256
    assert got["drop_rate"] == pytest.approx(0.3)
    assert got["scale_factor"] == pytest.approx(1 / 0.7)
    assert got["expected_active"] == pytest.approx(256 * 0.7)
    assert got["log10_subnetworks"] == pytest.approx(256 * 0.30102999566398120)


def test_numbers_drop_rate_equals_keep_prob_complement(capsys):
    _, a, _ = run(capsys, "numbers", "--n", "100", "--drop-rate", "0.25", "--json")
    _, b, _ = run(capsys, "numbers", "--n", "100", "--keep-prob", "0.75", "--json")
    assert json.loads(a)["kept"] == json.loads(b)["kept"]


def test_numbers_work_for_a_huge_layer(capsys):
    code, out, err = run(capsys, "numbers", "--n", "1000000000", "--keep-prob", "0.5", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["kept"] + got["dropped"] == 10**9
    assert abs(got["kept"] - 5e8) < 6 * (10**9 * 0.25) ** 0.5


def test_numbers_text_shows_keep_prob_and_drop_rate(capsys):
    code, out, _ = run(capsys, "numbers", "--n", "256", "--keep-prob", "0.7")
    assert code == 0
    assert "0.7" in out
    assert "drop rate 0.3" in out
    assert "1.16 × 10^77" in out


@pytest.mark.parametrize("value", ["1.7", "0", "-0.2", "nan", "inf", "abc"])
def test_bad_keep_prob_is_one_line(capsys, value):
    code, _, err = run(capsys, "numbers", "--n", "10", f"--keep-prob={value}")
    assert_one_line_error(code, err, "keep_prob")


@pytest.mark.parametrize("value", ["1", "1.5", "-0.1", "nan"])
def test_bad_drop_rate_is_one_line(capsys, value):
    code, _, err = run(capsys, "numbers", "--n", "10", f"--drop-rate={value}")
    assert_one_line_error(code, err, "drop_rate")


def test_keep_prob_and_drop_rate_together_is_one_line(capsys):
    code, _, err = run(capsys, "numbers", "--n", "10", "--keep-prob", "0.5", "--drop-rate", "0.5")
    assert_one_line_error(code, err)


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "abc"])
def test_bad_n_is_one_line(capsys, value):
    code, _, err = run(capsys, "numbers", f"--n={value}", "--keep-prob", "0.5")
    assert_one_line_error(code, err, "n_units")


def test_bad_mean_activation_is_one_line(capsys):
    code, _, err = run(capsys, "numbers", "--n", "10", "--keep-prob", "0.5", "--mean-activation=-1")
    assert_one_line_error(code, err, "mean_activation")


# --------------------------------------------------------------------------- render
def test_render_writes_a_gif_with_the_users_parameters(capsys, tmp_path):
    out = tmp_path / "m.gif"
    code, stdout, err = run(
        capsys, "render", "mask-grid", "-o", str(out), "--n", "36", "--drop-rate", "0.5",
        "--seed", "4",
    )  # fmt: skip
    assert code == 0, err
    assert out.read_bytes()[:6] == b"GIF89a"
    assert str(out) in stdout
    assert [p.name for p in tmp_path.iterdir()] == ["m.gif"]


def test_render_same_inputs_same_bytes(capsys, tmp_path):
    for name in ("a.png", "b.png"):
        code, _, err = run(
            capsys, "render", "kept-count-pmf", "-o", str(tmp_path / name), "--n", "64"
        )
        assert code == 0, err
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_render_size_and_style(capsys, tmp_path):
    from PIL import Image

    out = tmp_path / "slide.png"
    code, _, err = run(
        capsys, "render", "subnetwork-count", "-o", str(out), "--size", "1920x1080",
        "--style", "ggplot",
    )  # fmt: skip
    assert code == 0, err
    with Image.open(out) as image:
        assert image.size == (1920, 1080)


def no_files_left(folder):
    return sorted(p.name for p in folder.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["render", "no-such-figure"], ["unknown figure", "mask-grid"]),
        (["render", "mask-grid", "--keep-prob", "1.7"], ["keep_prob"]),
        (["render", "mask-grid", "--keep-prob", "nan"], ["keep_prob"]),
        (["render", "mask-grid", "--keep-prob", "0.5", "--drop-rate", "0.5"], ["not both"]),
        (["render", "mask-grid", "--n", "0"], ["n_units"]),
        (["render", "mask-grid", "--n", "2.5"], ["n_units"]),
        (["render", "mask-grid", "--n", "abc"], ["n_units"]),
        (["render", "mask-grid", "--n", "100000000"], ["n_units"]),
        (["render", "mask-grid", "--no-such-param", "3"], ["--no-such-param", "--keep-prob"]),
        (["render", "mask-grid", "--seed", "-1"], ["seed"]),
        (["render", "mask-grid", "--size", "huge"], ["size"]),
        (["render", "mask-grid", "--style", "no-such-style"], ["style"]),
    ],
)
def test_render_bad_input_is_one_line_and_leaves_no_file(capsys, tmp_path, argv, needles):
    out = tmp_path / "fig.gif"
    argv = [*argv[:2], "-o", str(out), *argv[2:]]
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, *needles)
    assert no_files_left(tmp_path)


def test_render_unsupported_suffix(capsys, tmp_path):
    code, _, err = run(capsys, "render", "mask-grid", "-o", str(tmp_path / "m.jpg"))
    assert_one_line_error(code, err, ".gif")
    code, _, err = run(capsys, "render", "kept-count-pmf", "-o", str(tmp_path / "m.gif"))
    assert_one_line_error(code, err, ".png")
    assert no_files_left(tmp_path)


def test_render_missing_folder(capsys, tmp_path):
    code, _, err = run(capsys, "render", "mask-grid", "-o", str(tmp_path / "nope" / "m.gif"))
    assert_one_line_error(code, err, "does not exist")


def test_render_unwritable_folder(capsys, tmp_path):
    if os.geteuid() == 0:
        folder = "/proc"  # root may write anywhere but here
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
    code, _, err = run(capsys, "render", "mask-grid", "-o", f"{folder}/m.gif")
    assert_one_line_error(code, err)
    assert not os.path.exists(f"{folder}/m.gif")


def test_missing_subcommand_and_unknown_flag_are_one_line(capsys):
    code, _, err = run(capsys)
    assert_one_line_error(code, err)
    code, _, err = run(capsys, "numbers", "--n", "3", "--bogus")
    assert_one_line_error(code, err, "--bogus")


# --------------------------------------------------------------------------- list and build
def test_list_names_every_figure_with_parameters(capsys):
    from dropout_figs import figure_names

    code, out, _ = run(capsys, "list")
    assert code == 0
    for name in figure_names():
        assert name in out
    assert "--keep-prob/--drop-rate" in out
    code, out, _ = run(capsys, "list", "--json")
    specs = json.loads(out)
    assert {s["name"] for s in specs} == set(figure_names())


def test_build_chosen_figures_with_parameters_and_cache(capsys, tmp_path):
    argv = ["build", str(tmp_path), "mask-grid", "kept-count-pmf", "--n", "49", "--keep-prob",
            "0.6", "--jobs", "1", "-q"]  # fmt: skip
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    names = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert names == [
        "kept-count-pmf.json", "kept-count-pmf.png", "kept-count-pmf.svg",
        "mask-grid.gif", "mask-grid.json", "mask-grid.png",
    ]  # fmt: skip
    meta = json.loads((tmp_path / "mask-grid.json").read_text())
    assert meta["params"]["n_units"] == 49
    assert meta["params"]["keep_prob"] == pytest.approx(0.6)
    assert "--n 49" in meta["cli"]
    first = {p.name: p.stat().st_mtime_ns for p in (tmp_path / ".cache").iterdir()}
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    again = {p.name: p.stat().st_mtime_ns for p in (tmp_path / ".cache").iterdir()}
    assert first == again  # nothing was drawn again


def test_build_errors(capsys, tmp_path):
    code, _, err = run(capsys, "build", str(tmp_path / "missing"))
    assert_one_line_error(code, err, "does not exist")
    code, _, err = run(capsys, "build", str(tmp_path), "mask-grid", "--set", "bogus=1")
    assert_one_line_error(code, err, "bogus")
    code, _, err = run(capsys, "build", str(tmp_path), "mask-grid", "--formats", "jpg")
    assert_one_line_error(code, err, "--formats")


def test_python_dash_m_is_the_same_command(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "dropout_figs", "numbers", "--n", "8", "--keep-prob", "2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
