"""Importing this package registers every catalogued figure, in catalogue order."""

from . import masks, stats, lab  # noqa: F401, I001  (catalogue order)
