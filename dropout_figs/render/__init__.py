"""Turn catalogue entries into files: deterministic bytes, atomic writes, a verified cache.

Same figure, parameters, seed, size, style and package code -> the same
bytes, whether drawn by ``render``, ``dropout-figs build`` or the site, alone
or with other formats. The cache is content-addressed by exactly those inputs,
so the site build and ``dropout-figs build`` redraw only what changed, and it
checks each entry's hash before serving it.

- :mod:`.encode`: bytes of a drawing, atomic writes, output paths;
- :mod:`.request`: :class:`Request` (the cache key), drawing, :func:`render`;
- :mod:`.cache`: the verified cache;
- :mod:`.pool`: many figures on all cores.
"""

from __future__ import annotations

from ..figures.catalogue import FORMATS
from .cache import CacheEntry, check_cache_dir, ensure_rendered, ensure_rendered_group, lookup
from .encode import check_output_folder, check_output_path, encode, write_atomic
from .pool import default_jobs, render_many
from .request import Request, code_hash, draw_encoded, render

__all__ = [
    "FORMATS",
    "CacheEntry",
    "Request",
    "check_cache_dir",
    "check_output_folder",
    "check_output_path",
    "code_hash",
    "default_jobs",
    "draw_encoded",
    "encode",
    "ensure_rendered",
    "ensure_rendered_group",
    "lookup",
    "render",
    "render_many",
    "write_atomic",
]
