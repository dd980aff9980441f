"""Drawing helpers of the figures: pure functions of arrays that take an ``ax``.

Nothing here trains, samples or writes files. Each function draws on the axes
it is given and returns them, so the figure builders (the training-lab topic modules) stay a
list of computations followed by a list of drawings, and tests can inspect the
artists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..style import COLORS

__all__ = [
    "CLASS_COLORS",
    "animate",
    "class_map_rgb",
    "draw_activation_histograms",
    "draw_bn_histograms",
    "draw_boundary_panel",
    "draw_class_map",
    "draw_gap_bars",
    "draw_loss_curves",
    "draw_mc_convergence",
    "draw_metrics_table",
    "draw_note",
    "draw_points",
    "draw_sweep",
    "draw_uncertainty_map",
    "draw_variance_ratio",
    "fmt",
    "frames_to_palette",
    "render_rgb",
    "update_class_map",
]

#: Colours of the classes of a toy data set (not the without/with-dropout colours).
CLASS_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#F0E442")


def _rgb(color: str) -> np.ndarray:
    from matplotlib.colors import to_rgb

    return np.asarray(to_rgb(color))


def fmt(x: float, digits: int = 3) -> str:
    """``0.7``, ``1.43``, ``179.2``: up to ``digits`` decimals, no trailing zeros.

    The one number format of the figures' titles, captions and alt text.
    """
    text = f"{x:,.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


# --------------------------------------------------------------------------- curves
def draw_loss_curves(ax, epochs, runs: Mapping[str, Mapping[str, np.ndarray]], *, log=True):
    """Training (dashed) and validation (solid) loss of each run, the final gap shaded.

    Parameters
    ----------
    ax : matplotlib Axes
    epochs : ndarray of shape (n_epochs,)
    runs : mapping label -> {"train": array, "val": array, "color": str}
        One entry per network.
    log : bool
        Logarithmic loss axis (training loss of an overfitting net falls by decades).
    """
    epochs = np.asarray(epochs)
    span = epochs[-1] - epochs[0]
    for i, (label, run) in enumerate(runs.items()):
        train, val, color = np.asarray(run["train"]), np.asarray(run["val"]), run["color"]
        ax.plot(epochs, val, color=color, lw=2.0, label=f"{label}: validation")
        ax.plot(epochs, train, color=color, lw=1.5, ls="--", label=f"{label}: training")
        # The generalisation gap: shaded over the last tenth of training, then a
        # bracket past the last epoch labelled with its final value.
        tail = epochs >= epochs[0] + 0.9 * span
        ax.fill_between(epochs[tail], train[tail], val[tail], color=color, alpha=0.13, lw=0)
        x_bar = epochs[-1] + (0.02 + 0.1 * i) * span
        ax.annotate(
            "",
            xy=(x_bar, val[-1]),
            xytext=(x_bar, train[-1]),
            arrowprops={"arrowstyle": "|-|,widthA=0.25,widthB=0.25", "color": color, "lw": 1.5},
        )
        mid = np.sqrt(val[-1] * train[-1]) if log else 0.5 * (val[-1] + train[-1])
        ax.annotate(
            f"gap\n{val[-1] - train[-1]:+.2f}",
            xy=(x_bar, mid),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            color=color,
            fontsize="small",
            fontweight="bold",
        )
    if log:
        ax.set_yscale("log")
    ax.set_xlim(epochs[0], epochs[-1] + 0.22 * span)
    ax.set_xticks([t for t in ax.get_xticks() if epochs[0] <= t <= epochs[-1]])
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss" + (" (log scale)" if log else ""))
    ax.legend(fontsize="small", ncols=2, loc="lower left")
    return ax


def draw_metrics_table(ax, rows: Mapping[str, Sequence[str]], columns: Sequence[str], colors):
    """A small table of final metrics, one row per network, on an axis-less ``ax``."""
    ax.set_axis_off()
    table = ax.table(
        cellText=[list(v) for v in rows.values()],
        rowLabels=list(rows),
        colLabels=list(columns),
        cellLoc="center",
        rowLoc="right",
        loc="center",
        edges="horizontal",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    table.scale(1.0, 1.35)
    for (row, col), cell in table.get_celld().items():
        if row == 0:
            cell.set_text_props(fontweight="bold")
        elif col == -1:
            cell.set_text_props(color=colors[row - 1], fontweight="bold")
    return ax


def draw_note(ax, text, *, corner="upper right"):
    """A small note in a corner of ``ax`` on a translucent white ground; returns the Text.

    ``corner`` is ``"upper right"`` or ``"lower left"`` (where these figures have room).
    """
    x, ha = (0.98, "right") if corner.endswith("right") else (0.02, "left")
    y, va = (0.97, "top") if corner.startswith("upper") else (0.02, "bottom")
    return ax.text(
        x,
        y,
        text,
        transform=ax.transAxes,
        ha=ha,
        va=va,
        fontsize="small",
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85},
    )


# --------------------------------------------------------------------------- the plane
def class_map_rgb(proba: np.ndarray) -> np.ndarray:
    """Colour each grid point by its most probable class, faded by confidence.

    Parameters
    ----------
    proba : ndarray of shape (ny, nx, n_classes)

    Returns
    -------
    ndarray of shape (ny, nx, 3)
        White where the net is unsure (max probability ``1 / n_classes``), the
        class colour (lightened) where it is certain.
    """
    n_classes = proba.shape[-1]
    colors = np.stack([_rgb(CLASS_COLORS[k % len(CLASS_COLORS)]) for k in range(n_classes)])
    top = proba.argmax(-1)
    conf = (proba.max(-1) - 1.0 / n_classes) / (1.0 - 1.0 / n_classes)
    strength = 0.65 * np.clip(conf, 0.0, 1.0)[..., None]
    return 1.0 - strength * (1.0 - colors[top])


def _boundary(ax, extent, proba):
    ny, nx, _ = proba.shape
    gx = np.linspace(extent[0], extent[1], nx)
    gy = np.linspace(extent[2], extent[3], ny)
    return ax.contour(gx, gy, proba[..., 1], levels=[0.5], colors=COLORS["ink"], linewidths=1.2)


def draw_class_map(ax, extent, proba, *, boundary=True):
    """The predicted class map of ``proba`` (ny, nx, 2) over ``extent``.

    Returns
    -------
    (AxesImage, ContourSet or None)
        The artists, for :func:`update_class_map` (animations redraw only these).
    """
    image = ax.imshow(
        class_map_rgb(proba),
        extent=extent,
        origin="lower",
        interpolation="bilinear",
        aspect="auto",
    )
    contour = _boundary(ax, extent, proba) if boundary else None
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    return image, contour


def update_class_map(ax, artists, extent, proba):
    """Show ``proba`` in the artists made by :func:`draw_class_map`; returns the new artists."""
    image, contour = artists
    image.set_data(class_map_rgb(proba))
    if contour is not None:
        contour.remove()
        contour = _boundary(ax, extent, proba)
    return image, contour


def draw_boundary_panel(ax, extent, proba, data, title, color):
    """A class map with ``data``'s validation points (hollow) and training points (filled).

    Returns the artists of :func:`draw_class_map`, for :func:`update_class_map`.
    """
    artists = draw_class_map(ax, extent, proba)
    draw_points(ax, data.x_val, data.y_val, size=12, hollow=True)
    draw_points(ax, data.x_train, data.y_train, size=18)
    ax.set_title(title, color=color, fontsize="medium")
    return artists


def draw_points(ax, x, y, *, size=18, hollow=False):
    """Scatter a 2-D data set coloured by class (hollow markers for validation data)."""
    y = np.asarray(y)
    for k in np.unique(y):
        color = CLASS_COLORS[int(k) % len(CLASS_COLORS)]
        pts = x[y == k]
        if hollow:
            ax.scatter(pts[:, 0], pts[:, 1], s=size, facecolors="none", edgecolors=color, lw=0.8)
        else:
            ax.scatter(pts[:, 0], pts[:, 1], s=size, color=color, edgecolors=COLORS["ink"], lw=0.5)
    return ax


def draw_uncertainty_map(ax, extent, spread, mean_proba, x, y, *, vmax=None):
    """Heat map of the MC-dropout spread, the mean boundary and the training data."""
    image = ax.imshow(
        spread,
        extent=extent,
        origin="lower",
        interpolation="bilinear",
        aspect="auto",
        cmap="magma_r",
        vmin=0.0,
        vmax=vmax,
    )
    ny, nx = spread.shape
    gx = np.linspace(extent[0], extent[1], nx)
    gy = np.linspace(extent[2], extent[3], ny)
    ax.contour(gx, gy, mean_proba, levels=[0.5], colors=COLORS["ink"], linewidths=1.2)
    draw_points(ax, x, y, size=14)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    return image


# --------------------------------------------------------------------------- sweeps
def draw_sweep(ax, xs, runs: Mapping[str, Mapping[str, np.ndarray]], *, xlabel, ylabel):
    """Mean line with a min-max band across seeds, one entry per series.

    ``runs[label]`` holds ``values`` of shape (n_x, n_seeds) and ``color``.
    """
    xs = np.asarray(xs, dtype=float)
    for label, run in runs.items():
        values = np.asarray(run["values"], dtype=float)
        mean = values.mean(1)
        ax.fill_between(xs, values.min(1), values.max(1), color=run["color"], alpha=0.18, lw=0)
        ax.plot(xs, mean, "o-", color=run["color"], lw=1.8, ms=4, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def draw_gap_bars(ax, sizes, benefit, *, color):
    """Dropout's benefit (error without minus error with) per training-set size.

    ``benefit`` has shape (n_sizes, n_seeds); bars show the mean, dots each data set.
    """
    benefit = np.asarray(benefit, dtype=float)
    pos = np.arange(len(sizes))
    mean = benefit.mean(1)
    ax.bar(pos, mean, width=0.6, color=color, alpha=0.85, label="mean")
    for i in range(len(sizes)):
        ax.plot(
            np.full(benefit.shape[1], pos[i]) + np.linspace(-0.18, 0.18, benefit.shape[1]),
            benefit[i],
            "o",
            color=COLORS["ink"],
            ms=3,
            alpha=0.7,
            label="one data set" if i == 0 else None,
        )
    ax.axhline(0.0, color=COLORS["ink"], lw=0.8)
    ax.set_xticks(pos, [str(s) for s in sizes])
    return ax


def draw_mc_convergence(ax, n_samples, errors, ws_error, *, color, ws_color):
    """MC-averaged error (mean and min-max over repeats) against T, with the WS line."""
    n_samples = np.asarray(n_samples)
    errors = np.asarray(errors, dtype=float)
    ax.fill_between(n_samples, errors.min(1), errors.max(1), color=color, alpha=0.2, lw=0)
    ax.plot(
        n_samples, errors.mean(1), "o-", color=color, lw=1.8, ms=4, label="MC average of T nets"
    )
    ax.axhline(ws_error, color=ws_color, lw=1.8, ls="--", label="weight scaling (one pass)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(n_samples, [str(int(t)) for t in n_samples])
    ax.minorticks_off()
    ax.set_xlabel("number of sampled nets T (log scale)")
    return ax


# --------------------------------------------------------------------------- histograms
def draw_activation_histograms(ax, values: Mapping[str, np.ndarray], colors, bins):
    """Overlaid step histograms (density) of the arrays in ``values``."""
    for label, v in values.items():
        counts, edges = np.histogram(np.asarray(v).ravel(), bins=bins)
        density = counts / max(counts.sum(), 1)
        # Outlines only: two filled histograms overlap into a muddy third colour.
        ax.stairs(density, edges, color=colors[label], lw=1.8, label=label, fill=False)
    return ax


def draw_variance_ratio(ax, keep_probs, simulated, theory, *, color, theory_color):
    """Eval-time variance over BN's running variance, simulated dots and theory curve."""
    ax.plot(theory[0], theory[1], color=theory_color, lw=1.8, label="theory")
    ax.plot(keep_probs, simulated, "o", color=color, ms=5, label="simulation")
    ax.axhline(1.0, color=COLORS["ink"], lw=0.8, ls=":")
    ax.set_xlabel("keep probability q (drop rate 1 - q)")
    return ax


