"""Shared fixtures of the site tests (tests/test_site.py, tests/test_browser.py).

The site is built once per test session, with the venv's MkDocs, from the repository
root into a temporary folder. ``DROPOUT_FIGS_SITE=path/to/site`` reuses a site built
already (``make site`` writes ``site/``) instead, for quick runs of the browser tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def nav_pages() -> list[str]:
    """Source paths of the pages in mkdocs.yml's nav, in order."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def walk(items):
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            if isinstance(value, list):
                yield from walk(value)
            else:
                yield value

    return list(walk(config["nav"]))


def pytest_generate_tests(metafunc):
    # A test that takes `nav_src` runs once per page of the nav.
    if "nav_src" in metafunc.fixturenames:
        metafunc.parametrize("nav_src", nav_pages())


@pytest.fixture(scope="session")
def nav_sources() -> list[str]:
    return nav_pages()


@dataclass(frozen=True)
class SiteBuild:
    """A built site: its folder and the build's log (None for a reused site)."""

    dir: Path
    log: str | None
    seconds: float | None = None


def build_site(out: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict -d out`` from the repository root, with this venv's MkDocs."""
    mkdocs = Path(sys.executable).with_name("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [str(mkdocs), "build", "--strict", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> SiteBuild:
    reuse = os.environ.get("DROPOUT_FIGS_SITE")
    if reuse:
        path = Path(reuse).resolve()
        if not (path / "index.html").is_file():
            pytest.fail(f"DROPOUT_FIGS_SITE={reuse!r} has no index.html; build the site first")
        return SiteBuild(path, None)
    import time

    out = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    proc = build_site(out)
    seconds = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed (exit {proc.returncode}):\n{log[-6000:]}")
    return SiteBuild(out, log, seconds)
