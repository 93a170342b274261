"""Cutting touching digits apart: by recognition (with a model), or at ink valleys (without).

Where the ink of two or more digits touches or overlaps, the pixels alone cannot say where one
digit ends. :func:`split` asks the models. Candidate cuts are **seams** (top-to-bottom paths
through the least ink, free to lean one column per row, as in seam carving, crossing at most
:data:`MAX_CROSS` stroke widths) and **straight cuts** at the least-ink column of each of
:data:`STRAIGHT` slices (where digits overlap, no seam avoids the ink). The group is kept whole
when the models read it as one digit (score at least :data:`WHOLE`: two squeezed digits lie
far from every digit). Otherwise each cut's two pieces are scored in one batch, with priors
that need no model (a digit is not much wider than :data:`MAX_ASPECT` times its height; a piece
under :data:`SHORT` of the number's height is a 5's bar or a broken-off tail), and the cut
whose weaker piece reads best wins if it beats the whole by :data:`GAIN`, and by more the
narrower the group (:data:`NARROW`: halves of one digit often read as 1s). Pieces are split
again the same way, so three touching digits come apart in two steps. A wide 0 or a barred 5
stays one digit: the models read it whole.

:func:`valley_split` is the model-free rule: a group wide enough to hold two digits is cut at
the columns of least ink where that crosses about one stroke.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray
from PIL import Image

#: Scores pieces in MNIST form, ``(n, 28, 28)`` uint8 -> ``(n,)`` log-likelihoods (higher better).
Scorer = Callable[[NDArray[np.uint8]], NDArray[np.float64]]

INK = 96  #: ink threshold, of 255 (as in :mod:`digitcore.preprocess`)
MAX_CROSS = 4.0  #: a candidate seam crosses at most this many stroke widths of ink
EDGE = 0.1  #: ...and leaves at least this fraction of the ink on either side
SPACING = 0.12  #: candidate seams lie at least this fraction of the height apart
SEAM_ROWS = 48  #: seams are searched on a copy this many rows tall
STRAIGHT = 8  #: straight cuts are tried in this many slices of a group's width
MAX_SEAMS = 6  #: the cheapest seams kept (bounds the work on any input)
LEAN = 0.02  #: cost of a seam's step sideways, in ink (straight seams win through blank space)
MIN_WIDTH = 0.15  #: a piece narrower than this fraction of the height is a sliver, not a digit
MIN_SPLIT = 0.55  #: groups narrower than this times the height are one digit
MAX_ASPECT = 1.05  #: pieces wider than this times the height pay PRIOR_WIDE per unit beyond
PRIOR_WIDE = 3.0
SHORT = 0.55  #: pieces under this fraction of the number's height pay PRIOR_SHORT
PRIOR_SHORT = 4.0
WHOLE = -2.0  #: a group that scores at least this as one digit is kept whole
GAIN = 0.5  #: a split must beat the whole by this much
SPLIT_ASPECT, NARROW = 1.3, 8.0  #: ...and by NARROW more per unit of aspect under SPLIT_ASPECT
MAX_DEPTH = 3  #: a group is split at most this many times over (up to 8 digits)
SPLIT_STROKES = 1.5  #: a valley cut crosses at most this many stroke widths of ink
PIECE_HEIGHT = 0.6  #: ...and leaves pieces at least this fraction of the group's height
TYPICAL_ASPECT = 0.7  #: typical width / height of one handwritten digit


def seams(ink: NDArray[np.float32], stroke: float) -> list[NDArray[np.intp]]:
    """Candidate cuts of an ink crop: cheap top-to-bottom paths, left to right.

    Parameters
    ----------
    ink : ndarray of shape (h, w), float32 in 0-1
        Ink coverage of one group of touching digits.
    stroke : float
        The ink's stroke width in pixels.

    Returns
    -------
    list of ndarray of shape (h,), dtype intp
        For each seam, its column in every row; the seam's piece to the left takes the columns
        before it. At most :data:`MAX_SEAMS`, sorted by mean column.
    """
    h, w = ink.shape
    if h < 2 or w < 3:
        return []
    if h > SEAM_ROWS:
        # The search is a loop over rows: run it on a smaller copy and scale the seams back.
        f = SEAM_ROWS / h
        small = np.asarray(
            Image.fromarray(ink.astype(np.float32)).resize(
                (max(3, round(w * f)), SEAM_ROWS), Image.Resampling.BOX
            )
        )
        rows = np.minimum((np.arange(h) * f).astype(np.intp), SEAM_ROWS - 1)
        return [
            np.clip(np.round((p[rows] + 0.5) * w / small.shape[1]).astype(np.intp), 0, w - 1)
            for p in seams(small, stroke * f)
        ]
    cost = ink.astype(np.float32)
    total = cost[0].copy()
    step = np.empty((h, w), np.int8)  # -1, 0, +1: where the seam came from in the row above
    step[0] = 0
    big = np.float32(np.inf)
    for r in range(1, h):
        left = np.concatenate(([big], total[:-1])) + LEAN
        right = np.concatenate((total[1:], [big])) + LEAN
        stacked = np.stack([left, total, right])
        choice = stacked.argmin(axis=0)
        total = stacked[choice, np.arange(w)] + cost[r]
        step[r] = choice.astype(np.int8) - 1
    limit = MAX_CROSS * stroke
    # Ink left of each column, per row: a seam must leave EDGE of the ink on either side.
    before = np.concatenate((np.zeros((h, 1), np.float32), np.cumsum(cost, axis=1)), axis=1)
    mass = float(before[:, -1].sum())
    rows = np.arange(h)
    # Cheapest first, at least SPACING apart.
    order = np.argsort(total, kind="stable")
    paths: list[NDArray[np.intp]] = []
    for col in order:
        if total[col] > limit or len(paths) == MAX_SEAMS:
            break
        if any(abs(col - p[-1]) < SPACING * h for p in paths):
            continue
        path = np.empty(h, np.intp)
        c = int(col)
        for r in range(h - 1, -1, -1):
            path[r] = c
            c = min(w - 1, max(0, c + int(step[r, c])))
        left = float(before[rows, path].sum())
        # Seams that run together for most of the way are one cut.
        apart = all(np.abs(path - p).mean() >= SPACING * h for p in paths)
        if apart and EDGE * mass <= left <= (1 - EDGE) * mass:
            paths.append(path)
    return sorted(paths, key=lambda p: float(p.mean()))


def stroke_width(mask: NDArray[np.bool_]) -> float:
    """The median length of vertical ink runs: about one stroke's width."""
    edges = np.diff(mask.astype(np.int8), axis=0, prepend=0, append=0)
    starts, ends = np.nonzero(edges.T == 1), np.nonzero(edges.T == -1)
    runs = ends[1] - starts[1]
    return float(np.median(runs)) if runs.size else 1.0


