"""Animated figures of dropout masks, drawn with Pillow directly (no matplotlib).

Frames are drawn in RGB at the canvas size (so text and lines are crisp at
slide size), then mapped without dithering onto one fixed, small palette
(:data:`PALETTE`: the style colours and a few anti-aliasing tints), so every
frame of every GIF shares the same palette and the files stay small.

Layout lengths are in points of the 800 x 500 reference and multiplied by
``_scale(canvas)``: ``canvas.scale`` (width / 800), reduced when the canvas is
wider than 8:5 so that the layout still fits vertically.
"""

from __future__ import annotations

import itertools
import math
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .._validate import DropoutFigsError
from ..maths import drop_rate_of, kept_count_distribution, sample_keep_mask
from ..style import COLORS, font_path
from .catalogue import Canvas, Drawing, FigureSpec, Param, n_units_param, register
from .plotting import fmt

__all__ = ["PALETTE", "build_mask_grid", "build_network_flicker", "quantize"]

#: Largest layer the mask grid draws (64 x 64 cells of at least a few pixels).
MAX_GRID_UNITS = 4096


# --------------------------------------------------------------------------- palette
def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


def _mix(c1, c2, t: float) -> tuple[int, int, int]:
    return tuple(round(a + (b - a) * t) for a, b in zip(c1, c2, strict=True))


WHITE = _rgb(COLORS["paper"])
INK = _rgb(COLORS["ink"])
KEPT = _rgb(COLORS["kept"])
DROPPED = _rgb(COLORS["dropped"])
ACCENT = _rgb(COLORS["accent"])
GOOD = _rgb(COLORS["good"])
SKY = _rgb(COLORS["sky"])
MUTED = _mix(INK, WHITE, 0.45)  # secondary text, the X on dropped units
PANEL = _mix(DROPPED, WHITE, 0.7)  # light backgrounds and edges
EDGE = _mix(KEPT, WHITE, 0.55)  # network edges between kept units


def _build_palette() -> list[tuple[int, int, int]]:
    base = [WHITE, INK, KEPT, DROPPED, ACCENT, GOOD, SKY, MUTED, PANEL, EDGE]
    tints = []
    # Anti-aliased edges of text and shapes fall between these pairs.
    for fg, bg in [
        (INK, WHITE),
        (KEPT, WHITE),
        (DROPPED, WHITE),
        (ACCENT, WHITE),
        (MUTED, DROPPED),
        (WHITE, KEPT),
        (SKY, WHITE),
        (GOOD, WHITE),
        (INK, SKY),
        (INK, ACCENT),
    ]:
        tints += [_mix(fg, bg, t) for t in (0.25, 0.5, 0.75)]
    out: list[tuple[int, int, int]] = []
    for c in base + tints:
        if c not in out:
            out.append(c)
    return out


#: The fixed palette of every animated figure (RGB triples, fewer than 64).
PALETTE = _build_palette()


@cache
def _palette_image() -> Image.Image:
    img = Image.new("P", (1, 1))
    flat = [v for c in PALETTE for v in c]
    # Pad with the first colour so the quantizer never picks an unused entry.
    img.putpalette(flat + flat[:3] * (256 - len(PALETTE)))
    return img


def quantize(frame: Image.Image) -> Image.Image:
    """Map an RGB frame onto :data:`PALETTE` (nearest colour, no dithering)."""
    out = frame.convert("RGB").quantize(palette=_palette_image(), dither=Image.Dither.NONE)
    # Trim the palette to the colours we use: a 64-entry GIF colour table.
    flat = [v for c in PALETTE for v in c]
    size = 1 << max(1, math.ceil(math.log2(len(PALETTE))))
    out.putpalette(flat + flat[:3] * (size - len(PALETTE)))
    return out


# --------------------------------------------------------------------------- drawing helpers
@cache
def _font(px: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(bold), max(6, int(px)))


def _scale(canvas: Canvas) -> float:
    return min(canvas.scale, canvas.height / 500.0)


