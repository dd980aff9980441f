#!/usr/bin/env python3
"""Rebuild every figure (or a chosen few, with your parameters) into a folder.

For people who embed the figures elsewhere (slides, LMS pages, another site).
Each figure is written in its formats (PNG + SVG, or GIF + PNG for animations)
with NAME.json beside it: parameters, seed, alt text, the numbers behind the
figure and the command that rebuilds it. Unchanged figures come from a
content-hash cache and are not drawn again.

Examples
--------
    python scripts/build_figures.py build/figures
    python scripts/build_figures.py slides/ mask-grid kept-count-pmf --n 64 --drop-rate 0.5
    python scripts/build_figures.py slides/ --size slide --style seaborn-v0_8-talk --formats png,pdf

This is ``dropout-figs build`` plus creating the folder; see ``dropout-figs build --help``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from dropout_figs.cli import main as cli_main

    if argv and not argv[0].startswith("-"):
        Path(argv[0]).mkdir(parents=True, exist_ok=True)
    return cli_main(["build", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
