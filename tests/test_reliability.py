"""Reliability (issue 11): a cache that verifies what it serves, bounded work, safe styles.

Byte-identity across commands is in test_identity.py and worker clean-up in test_workers.py.
"""

from __future__ import annotations

import json
import logging

import pytest

from dropout_figs.cli import main
from dropout_figs.render import Request, ensure_rendered, ensure_rendered_group, lookup, render


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err, *needles):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------- the cache
def _damage(entry, how):
    meta = entry.path.with_suffix(".json")
    if how == "truncate":
        entry.path.write_bytes(entry.path.read_bytes()[:100])
    elif how == "empty":
        entry.path.write_bytes(b"")
    elif how == "overwrite":
        data = bytearray(entry.path.read_bytes())
        data[len(data) // 2] ^= 0xFF  # same size, one byte off
        entry.path.write_bytes(bytes(data))
    elif how == "meta-garbage":
        meta.write_bytes(b"\x00{not json")
    elif how == "meta-empty":
        meta.write_bytes(b"")
    elif how == "meta-wrong-shape":
        meta.write_text(json.dumps([1, 2, 3]))
    elif how == "meta-missing":
        meta.unlink()
    elif how == "file-missing":
        entry.path.unlink()


DAMAGES = [
    "truncate", "empty", "overwrite", "meta-garbage", "meta-empty", "meta-wrong-shape",
    "meta-missing", "file-missing",
]  # fmt: skip


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize(
    ("name", "fmt"), [("kept-count-pmf", "png"), ("kept-count-pmf", "svg"), ("mask-grid", "gif")]
)
def test_a_damaged_cache_entry_is_redrawn_with_one_info_line(tmp_path, caplog, name, fmt, how):
    request = Request.make(name, {"n": 16}, fmt=fmt)
    (entry,) = ensure_rendered_group([request], tmp_path)
    good = entry.path.read_bytes()
    _damage(entry, how)
    with caplog.at_level(logging.INFO, logger="dropout_figs.render"):
        assert lookup(request, tmp_path) is None
        again = ensure_rendered(request, tmp_path)
    assert again.path.read_bytes() == good
    assert lookup(request, tmp_path) == again  # replaced: served from now on
    lines = [r.getMessage() for r in caplog.records if r.name == "dropout_figs.render"]
    assert len(lines) == 2, lines  # one per look
    assert request.filename() in lines[0]


def test_build_never_copies_a_damaged_cached_file(capsys, tmp_path):
    argv = ["build", tmp_path, "kept-count-pmf", "mask-grid", "--n", "16", "--jobs", "1", "-q"]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    want = {f: (tmp_path / f).read_bytes() for f in ("kept-count-pmf.png", "mask-grid.gif")}
    for cached in (tmp_path / ".cache").iterdir():
        if cached.suffix in {".png", ".gif"}:
            cached.write_bytes(cached.read_bytes()[:64])
        elif cached.suffix == ".json" and "kept-count-pmf" in cached.name:
            cached.write_text("{")
    for f in want:
        (tmp_path / f).unlink()
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    for f, data in want.items():
        assert (tmp_path / f).read_bytes() == data
    assert json.loads((tmp_path / "kept-count-pmf.json").read_text())["params"]["n_units"] == 16


def test_a_cache_path_that_is_a_file_is_one_line(capsys, tmp_path):
    (tmp_path / ".cache").write_text("not a folder")
    code, _, err = run(capsys, "build", tmp_path, "kept-count-pmf", "--jobs", "1")
    one_line_error(code, err, ".cache", "not a folder")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "build", tmp_path, "kept-count-pmf", "--cache", blocker / "sub")
    one_line_error(code, err, "cache")


# --------------------------------------------------------------------------- bounded work
@pytest.mark.parametrize(
    ("argv", "lower"),
    [
        (["network-flicker", "--size", "7680x4320", "--n-frames", "60"], "size"),
        (["keep-prob-sweep", "--width", "1024"], "width"),
        (["loss-curves", "--width", "1024", "--n-epochs", "5000"], "n_epochs"),
    ],
)
def test_too_much_work_is_refused_up_front(capsys, tmp_path, argv, lower):
    suffix = "gif" if argv[0] == "network-flicker" else "png"
    code, _, err = run(capsys, "render", argv[0], "-o", tmp_path / f"x.{suffix}", *argv[1:])
    line = one_line_error(code, err, "about", " s and ", "GB", "lower", lower)
    assert "cap" in line
    assert list(tmp_path.iterdir()) == []


