"""Bytes of a drawing, and files written so that nothing is ever half-written."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from .._validate import DropoutFigsError
from ..figures.catalogue import Drawing, FigureSpec

__all__ = ["check_output_folder", "check_output_path", "encode", "freeze", "write_atomic"]

_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": "dropout-figs"},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "dropout-figs"},
}


def freeze(drawing: Drawing) -> Drawing:
    """Lay out a matplotlib drawing once and fix it, so every later save gives the same bytes.

    A constrained layout runs again at every save and does not land on exactly
    the same positions the second time (nor the same SVG clip-path ids, which
    hash those positions): a PNG saved after an SVG differed from a PNG saved
    alone. Laid out once and frozen, the figure saves the same in any order.
    """
    fig = drawing.figure
    if fig is not None and not getattr(fig, "_dropout_figs_frozen", False):
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
        fig._dropout_figs_frozen = True
    return drawing


def encode(drawing: Drawing, fmt: str, *, dpi: float | None = None) -> bytes:
    """The bytes of ``drawing`` as ``fmt``; reproducible (no dates, fixed ids).

    Call inside :func:`~dropout_figs.style.style_context` so the SVG hash salt
    and the user's style apply when saving too. A matplotlib drawing is frozen
    (:func:`freeze`) first, so the bytes do not depend on what was saved before.
    """
    buf = io.BytesIO()
    if drawing.figure is not None:
        if fmt not in _METADATA:
            raise DropoutFigsError(
                f"this figure is not animated; write it as png, svg or pdf, not {fmt}"
            )
        freeze(drawing)
        drawing.figure.savefig(
            buf, format=fmt, dpi=dpi or drawing.figure.dpi, metadata=_METADATA[fmt]
        )
        return buf.getvalue()
    frames = drawing.frames
    if fmt == "gif":
        first, rest = frames[0], frames[1:]
        # optimize=False keeps one global palette, which we chose; Pillow still
        # crops unchanged regions between frames.
        first.save(
            buf,
            format="GIF",
            save_all=True,
            append_images=rest,
            duration=drawing.durations,
            loop=0,
            optimize=False,
            disposal=1,
        )
    elif fmt == "png":
        frames[0].save(buf, format="PNG", optimize=True)
    else:
        raise DropoutFigsError(
            f"an animated figure is written as gif or png (first frame); not {fmt}"
        )
    return buf.getvalue()


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place.

    The temporary name is short (``.dfXXXXXXXX``) so any legal file name works,
    and an error names ``path``, never the temporary file.
    """
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".df", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if path.is_dir():
            raise DropoutFigsError(f"cannot write {str(path)!r}: a folder is in the way") from None
        if exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_output_folder(folder: str | os.PathLike) -> Path:
    """An existing folder this process may write in, or a one-line error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DropoutFigsError(f"output folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DropoutFigsError(f"output folder {str(folder)!r} is not writable")
    return folder


def check_output_path(path: str | os.PathLike, spec: FigureSpec) -> tuple[Path, str]:
    """Validate an output path: a supported suffix and a writable, existing folder."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in spec.formats:
        got = f"'.{fmt}'" if fmt else "no suffix"
        raise DropoutFigsError(
            f"figure {spec.name!r} is written as {', '.join('.' + f for f in spec.formats)}; "
            f"got {got} in {str(path)!r}"
        )
    check_output_folder(path.parent if str(path.parent) else Path("."))
    if path.is_dir():
        raise DropoutFigsError(f"output path {str(path)!r} is a folder; give a file name")
    return path, fmt
