"""Canvas strokes to digits: group the pen's strokes into digits, draw each group alone.

The canvas knows what the pixels forget: which ink was one stroke. Digits that touch in pixels
are nearly always separate strokes, and the strokes of one digit (the two of a 4, a 5's bar)
lie over one another. So digits are found from the strokes themselves:

1. :func:`from_canvas` reads streamlit-drawable-canvas's ``json_data`` (fabric.js objects; a
   freedraw stroke is a ``path`` whose commands ``["M", x, y]``, ``["Q", x1, y1, x, y]``,
   ``["L", x, y]`` are in canvas pixels, as captured from a real canvas in Chromium) into
   polylines.
2. :func:`group` walks the strokes in the order they were drawn: a stroke joins a group when
   the middle of one lies within the core (:data:`CORE`) of the other's x-extent (a 4's
   upright in its angle, a 5's bar over its body); otherwise it starts a new digit. A
   neighbour that touches or overlaps a little has its middle outside. One more case joins:
   an upright stroke whose middle lies within the last digit's x-extent, crossed by that
   digit's ink in its middle, which goes on past it on both sides and does not run alongside
   it (:func:`crossed`): a 4 whose upright crosses its bar near the bar's end. A 1 written
   into a 0's or 7's side is not crossed so.
3. The blank rules of :mod:`digitcore.segmentation` apply to the groups: a group under
   :data:`~digitcore.segmentation.MIN_HEIGHT` of the canvas, or under
   :data:`~digitcore.segmentation.RELATIVE` of the tallest digit, is a piece (a dot, a bar drawn
   apart) and joins the nearest digit within :data:`~digitcore.segmentation.ATTACH` of its height,
   else is dropped.
4. :func:`segment` draws each digit's strokes alone, at the canvas's brush width, and brings
   them to MNIST form (:func:`digitcore.preprocess.to_mnist`); a group still much wider than
   tall (one stroke writing two digits) is cut as the pixel path cuts it (by recognition).
   A digit written so small that the brush is over :data:`BOLD` of its height would be a blob
   with its loops filled: it is drawn for reading with the brush MNIST's pens have for its
   size (:data:`~digitcore.preprocess.STROKE` of its height) instead; its box is the ink's on
   the canvas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from digitcore import preprocess, segmentation
from digitcore.cuts import Scorer
from digitcore.errors import ImageError
from digitcore.segmentation import Digit

#: a stroke's middle this far inside another's x-extent joins it (at 0.12 a thin 1 joined the
#: 7 it touched)
CORE = 0.2
#: A stroke at most UPRIGHT times as wide as it is tall is upright (a 4's, a 1); the last
#: digit's ink crosses it when it has ink on both sides of it (REACH of its height away) at
#: heights in BAND of it, and its ink over the stroke spans at most ALONGSIDE of its height.
UPRIGHT, REACH, BAND, ALONGSIDE = 0.35, 0.04, (0.25, 0.8), 0.35
#: A digit whose strokes are less than 1 / BOLD brush widths tall is drawn thinner to be read.
BOLD = 0.25
MAX_STROKES = 2000  #: more strokes than this is not a number written by hand
MAX_POINTS = 100_000  #: ...nor more points in all
CURVE_STEPS = 4  #: points sampled on each quadratic segment of a path
MAX_COORDINATE = 100_000.0  #: a point farther out than this is a broken client's


@dataclass(frozen=True)
class Drawing:
    """A canvas drawing as :func:`digitcore.recognize.recognize` takes it: pixels and strokes.

    Attributes
    ----------
    pixels : ndarray of shape (H, W, 4), dtype uint8
        The canvas's RGBA image (its size sets the blank rules' scale).
    objects : dict or None
        The canvas's ``json_data`` (fabric.js objects), read by :func:`from_canvas`.
    brush : float
        The canvas's brush width in pixels.
    """

    pixels: NDArray[np.uint8]
    objects: dict[str, Any] | None
    brush: float = 18.0


def from_canvas(json_data: Any) -> list[NDArray[np.float64]]:
    """The freedraw strokes of a canvas's ``json_data``, in the order they were drawn.

    Parameters
    ----------
    json_data : dict or None
        streamlit-drawable-canvas's ``json_data``: ``{"objects": [...]}``, fabric.js objects;
        objects other than paths (and paths without points) are skipped.

    Returns
    -------
    list of ndarray of shape (k, 2), dtype float64
        Each stroke's points ``(x, y)`` in canvas pixels.

    Raises
    ------
    digitcore.errors.ImageError
        When the data is not a canvas drawing, a point is not a finite number, or there are
        more than :data:`MAX_STROKES` strokes or :data:`MAX_POINTS` points.
    """
    if json_data is None:
        return []
    objects = json_data.get("objects") if isinstance(json_data, dict) else None
    if not isinstance(objects, list):
        raise ImageError(
            f"expected the canvas's drawing as a dict with a list of 'objects'; got "
            f"{type(json_data).__name__}"
        )
    paths = [o["path"] for o in objects if isinstance(o, dict) and isinstance(o.get("path"), list)]
    if len(paths) > MAX_STROKES:
        raise ImageError(f"expected at most {MAX_STROKES:,} strokes; got {len(paths):,}")
    strokes, total = [], 0
    for path in paths:
        points = _path_points(path)
        total += len(points)
        if total > MAX_POINTS:
            raise ImageError(f"expected at most {MAX_POINTS:,} points in all; got more")
        if len(points):
            strokes.append(points)
    return strokes


def _path_points(path: list) -> NDArray[np.float64]:
    """Points along one fabric.js path: its ends, and points sampled on each quadratic curve."""
    out: list[tuple[float, float]] = []
    for command in path:
        if not isinstance(command, (list, tuple)) or not command:
            raise ImageError(f"expected path commands like ['L', x, y]; got {command!r}")
        try:
            numbers = [float(v) for v in command[1:]]
        except (TypeError, ValueError):
            raise ImageError(f"expected numbers in the path command {command!r}") from None
        if not all(np.isfinite(numbers)) or any(abs(v) > MAX_COORDINATE for v in numbers):
            raise ImageError(f"expected finite canvas coordinates; got {command!r}")
        if command[0] == "Q" and len(numbers) == 4 and out:
            (x0, y0), (cx, cy), (x1, y1) = out[-1], numbers[:2], numbers[2:]
            for t in np.linspace(0, 1, CURVE_STEPS + 1)[1:]:
                u = 1 - t
                out.append(
                    (
                        u * u * x0 + 2 * u * t * cx + t * t * x1,
                        u * u * y0 + 2 * u * t * cy + t * t * y1,
                    )
                )
        elif len(numbers) >= 2:
            out.append((numbers[-2], numbers[-1]))
    return np.asarray(out, np.float64).reshape(-1, 2)


def group(strokes: list[NDArray[np.float64]]) -> list[list[int]]:
    """Strokes grouped into digits, in drawing order (see the module docstring, step 2).

    Parameters
    ----------
    strokes : list of ndarray of shape (k, 2)

    Returns
    -------
    list of list of int
        The indices of each group's strokes.
    """
    groups: list[dict[str, Any]] = []
    for i, points in enumerate(strokes):
        x0, x1, middle = float(points[:, 0].min()), float(points[:, 0].max()), _middle(points)
        home = None
        for g in reversed(groups):  # the digit being written first, then earlier ones
            if _inside(middle, g["x0"], g["x1"]) or _inside(g["middle"], x0, x1):
                home = g
                break
        if home is None and groups:
            last = groups[-1]
            if last["x0"] <= middle <= last["x1"] and crossed(points, strokes, last["ids"]):
                home = last
        if home is None:
            groups.append({"ids": [i], "x0": x0, "x1": x1, "middle": middle})
        else:
            home["ids"].append(i)
            home["x0"], home["x1"] = min(home["x0"], x0), max(home["x1"], x1)
            home["middle"] = (home["x0"] + home["x1"]) / 2
    return [g["ids"] for g in groups]


def crossed(
    points: NDArray[np.float64], strokes: list[NDArray[np.float64]], ids: list[int]
) -> bool:
    """Whether an upright stroke is crossed in its middle by the ink of strokes ``ids``: as a
    4's bar crosses its upright, not as a 0's side runs beside a 1 (see :data:`UPRIGHT`).

    Parameters
    ----------
    points : ndarray of shape (k, 2)
        The stroke, canvas ``(x, y)`` points.
    strokes : list of ndarray of shape (k, 2)
        All strokes; ``ids`` picks the digit's.
    ids : list of int
    """
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    tall = y1 - y0
    if tall <= 0 or x1 - x0 > UPRIGHT * tall:
        return False
    ink = np.concatenate([strokes[i] for i in ids])
    x, y = ink[:, 0], ink[:, 1]
    reach = REACH * tall
    middle = (y >= y0 + BAND[0] * tall) & (y <= y0 + BAND[1] * tall)
    if not ((middle & (x < x0 - reach)).any() and (middle & (x > x1 + reach)).any()):
        return False
    over = (x >= x0 - reach) & (x <= x1 + reach) & (y >= y0) & (y <= y1)
    return bool(over.any()) and float(np.ptp(y[over])) <= ALONGSIDE * tall


def _middle(points: NDArray[np.float64]) -> float:
    """The middle of a stroke's x-extent."""
    return float(points[:, 0].min() + points[:, 0].max()) / 2


