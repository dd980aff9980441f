"""The content-addressed cache of figure files, which verifies every entry it serves.

An entry is two files: ``NAME-KEY.FMT`` and ``NAME-KEY.json`` (its metadata,
written last, holding the SHA-256 of the file). A missing half, unreadable
metadata or a file whose hash does not match is a miss: the figure is drawn
again and the entry replaced, with one INFO line on the ``dropout_figs.render``
logger. So nothing the cache holds can crash a build or reach an output broken.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from .._validate import DropoutFigsError
from ..figures.catalogue import jsonable
from .encode import write_atomic
from .request import Request, draw_encoded

__all__ = [
    "CacheEntry",
    "check_cache_dir",
    "ensure_rendered",
    "ensure_rendered_group",
    "lookup",
]

log = logging.getLogger("dropout_figs.render")


@dataclass(frozen=True)
class CacheEntry:
    """A verified file in the cache, with the alt text and numbers behind it."""

    request: Request
    path: Path
    alt: str
    data: dict
    sha256: str = ""
    #: The whole metadata record (name, params, seed, alt, data, cli, sha256).
    info: dict = field(default_factory=dict, compare=False, repr=False)

    def read_bytes(self) -> bytes:
        """The file's bytes, checked again against the hash (it may have changed since)."""
        data = self.path.read_bytes()
        if self.sha256 and hashlib.sha256(data).hexdigest() != self.sha256:
            raise DropoutFigsError(
                f"cached file {str(self.path)!r} changed while it was in use; run again"
            )
        return data


def check_cache_dir(cache_dir: str | os.PathLike) -> Path:
    """The cache folder, made if missing; a path that is not a folder is a one-line error."""
    cache_dir = Path(cache_dir)
    if cache_dir.exists() and not cache_dir.is_dir():
        raise DropoutFigsError(
            f"cache path {str(cache_dir)!r} is not a folder; remove it or choose another cache"
        )
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DropoutFigsError(
            f"cannot make the cache folder {str(cache_dir)!r} ({exc.strerror})"
        ) from None
    return cache_dir


def _paths(request: Request, cache_dir: Path) -> tuple[Path, Path]:
    """(file, metadata) paths of ``request`` in ``cache_dir``."""
    return cache_dir / request.filename(), cache_dir / request.filename(meta=True)


def _read_entry(request: Request, cache_dir: Path) -> tuple[CacheEntry | None, str | None]:
    """(entry, None) for a good entry, (None, why) for a damaged one, (None, None) if absent."""
    out, meta = _paths(request, cache_dir)
    has_out, has_meta = out.is_file(), meta.is_file()
    if not (has_out or has_meta):
        return None, None
    if not has_meta:
        return None, "it has no metadata"
    if not has_out:
        return None, "its file is missing"
    try:
        info = json.loads(meta.read_bytes())
        alt, data, digest = info["alt"], info["data"], info["sha256"]
        if not (isinstance(alt, str) and isinstance(data, dict) and isinstance(digest, str)):
            raise TypeError
    except (OSError, ValueError, TypeError, KeyError):
        return None, "its metadata is unreadable"
    try:
        blob = out.read_bytes()
    except OSError:
        return None, "its file is unreadable"
    if hashlib.sha256(blob).hexdigest() != digest:
        return None, "its file does not match its hash"
    return CacheEntry(request, out, alt, data, digest, info), None


def lookup(request: Request, cache_dir: str | os.PathLike) -> CacheEntry | None:
    """The cached entry of ``request`` if it is whole and verified, else None."""
    entry, why = _read_entry(request, Path(cache_dir))
    if why is not None:
        log.info("dropout-figs: cache entry %s is damaged (%s); drawing it again",
                 request.filename(), why)  # fmt: skip
    return entry


def ensure_rendered(request: Request, cache_dir: str | os.PathLike) -> CacheEntry:
    """Render ``request`` into ``cache_dir`` unless a verified entry is there already."""
    return ensure_rendered_group([request], cache_dir)[0]


def ensure_rendered_group(
    requests: list[Request], cache_dir: str | os.PathLike
) -> list[CacheEntry]:
    """Render requests that differ only in format from one drawing, into the cache.

    Building a figure (training nets, for the lab figures) costs far more than
    encoding it, so a PNG and an SVG of the same figure share one build.
    """
    cache_dir = check_cache_dir(cache_dir)
    hits = [lookup(r, cache_dir) for r in requests]
    todo = [r for r, h in zip(requests, hits, strict=True) if h is None]
    if not todo:
        return hits
    blobs, drawing = draw_encoded(todo)
    made = {}
    for r, data in zip(todo, blobs, strict=True):
        out, meta = _paths(r, cache_dir)
        digest = hashlib.sha256(data).hexdigest()
        info = {
            "name": r.name,
            "params": dict(r.params),
            "seed": r.seed,
            "alt": drawing.alt,
            "data": jsonable(drawing.data),
            "cli": r.cli(),
            "sha256": digest,
        }
        # The metadata is written last: an entry counts only when both exist.
        write_atomic(out, data)
        write_atomic(meta, json.dumps(info, sort_keys=True, indent=1).encode())
        made[r] = CacheEntry(r, out, drawing.alt, info["data"], digest, info)
    return [h if h is not None else made[r] for r, h in zip(requests, hits, strict=True)]
