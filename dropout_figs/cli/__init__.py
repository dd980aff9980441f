"""The command line, ``dropout-figs``: a thin adapter over the catalogue and the lab."""

from .main import main

__all__ = ["main"]