def _text_width(draw: ImageDraw.ImageDraw, text: str, font) -> float:
    return draw.textlength(text, font=font)


def _fit_font(draw, text: str, px: float, max_width: float, bold: bool = False):
    """The largest font up to ``px`` in which ``text`` fits in ``max_width``."""
    size = int(px)
    while size > 7 and _text_width(draw, text, _font(size, bold)) > max_width:
        size -= 1
    return _font(size, bold)


def _header(draw, canvas: Canvas, s: float, title: str, subtitle: str) -> float:
    """Title and subtitle at the top-left; returns the y below them."""
    m = 24 * s
    width = canvas.width - 2 * m
    draw.text((m, m * 0.8), title, fill=INK, font=_fit_font(draw, title, 22 * s, width, True))
    sub = _fit_font(draw, subtitle, 15 * s, width)
    draw.text((m, m * 0.8 + 32 * s), subtitle, fill=MUTED, font=sub)
    return m * 0.8 + 62 * s


def _caption(draw, canvas: Canvas, s: float, text: str) -> None:
    m = 24 * s
    font = _fit_font(draw, text, 16 * s, canvas.width - 2 * m)
    y = canvas.height - m * 0.6 - 22 * s
    draw.line((m, y - 10 * s, canvas.width - m, y - 10 * s), fill=PANEL, width=max(1, round(s)))
    draw.text((m, y), text, fill=INK, font=font)


def _cross(draw, box, colour, width: int) -> None:
    x0, y0, x1, y1 = box
    draw.line((x0, y0, x1, y1), fill=colour, width=width)
    draw.line((x0, y1, x1, y0), fill=colour, width=width)


# =========================================================================== mask-grid
def grid_shape(n_units: int) -> tuple[int, int]:
    """``(rows, cols)`` of the near-square grid of ``n_units`` cells."""
    cols = math.ceil(math.sqrt(n_units))
    return math.ceil(n_units / cols), cols


def _draw_mask_cells(draw, mask: np.ndarray, box, s: float) -> None:
    """Kept units lit, dropped ones grey with an X, on a near-square grid in ``box``."""
    x0, y0, x1, y1 = box
    rows, cols = grid_shape(mask.size)
    cell = min((x1 - x0) / cols, (y1 - y0) / rows, 90 * s)
    gap = max(1.0, cell * 0.12) if cell >= 4 else 0.0
    ox = x0 + ((x1 - x0) - cell * cols) / 2
    oy = y0 + ((y1 - y0) - cell * rows) / 2
    radius = cell * 0.18 if cell >= 14 else 0
    cross_w = max(1, round(cell / 12))
    for i, kept in enumerate(mask):
        r, c = divmod(i, cols)
        bx0 = round(ox + c * cell + gap / 2)
        by0 = round(oy + r * cell + gap / 2)
        bx1 = round(ox + (c + 1) * cell - gap / 2) - 1
        by1 = round(oy + (r + 1) * cell - gap / 2) - 1
        fill = KEPT if kept else DROPPED
        if radius:
            draw.rounded_rectangle((bx0, by0, bx1, by1), radius=radius, fill=fill)
        else:
            draw.rectangle((bx0, by0, bx1, by1), fill=fill)
        if not kept and cell >= 9:
            inset = (bx1 - bx0) * 0.25
            _cross(draw, (bx0 + inset, by0 + inset, bx1 - inset, by1 - inset), MUTED, cross_w)


