"""dropout-figs: the maths, figures and a NumPy training lab for understanding dropout.

Conventions: ``keep_prob`` is the probability a unit is *kept* (the paper's p);
``drop_rate = 1 - keep_prob`` is what PyTorch calls ``p`` and Keras ``rate``.
Inverted dropout (scale by ``1 / keep_prob`` while training) is the default.

Attributes are imported lazily so that ``import dropout_figs`` stays fast and
importing the maths never imports matplotlib.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    # maths
    "sample_keep_mask": "maths",
    "inverted_dropout": "maths",
    "classic_dropout": "maths",
    "kept_count_distribution": "maths",
    "KeptCountDistribution": "maths",
    "log10_subnetworks": "maths",
    "format_subnetworks": "maths",
    "layer_summary": "maths",
    "LayerSummary": "maths",
    # errors
    "DropoutFigsError": "_validate",
    "resolve_keep_prob": "_validate",
    # the catalogue
    "figure_names": "figures",
    "get_figure": "figures",
    "iter_figures": "figures",
    # the training lab
    "make_dataset": "lab",
    "TrainConfig": "lab",
    "train": "lab",
    "compare": "lab",
    "PRESETS": "lab",
    # the live explorables as HTML (simulator, network, training-lab)
    "explorable": "explorables",
}

__all__ = [*sorted(_LAZY), "__version__", "draw_figure", "render_figure"]


def render_figure(name, path=None, **kwargs):
    """Render a catalogued figure to bytes, and to ``path`` if given.

    The same as :func:`dropout_figs.render.render`; see it for the options
    (``seed``, ``size``, ``dpi``, ``style``, ``fmt`` and the figure's parameters).
    """
    from .render import render

    return render(name, path, **kwargs)


def draw_figure(name, *, seed=None, size=None, dpi=None, **params):
    """Build a catalogued figure and return its :class:`~dropout_figs.figures.catalogue.Drawing`.

    ``drawing.figure`` is a matplotlib Figure you can restyle and save yourself;
    ``drawing.alt`` and ``drawing.data`` are its alt text and numbers.
    """
    from .figures import get_figure

    return get_figure(name).draw(params, seed=seed, size=size, dpi=dpi)


#: Submodules reachable as attributes (``dropout_figs.theory``) without an import;
#: ``mlp`` and ``data`` are the lab's (``dropout_figs.mlp`` is ``dropout_figs.lab.mlp``).
_SUBMODULES = {
    "cli": "cli",
    "data": "lab.data",
    "explorables": "explorables",
    "figures": "figures",
    "lab": "lab",
    "maths": "maths",
    "mlp": "lab.mlp",
    "render": "render",
    "style": "style",
    "theory": "theory",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{_SUBMODULES[name]}", __name__)
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dropout_figs' has no attribute {name!r}")


def __dir__():
    return __all__