def split(
    gray: NDArray,
    score: Scorer,
    *,
    to_mnist: Callable[[NDArray], NDArray[np.uint8]],
    height: int | None = None,
    depth: int = MAX_DEPTH,
) -> list[NDArray]:
    """Split one group of ink into the digits the models read best in it (see module doc).

    Parameters
    ----------
    gray : ndarray of shape (h, w), ink high on background 0 (uint8 0-255)
        The group, cropped to its ink.
    score : callable
        Pieces in MNIST form ``(n, 28, 28)`` uint8 -> ``(n,)``: how much each reads as one
        digit the models know, 0 at the edge of real digits, higher better (see
        :func:`digitcore.recognize.piece_scores`).
    to_mnist : callable
        One piece (its ink crop) -> MNIST form, as the reader will see it.
    height : int, optional
        The number's digit height, for the priors; the group's own height when not given.
    depth : int
        How many times a piece may be split again.

    Returns
    -------
    list of ndarray of shape (h, w)
        Each digit's ink, left to right (the rest of the group blanked), same shape as ``gray``.
        One entry, the whole group, when no cut reads better.
    """
    gray = np.asarray(gray)
    mask = gray >= INK
    if not mask.any():
        return []
    w = gray.shape[1]
    height = height or ink_height(gray)
    rows, cols = _ink_span(mask)
    if depth <= 0 or cols < MIN_SPLIT * height:
        return [gray]
    whole = float(score(to_mnist(gray)[None])[0]) - _prior(rows, cols, height)
    if whole >= WHOLE:
        return [gray]
    cuts = seams(mask.astype(np.float32), stroke_width(mask)) + _straight_cuts(mask)
    at = np.arange(w)[None, :]
    pairs, priors = [], []
    for seam in cuts:
        left = np.where(at < seam[:, None], gray, 0)
        right = np.where(at >= seam[:, None], gray, 0)
        spans = [_ink_span(p >= INK) for p in (left, right)]
        if min(c for _, c in spans) < MIN_WIDTH * height:
            continue
        pairs.append((left, right))
        priors.append([_prior(r, c, height) for r, c in spans])
    if not pairs:
        return [gray]
    scores = score(np.stack([to_mnist(p) for pair in pairs for p in pair])).reshape(-1, 2)
    value = (scores - np.asarray(priors)).min(axis=1)
    best = int(np.argmax(value))
    # Narrow ink is rarely two digits (its halves look like 1s): the narrower, the surer the
    # split must be.
    if value[best] < whole + GAIN + NARROW * max(0.0, SPLIT_ASPECT - cols / max(rows, 1)):
        return [gray]
    left, right = pairs[best]
    return [
        *split(left, score, to_mnist=to_mnist, height=height, depth=depth - 1),
        *split(right, score, to_mnist=to_mnist, height=height, depth=depth - 1),
    ]


def _straight_cuts(mask: NDArray[np.bool_]) -> list[NDArray[np.intp]]:
    """Vertical cuts at the least-ink column of each of :data:`STRAIGHT` slices of the width:
    where digits overlap, no seam avoids the ink, and a straight cut through the overlap
    leaves each digit most of its own ink."""
    h, w = mask.shape
    ink = mask.sum(axis=0)
    edges = np.linspace(0, w, STRAIGHT + 1).astype(int)[1:-1]
    out = []
    for a, b in pairwise(edges):
        if b > a:
            out.append(np.full(h, a + int(np.argmin(ink[a:b])), np.intp))
    return out


def _ink_span(mask: NDArray[np.bool_]) -> tuple[int, int]:
    """Rows and columns from the first to the last holding ink."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return 0, 0
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def _prior(rows: int, cols: int, height: int) -> float:
    """What a piece of this size costs as one digit: too wide, or too short for the number."""
    cost = PRIOR_WIDE * max(0.0, cols / max(rows, 1) - MAX_ASPECT)
    if rows < SHORT * height:
        cost += PRIOR_SHORT
    return cost


def ink_height(gray: NDArray) -> int:
    """Rows from the first to the last holding ink (0 when there is none)."""
    rows = np.flatnonzero((np.asarray(gray) >= INK).any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


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
    k = max(2, round(w / (TYPICAL_ASPECT * h)))
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