def _draw_count_panel(draw, box, s, dist, counts, current: int) -> None:
    """The kept-count pmf as a silhouette with this and earlier masks' counts marked."""
    x0, y0, x1, y1 = box
    small = _font(13 * s)
    label = "kept count of each mask"
    draw.text((x0, y0), label, fill=INK, font=_fit_font(draw, label, 14 * s, x1 - x0, True))
    sub = f"vs Binomial(n, q): mean {fmt(dist.mean, 1)}"
    draw.text((x0, y0 + 20 * s), sub, fill=MUTED, font=_fit_font(draw, sub, 13 * s, x1 - x0))
    k, pmf = dist.window(4.0)
    lo = min(int(k[0]), min(counts))
    hi = max(int(k[-1]), max(counts))
    px0, px1 = x0, x1
    base = y1 - 22 * s
    top = y0 + 48 * s
    span = hi - lo + 1
    width = (px1 - px0) / span
    peak = pmf.max()
    for kk, pp in zip(k, pmf, strict=True):
        bx = px0 + (kk - lo) * width
        h = (base - top) * 0.8 * pp / peak
        if h >= 0.5:
            draw.rectangle((bx, base - h, bx + max(width, 1), base), fill=EDGE)
    draw.line((px0, base, px1, base), fill=MUTED, width=max(1, round(s)))
    mean_x = px0 + (dist.mean - lo + 0.5) * width
    for yy in np.arange(top, base, 6 * s):
        draw.line((mean_x, yy, mean_x, min(yy + 3 * s, base)), fill=INK, width=max(1, round(s)))
    # earlier masks as small ticks, this mask as a bold marker
    for j, c in enumerate(counts):
        cx = px0 + (c - lo + 0.5) * width
        if j == current:
            continue
        draw.line((cx, base - 10 * s, cx, base), fill=INK, width=max(1, round(1.5 * s)))
    c = counts[current]
    cx = px0 + (c - lo + 0.5) * width
    r = 6 * s
    draw.polygon([(cx, base - 1), (cx - r, base - 2.2 * r), (cx + r, base - 2.2 * r)], fill=ACCENT)
    for text, anchor_x, anchor in ((f"{lo:,}", px0, "la"), (f"{hi:,}", px1, "ra")):
        draw.text((anchor_x, base + 4 * s), text, fill=MUTED, font=small, anchor=anchor)


