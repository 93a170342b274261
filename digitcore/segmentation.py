"""Segmentation by recognition: cut touching digits where the models read the pieces best.

Where the ink of two or more digits touches (or a digit leans over its neighbour), the pixels
alone cannot say where one digit ends. Here candidate cuts are **seams**: top-to-bottom paths
through the least ink, free to lean one column per row (a minimum-cost path, as in seam
carving), so a cut can pass between slanted or overlapping digits and through the thin join of
touching ones. A seam is a candidate when it crosses at most :data:`MAX_CROSS` stroke widths of
ink and leaves at least :data:`EDGE` of the height on each side.

Every way of splitting the ink between consecutive candidate seams into digits is then scored
with the models themselves (``score``: how much each piece, in MNIST form, looks like one
digit they know) plus two priors that need no model: a digit is not much wider than tall
(:data:`MAX_ASPECT`), and the digits of one number have about equal heights (a piece under
:data:`SHORT` of the group's height is the bar of a 5 or a broken-off tail, not a digit). The
best splitting is found by dynamic programming over the seams. A wide 0 or a barred 5 stays one
digit because the models read it whole far better than they read its halves.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

#: Scores pieces in MNIST form, ``(n, 28, 28)`` uint8 -> ``(n,)`` log-likelihoods (higher better).
Scorer = Callable[[NDArray[np.uint8]], NDArray[np.float64]]

INK = 96  #: ink threshold, of 255 (as in :mod:`digitcore.preprocess`)
MAX_CROSS = 2.5  #: a candidate seam crosses at most this many stroke widths of ink
EDGE = 0.1  #: ...and leaves at least this fraction of the ink on either side
SPACING = 0.12  #: candidate seams lie at least this fraction of the height apart
MAX_SEAMS = 6  #: the cheapest seams kept (bounds the work on any input)
LEAN = 0.02  #: cost of a seam's step sideways, in ink (straight seams win through blank space)
MIN_WIDTH = 0.08  #: a piece narrower than this fraction of the height is a sliver, not a digit
MAX_ASPECT = 1.05  #: pieces wider than this times the height pay PRIOR_WIDE per unit beyond
PRIOR_WIDE = 6.0
SHORT = 0.55  #: pieces under this fraction of the group's height pay PRIOR_SHORT
PRIOR_SHORT = 8.0
PIECE_COST = 1.0  #: each digit costs this much: one digit is the simpler explanation
MAX_SPAN = 4  #: a digit spans at most this many seam intervals


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
) -> list[NDArray]:
    """Split one group of ink into the digits the models read best in it.

    Parameters
    ----------
    gray : ndarray of shape (h, w), ink high on background 0 (uint8 0-255)
        The group, cropped to its ink.
    score : callable
        Pieces in MNIST form ``(n, 28, 28)`` uint8 -> ``(n,)`` log-likelihoods that each is one
        digit the models know (see :func:`digitcore.recognize.piece_scores`).
    to_mnist : callable
        One piece (its ink crop) -> MNIST form, as the reader will see it.
    height : int, optional
        The number's digit height, for the priors; the group's own height when not given.

    Returns
    -------
    list of ndarray of shape (h, w)
        Each digit's ink, left to right (the rest of the group blanked), same shape as ``gray``.
        One entry, the whole group, when no cut reads better.
    """
    gray = np.asarray(gray)
    mask = gray >= INK
    h, w = gray.shape
    height = height or h
    cuts = seams(mask.astype(np.float32), stroke_width(mask)) if w > 0.5 * height else []
    bounds = [np.zeros(h, np.intp), *cuts, np.full(h, w, np.intp)]
    n = len(bounds)
    cols = np.arange(w)
    spans = [
        (i, j)
        for i in range(n - 1)
        for j in range(i + 1, min(n, i + 1 + MAX_SPAN))
        if (i, j) == (0, n - 1) or float((bounds[j] - bounds[i]).mean()) >= MIN_WIDTH * height
    ]
    pieces: dict[tuple[int, int], NDArray] = {}
    prior: dict[tuple[int, int], float] = {}
    for i, j in spans:
        inside = (cols[None, :] >= bounds[i][:, None]) & (cols[None, :] < bounds[j][:, None])
        piece_mask = mask & inside
        if not piece_mask.any():
            continue
        ys, xs = np.nonzero(piece_mask)
        ph, pw = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        p = -PRIOR_WIDE * max(0.0, pw / ph - MAX_ASPECT) - PIECE_COST
        if ph < SHORT * height:
            p -= PRIOR_SHORT
        pieces[i, j] = np.where(inside, gray, 0)
        prior[i, j] = p
    if len(pieces) <= 1:
        return [gray]
    keys = list(pieces)
    scores = score(np.stack([to_mnist(pieces[k]) for k in keys]))
    value = {k: float(s) + prior[k] for k, s in zip(keys, scores, strict=True)}
    # best[j]: the best splitting of the ink left of bound j, and where its last digit starts.
    best = np.full(n, -np.inf)
    start = np.zeros(n, np.intp)
    best[0] = 0.0
    for j in range(1, n):
        for i in range(max(0, j - MAX_SPAN), j):
            if (i, j) in value and best[i] + value[i, j] > best[j]:
                best[j], start[j] = best[i] + value[i, j], i
    if not np.isfinite(best[-1]):
        return [gray]
    out, j = [], n - 1
    while j > 0:
        out.append(pieces[start[j], j])
        j = start[j]
    return out[::-1]


def ink_height(gray: NDArray) -> int:
    """Rows from the first to the last holding ink (0 when there is none)."""
    rows = np.flatnonzero((np.asarray(gray) >= INK).any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def components(mask: NDArray[np.bool_]) -> tuple[NDArray[np.int32], list]:
    """8-connected components of a mask: the label map and each one's slices."""
    labels, _ = ndi.label(mask, structure=np.ones((3, 3), bool))
    return labels, ndi.find_objects(labels)
