"""One shared look for every figure: colour-blind-safe colours, fonts, sizes.

Users restyle with any matplotlib style name or ``.mplstyle`` file; it is
applied on top of :data:`BASE_RC` for both drawing and saving.
"""

from __future__ import annotations

import contextlib
import logging
import os
from functools import cache
from pathlib import Path

from ._validate import DropoutFigsError

__all__ = [
    "BASE_RC",
    "COLORS",
    "SIZES",
    "check_dpi",
    "check_style",
    "font_path",
    "parse_size",
    "style_context",
]

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
#: Widest (or tallest) picture, as a ratio of its sides: beyond this the layout collapses.
MAX_ASPECT = 8.0
#: Bounds of the laid-out figure in inches (``width / dpi``): text is laid out in
#: points, so a figure under about 3 inches has no room for its labels.
MIN_INCHES, MAX_INCHES = 3.0, 64.0
#: A style file larger than this is not a style.
MAX_STYLE_BYTES = 256 * 1024


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
    if not max(w, h) <= MAX_ASPECT * min(w, h):
        raise DropoutFigsError(
            f"size must have sides at most {MAX_ASPECT:g} times as long as each other; got {w}x{h}"
        )
    return int(w), int(h)


def check_dpi(dpi, size: tuple[int, int]) -> float:
    """A dpi that lays the figure out between 3 and 64 inches wide, or a one-line error."""
    from ._validate import check_finite

    dpi = check_finite(dpi, "dpi", low=1, high=10_000)
    w, h = size
    low, high = max(w, h) / MAX_INCHES, min(w, h) / MIN_INCHES
    if not low <= dpi <= high:
        raise DropoutFigsError(
            f"dpi must be from {low:.4g} to {high:.4g} for a {w}x{h} figure (so it is laid out "
            f"{MIN_INCHES:g} to {MAX_INCHES:g} inches a side); got {dpi:g}"
        )
    return dpi


class _Collect(logging.Filter):
    """Swallow matplotlib's per-line complaints about an rc file, keeping their line numbers."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def filter(self, record):
        args = record.args
        if isinstance(args, dict):
            self.lines.append(str(args.get("line_no", "?")))
        elif isinstance(args, tuple) and len(args) >= 2:
            self.lines.append(str(args[1]))
        else:
            self.lines.append("?")
        return False


@cache
def _style_file(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, object], ...]:
    """The settings of a ``.mplstyle`` file, validated; cached by the file's identity."""
    import matplotlib
    import matplotlib.style

    where = f"style file {path!r}"
    if size > MAX_STYLE_BYTES:
        raise DropoutFigsError(f"{where} is {size:,} bytes; a style is at most {MAX_STYLE_BYTES:,}")
    try:
        raw = Path(path).read_bytes()
        raw.decode("utf-8")
    except OSError as exc:
        raise DropoutFigsError(f"{where} cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise DropoutFigsError(f"{where} is not a text file (not UTF-8)") from None
    if b"\0" in raw:
        raise DropoutFigsError(f"{where} is not a text file (it holds NUL bytes)")
    # matplotlib logs each bad line with its text; count them instead of echoing them.
    collect = _Collect()
    mpl_log = logging.getLogger("matplotlib")
    mpl_log.addFilter(collect)
    try:
        rc = matplotlib.rc_params_from_file(path, use_default_template=False)
    except Exception as exc:
        kind = type(exc).__name__
        raise DropoutFigsError(f"{where} is not a matplotlib style ({kind})") from None
    finally:
        mpl_log.removeFilter(collect)
    if collect.lines:
        raise DropoutFigsError(
            f"{where} is not a matplotlib style: bad line {', '.join(collect.lines[:5])}"
        )
    blocked = sorted(set(rc) & set(getattr(matplotlib.style, "_STYLE_BLACKLIST", ())))
    if blocked:
        raise DropoutFigsError(f"{where} sets {blocked[0]}, which is not a style setting")
    return tuple(rc.items())


def check_style(style: str | os.PathLike | None) -> str | None:
    """A matplotlib style name or a readable ``.mplstyle`` file, or a one-line error.

    The error names the file but never shows its contents.
    """
    if style is None:
        return None
    import matplotlib.style

    name = os.fspath(style)
    if name in matplotlib.style.available:
        return name
    if not name.lower().endswith(".mplstyle"):
        raise DropoutFigsError(
            f"style must be a matplotlib style name (see matplotlib.style.available) or a file "
            f"ending in .mplstyle; got {name!r}"
        )
    try:
        st = os.stat(name)
    except OSError:
        raise DropoutFigsError(f"style file {name!r} does not exist") from None
    if not Path(name).is_file():
        raise DropoutFigsError(f"style file {name!r} is not a regular file")
    _style_file(name, st.st_mtime_ns, st.st_size)
    return name


@contextlib.contextmanager
def style_context(style: str | Path | None = None):
    """Apply the base style, then ``style`` (a matplotlib style name or ``.mplstyle`` file)."""
    import matplotlib
    import matplotlib.style

    name = check_style(style)
    with matplotlib.rc_context(BASE_RC):
        if name is None:
            yield
        elif name in matplotlib.style.available:
            with matplotlib.style.context(name):
                yield
        else:
            st = os.stat(name)
            with matplotlib.rc_context(dict(_style_file(name, st.st_mtime_ns, st.st_size))):
                yield


@cache
def font_path(bold: bool = False) -> str:
    """The DejaVu Sans font that ships with matplotlib, for Pillow drawings."""
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name)