def build_mask_grid(
    *, rng, canvas: Canvas, n_units: int, keep_prob: float, n_frames: int
) -> Drawing:
    """A new dropout mask of ``n_units`` units every frame; kept lit, dropped crossed.

    Beside the grid, the binomial pmf of the kept count with every frame's count
    marked, and a caption with the count and the scale factor 1/q. Drawn with
    Pillow on :data:`PALETTE`.

    Returns
    -------
    Drawing
        ``frames`` (one per mask) and ``data`` with each frame's kept count
        (frame 0 is the mask of :func:`dropout_figs.maths.layer_summary`).
    """
    if n_units > MAX_GRID_UNITS:
        raise DropoutFigsError(
            f"n_units={n_units} is too large to draw, at most {MAX_GRID_UNITS}; "
            "`dropout-figs numbers` works for any n"
        )
    q = keep_prob
    r = drop_rate_of(q)
    scale = 1.0 / q
    # Frame 0 is the first draw of rng, as in layer_summary(n_units, q, seed).
    masks = [sample_keep_mask((n_units,), q, rng=rng) for _ in range(n_frames)]
    counts = [int(m.sum()) for m in masks]
    dist = kept_count_distribution(n_units, q)
    s = _scale(canvas)
    W, H = canvas.size
    m = 24 * s
    title = "Dropout: a new random mask at every training step"
    subtitle = (
        f"{n_units:,} unit{'s' if n_units != 1 else ''} · keep prob q = {fmt(q, 3)} · "
        f"drop rate {fmt(r, 3)} · kept units are scaled by 1/q = {scale:.2f}"
    )
    frames = []
    for i, mask in enumerate(masks):
        img = Image.new("RGB", canvas.size, WHITE)
        draw = ImageDraw.Draw(img)
        top = _header(draw, canvas, s, title, subtitle)
        bottom = H - m - 40 * s
        side = min(bottom - top, W * 0.58)
        grid_box = (m, top + 4 * s, m + side, bottom)
        _draw_mask_cells(draw, mask, grid_box, s)
        px0 = m + side + 36 * s
        px1 = W - m
        # legend
        key = 16 * s
        small = _font(14 * s)
        ly = top + 6 * s
        draw.rounded_rectangle((px0, ly, px0 + key, ly + key), radius=3 * s, fill=KEPT)
        draw.text(
            (px0 + key + 8 * s, ly + key / 2),
            f"kept: output × {scale:.2f}",
            fill=INK,
            font=_fit_font(draw, f"kept: output × {scale:.2f}", 14 * s, px1 - px0 - key - 8 * s),
            anchor="lm",
        )
        ly += key + 10 * s
        draw.rounded_rectangle((px0, ly, px0 + key, ly + key), radius=3 * s, fill=DROPPED)
        _cross(
            draw,
            (px0 + 4 * s, ly + 4 * s, px0 + key - 4 * s, ly + key - 4 * s),
            MUTED,
            max(1, round(1.5 * s)),
        )
        draw.text(
            (px0 + key + 8 * s, ly + key / 2),
            "dropped: output 0",
            fill=INK,
            font=small,
            anchor="lm",
        )
        # big count
        ly += key + 22 * s
        big = _fit_font(draw, f"{counts[i]:,}", 40 * s, px1 - px0, True)
        draw.text((px0, ly), f"{counts[i]:,}", fill=KEPT, font=big)
        ly += big.size + 6 * s
        line = f"kept of {n_units:,} ({100 * counts[i] / n_units:.0f} %)"
        draw.text((px0, ly), line, fill=INK, font=_fit_font(draw, line, 15 * s, px1 - px0))
        ly += 22 * s
        line = f"expected n·q = {fmt(dist.mean, 1)}"
        draw.text((px0, ly), line, fill=MUTED, font=_fit_font(draw, line, 14 * s, px1 - px0))
        ly += 34 * s
        if bottom - ly > 90 * s:
            _draw_count_panel(draw, (px0, ly, px1, bottom), s, dist, counts[: i + 1], i)
        _caption(
            draw,
            canvas,
            s,
            f"mask {i + 1} of {n_frames} · kept {counts[i]:,} of {n_units:,} · "
            f"scale 1/q = {scale:.2f} · keep prob q = {fmt(q, 3)} · drop rate {fmt(r, 3)}",
        )
        frames.append(quantize(img))
    alt = (
        f"Animated grid of {n_units:,} units, {n_frames} random dropout masks with keep "
        f"probability {fmt(q, 3)} (drop rate {fmt(r, 3)}). Kept units are blue, dropped units "
        f"grey with a cross. The first mask keeps {counts[0]:,} of {n_units:,} units; the "
        f"masks keep {', '.join(f'{c:,}' for c in counts)}; expected {fmt(dist.mean, 1)}. "
        f"Kept outputs are scaled by 1/q = {scale:.2f}."
    )
    data = {
        "n_units": n_units,
        "keep_prob": q,
        "drop_rate": r,
        "scale": scale,
        "kept": counts,
        "expected_active": dist.mean,
        "first_mask": masks[0].astype(int).tolist() if n_units <= 256 else None,
    }
    return Drawing(alt=alt, data=data, frames=frames, durations=1500)


register(
    FigureSpec(
        name="mask-grid",
        summary="A layer's units on a grid; a new random dropout mask every frame",
        group="dropout",
        params=(
            # No upper bound here: the builder explains what to use for bigger layers.
            n_units_param(
                64, help=f"number of units in the layer (at most {MAX_GRID_UNITS} can be drawn)"
            ),
            Param("keep_prob", "prob", 0.7, "probability a unit is kept"),
            Param("n_frames", "int", 8, "number of masks (frames)", low=1, high=60),
        ),
        build=build_mask_grid,
        formats=("gif", "png"),
        size=(800, 500),
        seed=0,
        cost=0.4,
    )
)


# =========================================================================== network-flicker
N_INPUTS = 4
N_OUTPUTS = 2
_SUPERSAMPLE = 2


