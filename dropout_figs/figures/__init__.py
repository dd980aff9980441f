"""The figure catalogue: every figure, registered in catalogue order.

:mod:`.catalogue` holds the types (a figure is data: :class:`FigureSpec`);
the topic modules register their figures when imported, which this package
does, so the look-ups below always see the whole catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._validate import DropoutFigsError
from .catalogue import _REGISTRY, FigureSpec

# The topic modules register their figures when imported: this order is the catalogue order.
# isort: off
from . import masks, stats, ensemble  # noqa: F401
from . import training, inference, sweeps, mechanisms  # noqa: F401
from . import evidence, digits  # noqa: F401
# isort: on

__all__ = ["figure_names", "get_figure", "iter_figures"]


def iter_figures(group: str | None = None) -> Iterable[FigureSpec]:
    """Every catalogued figure in catalogue order (optionally one group)."""
    return [s for s in _REGISTRY.values() if group is None or s.group == group]


def figure_names() -> list[str]:
    return list(_REGISTRY)


def get_figure(name: str) -> FigureSpec:
    """The spec named ``name``; an unknown name lists the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise DropoutFigsError(
            f"unknown figure {name!r}; known figures: {', '.join(_REGISTRY)}"
        ) from None
