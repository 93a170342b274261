"""Drawn test sets made from MNIST digits: canvases like streamlit-drawable-canvas returns.

A digit is "redrawn" the way a person draws it on a canvas: the MNIST digit is scaled to the
wanted height, thinned to its centre line (skeleton), and that line is painted with a round,
anti-aliased brush of the chosen width, at the chosen place, white on black, black on white or
coloured on a transparent canvas. Every function is deterministic given its seed / generator.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi
from skimage.morphology import skeletonize

from digitcore.errors import ParamError
from digitcore.preprocess import ink_box, paint

#: How the canvas looks: stroke colour on background (RGBA).
POLARITIES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "white_on_black": ((255, 255, 255, 255), (0, 0, 0, 255)),
    "black_on_white": ((0, 0, 0, 255), (255, 255, 255, 255)),
    "transparent": ((0, 0, 0, 255), (0, 0, 0, 0)),  # drawable-canvas default: ink on nothing
}


def stroke_alpha(
    mnist_digit: NDArray[np.uint8], *, height_px: int, brush_px: float
) -> NDArray[np.float32]:
    """Redraw an MNIST digit at ``height_px`` tall with a round brush ``brush_px`` wide.

    Parameters
    ----------
    mnist_digit : ndarray of shape (28, 28), dtype uint8, ink 255 on background 0
    height_px : int
        Height of the digit's centre line (the painted digit is ``brush_px`` taller).
    brush_px : float
        Brush diameter in pixels.

    Returns
    -------
    ndarray of shape (h, w), dtype float32
        Coverage 0-1 of the painted digit, cropped to its strokes.
    """
    d = np.asarray(mnist_digit, np.float32) / 255.0
    d = d[ink_box(d > 0.5)]
    pad = int(np.ceil(brush_px / 2)) + 2
    scale = height_px / d.shape[0]
    for _ in range(2):  # the centre line is shorter than the digit: rescale once to fit it
        skel = skeletonize(np.pad(ndi.zoom(d, scale, order=1) > 0.5, pad))
        rows = np.flatnonzero(skel.any(axis=1))
        scale *= height_px / max(1, rows[-1] - rows[0] + 1) if rows.size else 1.0
    alpha = paint(skel, brush_px / 2)  # the same brush that preprocess redraws digits with
    return alpha[ink_box(alpha > 0)]


def compose(alpha: NDArray[np.float32], polarity: str) -> NDArray[np.uint8]:
    """Paint a coverage map onto a canvas of the given polarity; returns (H, W, 4) uint8 RGBA."""
    if polarity not in POLARITIES:
        raise ParamError(f"unknown polarity {polarity!r}; expected one of {', '.join(POLARITIES)}")
    ink, bg = (np.array(c, np.float32) for c in POLARITIES[polarity])
    rgba = bg + alpha[..., None] * (ink - bg)
    if polarity == "transparent":
        rgba[..., :3] = ink[:3]  # the canvas stores the stroke colour, alpha says where
    return np.clip(rgba + 0.5, 0, 255).astype(np.uint8)


def render_drawing(
    mnist_digit: NDArray[np.uint8],
    canvas_hw: tuple[int, int] = (280, 280),
    *,
    height_frac: float = 0.6,
    position: tuple[float, float] = (0.5, 0.5),
    brush_px: float = 18.0,
    polarity: str = "white_on_black",
) -> NDArray[np.uint8]:
    """Draw one MNIST digit on a canvas.

    Parameters
    ----------
    mnist_digit : ndarray of shape (28, 28), dtype uint8, ink 255 on background 0
    canvas_hw : (int, int)
        Canvas height and width.
    height_frac : float
        Digit height (with the brush) as a fraction of the canvas height.
    position : (float, float)
        Where the digit sits in the free space, (x, y) each 0-1: 0 left/top edge, 1 right/bottom.
    brush_px : float
        Brush diameter.
    polarity : str
        A key of :data:`POLARITIES`.

    Returns
    -------
    ndarray of shape (H, W, 4), dtype uint8
        RGBA canvas.
    """
    H, W = canvas_hw
    alpha = stroke_alpha(
        mnist_digit, height_px=max(4, round(height_frac * H - brush_px)), brush_px=brush_px
    )
    h, w = alpha.shape
    if w > W:  # an unusually wide digit on a narrow canvas: shrink it to fit
        alpha = ndi.zoom(alpha, W / w, order=1)[:H, :W]
        h, w = alpha.shape
    canvas = np.zeros((H, W), np.float32)
    y = round(position[1] * (H - h))
    x = round(position[0] * (W - w))
    canvas[y : y + h, x : x + w] = alpha
    return compose(canvas, polarity)


def render_number(
    mnist_digits: Sequence[NDArray[np.uint8]],
    canvas_hw: tuple[int, int] = (280, 700),
    *,
    height_frac: float = 0.6,
    brush_px: float = 18.0,
    polarity: str = "white_on_black",
    rng: np.random.Generator | None = None,
    gap_frac: tuple[float, float] = (0.05, 0.35),
) -> NDArray[np.uint8]:
    """Draw several digits side by side, left to right, as a number written on a wide canvas.

    Each digit's height varies by +-10% and its baseline by +-5% of the canvas; the gap between
    neighbours is drawn from ``gap_frac`` (fraction of the digit height). If the row does not
    fit, the digits are drawn smaller.

    Returns
    -------
    ndarray of shape (H, W, 4), dtype uint8
        RGBA canvas.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    H, W = canvas_hw
    for _ in range(8):
        target = height_frac * H
        alphas = [
            stroke_alpha(
                d,
                height_px=max(4, round(target * rng.uniform(0.9, 1.1) - brush_px)),
                brush_px=brush_px,
            )
            for d in mnist_digits
        ]
        gaps = [round(rng.uniform(*gap_frac) * target) for _ in alphas[1:]]
        total = sum(a.shape[1] for a in alphas) + sum(gaps)
        if total <= W and max(a.shape[0] for a in alphas) <= H:
            break
        height_frac *= 0.85 * W / max(total, W)
    canvas = np.zeros((H, W), np.float32)
    x = round(rng.uniform(0, max(0, W - total)))
    row_h = max(a.shape[0] for a in alphas)
    y_base = rng.uniform(0, max(0, H - row_h))
    for a, gap in zip(alphas, [*gaps, 0], strict=True):
        h, w = a.shape
        y = int(np.clip(round(y_base + (row_h - h) / 2 + rng.uniform(-0.05, 0.05) * H), 0, H - h))
        w = min(w, W - x)
        if w > 0:
            canvas[y : y + h, x : x + w] = np.maximum(canvas[y : y + h, x : x + w], a[:, :w])
        x += w + gap
    return compose(canvas, polarity)