def _network(width: int, *, rng):
    """A fixed 4-width-width-2 ReLU network and an input with positive activations."""
    x = rng.uniform(0.2, 1.0, size=N_INPUTS)
    sizes = (N_INPUTS, width, width, N_OUTPUTS)
    weights = [
        # Mostly positive weights keep the hidden ReLUs on, so values show.
        rng.normal(0.35, 0.5, size=(fan_in, fan_out)) / math.sqrt(fan_in)
        for fan_in, fan_out in itertools.pairwise(sizes)
    ]
    return x, weights


def _forward(x, weights, masks, keep_prob):
    """Activations of every layer; ``masks`` None is evaluation (all on, no scaling)."""
    acts = [x]
    h = x
    for j, w in enumerate(weights):
        h = h @ w
        if j < len(weights) - 1:
            h = np.maximum(h, 0.0)
            if masks is not None:
                h = h * masks[j] / keep_prob
        acts.append(h)
    return acts


def _draw_network(draw, box, s, acts, masks, show_scale: float | None) -> None:
    x0, y0, x1, y1 = box
    n_layers = len(acts)
    xs = [x0 + (x1 - x0) * (j + 0.5) / n_layers for j in range(n_layers)]
    most = max(len(a) for a in acts)
    spacing = (y1 - y0 - 30 * s) / most
    radius = min(24 * s, spacing * 0.4, (x1 - x0) / n_layers * 0.2)
    ys = []
    for a in acts:
        n = len(a)
        mid = y0 + (y1 - y0 - 30 * s) / 2
        ys.append([mid + (i - (n - 1) / 2) * spacing for i in range(n)])
    on = [np.ones(len(a), bool) for a in acts]
    if masks is not None:
        for j, mk in enumerate(masks):
            on[j + 1] = mk
    lw = max(1, round(1.6 * s))
    for j in range(n_layers - 1):
        for i0, ya in enumerate(ys[j]):
            for i1, yb in enumerate(ys[j + 1]):
                if on[j][i0] and on[j + 1][i1]:
                    draw.line((xs[j], ya, xs[j + 1], yb), fill=EDGE, width=lw)
    value_font = _font(max(8, radius * 0.62), True)
    for j, a in enumerate(acts):
        hidden = 0 < j < n_layers - 1
        for i, y in enumerate(ys[j]):
            box_ = (xs[j] - radius, y - radius, xs[j] + radius, y + radius)
            if not on[j][i]:
                draw.ellipse(box_, fill=DROPPED)
                d = radius * 0.45
                _cross(draw, (xs[j] - d, y - d, xs[j] + d, y + d), MUTED, max(1, round(2 * s)))
                continue
            fill = KEPT if hidden else (SKY if j == 0 else ACCENT)
            text_fill = WHITE if hidden else INK
            draw.ellipse(box_, fill=fill)
            draw.text((xs[j], y), f"{a[i]:.2f}", fill=text_fill, font=value_font, anchor="mm")
    names = ["input", "hidden 1", "hidden 2", "output"]
    label_font = _font(14 * s)
    for j, name in enumerate(names):
        if 0 < j < n_layers - 1 and show_scale is not None:
            name += f"  (×{show_scale:.2f})"
        draw.text((xs[j], y1 - 8 * s), name, fill=MUTED, font=label_font, anchor="ms")


