"""Build the browser bundle, build/web/dropout-figs.js, from web/src (TypeScript) with esbuild.

One classic script (an IIFE, no modules, nothing fetched), so the site works from file://.
Rebuilt only when a source file is newer than the bundle; `--force` rebuilds anyway.
esbuild comes from node_modules (`make setup` runs `npm ci`). The MkDocs hook and the
Makefile's `bundle` target both call :func:`ensure_bundle`, so the flags live here only.

    python scripts/bundle.py [--force]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "web" / "src"
ENTRY = SRC / "index.ts"
BUNDLE = ROOT / "build" / "web" / "dropout-figs.js"
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
FLAGS = ("--bundle", "--format=iife", "--minify", "--target=es2020", "--log-level=warning")


class BundleError(RuntimeError):
    """esbuild is missing or the sources do not compile."""


def _newest_source() -> float:
    files = [*SRC.rglob("*.ts"), ROOT / "package-lock.json"]
    return max(f.stat().st_mtime for f in files if f.is_file())


def ensure_bundle(*, force: bool = False) -> Path:
    """The bundle's path, (re)built first if it is missing or older than web/src."""
    if not force and BUNDLE.is_file() and BUNDLE.stat().st_mtime >= _newest_source():
        return BUNDLE
    if not ESBUILD.is_file():
        raise BundleError(
            f"cannot build {BUNDLE.relative_to(ROOT)}: {ESBUILD.relative_to(ROOT)} is missing; "
            "run `make setup` (it runs `npm ci`)"
        )
    BUNDLE.parent.mkdir(parents=True, exist_ok=True)
    tmp = BUNDLE.with_name(BUNDLE.name + ".part")
    done = subprocess.run(
        [str(ESBUILD), str(ENTRY), *FLAGS, f"--outfile={tmp}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BundleError(f"esbuild failed on web/src:\n{done.stderr.strip()}")
    tmp.replace(BUNDLE)  # never a half-written bundle
    return BUNDLE


def main(argv: list[str]) -> int:
    if any(a not in ("--force",) for a in argv):
        print(f"usage: python scripts/bundle.py [--force]; got {' '.join(argv)}", file=sys.stderr)
        return 2
    try:
        path = ensure_bundle(force="--force" in argv)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
