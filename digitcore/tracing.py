"""Strokes traced from ink: an image's pen strokes recovered through its skeleton.

An image has no strokes, but written ink still shows them. Where two digits overlap, their
strokes cross; where one digit's stroke touches the next, one line meets another. A stroke
goes straight on through a crossing, and so :func:`trace` recovers strokes as a reader would:

1. The ink is scaled so a digit is :data:`HEIGHT` px tall and thinned to its one-pixel
   skeleton (scikit-image).
2. **Junctions** are skeleton pixels with three or more neighbours; those within :data:`JOIN`
   stroke widths of one another are one junction (two strokes of some width crossing thin to
   two forks close together).
3. **Edges** are the skeleton's lines between junctions and ends. An edge whose free end lies
   within :data:`SPUR` stroke widths of its junction's centre is a spur of thinning and is
   dropped.
4. At each junction, edges continue each other when one leaves it in the direction the other
   came in (the cosine of the turn at least :data:`ALIGN`; an edge's direction is from its point
   :data:`AHEAD` stroke widths in to its end): the straightest pairs first. Chains of edges so joined
   are the strokes, reaching into the junctions they meet.

The strokes are grouped into digits as the canvas's are (:func:`digitcore.polylines.group`);
:mod:`digitcore.cuts` reads an image both ways, cut by columns and grouped by strokes, and
keeps the one the models read better.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage as ndi
from skimage.morphology import skeletonize

from digitcore import preprocess

HEIGHT = 64  #: a digit's height (px) in the copy that is thinned
JOIN = 0.7  #: junction pixels this many stroke widths apart are one junction
SPUR = 1.0  #: an edge whose free end is within this many stroke widths of its junction is dropped
#: two edges continue each other through a junction if the cosine of the turn is at least this
#: (by default: :mod:`digitcore.cuts` also traces with a stricter rule)
ALIGN = 0.85
AHEAD = 1.5  #: an edge's direction is measured over this many stroke widths from its end
PAD = 2  #: blank pixels around the thinned copy

_EIGHT = np.ones((3, 3), bool)


def trace(
    gray: NDArray, height: int | None = None, *, align: float = ALIGN
) -> tuple[list[NDArray[np.float64]], float]:
    """The strokes of a group of ink (see the module docstring).

    Parameters
    ----------
    gray : ndarray of shape (h, w), ink high on background 0 (uint8 0-255)
        One group of ink (digits that touch or overlap).
    height : int, optional
        The digits' height in ``gray``, in pixels; the ink's height when not given.
    align : float
        Two lines at a fork are one stroke when the cosine of the turn is at least this.

    Returns
    -------
    strokes : list of ndarray of shape (k, 2), dtype float64
        Each stroke's ``(x, y)`` points in ``gray``'s pixels, in no particular order; ``[]``
        when there is no ink.
    width : float
        The ink's stroke width in ``gray``'s pixels.
    """
    gray = np.asarray(gray)
    rows = np.flatnonzero((gray >= preprocess.INK).any(axis=1))
    if not rows.size:
        return [], 0.0
    scale = HEIGHT / max(1, height or int(rows[-1] - rows[0] + 1))
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    small = np.asarray(
        Image.fromarray(gray.astype(np.uint8)).resize(size, Image.Resampling.BILINEAR)
    )
    mask = np.pad(small >= preprocess.INK, PAD)
    skeleton = skeletonize(mask)
    if not skeleton.any():
        return [], 0.0
    # The stroke is twice the distance from the skeleton to the ink's edge.
    width = 2.0 * float(np.median(ndi.distance_transform_edt(mask)[skeleton]))
    lines = _strokes(skeleton, width, align)
    return [(line[:, ::-1] - PAD) / scale for line in lines], width / scale


def _strokes(skeleton: NDArray[np.bool_], width: float, align: float) -> list[NDArray[np.float64]]:
    """Steps 2-4 of the module docstring: ``(row, col)`` points of each stroke."""
    neighbours = ndi.convolve(skeleton.astype(np.uint8), _EIGHT.astype(np.uint8), mode="constant")
    forks = skeleton & (neighbours >= 4)  # the pixel itself and three neighbours
    if forks.any():
        zone = ndi.distance_transform_edt(~forks) <= max(1.0, JOIN * width)
    else:
        zone = np.zeros_like(forks)
    zones, count = ndi.label(zone, structure=_EIGHT)
    centres = ndi.center_of_mass(forks, zones, range(1, count + 1)) if count else []
    # A junction's zone grown by a pixel: the edges that touch it.
    touching = ndi.grey_dilation(zones, footprint=_EIGHT)
    lines, _ = ndi.label(skeleton & ~zone, structure=_EIGHT)
    edges = []  # (points in order, junction at each end or -1)
    for label, found in enumerate(ndi.find_objects(lines), start=1):
        if found is None:
            continue
        offset = np.array([found[0].start, found[1].start])
        path = _walk(np.argwhere(lines[found] == label) + offset)
        ends = [int(touching[tuple(path[0])]) - 1, int(touching[tuple(path[-1])]) - 1]
        if -1 in ends and ends != [-1, -1]:
            # Measured from the junction's centre, not from its zone's edge: a 1's foot below
            # the 5's bowl it was written through is short past the zone, but no spur.
            free, junction = (path[-1], ends[0]) if ends[1] == -1 else (path[0], ends[1])
            if np.hypot(*(np.asarray(centres[junction]) - free)) < SPUR * width:
                continue  # a spur of thinning
        edges.append((path, ends))
    pairs = _continuations(edges, width, align)
    done: set[int] = set()
    strokes = []

    def chain(i: int, side: int) -> NDArray[np.float64]:
        """The stroke entering edge ``i`` at its end ``side`` (0 first point, 1 last)."""
        points: list[NDArray] = []
        while i not in done:
            done.add(i)
            path, ends = edges[i]
            path = path if side == 0 else path[::-1]
            if not points and ends[side] >= 0:
                points.append(np.asarray([centres[ends[side]]]))  # reach into the junction
            points.append(path)
            if ends[1 - side] >= 0:
                points.append(np.asarray([centres[ends[1 - side]]]))
            if (i, 1 - side) not in pairs:
                break
            i, side = pairs[(i, 1 - side)]
        return np.concatenate(points).astype(np.float64)

    for i in range(len(edges)):
        for side in (0, 1):
            if i not in done and (i, side) not in pairs:  # a stroke's end
                strokes.append(chain(i, side))
    strokes += [chain(i, 0) for i in range(len(edges)) if i not in done]  # closed loops
    return strokes


def _continuations(
    edges: list[tuple[NDArray[np.intp], list[int]]], width: float, align: float
) -> dict[tuple[int, int], tuple[int, int]]:
    """Which edge end goes on in which at each junction (step 4): ``(edge, side)`` both ways."""
    ahead = max(2, int(AHEAD * width)) + 1
    arriving: dict[int, list[tuple[int, int, NDArray]]] = {}
    for i, (path, ends) in enumerate(edges):
        for side, junction in enumerate(ends):
            if junction < 0:
                continue
            near = path[:ahead] if side == 0 else path[::-1][:ahead]
            direction = (near[0] - near[-1]).astype(np.float64)  # arriving at the junction
            norm = np.hypot(*direction)
            arriving.setdefault(junction, []).append(
                (i, side, direction / norm if norm else direction)
            )
    pairs: dict[tuple[int, int], tuple[int, int]] = {}
    for here in arriving.values():
        # Arriving along d1 and leaving along -d2: straight on when d1 . -d2 is near 1.
        turns = sorted(
            (
                (-float(d1 @ d2), (i1, s1), (i2, s2))
                for k, (i1, s1, d1) in enumerate(here)
                for i2, s2, d2 in here[k + 1 :]
                if i1 != i2
            ),
            reverse=True,
        )
        for cosine, a, b in turns:
            if cosine >= align and a not in pairs and b not in pairs:
                pairs[a], pairs[b] = b, a
    return pairs


def _walk(pixels: NDArray[np.intp]) -> NDArray[np.intp]:
    """The pixels of a one-pixel-wide line in order from one end (any pixel of a loop)."""
    if len(pixels) <= 2:
        return pixels
    index = {(int(r), int(c)): k for k, (r, c) in enumerate(pixels)}
    steps = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc]
    around = [
        [index[(r + dr, c + dc)] for dr, dc in steps if (r + dr, c + dc) in index] for r, c in index
    ]
    start = next((k for k, near in enumerate(around) if len(near) <= 1), 0)
    order, seen = [start], {start}
    while True:
        ahead = [k for k in around[order[-1]] if k not in seen]
        if not ahead:
            break
        # A side step before a diagonal one: at a corner both are neighbours.
        here = pixels[order[-1]]
        step = min(ahead, key=lambda k: int(np.abs(pixels[k] - here).sum()))
        order.append(step)
        seen.add(step)
    return pixels[order]