def draw_bn_histograms(ax, train_out, eval_out, bins, *, colors):
    """Batch-norm outputs at training (dropout on) and evaluation time."""
    for label, v, color in (
        ("training (dropout on)", train_out, colors[0]),
        ("evaluation (dropout off)", eval_out, colors[1]),
    ):
        counts, edges = np.histogram(v, bins=bins)
        ax.stairs(counts / counts.sum(), edges, color=color, lw=1.8, label=f"{label}")
    return ax


# --------------------------------------------------------------------------- frames
def render_rgb(fig) -> np.ndarray:
    """Draw a matplotlib Figure with Agg and return its pixels, shape (h, w, 3) uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def frames_to_palette(frames: Sequence[np.ndarray], *, key_colors=(), n_colors=256):
    """Quantise RGB frames to ONE shared palette (mode "P" Pillow images).

    The palette is built once from every frame together (median cut), plus the
    exact ``key_colors`` (class and text colours, which cover few pixels and
    would otherwise be rounded towards the large gradients), then each frame is
    mapped onto it without dithering. A fresh palette per frame would double
    the GIF and make colours flicker.
    """
    from matplotlib.colors import to_rgb
    from PIL import Image

    keys = []
    for c in key_colors:
        rgb = tuple(round(255 * v) for v in to_rgb(c))
        if rgb not in keys:
            keys.append(rgb)
    # Every second row of every frame is plenty to find the colours used.
    sample = np.concatenate([f[::2] for f in frames], axis=0)
    n_free = n_colors - len(keys)
    base = Image.fromarray(sample).quantize(
        colors=n_free, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    palette = base.getpalette()[: 3 * n_free]
    palette += [0, 0, 0] * (n_free - len(palette) // 3)
    for rgb in keys:
        palette += list(rgb)
    palette_image = Image.new("P", (1, 1))
    palette_image.putpalette(palette)
    return [
        Image.fromarray(f).quantize(palette=palette_image, dither=Image.Dither.NONE) for f in frames
    ]


def animate(fig, setup, update, n_frames):
    """Frames of one Figure: ``setup()`` draws frame 0, ``update(k)`` changes artists.

    The layout is computed on the first frame and then frozen, so nothing
    jitters; all frames share one palette (see :func:`frames_to_palette`).

    Returns
    -------
    list of PIL.Image.Image
        ``n_frames`` palette images, ready for a GIF.
    """
    setup()
    frames = [render_rgb(fig)]
    fig.set_layout_engine("none")
    for k in range(1, n_frames):
        update(k)
        frames.append(render_rgb(fig))
    keys = ("#FFFFFF", COLORS["ink"], *COLORS.values(), *CLASS_COLORS)
    return frames_to_palette(frames, key_colors=keys)
