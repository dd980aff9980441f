"""The catalogue of figures: name -> typed parameters, seed and a pure builder.

A figure is data. One :class:`FigureSpec` names a figure (a kebab-case slug,
which is also its file stem), its parameters with defaults and ranges, its
seed, the formats it can be written in and a builder. The command line, the
MkDocs plugin, the gallery page and the tests all go through this module, so
no figure exists in two places.

A builder is a pure function ``build(*, rng, canvas, **params) -> Drawing``:
it draws only from ``rng`` (made here from the seed) and returns the drawing
together with its alt text and the numbers behind it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import (
    DropoutFigsError,
    as_rng,
    check_count,
    check_finite,
    drop_name,
    resolve_keep_prob,
)

__all__ = [
    "FORMATS",
    "MAX_BYTES",
    "MAX_SECONDS",
    "Canvas",
    "Drawing",
    "FigureSpec",
    "Param",
    "Work",
    "n_units_param",
    "register",
]

#: File formats by suffix. Static figures are drawn by matplotlib; animations
#: are lists of Pillow frames.
FORMATS = ("png", "svg", "pdf", "gif")

_REGISTRY: dict[str, FigureSpec] = {}


# --------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class Param:
    """One typed, validated parameter of a figure.

    Parameters
    ----------
    name : str
        Python name (``n_units``); the CLI flag is ``--n-units`` plus any
        ``aliases`` (``--n``).
    kind : {"int", "float", "prob", "choice", "bool"}
        ``"prob"`` is a keep probability: it can also be given as
        ``drop_rate = 1 - keep_prob`` (exactly one of the two).
    default : object
        Used when the parameter is not given.
    help : str
        One line for ``dropout-figs list``.
    low, high : float, optional
        Inclusive bounds for ``int`` and ``float`` (``low_open`` / ``high_open``
        make them strict).
    choices : tuple of str, optional
        Accepted values for ``choice``.
    """

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def __post_init__(self):
        if self.kind not in {"int", "float", "prob", "choice", "bool"}:
            raise ValueError(f"unknown parameter kind {self.kind!r}")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def flags(self) -> tuple[str, ...]:
        return (self.flag, *("--" + a.replace("_", "-") for a in self.aliases))

    def coerce(self, value: Any) -> Any:
        """Return ``value`` (a Python value or a string from a CLI/URL) validated."""
        if self.kind == "int":
            return check_count(
                value,
                self.name,
                low=int(self.low) if self.low is not None else -(10**18),
                high=int(self.high) if self.high is not None else None,
            )
        if self.kind == "float":
            return check_finite(
                value,
                self.name,
                low=self.low,
                high=self.high,
                low_open=self.low_open,
                high_open=self.high_open,
            )
        if self.kind == "prob":
            p = resolve_keep_prob(keep_prob=value)
            if self.low is not None and not p >= self.low:
                raise DropoutFigsError(f"{self.name} must be at least {self.low:g}; got {p:g}")
            return p
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise DropoutFigsError(f"{self.name} must be true or false; got {value!r}")
        text = str(value)
        if text not in self.choices:
            raise DropoutFigsError(
                f"{self.name} must be one of {', '.join(self.choices)}; got {value!r}"
            )
        return text

    def describe(self) -> str:
        """Type, range and default, as ``dropout-figs list`` prints them."""
        if self.kind == "prob":
            rng = "keep probability in (0, 1]; or drop_rate in [0, 1)"
        elif self.kind == "choice":
            rng = "one of " + "|".join(self.choices)
        elif self.kind == "bool":
            rng = "true|false"
        else:
            lo = "-inf" if self.low is None else f"{self.low:g}"
            hi = "inf" if self.high is None else f"{self.high:g}"
            lb = "(" if self.low_open or self.low is None else "["
            rb = ")" if self.high_open or self.high is None else "]"
            rng = f"{self.kind} in {lb}{lo}, {hi}{rb}"
        return f"{rng}; default {self.default}"


# --------------------------------------------------------------------------- drawings
@dataclass(frozen=True)
class Canvas:
    """The size a builder draws at.

    ``width`` x ``height`` are pixels. Matplotlib figures are laid out at
    :attr:`figsize` inches (``width / dpi``) so text keeps its proportion to the
    image at any size; by default ``dpi = width / 8`` (8 inches wide).
    """

    width: int
    height: int
    dpi: float

    @classmethod
    def from_size(cls, size: tuple[int, int], dpi: float | None = None) -> Canvas:
        w, h = size
        return cls(int(w), int(h), float(dpi) if dpi else w / 8.0)

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def figsize(self) -> tuple[float, float]:
        return (self.width / self.dpi, self.height / self.dpi)

    @property
    def scale(self) -> float:
        """Pixels per point of a 100-dpi, 8-inch-wide reference: for Pillow drawings."""
        return self.width / 800.0

    def figure(self, **kwargs):
        """A new :class:`matplotlib.figure.Figure` of this size (never pyplot)."""
        from matplotlib.figure import Figure

        kwargs.setdefault("layout", "constrained")
        return Figure(figsize=self.figsize, dpi=self.dpi, **kwargs)


@dataclass
class Drawing:
    """What a builder returns.

    Exactly one of ``figure`` (a matplotlib Figure) or ``frames`` (Pillow images,
    mode ``"P"`` with one shared palette, or ``"RGB"``) is set.

    Attributes
    ----------
    alt : str
        Alt text that states the figure's numbers.
    data : dict
        The numbers behind the figure, JSON-serialisable (lists, floats, ints,
        strings). Pages and the gallery read them; so do tests.
    durations : int or list of int
        Milliseconds per frame, for animations.
    """

    alt: str
    data: dict = field(default_factory=dict)
    figure: Any = None
    frames: list | None = None
    durations: int | list[int] = 1500

    def __post_init__(self):
        if (self.figure is None) == (self.frames is None):
            raise ValueError("a Drawing has exactly one of figure or frames")
        if not self.alt:
            raise ValueError("a Drawing needs alt text")

    @property
    def animated(self) -> bool:
        return self.frames is not None


# --------------------------------------------------------------------------- the catalogue
@dataclass(frozen=True)
class FigureSpec:
    """A catalogued figure.

    Attributes
    ----------
    name : str
        Kebab-case slug, also the file stem.
    summary : str
        One line, for ``dropout-figs list`` and the gallery.
    params : tuple of Param
    build : callable
        ``build(*, rng, canvas, **params) -> Drawing``; pure.
    formats : tuple of str
        Supported suffixes, the first is the default.
    size : (int, int)
        Default size in pixels.
    seed : int
        Default seed.
    cost : float
        Rough seconds to build at the defaults; the parallel build starts the
        slow ones first, and :meth:`work` scales it to other parameters.
    group : str
        Where the figure belongs ("dropout", "lab", "paper", "pitfalls").
    """

    name: str
    summary: str
    params: tuple[Param, ...]
    build: Callable[..., Drawing]
    formats: tuple[str, ...]
    size: tuple[int, int] = (800, 500)
    seed: int = 0
    cost: float = 0.2
    group: str = "dropout"

    def __post_init__(self):
        bad = [f for f in self.formats if f not in FORMATS]
        if bad:
            raise ValueError(f"{self.name}: unsupported formats {bad}")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate parameter names")

    @property
    def animated(self) -> bool:
        return "gif" in self.formats

    @property
    def param(self) -> dict[str, Param]:
        return {p.name: p for p in self.params}

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def canonical_name(self, key: str) -> str:
        """Map a parameter spelling (``n``, ``n-units``, ``drop_rate``) to its name."""
        k = key.strip().lstrip("-").replace("-", "_")
        for p in self.params:
            if k == p.name or k in p.aliases:
                return p.name
            if p.kind == "prob" and k == drop_name(p.name):
                return k
        known = ", ".join(self.flag_names())
        raise DropoutFigsError(
            f"figure {self.name!r} has no parameter {key!r}; its parameters are: {known}"
        )

    def flag_names(self) -> list[str]:
        out = []
        for p in self.params:
            out.append("/".join(p.flags))
            if p.kind == "prob":
                out[-1] += "/--" + drop_name(p.name).replace("_", "-")
        return out

    def resolve(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Validate ``given`` (any spelling) and fill in defaults.

        A ``prob`` parameter may be given as its drop rate (``drop_rate`` for
        ``keep_prob``, ``input_drop_rate`` for ``input_keep_prob``), never both.
        """
        raw: dict[str, Any] = {}
        for key, value in (given or {}).items():
            name = self.canonical_name(key)
            if name in raw:
                raise DropoutFigsError(f"parameter {key!r} of {self.name!r} given twice")
            raw[name] = value
        out: dict[str, Any] = {}
        for p in self.params:
            if p.kind == "prob":
                drop = drop_name(p.name)
                if p.name in raw or drop in raw:
                    kp = raw.get(p.name)
                    dr = raw.get(drop)
                    if kp is not None and dr is not None:
                        raise DropoutFigsError(
                            f"give {p.name} or {drop}, not both (got {p.name}={kp}, {drop}={dr})"
                        )
                    if dr is not None:
                        out[p.name] = p.coerce(resolve_keep_prob(drop_rate=dr))
                    else:
                        out[p.name] = p.coerce(kp)
                    continue
            out[p.name] = p.coerce(raw[p.name]) if p.name in raw else p.default
        return out

    def work(self, values: Mapping[str, Any], size: tuple[int, int]) -> Work:
        """Estimated time and memory of drawing with resolved ``values`` at ``size``."""
        return estimate_work(self, values, size)

    def check_cost(self, values: Mapping[str, Any], size: tuple[int, int]) -> Work:
        """:meth:`work`, or a one-line error when it is over :data:`MAX_SECONDS` or
        :data:`MAX_BYTES`, naming the estimate and the parameters to lower."""
        work = self.work(values, size)
        if not (work.seconds <= MAX_SECONDS and work.bytes <= MAX_BYTES):
            raise DropoutFigsError(
                f"{self.name} with these settings would take about {work.seconds:,.0f} s and "
                f"{work.bytes / 1e9:.1f} GB (the cap is about {MAX_SECONDS:g} s and "
                f"{MAX_BYTES / 1e9:g} GB); lower {' or '.join(work.lower)}"
            )
        return work

    def draw(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        seed: int | None = None,
        size: tuple[int, int] | None = None,
        dpi: float | None = None,
    ) -> Drawing:
        """Validate ``params`` and run the builder (no style applied: see ``render``)."""
        values = self.resolve(params)
        seed = self.seed if seed is None else check_count(seed, "seed", low=0, high=2**63 - 1)
        canvas = Canvas.from_size(size or self.size, dpi)
        return self.build(rng=as_rng(seed, "seed"), canvas=canvas, **values)


