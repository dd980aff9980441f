"""``python -m dropout_figs`` is the ``dropout-figs`` command."""

from .cli import main

raise SystemExit(main())