def build_network_flicker(
    *, rng, canvas: Canvas, width: int, keep_prob: float, n_frames: int
) -> Drawing:
    """A 4-width-width-2 network whose hidden units flicker; the last frame is evaluation.

    Each frame samples new masks on both hidden layers (dropped units grey, edges
    from them hidden) and shows the output; the last frame has every unit on and
    no scaling, the output it equals on average.

    Returns
    -------
    Drawing
        ``frames`` and ``data`` with the training outputs of every frame, their
        mean, and the evaluation output.
    """
    q = keep_prob
    r = drop_rate_of(q)
    scale = 1.0 / q
    net_rng, mask_rng = rng.spawn(2)
    x, weights = _network(width, rng=net_rng)
    masks = [
        [sample_keep_mask((width,), q, rng=mask_rng) for _ in range(2)] for _ in range(n_frames)
    ]
    # Drawn at twice the size and reduced, so the many slanted edges are smooth.
    final = canvas
    canvas = Canvas(canvas.width * _SUPERSAMPLE, canvas.height * _SUPERSAMPLE, canvas.dpi)
    s = _scale(canvas)
    W, H = canvas.size
    m = 24 * s
    title = "Dropout trains a different thinned network at every step"
    subtitle = (
        f"hidden units kept with keep prob q = {fmt(q, 3)} (drop rate {fmt(r, 3)}); "
        f"kept activations × 1/q = {scale:.2f}"
    )
    frames, outputs, kept = [], [], []
    eval_acts = _forward(x, weights, None, q)

    def frame(acts, mk, caption, show_scale):
        img = Image.new("RGB", canvas.size, WHITE)
        draw = ImageDraw.Draw(img)
        top = _header(draw, canvas, s, title, subtitle)
        _draw_network(draw, (m, top, W - m, H - m - 40 * s), s, acts, mk, show_scale)
        _caption(draw, canvas, s, caption)
        return quantize(img.resize(final.size, Image.Resampling.BOX))

    for i, mk in enumerate(masks):
        acts = _forward(x, weights, mk, q)
        k1, k2 = int(mk[0].sum()), int(mk[1].sum())
        kept.append([k1, k2])
        outputs.append([float(v) for v in acts[-1]])
        caption = (
            f"training step {i + 1} of {n_frames} · kept {k1} of {width} and {k2} of {width} "
            f"hidden units · kept activations × 1/q = {scale:.2f}"
        )
        frames.append(frame(acts, mk, caption, scale))
    eval_out = [float(v) for v in eval_acts[-1]]
    caption = "evaluation: all units on, no scaling (inverted dropout) · outputs " + ", ".join(
        f"{v:.2f}" for v in eval_out
    )
    frames.append(frame(eval_acts, None, caption, None))
    durations = [1200] * n_frames + [3000]
    mean_train = np.mean(outputs, axis=0)
    alt = (
        f"Animated network with {N_INPUTS} inputs, two hidden layers of {width} units and "
        f"{N_OUTPUTS} outputs. In {n_frames} training steps with keep probability {fmt(q, 3)} "
        f"(drop rate {fmt(r, 3)}) random hidden units and their connections vanish; the first "
        f"step keeps {kept[0][0]} and {kept[0][1]} of {width} hidden units, and kept "
        f"activations are multiplied by {scale:.2f}. The last frame is evaluation: all units "
        f"on, no scaling, outputs {', '.join(f'{v:.2f}' for v in eval_out)}."
    )
    data = {
        "keep_prob": q,
        "drop_rate": r,
        "scale": scale,
        "layer_sizes": [N_INPUTS, width, width, N_OUTPUTS],
        "kept": kept,
        "train_outputs": outputs,
        "mean_train_output": mean_train.tolist(),
        "eval_outputs": eval_out,
        "n_frames": n_frames + 1,
    }
    return Drawing(alt=alt, data=data, frames=frames, durations=durations)


register(
    FigureSpec(
        name="network-flicker",
        summary="A small network whose hidden units flicker under dropout, then evaluation",
        group="dropout",
        params=(
            Param("width", "int", 6, "units in each hidden layer", low=2, high=12),
            Param("keep_prob", "prob", 0.6, "probability a hidden unit is kept"),
            Param(
                "n_frames",
                "int",
                6,
                "training steps shown before the evaluation frame",
                low=1,
                high=60,
            ),
        ),
        build=build_network_flicker,
        formats=("gif", "png"),
        size=(800, 500),
        seed=0,
        cost=0.4,
    )
)
