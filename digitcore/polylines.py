"""Strokes as polylines, from the canvas or traced from ink: which are one digit, and drawing them.

A stroke is an array of shape ``(k, 2)`` of ``(x, y)`` points. The canvas gives them
(:func:`digitcore.strokes.from_canvas`); for an image they are traced from its ink
(:mod:`digitcore.tracing`). Either way, :func:`group` finds the digits:

It walks the strokes in the order they were drawn: a stroke joins a group when the middle of
one lies within the core (:data:`CORE`) of the other's x-extent (a 4's upright in its angle, a
5's bar over its body); otherwise it starts a new digit. A neighbour that touches or overlaps a
little has its middle outside. One more case joins: an upright stroke whose middle lies within
the last digit's x-extent, crossed by that digit's ink in its middle, which goes on past it on
both sides and does not run alongside it (:func:`crossed`): a 4 whose upright crosses its bar
near the bar's end. A 1 written into a 0's or 7's side is not crossed so.

A group that is a sign is no digit (:func:`signs`): a plus (+44 20 ...), or one of two
parentheses round digits ((555) 123-4567).

:func:`draw` paints strokes with a round brush, as the canvas does.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

#: a stroke's middle this far inside another's x-extent joins it (at 0.12 a thin 1 joined the
#: 7 it touched)
CORE = 0.2
#: A stroke at most UPRIGHT times as wide as it is tall is upright (a 4's, a 1); the last
#: digit's ink crosses it when it has ink on both sides of it (REACH of its height away) at
#: heights in BAND of it, and its ink over the stroke spans at most ALONGSIDE of its height.
UPRIGHT, REACH, BAND, ALONGSIDE = 0.35, 0.04, (0.25, 0.8), 0.35
#: A plus sign's strokes stray at most STRAIGHT of their length from straight, lie within
#: PLUS_TILT degrees of across and of upright, and cross within the middle PLUS_MIDDLE of both.
STRAIGHT, PLUS_TILT, PLUS_MIDDLE = 0.12, 25.0, 0.6
#: A parenthesis is one stroke whose ends lie within PAREN_TILT degrees of upright, bowed to one
#: side by BOW of its height (a 1 drawn with a swing of the thumb bows less), round its middle
#: (the bow's centre within MIDDLE of its height); at most ASTRAY of its points lie past its
#: chord on the other side (by a quarter of the bow).
PAREN_TILT, BOW, MIDDLE, ASTRAY = 25.0, (0.08, 0.3), (0.25, 0.75), 0.1


def group(strokes: list[NDArray[np.float64]]) -> list[list[int]]:
    """Strokes grouped into digits, in drawing order (see the module docstring).

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
        x0, x1, centre = float(points[:, 0].min()), float(points[:, 0].max()), middle(points)
        home = None
        for g in reversed(groups):  # the digit being written first, then earlier ones
            if _inside(centre, g["x0"], g["x1"]) or _inside(g["middle"], x0, x1):
                home = g
                break
        if home is None and groups:
            last = groups[-1]
            if last["x0"] <= centre <= last["x1"] and crossed(points, strokes, last["ids"]):
                home = last
        if home is None:
            groups.append({"ids": [i], "x0": x0, "x1": x1, "middle": centre})
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


def is_plus(strokes: list[NDArray[np.float64]]) -> bool:
    """Whether strokes are a plus sign (+44 20 ...): two straight strokes, one across and one
    upright (within :data:`PLUS_TILT` degrees), crossing within the middle :data:`PLUS_MIDDLE`
    of both. A 4's strokes turn a corner, or cross near the bar's end; a 7's bar meets its
    stem at the end.

    Parameters
    ----------
    strokes : list of ndarray of shape (k, 2)
        One group's strokes, ``(x, y)`` points.
    """
    if len(strokes) != 2 or any(len(s) < 2 for s in strokes):
        return False
    chords = []
    for points in strokes:
        start, end = points[0], points[-1]
        chord = end - start
        length = float(np.hypot(*chord))
        if length == 0:
            return False
        # How far the stroke strays from its chord, across it.
        off = np.abs(_cross(chord, points - start)) / length
        if off.max() > STRAIGHT * length:
            return False
        chords.append((start, chord))
    tilt = [abs(float(np.degrees(np.arctan2(abs(c[1]), abs(c[0]))))) for _, c in chords]
    if sorted(tilt)[0] > PLUS_TILT or sorted(tilt)[1] < 90 - PLUS_TILT:
        return False
    (p, r), (q, u) = chords
    denominator = float(_cross(r, u))
    if denominator == 0:
        return False
    t, v = float(_cross(q - p, u)) / denominator, float(_cross(q - p, r)) / denominator
    low, high = (1 - PLUS_MIDDLE) / 2, (1 + PLUS_MIDDLE) / 2
    return low <= t <= high and low <= v <= high


def signs(groups: list[list[NDArray[np.float64]]]) -> set[int]:
    """Which groups of strokes are signs, no digits: a plus sign (:func:`is_plus`, as in
    +44 20 ...), and parentheses round digits, as in (555) 123-4567: a group of one stroke bowed
    left (:func:`bow`) and, right of it with a group between, one bowed right. Only pairs count:
    a 1 may bow a little, two facing each other round digits are no 1s.

    Parameters
    ----------
    groups : list of list of ndarray of shape (k, 2)
        Each group's strokes, ``(x, y)`` points (a digit's, as :func:`group` finds them).

    Returns
    -------
    set of int
        The indices in ``groups`` of the signs found.
    """
    found = {k for k, strokes in enumerate(groups) if is_plus(strokes)}
    bows = [bow(strokes[0]) if len(strokes) == 1 else 0.0 for strokes in groups]
    order = sorted(range(len(groups)), key=lambda k: middle(np.concatenate(groups[k])))
    opened = None  # the place in ``order`` of a "(" waiting for its ")"
    for place, k in enumerate(order):
        if bows[k] < 0:
            opened = place
        elif bows[k] > 0 and opened is not None and place - opened >= 2:
            found |= {order[opened], k}
            opened = None
    return found


