"""A 1 written against the side of the digit beside it: found by its stroke, parted by the models.

Written fast, a 1 often lies on its neighbour's side: on the 0's left side in 10, over the
8's bulges in 18, on the 5's upright in 15. The pixels then hold one digit-sized group, which
the models read whole as the neighbour (an 8 with a heavy left side is still an 8 to them, and
the merge detector of :mod:`digitcore.merges` says "one digit"). No cut through columns parts
it: the 1's ink is the neighbour's side. And a 1 alone pays a digit's price, as every digit
does, so :mod:`digitcore.cuts` keeps the group whole.

The stroke tells what the models cannot: a 1 is one straight, nearly upright line about as tall
as the number, and the digit beside it reads better without it. :func:`apart` looks at each
digit found (a group read whole, or a digit :mod:`digitcore.cuts` cut out):

1. **Lines**: the digit's skeleton, cut into its lines between forks
   (:func:`digitcore.tracing.trace`) and where a line turns sharply
   (:func:`digitcore.polylines.at_corners`: a 1 whose top runs into the 5's bar is one line
   with the bar).
2. **A 1's stroke**: lines that make one straight line together (every point within
   :data:`BAND` stroke widths of the line fitted to one of them, itself straight to within
   :data:`STRAIGHT`; all of them to within :data:`BENT` stroke widths and :data:`LEVEL` of
   the height: a thick pen's 8 side is straight to within half a stroke width), leaning at
   most :data:`LEAN`, at least :data:`TALL` of the number's height, with the rest of the
   digit's lines on one side of it (at most :data:`EDGE` of their points on the other). Lines
   wholly on its outer side are its flag or foot. It is no 1 when the rest touches it only in
   its middle (:data:`END`: a 4's upright, which its bar meets), or when it lies on the ink of
   the digit cut out beside it (:data:`SHARED`: that digit's side, as in a 5's bowl against
   an 8). Step 1 runs only on ink with a band that tall (:func:`_has_upright`, quicker).
3. **The models decide**: the 1 (its straight line and flag, redrawn) and the rest (the other
   lines, redrawn; and again with the part of the 1's line between where the rest first and
   last touches it, the side the 1 was written on) are scored with the digit whole, every
   digit of the group in one batch. The digit is parted when the 1 scores at least
   :data:`ONE`, the rest at least :data:`REST` and better than the whole by :data:`GAIN`. A 7
   without its stem, or a 9, is too short to be a digit.

The scores are those of :func:`digitcore.recognize.piece_scores`, less the size priors of
:func:`digitcore.cuts.size_prior`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from digitcore import cuts, polylines, preprocess, tracing

#: a 1's stroke is at least this fraction of the number's height (a 7's stem written on from
#: its bar is cut at the corner and shorter; a 4's upright is as tall, but the 4 needs it)
TALL = 0.85
LEAN = 0.35  #: ...leaning at most this many px across per px down (about 19 degrees)
STRAIGHT = 0.5  #: ...the line it is fitted to strays at most this many stroke widths from it
BAND = 1.0  #: ...lines with every point within this many stroke widths of that fit are its
BENT = 0.6  #: ...and strays at most this many stroke widths from the fit to all of them,
#: and at most LEVEL of the height: with a thick pen, an 8's left side strays under 0.6 stroke
#: widths (0.06-0.13 of the height; it was parted as a 1, 852 read as 1252), pen 1s 0.01-0.04
LEVEL = 0.05
EDGE = 0.15  #: at most this fraction of the rest's points lie beyond the 1 (it is at an edge)
TOUCH = 1.5  #: the rest touches the 1 where its lines come this many stroke widths near it
#: ...and touches it within END of its height from its top or bottom, if at all (a digit's
#: side runs on to the 1's top or bottom; a 4's bar meets its upright in the middle)
END = 0.25
#: a 1's stroke at least SHARED on the ink of the digit beside the part is that digit's side
#: (a 5's bowl and the 8 after it share a stroke: what is left of the 8 is a 3)
SHARED = 0.5
#: a corner (:func:`digitcore.polylines.at_corners`) is a turn of more than CORNER degrees
#: over REACH stroke widths on either side
CORNER, REACH = 50.0, 1.5
#: the 1 must score at least ONE, the rest at least REST and GAIN more than the whole
#: (chosen on the development sets, benchmarks/README.md)
ONE, REST, GAIN = 0.0, -2.5, 0.5
#: a group the models read as one digit at least this well is not looked at (the rest would
#: have to read at least GAIN better; it keeps spaced numbers quick). Measured: 80% of the pen
#: digits written apart or touching (seed 21) score more; the six parted digits looked at
#: (218, 410 twice, 916, 915, 151) scored -3.6 to -0.5 whole.
SURE = 0.5


def apart(parts: list[NDArray], score: cuts.Scorer, height: int) -> list[NDArray]:
    """The digits, each one that holds a 1 written against its side parted in two.

    Parameters
    ----------
    parts : list of ndarray of shape (h, w), ink high on background 0 (uint8 0-255)
        The digits of one group of ink, left to right, each the group's shape (as
        :func:`digitcore.cuts.split` gives them).
    score : callable
        As for :func:`digitcore.cuts.split`.
    height : int
        The number's height in pixels.

    Returns
    -------
    list of ndarray
        ``parts``, with each part that holds a 1 beside a digit replaced by the two (left to
        right), each redrawn from its lines with the part's stroke width.
    """
    parts = [np.asarray(part) for part in parts]
    # Every part's ways of parting, all scored in one batch.
    found = []  # per part: (the part's whole form's index in forms, its ways drawn)
    forms: list[NDArray[np.uint8]] = []
    priors: list[float] = []
    for k, part in enumerate(parts):
        beside = [parts[n] for n in (k - 1, k + 1) if 0 <= n < len(parts)]
        drawn = _drawn_ways(part, beside, height)
        found.append((len(forms), drawn))
        if drawn:
            for piece in [part] + [ink for one, rest, _ in drawn for ink in (one, rest)]:
                forms.append(preprocess.to_mnist(piece))
                priors.append(cuts.size_prior(*cuts.ink_span(piece >= cuts.INK), height))
    if not forms:
        return parts
    values = score(np.stack(forms)) - np.asarray(priors)
    out = []
    for part, (at, drawn) in zip(parts, found, strict=True):
        best, kept = -np.inf, [part]
        for k, (one, rest, first) in enumerate(drawn):
            reads = values[at + 1 + 2 * k], values[at + 2 + 2 * k]
            if reads[0] >= ONE and reads[1] >= max(REST, values[at] + GAIN) and reads[1] > best:
                best, kept = reads[1], [one, rest] if first else [rest, one]
        out += kept
    return out


def _drawn_ways(
    part: NDArray, beside: list[NDArray], height: int
) -> list[tuple[NDArray, NDArray, bool]]:
    """Each way of parting a 1 from the digit in ``part`` (steps 1 and 2 of the module doc):
    ``(the 1's ink, the rest's ink, whether the 1 is on the left)``, each redrawn from its
    lines; ``beside``: the ink of the parts either side of it, whose strokes are no 1."""
    mask = part >= cuts.INK
    rows, cols = cuts.ink_span(mask)
    if rows < cuts.SHORT * height or cols < 2 * cuts.MIN_WIDTH * rows:
        return []  # a bar, a tail, or too narrow to hold a 1 and a digit
    if cols > cuts.MAX_GROUP * rows:
        return []  # a line, not a number: tracing it at a digit's height would take long
    if not _has_upright(mask, height):
        return []  # no ink as tall as a 1's stroke along one line: tracing would find none
    lines, width = tracing.trace(part, height, align=np.inf)
    lines = polylines.at_corners(lines, REACH * width, CORNER)
    return [
        (
            polylines.draw(one, part.shape, brush=width),
            polylines.draw(rest, part.shape, brush=width),
            first,
        )
        for members in strokes(lines, width, height)
        for one, rest, first in _ways(lines, members, width, height)
        if not any(_on(one[0], ink) >= SHARED for ink in beside)
    ]


def _has_upright(mask: NDArray[np.bool_], height: float) -> bool:
    """Whether some narrow band of the ink, upright or leaning up to :data:`LEAN`, has ink in
    at least :data:`TALL` of ``height``'s rows: a quick look before tracing, which takes longer."""
    ys, xs = np.nonzero(mask)
    band = 2 * cuts.stroke_width(mask)  # a 1's stroke, give or take a lean between the steps
    for lean in np.linspace(-LEAN, LEAN, 15):
        across = (xs - lean * ys) / band
        for shift in (0.0, 0.5):  # a 1 may straddle two bands
            bins = np.floor(across + shift).astype(np.int64)
            pairs = np.unique((bins - bins.min()) * (ys.max() + 1) + ys)  # (band, row), once
            if np.bincount(pairs // (ys.max() + 1)).max() >= TALL * height:
                return True
    return False


def strokes(lines: list[NDArray[np.float64]], width: float, height: float) -> set[frozenset[int]]:
    """Which lines make one straight, nearly upright stroke at least :data:`TALL` of ``height``
    (step 2 of the module doc), each as the set of their indices."""
    found = set()
    for line in lines:
        if len(line) < 2 or np.ptp(line[:, 1]) < 0.2 * height:
            continue
        b, a = np.polyfit(line[:, 1], line[:, 0], 1)  # x = a + b y: upright lines
        if abs(b) > LEAN or _off(line, a, b) > STRAIGHT * width:
            continue
        members = [j for j, other in enumerate(lines) if _off(other, a, b) <= BAND * width]
        points = np.concatenate([lines[j] for j in members])
        if np.ptp(points[:, 1]) + width < TALL * height:
            continue
        b, a = np.polyfit(points[:, 1], points[:, 0], 1)
        if abs(b) <= LEAN and _off(points, a, b) <= min(BENT * width, LEVEL * height):
            found.add(frozenset(members))
    return found


def _off(points: NDArray[np.float64], a: float, b: float) -> float:
    """How far (in x) the points stray from the line ``x = a + b y`` at most."""
    return float(np.abs(points[:, 0] - (a + b * points[:, 1])).max())


def _ways(
    lines: list[NDArray[np.float64]], members: frozenset[int], width: float, height: float
) -> list[tuple[list[NDArray], list[NDArray], bool]]:
    """The ways of parting a 1 (the lines ``members``) from the rest of a digit: ``(the 1's
    strokes, the rest's strokes, whether the 1 is on the left)``; none when the 1 is not at an
    edge of the digit, the rest is too short to be one, or touches it only in its middle."""
    points = np.concatenate([lines[j] for j in members])
    b, a = np.polyfit(points[:, 1], points[:, 0], 1)
    others = [line for j, line in enumerate(lines) if j not in members]
    if not others:
        return []
    beyond = np.concatenate(others)
    across = beyond[:, 0] - (a + b * beyond[:, 1])
    left, right = np.mean(across < -width), np.mean(across > width)
    if min(left, right) > EDGE:
        return []  # a stroke through the middle of a digit
    first = bool(left < right)  # the rest lies right of the 1
    # The 1 redrawn as the straight line it is, top to bottom.
    ys = np.linspace(points[:, 1].min(), points[:, 1].max(), max(2, int(np.ptp(points[:, 1])) + 1))
    one = np.column_stack([a + b * ys, ys])
    # A flag or a foot: lines wholly on the 1's outer side are the 1's.
    outer = [bool(np.all(_across(line, a, b, first) < 0.5 * width)) for line in others]
    flags = [line for line, out in zip(others, outer, strict=True) if out]
    rest = [line for line, out in zip(others, outer, strict=True) if not out]
    if not rest or np.ptp(np.concatenate(rest)[:, 1]) + width < cuts.SHORT * height:
        return []
    # Where the rest touches the 1: its points near the 1's line, by height.
    beside = np.concatenate(rest)
    close = cKDTree(one).query(beside, distance_upper_bound=TOUCH * width)[0]
    heights = beside[np.isfinite(close), 1]
    top, bottom = one[0, 1] + END * np.ptp(one[:, 1]), one[-1, 1] - END * np.ptp(one[:, 1])
    if heights.size and heights.min() > top and heights.max() < bottom:
        return []  # touched only in its middle: a 4's upright, which its bar meets
    near = cKDTree(beside).query(one, distance_upper_bound=TOUCH * width)[0]
    touch = np.flatnonzero(np.isfinite(near))
    ways = [([one, *flags], rest, first)]
    # The side the 1 was written on: its line between where the rest first and last touches it.
    if touch.size and touch[-1] - touch[0] >= 2:
        ways.append(([one, *flags], [*rest, one[touch[0] : touch[-1] + 1]], first))
    return ways


def _across(line: NDArray[np.float64], a: float, b: float, first: bool) -> NDArray[np.float64]:
    """How far each point lies from the line ``x = a + b y`` towards the rest of the digit
    (right when ``first``, left otherwise)."""
    return (line[:, 0] - (a + b * line[:, 1])) * (1.0 if first else -1.0)


def _on(points: NDArray[np.float64], gray: NDArray) -> float:
    """The fraction of the points that lie on ink (at least :data:`digitcore.cuts.INK`): only
    those pixels are looked at, not the whole image."""
    h, w = gray.shape
    rows = np.clip(np.round(points[:, 1]).astype(np.intp), 0, h - 1)
    cols = np.clip(np.round(points[:, 0]).astype(np.intp), 0, w - 1)
    return float(np.mean(gray[rows, cols] >= cuts.INK))
