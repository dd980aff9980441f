"""The site's live explorables as one self-contained HTML file, or inline in a notebook.

An explorable is one of the site's widgets (the layer simulator, the network playground,
the training lab) with the browser engine inlined: nothing is fetched, so the file works
from a USB stick, inside a learning platform, in a reveal.js slide (as an iframe) or in a
Jupyter notebook with no network.

The engine and the widgets are TypeScript, bundled by esbuild into one classic script,
``build/web/dropout-figs.js`` (``make bundle``; ``make site`` and ``make test`` build it
too). This module reads that file; it does not build it.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ._validate import DropoutFigsError

__all__ = ["EXPLORABLES", "Explorable", "bundle_path", "explorable", "lab_presets"]

#: Explorable name -> (title, one-sentence introduction).
EXPLORABLES: dict[str, tuple[str, str]] = {
    "simulator": (
        "Dropout layer simulator",
        "Pick the units in a layer, the keep probability q, a seed and the mean activation: "
        "a new dropout mask every 1.5 s, the kept counts against Binomial(n, q), and the "
        "numbers of `dropout-figs numbers` for the same inputs.",
    ),
    "network": (
        "Dropout network playground",
        "A small network whose hidden units flicker under dropout; switch between training "
        "and evaluation, and watch the same input's prediction jitter while dropout stays on.",
    ),
    "training-lab": (
        "Dropout training lab",
        "Two networks from the same initial weights, on the same mini-batches, without and "
        "with dropout, trained live: loss curves, decision boundaries and the MC-dropout spread.",
    ),
}

_ENV = "DROPOUT_FIGS_BUNDLE"
_REPO_BUNDLE = Path(__file__).resolve().parent.parent / "build" / "web" / "dropout-figs.js"

# A small page of its own; the widgets read Material's custom properties when they are
# on the site and these fall-backs elsewhere (light and dark).
_PAGE_CSS = """
:root { color-scheme: light dark; --md-default-fg-color: #1f2328;
  --md-default-fg-color--light: #5f6368; --md-default-fg-color--lightest: #d4d4d8;
  --md-default-bg-color: #ffffff; --md-primary-fg-color: #3f51b5; --md-accent-fg-color: #ff6e42; }
@media (prefers-color-scheme: dark) { :root { --md-default-fg-color: #e2e4e9;
  --md-default-fg-color--light: #a6abb5; --md-default-fg-color--lightest: #3b3f4a;
  --md-default-bg-color: #1e2129; --md-primary-fg-color: #7c8ff0; --md-accent-fg-color: #ff9e80; } }
body { margin: 1.5em auto; max-width: 64em; padding: 0 1em; font: 17px/1.5 system-ui, sans-serif;
  color: var(--md-default-fg-color); background: var(--md-default-bg-color); }
h1 { font-size: 1.5em; margin: 0 0 0.3em; }
.df-credit { color: var(--md-default-fg-color--light); font-size: 0.85em; }
"""


def bundle_path() -> Path:
    """The bundled engine and widgets: ``$DROPOUT_FIGS_BUNDLE`` or ``build/web/dropout-figs.js``.

    Raises
    ------
    DropoutFigsError
        If the file is missing, saying how to build it.
    """
    env = os.environ.get(_ENV)
    path = Path(env) if env else _REPO_BUNDLE
    if not path.is_file():
        raise DropoutFigsError(
            f"the explorables' script {path} is missing: run `make bundle` in a clone of the "
            f"repository (or set {_ENV} to a built dropout-figs.js)"
        )
    return path


def lab_presets() -> list[dict]:
    """The training lab's presets, as the widgets read them (JSON-ready).

    One dict per :data:`dropout_figs.lab.PRESETS` entry: name, title, description,
    data set and its arguments, and the training configuration.
    """
    from .lab import PRESETS

    out = []
    for p in PRESETS.values():
        c = p.config
        out.append(
            {
                "name": p.name,
                "title": p.title,
                "description": p.description,
                "dataset": p.dataset,
                "n_samples": p.dataset_kwargs["n_samples"],
                "noise": p.dataset_kwargs["noise"],
                "val_fraction": p.dataset_kwargs["val_fraction"],
                "hidden_layers": c.hidden_layers,
                "width": c.width,
                "keep_prob": c.keep_prob,
                "epochs": c.epochs,
                "batch_size": c.batch_size,
                "lr": c.lr,
                "optimizer": c.optimizer,
            }
        )
    return out


def _check_name(name: str) -> str:
    if name not in EXPLORABLES:
        raise DropoutFigsError(f"explorable must be one of {', '.join(EXPLORABLES)}; got {name!r}")
    return name


def _script_text(source: str) -> str:
    # Inside <script>, only "</script" ends the element early; "<\/" means the same in JS.
    return source.replace("</script", "<\\/script")


@dataclass(frozen=True)
class Explorable:
    """One explorable as a self-contained HTML document.

    ``str(obj)`` or :attr:`html` is the whole page; in a notebook the object shows the
    live widget inline (an ``<iframe srcdoc>``, so its script and styles stay apart from
    the notebook's), with no network.
    """

    name: str
    html: str
    height: int = 900

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path`` (atomically) and return the path."""
        from .render import write_atomic

        return write_atomic(path, self.html.encode("utf-8"))

    def _repr_html_(self) -> str:
        return (
            f'<iframe title="{html.escape(EXPLORABLES[self.name][0])}" '
            f'srcdoc="{html.escape(self.html, quote=True)}" '
            f'style="width: 100%; height: {self.height}px; border: 0"></iframe>'
        )

    def __str__(self) -> str:
        return self.html


def explorable(name: str) -> Explorable:
    """An explorable as one self-contained HTML page (engine inlined, nothing fetched).

    Parameters
    ----------
    name : {"simulator", "network", "training-lab"}

    Returns
    -------
    Explorable
        ``.html`` is the page; ``.save(path)`` writes it; in Jupyter it displays inline.

    Raises
    ------
    DropoutFigsError
        For an unknown name, or when the bundle has not been built (``make bundle``).

    Examples
    --------
    >>> import dropout_figs as df
    >>> df.explorable("simulator").save("simulator.html")  # doctest: +SKIP
    """
    name = _check_name(name)
    script = bundle_path().read_text(encoding="utf-8")
    title, intro = EXPLORABLES[name]
    presets = ""
    if name == "training-lab":
        data = json.dumps(lab_presets(), separators=(",", ":"))
        presets = f'<script type="application/json" data-df-presets>{_script_text(data)}</script>\n'
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · dropout-figs</title>
<style>{_PAGE_CSS}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(intro)}</p>
<div data-df-widget="{name}"><noscript><p>This explorable runs in your browser: please turn
JavaScript on.</p></noscript></div>
{presets}<p class="df-credit">From dropout-figs (code MIT, figures and text CC BY 4.0).
Keep probability q = probability a unit is kept; drop rate = 1 − q.</p>
<script>{_script_text(script)}</script>
</body>
</html>
"""
    height = {"simulator": 1000, "network": 700, "training-lab": 1300}[name]
    return Explorable(name=name, html=page, height=height)
