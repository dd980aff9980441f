"""The README's picture is the catalogue's mask-grid figure, byte for byte."""

from pathlib import Path

import dropout_figs as df

ROOT = Path(__file__).resolve().parents[1]


def test_readme_gif_is_the_current_default_mask_grid():
    committed = (ROOT / ".github" / "mask-grid.gif").read_bytes()
    assert committed == df.render_figure("mask-grid", fmt="gif"), (
        "the README picture is stale: run `make readme-figure`"
    )
    assert len(committed) < 150_000
