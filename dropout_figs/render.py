"""Turn catalogue entries into files: deterministic bytes, atomic writes, a cache.

Same figure, parameters, seed, size, style and package code -> the same
bytes. The cache is content-addressed by exactly those inputs, so the site
build and ``dropout-figs build`` redraw only what changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ._validate import DropoutFigsError, check_count
from .figures import get_figure
from .figures.catalogue import FORMATS, Drawing, FigureSpec, jsonable
from .style import parse_size, style_context

__all__ = [
    "CacheEntry",
    "Request",
    "code_hash",
    "encode",
    "ensure_rendered",
    "render",
    "render_many",
    "write_atomic",
]


# --------------------------------------------------------------------------- encoding
def encode(drawing: Drawing, fmt: str, *, dpi: float | None = None) -> bytes:
    """The bytes of ``drawing`` as ``fmt``; reproducible (no dates, fixed ids).

    Call inside :func:`~dropout_figs.style.style_context` so the SVG hash salt
    and the user's style apply when saving too.
    """
    buf = io.BytesIO()
    if drawing.figure is not None:
        if fmt == "gif":
            raise DropoutFigsError("this figure is not animated; write it as png, svg or pdf")
        metadata = {
            "png": {"Software": None},
            "svg": {"Date": None, "Creator": "dropout-figs"},
            "pdf": {"CreationDate": None, "ModDate": None, "Creator": "dropout-figs"},
        }[fmt]
        drawing.figure.savefig(buf, format=fmt, dpi=dpi or drawing.figure.dpi, metadata=metadata)
        return buf.getvalue()
    frames = drawing.frames
    if fmt == "gif":
        durations = drawing.durations
        first, rest = frames[0], frames[1:]
        # optimize=False keeps one global palette, which we chose; Pillow still
        # crops unchanged regions between frames.
        first.save(
            buf,
            format="GIF",
            save_all=True,
            append_images=rest,
            duration=durations,
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
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
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


# --------------------------------------------------------------------------- requests
@cache
def code_hash() -> str:
    """Hash of the package's source and the versions of the libraries that draw."""
    import matplotlib
    import numpy
    import PIL
    import scipy

    h = hashlib.sha256()
    root = Path(__file__).parent
    for file in sorted(root.rglob("*.py")):
        h.update(file.relative_to(root).as_posix().encode())
        h.update(file.read_bytes())
    for mod in (numpy, scipy, matplotlib, PIL):
        h.update(f"{mod.__name__}={mod.__version__};".encode())
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
            from ._validate import check_finite

            dpi = check_finite(dpi, "dpi", low=10, high=2400)
        return cls(name, tuple(sorted(values.items())), seed, fmt, size, dpi, style and str(style))

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
    """Build the drawing shared by ``requests`` (same figure, formats may differ) and encode it."""
    base = requests[0]
    if any(r.base() != base.base() for r in requests):
        raise ValueError("draw_encoded takes requests for one drawing")
    with style_context(base.style):
        drawing = base.spec.draw(dict(base.params), seed=base.seed, size=base.size, dpi=base.dpi)
        try:
            return [encode(drawing, r.fmt, dpi=r.dpi) for r in requests], drawing
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
        The file's content.
    """
    spec = get_figure(name)
    if path is not None:
        path, fmt = check_output_path(path, spec)
    request = Request.make(name, params, fmt=fmt, seed=seed, size=size, dpi=dpi, style=style)
    (data,), _ = draw_encoded([request])
    if path is not None:
        write_atomic(path, data)
    return data


# --------------------------------------------------------------------------- the cache
@dataclass(frozen=True)
class CacheEntry:
    """A rendered file in the cache, with the alt text and numbers behind it."""

    request: Request
    path: Path
    alt: str
    data: dict


def _paths(request: Request, cache_dir: Path) -> tuple[Path, Path]:
    """(file, metadata) paths of ``request`` in ``cache_dir``."""
    return cache_dir / request.filename(), cache_dir / request.filename(meta=True)


def lookup(request: Request, cache_dir: str | os.PathLike) -> CacheEntry | None:
    """The cached entry of ``request``, or None."""
    out, meta = _paths(request, Path(cache_dir))
    if out.is_file() and meta.is_file():
        info = json.loads(meta.read_text())
        return CacheEntry(request, out, info["alt"], info["data"])
    return None


def ensure_rendered(request: Request, cache_dir: str | os.PathLike) -> CacheEntry:
    """Render ``request`` into ``cache_dir`` unless it is there already."""
    return ensure_rendered_group([request], cache_dir)[0]


def ensure_rendered_group(
    requests: list[Request], cache_dir: str | os.PathLike
) -> list[CacheEntry]:
    """Render requests that differ only in format from one drawing, into the cache.

    Building a figure (training nets, for the lab figures) costs far more than
    encoding it, so a PNG and an SVG of the same figure share one build.
    """
    cache_dir = Path(cache_dir)
    hits = [lookup(r, cache_dir) for r in requests]
    todo = [r for r, h in zip(requests, hits, strict=True) if h is None]
    if not todo:
        return hits
    cache_dir.mkdir(parents=True, exist_ok=True)
    blobs, drawing = draw_encoded(todo)
    made = {}
    for r, data in zip(todo, blobs, strict=True):
        out, meta = _paths(r, cache_dir)
        info = {
            "name": r.name,
            "params": dict(r.params),
            "seed": r.seed,
            "alt": drawing.alt,
            "data": jsonable(drawing.data),
            "cli": r.cli(),
        }
        # The metadata is written last: an entry counts only when both exist.
        write_atomic(out, data)
        write_atomic(meta, json.dumps(info, sort_keys=True, indent=1).encode())
        made[r] = CacheEntry(r, out, drawing.alt, info["data"])
    return [h if h is not None else made[r] for r, h in zip(requests, hits, strict=True)]


def _worker_init() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")


def default_jobs() -> int:
    env = os.environ.get("DROPOUT_FIGS_JOBS")
    if env:
        return check_count(env, "DROPOUT_FIGS_JOBS", low=1, high=256)
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def render_many(
    requests: Iterable[Request],
    cache_dir: str | os.PathLike,
    *,
    jobs: int | None = None,
    progress: Callable[[int, int, Request], None] | None = None,
) -> dict[Request, CacheEntry]:
    """Ensure every request is in the cache, drawing the missing ones in parallel.

    The slowest figures (by ``FigureSpec.cost``) start first so both cores stay
    busy to the end. ``progress(done, total, request)`` is called after each.
    """
    requests = list(dict.fromkeys(requests))
    entries: dict[Request, CacheEntry] = {}
    groups: dict[Request, list[Request]] = {}
    for r in requests:
        hit = lookup(r, cache_dir)
        if hit is None:
            groups.setdefault(r.base(), []).append(r)
        else:
            entries[r] = hit
    total, done = len(requests), len(entries)
    if progress and done:
        progress(done, total, None)
    jobs = default_jobs() if jobs is None else jobs
    # Slowest first, so both cores stay busy to the end.
    todo = sorted(groups.values(), key=lambda g: -g[0].spec.cost)
    if jobs <= 1 or len(todo) <= 1:
        results = (ensure_rendered_group(g, cache_dir) for g in todo)
        for group, made in zip(todo, results, strict=False):
            for r, e in zip(group, made, strict=True):
                entries[r] = e
                done += 1
                if progress:
                    progress(done, total, r)
        return {r: entries[r] for r in requests}
    import multiprocessing

    # One BLAS thread per worker: the parallelism is across figures.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init) as pool:
        futures = {pool.submit(ensure_rendered_group, g, cache_dir): g for g in todo}
        for fut in as_completed(futures):
            for r, e in zip(futures[fut], fut.result(), strict=True):
                entries[r] = e
                done += 1
                if progress:
                    progress(done, total, r)
    return {r: entries[r] for r in requests}


__all__ += [
    "FORMATS",
    "check_output_path",
    "default_jobs",
    "draw_encoded",
    "ensure_rendered_group",
    "lookup",
]