def _inside(x: float, x0: float, x1: float) -> bool:
    margin = CORE * (x1 - x0)
    return x0 + margin <= x <= x1 - margin


def segment(
    strokes: list[NDArray[np.float64]],
    *,
    canvas_hw: tuple[int, int],
    brush: float,
    score: Scorer | None = None,
) -> list[Digit]:
    """The digits written by the strokes, left to right, each in MNIST form.

    Parameters
    ----------
    strokes : list of ndarray of shape (k, 2)
        From :func:`from_canvas`, in the order drawn.
    canvas_hw : (int, int)
        The canvas's height and width in pixels (the blank rules are relative to its height).
    brush : float
        The canvas's brush width in pixels.
    score : callable, optional
        Passed on to split a group that is still too wide for one digit by recognition.

    Returns
    -------
    list of Digit
        Left to right, ``box`` in canvas pixels; ``[]`` when no group is digit-sized.
    """
    height = float(canvas_hw[0])
    if height <= 0 or not brush > 0:
        raise ImageError(f"expected a canvas height and brush above 0; got {canvas_hw}, {brush}")
    radius = brush / 2
    # A broken client's points far off the canvas would make a huge drawing: keep them near it.
    lo, hi = -brush, np.array([canvas_hw[1], canvas_hw[0]], float) + brush
    strokes = [np.clip(s, lo, hi) for s in strokes]
    found, pieces = [], []
    for ids in group(strokes):
        points = np.concatenate([strokes[i] for i in ids])
        box = [*(points.min(axis=0) - radius), *(points.max(axis=0) + radius), ids]
        tall = box[3] - box[1] >= segmentation.MIN_HEIGHT * height
        (found if tall else pieces).append(box)
    tallest = max((b[3] - b[1] for b in found), default=0.0)
    pieces += [b for b in found if b[3] - b[1] < segmentation.RELATIVE * tallest]
    found = [b for b in found if b[3] - b[1] >= segmentation.RELATIVE * tallest]
    for x0, y0, x1, y1, ids in pieces if found else []:  # a bar drawn apart, a dot
        gaps = [max(b[0] - x1, x0 - b[2]) for b in found]
        b = found[int(np.argmin(gaps))]
        if min(gaps) <= segmentation.ATTACH * (b[3] - b[1]):
            b[:] = [min(b[0], x0), min(b[1], y0), max(b[2], x1), max(b[3], y1), b[4] + ids]
    # One batch for all groups: the models' per-call cost, paid once per group, was most of
    # reading a drawing.
    lines = [
        [strokes[i] for i in ids] for *_, ids in sorted(found, key=lambda b: (b[0] + b[2]) / 2)
    ]
    brushes = [reading_brush(group, brush) for group in lines]
    groups = [render(group, brush=width) for group, width in zip(lines, brushes, strict=True)]
    # A digit drawn thinner to be read is boxed as its ink on the canvas.
    margins = [(brush - width) / 2 for width in brushes]
    return segmentation.cut(groups, score=score, margins=margins)


