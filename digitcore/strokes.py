"""Canvas strokes to digits: group the pen's strokes into digits, draw each group alone.

The canvas knows what the pixels forget: which ink was one stroke. Digits that touch in pixels
are nearly always separate strokes, and the strokes of one digit (the two of a 4, a 5's bar)
lie over one another. So digits are found from the strokes themselves:

1. :func:`from_canvas` reads streamlit-drawable-canvas's ``json_data`` (fabric.js objects; a
   freedraw stroke is a ``path`` whose commands ``["M", x, y]``, ``["Q", x1, y1, x, y]``,
   ``["L", x, y]`` are in canvas pixels, as captured from a real canvas in Chromium) into
   polylines.
2. :func:`digitcore.polylines.group` groups them into digits: a stroke joins a digit when the
   middle of one lies within the core of the other's x-extent (a 4's upright in its angle, a
   5's bar over its body); a neighbour that touches or overlaps a little has its middle outside.
3. The blank rules of :mod:`digitcore.segmentation` apply to the groups: a group under
   :data:`~digitcore.segmentation.MIN_HEIGHT` of the canvas, or under
   :data:`~digitcore.segmentation.RELATIVE` of the tallest digit, is a piece (a dot, a bar drawn
   apart) and joins the nearest digit within :data:`~digitcore.segmentation.ATTACH` of its height,
   else is dropped; so is a dash or a dot written between digits
   (:func:`digitcore.segmentation.separates`), and a sign (:func:`digitcore.polylines.signs`:
   a plus, parentheses round digits).
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

from digitcore import polylines, preprocess, segmentation
from digitcore.cuts import Scorer
from digitcore.errors import ImageError
from digitcore.segmentation import Digit

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
    groups = polylines.group(strokes)
    signs = polylines.signs([[strokes[i] for i in ids] for ids in groups])
    for k, ids in enumerate(groups):
        if k in signs:
            continue  # (555) 123-4567, +44 20 ...: a sign, no digit
        points = np.concatenate([strokes[i] for i in ids])
        box = [*(points.min(axis=0) - radius), *(points.max(axis=0) + radius), ids]
        tall = box[3] - box[1] >= segmentation.MIN_HEIGHT * height
        (found if tall else pieces).append(box)
    tallest = max((b[3] - b[1] for b in found), default=0.0)
    pieces += [b for b in found if b[3] - b[1] < segmentation.RELATIVE * tallest]
    found = [b for b in found if b[3] - b[1] >= segmentation.RELATIVE * tallest]
    # A bar drawn apart joins its digit; a dash or a dot between digits does not.
    segmentation.attach(found, pieces, inset=radius)
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
    shape = (int(bottom - top) + 1, int(right - left) + 1)
    image = polylines.draw(strokes, shape, brush=brush, origin=(float(left), float(top)))
    return image, (int(left), int(top))