def bow(points: NDArray[np.float64]) -> float:
    """How far a stroke bows from the line between its ends, across, as a fraction of its
    height: negative bowed left, as "(", positive right, as ")"; 0 unless it is upright and
    bowed like a parenthesis (see :data:`BOW`)."""
    if len(points) < 3:
        return 0.0
    top, bottom = sorted((points[0], points[-1]), key=lambda p: p[1])
    tall = float(bottom[1] - top[1])
    if tall <= 0 or abs(bottom[0] - top[0]) > np.tan(np.radians(PAREN_TILT)) * tall:
        return 0.0
    across = points[:, 0] - (top[0] + (points[:, 1] - top[1]) * (bottom[0] - top[0]) / tall)
    peak = int(np.argmax(np.abs(across)))
    depth = float(across[peak]) / tall
    # Where it bows: the middle of the bow, weighted by how far (a shallow arc is flat at its
    # peak, so where the farthest point lies is chance).
    weight = np.abs(across)
    at = float(weight @ (points[:, 1] - top[1])) / max(float(weight.sum()), 1e-9) / tall
    # A wobble is not a bow: only points past the chord by a quarter of the bow count.
    astray = float(np.mean(across * np.sign(depth) < -0.25 * abs(depth) * tall))
    if not (BOW[0] <= abs(depth) <= BOW[1] and MIDDLE[0] <= at <= MIDDLE[1] and astray <= ASTRAY):
        return 0.0
    return depth


def _cross(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """The z of 2-D vectors' cross product (numpy's own is deprecated for 2-D vectors)."""
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def middle(points: NDArray[np.float64]) -> float:
    """The middle of a stroke's x-extent."""
    return float(points[:, 0].min() + points[:, 0].max()) / 2


def _inside(x: float, x0: float, x1: float) -> bool:
    margin = CORE * (x1 - x0)
    return x0 + margin <= x <= x1 - margin


def draw(
    strokes: list[NDArray[np.float64]],
    shape: tuple[int, int],
    *,
    brush: float,
    origin: tuple[float, float] = (0.0, 0.0),
) -> NDArray[np.uint8]:
    """Strokes painted with a round brush, as the canvas paints them.

    Parameters
    ----------
    strokes : list of ndarray of shape (k, 2)
        ``(x, y)`` points.
    shape : (int, int)
        The image's height and width.
    brush : float
        The brush's width in pixels.
    origin : (float, float)
        The ``(x, y)`` of the image's top-left pixel in the strokes' coordinates.

    Returns
    -------
    ndarray of shape ``shape``, dtype uint8
        Ink 255 on background 0.
    """
    image = Image.new("L", (int(shape[1]), int(shape[0])), 0)
    pen = ImageDraw.Draw(image)
    width, radius = max(1, round(brush)), brush / 2
    left, top = origin
    for stroke in strokes:
        xy = [(float(x - left), float(y - top)) for x, y in stroke]
        if len(xy) > 1:
            pen.line(xy, fill=255, width=width)
        # Round joins and caps (and a click's dot), as the canvas draws them: a disc at every
        # point. Pillow's own round joins (joint="curve") took 3.5x as long, a sixth of
        # reading a drawing, and differ from these in 1% of pixels, at the edges.
        for x, y in xy:
            pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(image)


def at_corners(
    lines: list[NDArray[np.float64]], reach: float, corner: float
) -> list[NDArray[np.float64]]:
    """The lines, each cut where it turns sharply: a 1 whose top runs into the 5's bar is one
    skeleton line with it, and the 1 is its straight part.

    Parameters
    ----------
    lines : list of ndarray of shape (k, 2)
        ``(x, y)`` points.
    reach : float
        The turn at a point is measured between the line's direction over this length (px)
        before it and after it; within ``reach`` of a line's ends, no turn is measured.
    corner : float
        A turn of more than this many degrees is a corner.

    Returns
    -------
    list of ndarray
        The lines' parts between corners, in order (neighbouring parts share the corner's
        point); a line without a corner as it was.
    """
    out = []
    for line in lines:
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(line, axis=0).T))])
        back = np.searchsorted(along, along - reach)
        ahead = np.minimum(np.searchsorted(along, along + reach), len(line) - 1)
        # Only where a full reach lies on both sides (70% of it, on a coarse line).
        inside = (along - along[back] >= 0.7 * reach) & (along[ahead] - along >= 0.7 * reach)
        u, v = line - line[back], line[ahead] - line
        cos = np.einsum("ij,ij->i", u, v) / np.maximum(np.hypot(*u.T) * np.hypot(*v.T), 1e-9)
        turns = np.flatnonzero(inside & (cos < np.cos(np.radians(corner))))
        chosen: list[int] = []
        for k in turns[np.argsort(cos[turns], kind="stable")]:  # sharpest first
            if all(abs(k - c) > 3 for c in chosen):
                chosen.append(int(k))
        ends = [0, *sorted(chosen), len(line) - 1]
        out += [line[a : b + 1] for a, b in itertools.pairwise(ends) if b > a] or [line]
    return out