# --------------------------------------------------------------------------- cost model
#: Work refused up front: about a minute or about 2 GB on a 2-core laptop-class machine.
MAX_SECONDS = 60.0
MAX_BYTES = 2e9

#: Share of a figure's default cost that does not grow with the network or the
#: sample counts (drawing, data, per-call overhead: at the default sizes the
#: nets are overhead-bound).
_FIXED_SHARE = 0.95
#: Seconds and bytes per pixel per frame of an animation (network-flicker at
#: 7680x4320 with 60 frames: about 75 s and 4 GB measured).
_FRAME_SECONDS, _FRAME_BYTES = 4e-8, 2.5
#: Bytes per pixel of a static figure while it is rasterised.
_STATIC_BYTES = 16.0
#: Training memory per unit of width squared, per second of default cost (the
#: cost stands in for how many nets a figure trains: keep-prob-sweep at width
#: 1024 used about 3.5 GB).
_TRAIN_BYTES = 600.0
#: The interpreter with numpy, matplotlib and scipy loaded.
_BASE_BYTES = 150e6


@dataclass(frozen=True)
class Work:
    """An estimate of what drawing a figure costs, and what to lower if it is too much."""

    seconds: float
    bytes: float
    lower: tuple[str, ...]


def estimate_work(spec: FigureSpec, values: Mapping[str, Any], size: tuple[int, int]) -> Work:
    """Time and memory of drawing ``spec`` with ``values`` at ``size``, scaled from its defaults.

    The model: the network part of ``spec.cost`` grows as width squared times
    epochs times any other count (``n_masks``, ``n_passes``, ``n_units``); an
    animation costs pixels x frames on top; memory is the interpreter, the
    frames or the raster, and the nets (width squared). It is rough (within a
    few times), which is enough to refuse a 20-minute run before it starts.
    """
    defaults = spec.defaults()
    ratios: dict[str, float] = {}
    scale = 1.0
    for name, value in values.items():
        default = defaults.get(name)
        if name in {"n_frames", "n_epochs", "width"} or (
            name.startswith("n_") and isinstance(default, int)
        ):
            if name == "n_frames" or not isinstance(default, int) or default <= 0:
                continue
            ratio = max(float(value), 1.0) / default
            ratios[name] = ratio
            scale *= ratio**2 if name == "width" else ratio
    seconds = spec.cost * (_FIXED_SHARE + (1 - _FIXED_SHARE) * scale)
    width = float(values.get("width", 0))
    nbytes = _BASE_BYTES + _TRAIN_BYTES * spec.cost * width**2
    pixels = float(size[0]) * float(size[1])
    ratios["size"] = pixels / (spec.size[0] * spec.size[1])
    if spec.animated:
        frames = float(values.get("n_frames", 1))
        ratios["n_frames"] = frames / max(defaults.get("n_frames", 1), 1)
        seconds += _FRAME_SECONDS * pixels * frames
        nbytes += _FRAME_BYTES * pixels * frames
    else:
        nbytes += _STATIC_BYTES * pixels
    lower = tuple(k for k, r in sorted(ratios.items(), key=lambda kv: -kv[1]) if r > 1)[:2]
    return Work(seconds, nbytes, lower or ("size",))


def n_units_param(
    default: int,
    *,
    low: int = 1,
    high: int | None = None,
    help: str = "number of units in the layer",
) -> Param:
    """The layer size, spelled ``n_units`` (``--n``) on every figure that has one.

    ``low`` and ``high`` are what the figure can draw.
    """
    return Param("n_units", "int", default, help, low=low, high=high, aliases=("n",))


def register(spec: FigureSpec) -> FigureSpec:
    """Add ``spec`` to the catalogue (figure modules call this at import)."""
    if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
        raise ValueError(f"figure {spec.name!r} registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays (nested) to plain Python for JSON."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj))
    return obj