def render_blank(
    canvas_hw: tuple[int, int] = (280, 280),
    kind: str = "empty",
    *,
    polarity: str = "white_on_black",
    rng: np.random.Generator | None = None,
) -> NDArray[np.uint8]:
    """A canvas with no digit: ``"empty"``, ``"dots"`` (1-4 brush clicks), ``"specks"``
    (scattered 1-3 px noise) or ``"tick"`` (one short stroke under 10% of the height).

    Returns
    -------
    ndarray of shape (H, W, 4), dtype uint8
        RGBA canvas.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    H, W = canvas_hw
    canvas = np.zeros((H, W), np.float32)
    yy, xx = np.mgrid[:H, :W]
    if kind == "dots":
        for _ in range(rng.integers(1, 5)):
            r = rng.uniform(1.5, 0.06 * H)
            cy, cx = rng.uniform(r, H - r), rng.uniform(r, W - r)
            canvas = np.maximum(canvas, np.clip(r + 0.5 - np.hypot(yy - cy, xx - cx), 0, 1))
    elif kind == "specks":
        n = rng.integers(5, 60)
        canvas[rng.integers(0, H, n), rng.integers(0, W, n)] = 1.0
        canvas = np.maximum(
            canvas, ndi.grey_dilation(canvas, size=(2, 2)) * (rng.random((H, W)) < 0.5)
        )
    elif kind == "tick":
        r = rng.uniform(1.5, 0.02 * H)
        length = rng.uniform(0.01, 0.08) * H
        cy, cx = rng.uniform(0.1 * H, 0.9 * H), rng.uniform(0.1 * W, 0.9 * W)
        angle = rng.uniform(0, np.pi)
        t = np.clip(((xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)) / length, 0, 1)
        d = np.hypot(xx - cx - t * length * np.cos(angle), yy - cy - t * length * np.sin(angle))
        canvas = np.clip(r + 0.5 - d, 0, 1)
    elif kind != "empty":
        raise ParamError(f"unknown blank kind {kind!r}; expected empty, dots, specks or tick")
    return compose(canvas.astype(np.float32), polarity)


def _draw_params(rng: np.random.Generator, H: int) -> dict:
    """Random canvas-drawing parameters: height 40-80%, brush thin to thick, any polarity."""
    return {
        "height_frac": rng.uniform(0.4, 0.8),
        "brush_px": rng.uniform(0.02, 0.1) * H,
        "polarity": str(rng.choice(list(POLARITIES))),
    }


def drawn_digits(
    images: NDArray[np.uint8],
    labels: NDArray,
    *,
    seed: int = 0,
    canvas_hw: tuple[int, int] = (280, 280),
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """One canvas per MNIST digit, at random size (40-80% of the height), position, brush
    width (2-10% of the height) and polarity.

    Returns
    -------
    canvases : ndarray of shape (n, H, W, 4), dtype uint8
    labels : ndarray of shape (n,), dtype uint8
    """
    out = np.empty((len(images), *canvas_hw, 4), np.uint8)
    for i, img in enumerate(images):
        rng = np.random.default_rng([seed, i])
        p = _draw_params(rng, canvas_hw[0])
        out[i] = render_drawing(img, canvas_hw, position=tuple(rng.uniform(0, 1, 2)), **p)
    return out, np.asarray(labels, np.uint8).copy()


def drawn_numbers(
    images: NDArray[np.uint8],
    labels: NDArray,
    *,
    n: int,
    digits: int = 3,
    seed: int = 0,
    canvas_hw: tuple[int, int] = (280, 700),
    gap_frac: tuple[float, float] = (0.05, 0.35),
) -> tuple[NDArray[np.uint8], list[str]]:
    """``n`` numbers of ``digits`` random MNIST digits drawn side by side.

    Returns
    -------
    canvases : ndarray of shape (n, H, W, 4), dtype uint8
    labels : list of str
        The number each canvas shows, e.g. ``"305"``.
    """
    out = np.empty((n, *canvas_hw, 4), np.uint8)
    texts = []
    for i in range(n):
        rng = np.random.default_rng([seed, 1_000_000 + i])
        idx = rng.choice(len(images), digits, replace=False)
        p = _draw_params(rng, canvas_hw[0])
        p["height_frac"] = rng.uniform(0.4, 0.7)
        out[i] = render_number([images[j] for j in idx], canvas_hw, rng=rng, gap_frac=gap_frac, **p)
        texts.append("".join(str(int(labels[j])) for j in idx))
    return out, texts


def blank_canvases(
    n: int, *, seed: int = 0, canvas_hw: tuple[int, int] = (280, 280)
) -> NDArray[np.uint8]:
    """``n`` canvases without a digit, cycling through the kinds of :func:`render_blank`.

    Returns
    -------
    ndarray of shape (n, H, W, 4), dtype uint8
    """
    kinds = ("empty", "dots", "specks", "tick")
    out = np.empty((n, *canvas_hw, 4), np.uint8)
    for i in range(n):
        rng = np.random.default_rng([seed, 2_000_000 + i])
        polarity = str(rng.choice(list(POLARITIES)))
        out[i] = render_blank(canvas_hw, kinds[i % 4], polarity=polarity, rng=rng)
    return out
