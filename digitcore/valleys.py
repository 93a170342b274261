"""Cutting touching digits apart without a model: at the columns of least ink.

A group wide enough to hold two digits is cut where its ink crosses about one stroke: touching
digits join through one stroke, a wide 0, 2 or barred 5 crosses two. With a model,
:mod:`digitcore.cuts` cuts where the models read the pieces best instead.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from digitcore.cuts import INK, stroke_width

SPLIT_STROKES = 1.5  #: a valley cut crosses at most this many stroke widths of ink
PIECE_HEIGHT = 0.6  #: ...and leaves pieces at least this fraction of the group's height
TYPICAL_ASPECT = 0.7  #: typical width / height of one handwritten digit
MAX_DIGITS = 32  #: a group is cut into at most this many digits (a line is not 7,000 of them)


def valley_split(gray: NDArray, *, split_aspect: float) -> list[NDArray]:
    """Split one group of ink at the columns of least ink, without a model.

    A group wider than ``split_aspect`` times its height is taken as
    ``round(width / (TYPICAL_ASPECT * height))`` touching digits and cut at the column of least
    ink near each expected boundary, but only where that column crosses about one stroke (at
    most :data:`SPLIT_STROKES` stroke widths): touching digits join through one stroke, a wide
    0, 2 or barred 5 crosses two. A cut leaving a piece under :data:`PIECE_HEIGHT` of the
    group's height (the long bar of a 5) is undone.

    Parameters
    ----------
    gray : ndarray of shape (h, w), ink high on background 0 (uint8 0-255)
    split_aspect : float
        Groups up to this width / height are one digit.

    Returns
    -------
    list of ndarray of shape (h, w)
        Each digit's ink, left to right, the rest blanked.
    """
    gray = np.asarray(gray)
    cols = np.arange(gray.shape[1])
    return [
        np.where((cols >= a) & (cols < b), gray, 0)
        for a, b in _valley_columns(gray >= INK, split_aspect)
    ]


def _valley_columns(mask: NDArray[np.bool_], split_aspect: float) -> list[tuple[int, int]]:
    """Column ranges of the digits in a group (see :func:`valley_split`)."""
    h, w = mask.shape
    if w <= split_aspect * h:
        return [(0, w)]
    k = min(MAX_DIGITS, max(2, round(w / (TYPICAL_ASPECT * h))))
    ink = mask.sum(axis=0)
    stroke = stroke_width(mask)
    cuts = [0]
    for i in range(1, k):
        expected, reach = i * w / k, 0.3 * w / k
        lo, hi = int(max(cuts[-1] + 1, expected - reach)), int(min(w - 1, expected + reach))
        if hi <= lo:
            continue
        window = ink[lo:hi]
        # Least ink; among ties, the column nearest the expected boundary.
        best = np.flatnonzero(window == window.min()) + lo
        cut = int(best[np.argmin(np.abs(best - expected))])
        if ink[cut] <= SPLIT_STROKES * stroke:
            cuts.append(cut)
    cuts.append(w)
    # A piece much shorter than the group is part of a digit (the long bar of a 5 or 7), not a
    # digit: drop the cut it is joined through most strongly.
    while len(cuts) > 2:
        heights = [_extent(mask[:, a:b].any(axis=1)) for a, b in pairwise(cuts)]
        short = int(np.argmin(heights))
        if heights[short] >= PIECE_HEIGHT * h:
            break
        inner = [j for j in (short, short + 1) if 0 < j < len(cuts) - 1]
        cuts.pop(max(inner, key=lambda j: ink[cuts[j]]))
    return list(pairwise(cuts))


def _extent(flags: NDArray[np.bool_]) -> int:
    """Span from the first to the last set flag (0 if none)."""
    idx = np.flatnonzero(flags)
    return int(idx[-1] - idx[0] + 1) if idx.size else 0
