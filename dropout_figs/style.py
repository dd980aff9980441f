"""One shared look for every figure: colour-blind-safe colours, fonts, sizes.

Users restyle with any matplotlib style name or ``.mplstyle`` file; it is
applied on top of :data:`BASE_RC` for both drawing and saving.
"""

from __future__ import annotations

import contextlib
from functools import cache
from pathlib import Path

from ._validate import DropoutFigsError

__all__ = ["BASE_RC", "COLORS", "SIZES", "font_path", "parse_size", "style_context"]

#: Okabe & Ito (2008) colours, safe for the common colour-vision deficiencies.
COLORS = {
    "kept": "#0072B2",  # blue
    "dropped": "#B8B8B8",  # grey
    "accent": "#E69F00",  # orange
    "warn": "#D55E00",  # vermillion
    "good": "#009E73",  # bluish green
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "ink": "#222222",
    "paper": "#FFFFFF",
    "without": "#D55E00",  # curves of a net trained without dropout
    "with": "#0072B2",  # ... and with dropout
}

BASE_RC = {
    "axes.prop_cycle": (
        "cycler('color', ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', "
        "'#56B4E9', '#F0E442', '#222222'])"
    ),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": "large",
    "axes.titleweight": "bold",
    "axes.labelsize": "medium",
    "font.size": 11.0,
    "font.family": "DejaVu Sans",
    "legend.frameon": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "image.cmap": "cividis",
    # Reproducible files: no random ids in SVG, paths instead of fonts.
    "svg.hashsalt": "dropout-figs",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "path.simplify": True,
}

#: Named sizes in pixels; ``parse_size`` also takes ``WxH``.
SIZES = {
    "web": (800, 500),
    "square": (800, 800),
    "slide": (1920, 1080),
    "slide-4k": (3840, 2160),
    "slide-4x3": (1600, 1200),
}

MAX_PIXELS = 7680 * 4320


def parse_size(text: str | tuple[int, int]) -> tuple[int, int]:
    """``"1920x1080"``, ``"slide"`` or ``(w, h)`` -> ``(w, h)`` in pixels."""
    if isinstance(text, tuple):
        w, h = text
    else:
        key = str(text).strip().lower()
        if key in SIZES:
            return SIZES[key]
        parts = key.replace("×", "x").split("x")
        try:
            w, h = (int(p) for p in parts)
        except ValueError:
            raise DropoutFigsError(
                f"size must be WxH in pixels (e.g. 1920x1080) or one of {', '.join(SIZES)}; "
                f"got {text!r}"
            ) from None
    if not (w >= 64 and h >= 64 and w * h <= MAX_PIXELS):
        raise DropoutFigsError(
            f"size must be at least 64x64 and at most {MAX_PIXELS:,} pixels; got {w}x{h}"
        )
    return int(w), int(h)


@contextlib.contextmanager
def style_context(style: str | Path | None = None):
    """Apply the base style, then ``style`` (a matplotlib style name or file)."""
    import matplotlib
    import matplotlib.style

    with matplotlib.rc_context(BASE_RC):
        if style is None:
            yield
            return
        name = str(style)
        if not (name in matplotlib.style.available or Path(name).is_file()):
            raise DropoutFigsError(
                f"style must be a matplotlib style name or a .mplstyle file; got {name!r} "
                "(see matplotlib.style.available)"
            )
        with matplotlib.style.context(name):
            yield


@cache
def font_path(bold: bool = False) -> str:
    """The DejaVu Sans font that ships with matplotlib, for Pillow drawings."""
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name)
