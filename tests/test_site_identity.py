"""Same inputs, same bytes, for the site too: a second clean build draws identical figures.

The session's site (tests/conftest.py) may come from a warm cache; this one is built from
nothing, every cache in a fresh folder, so the figures are drawn again in another order of
work. Every figure file must be byte for byte the one the session's build published.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def _bench_site():
    spec = importlib.util.spec_from_file_location("bench_site", ROOT / "scripts" / "bench_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_clean_builds_publish_identical_figures(built_site, tmp_path):
    if built_site.log is None:
        pytest.skip("DROPOUT_FIGS_SITE reuses a site; this test compares two builds")
    config = _bench_site().write_config(tmp_path)
    mkdocs = Path(sys.executable).with_name("mkdocs")
    proc = subprocess.run(
        [str(mkdocs), "build", "--strict", "-f", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    first, second = built_site.dir / "figures", tmp_path / "site" / "figures"
    names = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert len(names) > 40, f"only {len(names)} figure files in {first}"
    assert names == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    differ = [str(n) for n in names if (first / n).read_bytes() != (second / n).read_bytes()]
    assert not differ, f"{len(differ)} of {len(names)} figure files differ: {differ[:10]}"
