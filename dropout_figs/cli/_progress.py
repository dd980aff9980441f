"""The command line's one progress bar: ``label [#####.....] 40/150 note`` on stderr."""

from __future__ import annotations

import sys

__all__ = ["Progress"]


class Progress:
    """A one-line progress bar, redrawn in place; silent unless ``stream`` is a terminal.

    Call it as ``bar(done, total)`` or ``bar(done, total, note)``; the line
    ends when ``done == total``. ``unit`` is printed before the count
    (``epoch 40/150``).
    """

    width = 28

    def __init__(self, label: str = "", *, unit: str = "", stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.unit = unit
        self.enabled = self.stream.isatty()
        self.open = False  # a line drawn and not yet ended

    def __call__(self, done: int, total: int, note: str = "") -> None:
        if not self.enabled:
            return
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        head = f"{self.label} " if self.label else ""
        count = f"{self.unit} {done}/{total}" if self.unit else f"{done}/{total}"
        # a note is padded by the caller, so a shorter one overwrites a longer one
        self.stream.write(f"\r{head}[{bar}] {count}" + (f" {note}" if note else ""))
        self.open = done != total
        if not self.open:
            self.stream.write("\n")
        self.stream.flush()

    def close(self) -> None:
        """End the line of a bar that stopped early (a run that diverged)."""
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False
