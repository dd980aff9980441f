"""The plugin's own caches: the cache folder check and the page cache.

A page's Jinja output is a pure function of its text, its place in the site,
the plugin's options and the package's code, so a rebuild replays it. Every
entry carries a hash of its content; an entry that does not parse or does not
match its hash is a miss (one INFO line naming it), never an error.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger

log = get_plugin_logger(__name__)


def prepare_folder(folder: Path, option: str) -> Path:
    """Create ``folder`` (a cache) or raise one clear PluginError saying what is in the way."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next(
            (p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None
        )
        if blocker is not None:
            why = f"{blocker} is a file, not a folder; move it away or set {option}"
        else:
            why = f"cannot create it ({exc.strerror or exc}); set {option} to a writable folder"
        raise PluginError(f"dropout-figs: cache folder {folder}: {why}") from None
    return folder


def _digest(markdown: str, uses: list) -> str:
    return hashlib.sha256(json.dumps([markdown, uses], sort_keys=True).encode()).hexdigest()


class PageCache:
    """Jinja output of pages, keyed by everything it depends on, verified on read."""

    def __init__(self, folder: Path, salt: tuple[str, ...]):
        self.folder = folder
        self.salt = salt

    def path(self, text: str, where: str) -> Path:
        from ..render import code_hash

        h = hashlib.sha256(code_hash().encode())
        for part in (where, *self.salt, text):
            h.update(part.encode() + b"\0")
        return self.folder / f"{h.hexdigest()[:24]}.json"

    def get(self, text: str, where: str):
        """``(markdown, uses)`` stored for this page, or None (a miss)."""
        from ..render import Request

        path = self.path(text, where)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.info(
                "page cache entry %s for %s unreadable (%s): evaluating the page", path, where, exc
            )
            return None
        try:
            record = json.loads(raw)
            markdown, uses = record["markdown"], record["uses"]
            if not isinstance(markdown, str) or record["sha256"] != _digest(markdown, uses):
                raise ValueError("content does not match its hash")
            requests = []
            for fields, as_json in uses:
                fields = dict(fields)
                fields["params"] = tuple(tuple(kv) for kv in fields["params"])
                fields["size"] = tuple(fields["size"])
                requests.append((Request(**fields), bool(as_json)))
        except Exception as exc:  # any damage at all is a miss: the page is evaluated again
            log.info(
                "page cache entry %s for %s is damaged (%s): evaluating the page", path, where, exc
            )
            path.unlink(missing_ok=True)  # once: the next look-up is a plain miss
            return None
        return markdown, requests

    def put(self, text: str, where: str, markdown: str, uses: list) -> None:
        from ..figures.catalogue import jsonable
        from ..render import write_atomic

        stored = [[jsonable(r.__dict__), as_json] for r, as_json in uses]
        # Through JSON once, so the hash is of exactly what get() will read back.
        stored = json.loads(json.dumps(stored))
        record = {"markdown": markdown, "uses": stored, "sha256": _digest(markdown, stored)}
        path = self.path(text, where)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(record).encode())