def reading_brush(strokes: list[NDArray[np.float64]], brush: float) -> float:
    """The brush to draw one digit's strokes with for reading: the canvas's, unless that is over
    :data:`BOLD` of the strokes' height; then :data:`~digitcore.preprocess.STROKE` of it.

    Measured with ``benchmarks/drawn.py --phones``: 10-digit numbers with digits 60 px tall on
    the 18 px brush read 47 -> 58 of 60 (50 px: 7 -> 57), taller ones as before.
    """
    points = np.concatenate(strokes)
    tall = float(np.ptp(points[:, 1]))
    return max(1.0, preprocess.STROKE * tall) if brush > BOLD * tall else brush


def render(
    strokes: list[NDArray[np.float64]], *, brush: float
) -> tuple[NDArray[np.uint8], tuple[int, int]]:
    """Strokes drawn alone with a round brush, as the canvas draws them, cropped to their ink.

    Returns
    -------
    crop : ndarray of shape (h, w), dtype uint8, ink 255 on background 0
    origin : (int, int)
        Canvas ``(x, y)`` of the crop's top-left pixel.
    """
    points = np.concatenate(strokes)
    pad = int(np.ceil(brush / 2)) + 2
    left, top = np.floor(points.min(axis=0)).astype(int) - pad
    right, bottom = np.ceil(points.max(axis=0)).astype(int) + pad
    image = Image.new("L", (int(right - left) + 1, int(bottom - top) + 1), 0)
    pen = ImageDraw.Draw(image)
    width, radius = max(1, round(brush)), brush / 2
    for stroke in strokes:
        xy = [(float(x - left), float(y - top)) for x, y in stroke]
        if len(xy) > 1:
            pen.line(xy, fill=255, width=width)
        # Round joins and caps (and a click's dot), as the canvas draws them: a disc at every
        # point. Pillow's own round joins (joint="curve") took 3.5x as long, a sixth of
        # reading a drawing, and differ from these in 1% of pixels, at the edges.
        for x, y in xy:
            pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(image), (int(left), int(top))
