"""What a figure file depends on (a :class:`Request`), and drawing one into bytes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .._validate import DropoutFigsError, check_count
from ..figures import get_figure
from ..figures.catalogue import Drawing, FigureSpec, jsonable
from ..style import check_dpi, check_style, parse_size, style_context
from .encode import check_output_path, encode, write_atomic

__all__ = ["Request", "code_hash", "draw_encoded", "render"]


@cache
def code_hash() -> str:
    """Hash of the package's source and the versions of the libraries that draw.

    The versions are read from the installed distributions' metadata, not by
    importing them: a warm build that draws nothing never pays for importing
    SciPy and matplotlib.
    """
    from importlib.metadata import version

    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for file in sorted(root.rglob("*.py")):
        h.update(file.relative_to(root).as_posix().encode())
        h.update(file.read_bytes())
    for name, dist in (
        ("numpy", "numpy"),
        ("scipy", "scipy"),
        ("matplotlib", "matplotlib"),
        ("PIL", "Pillow"),
    ):
        h.update(f"{name}={version(dist)};".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Request:
    """Everything a figure file depends on, validated; hashable; the cache key."""

    name: str
    params: tuple[tuple[str, Any], ...]
    seed: int
    fmt: str
    size: tuple[int, int]
    dpi: float | None = None
    style: str | None = None

    @classmethod
    def make(
        cls,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        fmt: str | None = None,
        seed: int | None = None,
        size: str | tuple[int, int] | None = None,
        dpi: float | None = None,
        style: str | os.PathLike | None = None,
    ) -> Request:
        """Validate everything up front: parameters, format, size, dpi, style and cost."""
        spec = get_figure(name)
        values = spec.resolve(params)
        fmt = (fmt or spec.formats[0]).lower().lstrip(".")
        if fmt not in spec.formats:
            raise DropoutFigsError(
                f"figure {name!r} is written as {', '.join(spec.formats)}; got {fmt!r}"
            )
        seed = spec.seed if seed is None else check_count(seed, "seed", low=0, high=2**63 - 1)
        size = parse_size(size) if size is not None else spec.size
        if dpi is not None:
            dpi = check_dpi(dpi, size)
        style = check_style(style)
        spec.check_cost(values, size)
        return cls(name, tuple(sorted(values.items())), seed, fmt, size, dpi, style)

    @property
    def spec(self) -> FigureSpec:
        return get_figure(self.name)

    def base(self) -> Request:
        """The same request in the figure's first format: one drawing serves all formats."""
        return dataclasses.replace(self, fmt=self.spec.formats[0])

    def key(self) -> str:
        """Content hash of the request, the package code and any style file."""
        h = hashlib.sha256(code_hash().encode())
        h.update(json.dumps(jsonable(self.__dict__), sort_keys=True).encode())
        if self.style and Path(self.style).is_file():
            h.update(Path(self.style).read_bytes())
        return h.hexdigest()[:20]

    def filename(self, *, meta: bool = False) -> str:
        """``NAME-KEY.FMT``, or ``NAME-KEY.json`` for its metadata: known before drawing."""
        return f"{self.name}-{self.key()}.{'json' if meta else self.fmt}"

    def cli(self) -> str:
        """The command line that rebuilds this file."""
        spec = self.spec
        parts = ["dropout-figs render", self.name, "-o", f"{self.name}.{self.fmt}"]
        values = dict(self.params)
        for p in spec.params:
            value = values[p.name]
            if value != p.default:
                shown = f"{value:g}" if isinstance(value, float) else str(value).lower()
                parts += [min(p.flags, key=len), shown]
        if self.seed != spec.seed:
            parts += ["--seed", str(self.seed)]
        if self.size != spec.size:
            parts += ["--size", f"{self.size[0]}x{self.size[1]}"]
        if self.dpi:
            parts += ["--dpi", f"{self.dpi:g}"]
        if self.style:
            parts += ["--style", self.style]
        return " ".join(parts)


def draw_encoded(requests: list[Request]) -> tuple[list[bytes], Drawing]:
    """Build the drawing shared by ``requests`` (same figure, formats may differ) and encode it.

    The formats are encoded in the catalogue's fixed order, from a frozen layout
    (see :func:`~dropout_figs.render.encode.freeze`): each file has the same bytes
    whether it is drawn alone or with others.
    """
    base = requests[0]
    if any(r.base() != base.base() for r in requests):
        raise ValueError("draw_encoded takes requests for one drawing")
    order = sorted(range(len(requests)), key=lambda i: base.spec.formats.index(requests[i].fmt))
    blobs: list[bytes] = [b""] * len(requests)
    with style_context(base.style):
        drawing = base.spec.draw(dict(base.params), seed=base.seed, size=base.size, dpi=base.dpi)
        try:
            for i in order:
                blobs[i] = encode(drawing, requests[i].fmt, dpi=requests[i].dpi)
            return blobs, drawing
        finally:
            if drawing.figure is not None:
                drawing.figure.clear()


def render(
    name: str,
    path: str | os.PathLike | None = None,
    *,
    seed: int | None = None,
    size: str | tuple[int, int] | None = None,
    dpi: float | None = None,
    style: str | os.PathLike | None = None,
    fmt: str | None = None,
    **params: Any,
) -> bytes:
    """Render a catalogued figure; write it to ``path`` (format by suffix) if given.

    Parameters
    ----------
    name : str
        A figure of the catalogue (``dropout_figs.figure_names()``).
    path : path-like, optional
        Where to write; written atomically. Without it, only the bytes are returned.
    seed : int, optional
        Seed of the figure's random draws (default: the catalogue's).
    size : str or (int, int), optional
        ``"1920x1080"``, a named size (``"slide"``) or a tuple, in pixels.
    dpi : float, optional
        Dots per inch; by default the figure is laid out 8 inches wide.
    style : str or path, optional
        A matplotlib style name or ``.mplstyle`` file applied over the base style.
    fmt : str, optional
        ``png``, ``svg``, ``pdf`` or ``gif`` when no ``path`` is given.
    **params
        The figure's parameters (``dropout-figs list`` shows them), e.g.
        ``n_units=64, keep_prob=0.5`` or ``drop_rate=0.5``.

    Returns
    -------
    bytes
        The file's content: the same bytes ``dropout-figs build`` and the site write.
    """
    spec = get_figure(name)
    if path is not None:
        path, fmt = check_output_path(path, spec)
    request = Request.make(name, params, fmt=fmt, seed=seed, size=size, dpi=dpi, style=style)
    (data,), _ = draw_encoded([request])
    if path is not None:
        write_atomic(path, data)
    return data
