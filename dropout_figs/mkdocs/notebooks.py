"""Notebooks executed at build time into the plugin's cache, with nbclient's public API.

A notebook that imports this package depends on the package's code as much as
on its own cells, so its executed copy is keyed by both. A page converter such
as mkdocs-jupyter (``execute: false``) is then given the executed copy: the
plugin points the notebook's File at it. Each copy is stored with the hash of
its bytes and checked before it is served; a damaged copy is executed again.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger

log = get_plugin_logger(__name__)


class ExecutedNotebook:
    """One notebook of the site and the place of its executed copy in the cache."""

    def __init__(self, source: Path, src_uri: str, folder: Path):
        from ..render import code_hash

        self.source, self.src_uri = source, src_uri
        h = hashlib.sha256(code_hash().encode())
        h.update(src_uri.encode() + b"\0" + source.read_bytes())
        self.key = h.hexdigest()[:20]
        # The copy keeps the notebook's path under docs/ at its end, so patterns
        # that select notebooks (mkdocs-jupyter's `include`) still match it.
        self.root = folder / self.key
        self.path = self.root / src_uri
        self.digest_path = self.path.with_name(self.path.name + ".sha256")

    def is_cached(self) -> bool:
        """The copy is there and is exactly what was written; otherwise say why (INFO)."""
        if not self.path.is_file():
            return False
        try:
            wanted = self.digest_path.read_text(encoding="ascii").strip()
            ok = hashlib.sha256(self.path.read_bytes()).hexdigest() == wanted
        except (OSError, UnicodeDecodeError):
            ok = False
        if not ok:
            log.info(
                "notebook cache entry %s is damaged: executing %s again", self.path, self.src_uri
            )
        return ok

    def execute(self, timeout: int = 600) -> None:
        """Run every cell (errors stop it) and store the executed copy with its hash."""
        import nbclient
        import nbformat

        from ..render import write_atomic

        nb = nbformat.read(str(self.source), as_version=4)
        kernel = nb.metadata.get("kernelspec", {}).get("name") or "python3"
        client = nbclient.NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=kernel,
            allow_errors=False,
            record_timing=False,  # timestamps would make every copy differ
            resources={"metadata": {"path": str(self.source.parent)}},
        )
        try:
            # Its own event loop, closed afterwards (this runs in a worker thread).
            asyncio.run(client.async_execute())
        except nbclient.exceptions.CellExecutionError as exc:
            number = next(
                (
                    i + 1
                    for i, cell in enumerate(nb.cells)
                    if any(o.get("output_type") == "error" for o in cell.get("outputs", ()))
                ),
                None,
            )
            where = f"cell {number}" if number else "a cell"
            raise PluginError(
                f"dropout-figs: {self.src_uri}: {where} raised {exc.ename}: {exc.evalue}"
            ) from None
        except Exception as exc:
            raise PluginError(
                f"dropout-figs: {self.src_uri}: could not execute it: {type(exc).__name__}: {exc}"
            ) from None
        data = nbformat.writes(nb).encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, data)
        write_atomic(self.digest_path, hashlib.sha256(data).hexdigest().encode())


def forget_others(folder: Path, keep: set[str]) -> None:
    """Remove executed copies no notebook of this build uses (older code or cells)."""
    if folder.is_dir():
        for old in folder.iterdir():
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