def test_every_figure_is_within_the_cap_at_its_defaults_and_on_a_4k_slide():
    from dropout_figs.figures import iter_figures
    from dropout_figs.figures.catalogue import MAX_BYTES, MAX_SECONDS

    for spec in iter_figures():
        for size in (spec.size, (3840, 2160)):
            work = spec.check_cost(spec.defaults(), size)
            assert 0 < work.seconds <= MAX_SECONDS
            assert 0 < work.bytes <= MAX_BYTES


@pytest.mark.parametrize("n", [str(2**63), str(10**30), "1e30"])
def test_numbers_for_a_huge_n_is_one_line(capsys, n):
    code, _, err = run(capsys, "numbers", "--n", n, "--keep-prob", "0.5")
    one_line_error(code, err, "n_units")


def test_numbers_at_the_largest_n(capsys):
    code, out, err = run(capsys, "numbers", "--n", str(2**63 - 1), "--keep-prob", "0.5", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["kept"] + got["dropped"] == 2**63 - 1


# --------------------------------------------------------------------------- styles
def test_a_style_that_is_not_a_style_file_is_refused_without_echoing_it(capsys, tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:secret-line:/root:/bin/bash\n")
    binary = tmp_path / "binary.mplstyle"
    binary.write_bytes(bytes(range(256)) * 4)
    bad = tmp_path / "bad.mplstyle"
    bad.write_text("lines.linewidth: 2\nsecret-line without a colon\nno.such.key: 1\n")
    blocked = tmp_path / "blocked.mplstyle"
    blocked.write_text("backend: agg\n")
    out = tmp_path / "x.png"
    for style, needle in [
        (secret, "mplstyle"),
        (binary, "not a text file"),
        (bad, "bad line 2, 3"),
        (blocked, "backend"),
        (tmp_path / "missing.mplstyle", "does not exist"),
        ("no-such-style", "style"),
    ]:
        code, stdout, err = run(capsys, "render", "kept-count-pmf", "-o", out, "--style", style)
        line = one_line_error(code, err, needle)
        assert str(style) in line
        assert "secret-line" not in err + stdout
    assert not out.exists()


def test_a_good_style_file_applies(tmp_path):
    style = tmp_path / "thick.mplstyle"
    style.write_text("# a comment\nlines.linewidth: 6  # thick\naxes.facecolor: eeeeee\n")
    plain = render("kept-count-pmf", fmt="png", n_units=16)
    styled = render("kept-count-pmf", fmt="png", n_units=16, style=style)
    assert styled != plain
    assert styled == render("kept-count-pmf", fmt="png", n_units=16, style=str(style))


# --------------------------------------------------------------------------- smaller items
def test_a_long_legal_file_name_works(capsys, tmp_path):
    out = tmp_path / ("f" * 243 + ".png")  # 247 characters; NAME_MAX is 255
    code, _, err = run(capsys, "render", "kept-count-pmf", "-o", out, "-q")
    assert code == 0, err
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_folder_in_the_way_is_named(capsys, tmp_path):
    (tmp_path / "kept-count-pmf.png").mkdir()
    code, _, err = run(capsys, "build", tmp_path, "kept-count-pmf", "--jobs", "1")
    line = one_line_error(code, err, str(tmp_path / "kept-count-pmf.png"))
    assert ".df" not in line
    assert ".tmp" not in line
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".df")]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["build", "{tmp}", "mask-grid", "--jobs", "0"], "jobs"),
        (["build", "{tmp}", "mask-grid", "--jobs", "-3"], "jobs"),
        (["build", "{tmp}", "mask-grid", "--formats", "svg"], "svg"),
        (["render", "kept-count-pmf", "-o", "{tmp}/x.png", "--size", "518400x64"], "size"),
        (["render", "kept-count-pmf", "-o", "{tmp}/x.png", "--dpi", "2400"], "dpi"),
        (["render", "kept-count-pmf", "-o", "{tmp}/x.png", "--dpi", "1"], "dpi"),
    ],
)
def test_small_bad_inputs_are_refused_up_front(capsys, tmp_path, argv, needle):
    code, _, err = run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv])
    one_line_error(code, err, needle)
    assert not [p for p in tmp_path.iterdir() if p.name != ".cache"]
