"""Cutting touching digits apart by recognition: where the models read the pieces best.

Where the ink of two or more digits touches or overlaps, the pixels alone cannot say where one
digit ends. :func:`split` asks the models, as in segmentation by recognition:

1. The group is redrawn once at a working size, a digit :data:`~digitcore.preprocess.PIECE_HEIGHT`
   px tall, its strokes normalised (:func:`digitcore.preprocess.restroke_group`). Writing that
   leans (:mod:`digitcore.slant`) is also stood upright, each row moved sideways: steps 2-4 run
   on both copies and the one whose best splitting reads better wins, so a straight cut between
   slanted digits may lean with them.
2. **Candidate cuts** are **seams** (top-to-bottom paths through the least ink, free to lean one
   column per row, as in seam carving, crossing at most :data:`MAX_CROSS` stroke widths) and
   **straight cuts** at the least-ink column of each slice :data:`STEP` of the height wide
   (where digits overlap, no seam avoids the ink).
3. Every stretch of ink between two cuts (or an edge) that could be a digit, from
   :data:`MIN_WIDTH` to :data:`MAX_WIDTH` times the height wide, is scored by the models in one
   batch, less the priors that need no model (a digit cut out of a group is not much wider
   than :data:`MAX_ASPECT` times its height, a group read whole :data:`WHOLE_ASPECT`; a piece
   under :data:`SHORT` of the number's height is a 5's bar or a broken-off tail). Only
   stretches that a chain of stretches joins to both edges of the group can be in a
   splitting, so only they are scored, each distinct form once.
   Where a cut runs through ink, the strokes of the two digits it parts may lie on each other
   (a 1 written into the side of the next digit, a 0 over the 9 before it): each such piece is
   also scored with the ink within :data:`SHARE` of the height beyond its inner cuts, and the
   better of the two is kept. Such ink is then both digits'.
4. **Dynamic programming** finds the splitting of the whole group with the best total:
   the pieces' scores plus :data:`PER_DIGIT` for each digit (a price on cutting: two halves of
   one digit must read far better than the whole), which must beat reading the group whole by
   a margin that grows the narrower the group is (:func:`_margin`). A piece under
   :data:`MIN_TALL` of the height is never a digit of its own.

5. **Strokes**: where digits cross, every cut through columns leaves one of them some of the
   other's ink (a 0 drawn over a 6's loop). So the group's strokes are also traced through its
   skeleton (:mod:`digitcore.tracing`; once for each rule of how straight a stroke goes on
   through a fork, :data:`ALIGNS`), grouped into digits as the canvas's strokes are
   (:func:`digitcore.polylines.group`; a group shorter than :data:`SHORT` of the height joins
   the nearest digit), and each digit is redrawn alone; one still wider than tall is cut as in
   steps 2-4. Its digits are scored as the pieces are, in the same batch, and the way of
   reading with the better total wins.
6. **Refinement by lines**: the digits so found may still hold some of each other's ink (a 9's
   tail in the 8 after it, a 2's foot under the 5). The group's skeleton is cut into its lines
   between forks (:func:`digitcore.tracing.trace`, no two lines joined), and a line longer than
   :data:`LONG` of the height into equal parts (one stroke may run through two digits: the top
   bars of 757); each line starts in the digit whose ink holds most of it (a digit that holds
   most of none, with the line it holds most of), and each digit is redrawn from its lines.
   Then, for at most :data:`ROUNDS` rounds, the changes that read best are made, even ones that
   read up to :data:`LOSS` worse, each to its own copy (:data:`BEAM` copies walk on side by
   side: where two lines must change hands, the best first change is often not the way there). A
   change is: a line near a neighbouring digit moves to it, or is shared with it (where two
   strokes lie on each other, the line is both digits'), or the lines of one digit, or of two
   neighbours, are parted anew into two digits or three by their places left to right (two
   digits read as one piece, a 45 read as 5; an 8's whole left side in the 9 before it, which no
   move of one line mends; a 0 whose sides lie in the 3 and the 6 around it, which pays a
   digit's price before the next change gives it its side), or into two that share the line
   where they part (a 1 against a 0, its stem the 0's left side), if that line is a small part
   of them (:data:`SHARED`). No change may leave two digits with the same lines (a digit read
   twice). The best digits seen, if they read better than the start by more than :data:`GAIN`,
   replace those found when their total is higher. A group read as one digit
   may so become two, but only by changes that each read better by more than
   :data:`SPLIT_GAIN` (as must the digits kept), and by the margin a splitting needs (step 4);
   one digit alone is never redrawn (its lines lack the stubs that thinning drops).

A wide 0 or a barred 5 stays one digit: the models read it whole. The scores come from
:func:`digitcore.recognize.piece_scores`; :mod:`digitcore.segmentation` decides which groups
need cutting at all.

Without a model, :mod:`digitcore.valleys` cuts at ink valleys.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from digitcore import polylines, preprocess, slant, tracing

#: Scores pieces in MNIST form, ``(n, 28, 28)`` uint8 -> ``(n,)`` log-likelihoods (higher better).
Scorer = Callable[[NDArray[np.uint8]], NDArray[np.float64]]

INK = preprocess.INK  #: ink threshold, of 255
MAX_CROSS = 4.0  #: a candidate seam crosses at most this many stroke widths of ink
EDGE = 0.1  #: ...and leaves at least this fraction of the ink on either side
SPACING = 0.12  #: candidate seams lie at least this fraction of the height apart
SEAM_ROWS = 48  #: seams are searched on a copy this many rows tall
MAX_SEAMS = 6  #: the cheapest seams kept (bounds the work on any input)
LEAN = 0.02  #: cost of a seam's step sideways, in ink (straight seams win through blank space)
STEP = 0.16  #: a straight candidate cut in every slice this fraction of the height wide
MIN_WIDTH = 0.15  #: a piece narrower than this fraction of the height is a sliver, not a digit
MAX_WIDTH = 1.4  #: ...and one wider than this times the height is not one digit
MIN_SPLIT = 0.55  #: groups narrower than this times the height are one digit...
#: ...unless they read as no digit at all, under this as one (two 1s joined by a flag, 11 read
#: as an arch), and are at least two slivers wide (2 * MIN_WIDTH)
ODD = -4.0
#: pieces wider than this times the height pay PRIOR_WIDE per unit beyond (0.9, not 1.05: a
#: 5 or 2 that took the bar or foot its neighbour shares, 457 read as 451, is that wide;
#: +13 of 1,660 development numbers, no single digit lost; benchmarks/README.md)...
MAX_ASPECT = 0.9
#: ...but a group read whole only beyond this: one digit alone may be wide (a 2 with a loop, a
#: sprawling 8, cut in two with 0.9)
WHOLE_ASPECT = 1.05
PRIOR_WIDE = 3.0
PRIOR_WIDER = 8.0  #: ...and PRIOR_WIDER more per unit beyond MAX_WIDTH (wider than any digit)
SHORT = 0.55  #: pieces under this fraction of the number's height pay PRIOR_SHORT
PRIOR_SHORT = 4.0
WHOLE = -2.0  #: a group that scores at least this as one digit is not cut
PER_DIGIT = -2.5  #: added to a splitting's score for each digit in it
SPLIT_ASPECT, NARROW = 1.0, 8.0  #: a narrower group's splitting must beat it whole by NARROW
#: per unit of aspect under SPLIT_ASPECT
MIN_TALL = 0.35  #: a piece shorter than this fraction of the height is part of a digit
#: a piece may also take the ink this fraction of the height beyond a cut inside the group (one
#: redrawn stroke width): where two digits' strokes overlap, the ink at the cut is both digits'
SHARE = preprocess.STROKE
#: groups wider than this times their height are not cut by recognition (this bounds the work:
#: some 60 straight cuts, 600 pieces, twice as many scored where they may share the ink at a cut)
MAX_GROUP = 10.0
#: the rules (cosine of the turn at a fork) strokes are traced with (:mod:`digitcore.tracing`)
ALIGNS = (0.85, 0.95)
#: step 6: at most ROUNDS changes, each one of the best read, even up to LOSS worse; the
#: digits kept are the best read, if better than those before by more than GAIN (a line passed
#: between overlapping digits often gains only 0.3-0.4; 0.25 chosen on the development sets,
#: benchmarks/README.md); only for a group of at most LINES lines per digit (ink everywhere
#: has thousands)
ROUNDS, GAIN, LOSS, LINES = 6, 0.25, 1.0, 10
#: step 6, a group read as one digit: every change, and the digits kept, must read better by
#: more than this (about the scores' noise between two drawings of one digit)
SPLIT_GAIN = 0.5
#: step 6: how many ways of parting the lines walk on side by side (the best read each round)
BEAM = 2
#: step 6: in a group found to hold two digits or more, a line longer than this times the height
#: is cut into equal parts no longer (the top bars of 757 are one line through all three digits)
LONG = 0.8
#: step 6: two digits parted with a line in both only if that line is under this fraction of
#: the larger digit's lines (a 1's stem is a 0's side, not most of it; a 2's long top is not
#: two 2s')
SHARED = 0.4


def split(gray: NDArray, score: Scorer, *, height: int | None = None) -> list[NDArray]:
    """Split one group of ink into the digits the models read best in it (see module doc).

    Parameters
    ----------
    gray : ndarray of shape (h, w), ink high on background 0 (uint8 0-255)
        The group, cropped to its ink.
    score : callable
        Pieces in MNIST form ``(n, 28, 28)`` uint8 -> ``(n,)``: how much each reads as one
        digit the models know, 0 at the edge of real digits, higher better (see
        :func:`digitcore.recognize.piece_scores`).
    height : int, optional
        The digits' height, for the priors; the group's own ink height when not given.

    Returns
    -------
    list of ndarray of shape (h, w)
        Each digit's ink, left to right (the rest of the group blanked), same shape as ``gray``;
        where the traced strokes or the lines of the skeleton read better (steps 5 and 6), each
        digit's strokes redrawn alone.
        Ink where two digits' strokes overlap may be in both. One entry, the whole group, when
        no cut or parting of its lines reads better, or the group is wider than
        :data:`MAX_GROUP` times its height.
    """
    gray = np.asarray(gray)
    if not (gray >= INK).any():
        return []
    height = height or ink_height(gray)
    if ink_span(gray >= INK)[1] > MAX_GROUP * height:
        return [gray]  # a line, not a number: scoring its pieces would take long
    # Where digits cross, cuts through columns give each some of the other's ink; the strokes
    # traced through the crossing part them (step 5). Both ways are read; the better wins.
    # How straight a stroke must go on through a fork to be one is a matter of degree: the
    # strokes are traced with each rule of ALIGNS, and each way of grouping them is read.
    variants: list[list] = []
    for align in ALIGNS:
        traced = _traced_digits(gray, height, align)
        if traced and all(not _same(traced, other) for other in variants):
            variants.append(traced)
    forms = [form for traced in variants for *_, form, _ in traced if form is not None]
    known: list[NDArray[np.float64]] = []

    def together(pieces: NDArray[np.uint8]) -> NDArray[np.float64]:
        """The traced digits ride in the first batch of pieces: one call of the models."""
        if forms and not known:
            values = score(np.concatenate([pieces, np.stack(forms)]))
            known.append(values[len(pieces) :])
            return values[: len(pieces)]
        return score(pieces)

    total, parts = _by_columns(gray, together, height)
    if forms and not known:
        known.append(score(np.stack(forms)))
    values = iter(known[0] if forms else [])
    for traced in variants:
        mine = np.array([next(values) for _, form, _ in traced if form is not None])
        by_strokes, found = _by_strokes(traced, mine, score, height)
        if by_strokes > total:
            total, parts = by_strokes, found
    return _refined(gray, parts, total, score, height)


def _by_columns(gray: NDArray, score: Scorer, height: int) -> tuple[float, list[NDArray]]:
    """Steps 1-4 of the module doc: the best splitting's total and each digit's ink."""
    work, scale = preprocess.restroke_group(gray, height)
    total, pieces = best_splitting(work, score, height=preprocess.PIECE_HEIGHT)
    shift = slant.upright_shifts(work)
    if shift.any():
        # Slanted writing is also cut stood upright; the models' better reading wins.
        upright = slant.shear_rows(work, shift)
        stood, found = best_splitting(upright, score, height=preprocess.PIECE_HEIGHT)
        if stood > total:
            total, pieces = stood, [(left - shift, right - shift) for left, right in found]
    if not pieces:
        return total, [gray]
    rows = np.minimum((np.arange(gray.shape[0]) * scale).astype(np.intp), work.shape[0] - 1)

    def back(c: NDArray[np.intp]) -> NDArray[np.intp]:
        return np.clip(np.round(c[rows] / scale).astype(np.intp), 0, gray.shape[1])

    parts = [_piece(gray, back(left), back(right)) for left, right in pieces]
    return total, [p for p in parts if (p >= INK).any()]


def _traced_digits(
    gray: NDArray, height: int, align: float
) -> list[tuple[NDArray, NDArray | None, float]]:
    """Step 5 of the module doc: the digits the group's traced strokes make, left to right,
    each as its ink (its strokes redrawn alone), its form to score (None when it is too wide
    for one digit and must be cut by columns) and its size prior; ``[]`` for fewer than two."""
    lines, width = tracing.trace(gray, height, align=align)
    lines.sort(key=polylines.middle)  # as written: left to right
    groups = [[lines[i] for i in ids] for ids in polylines.group(lines)]
    tall = [float(np.ptp(np.concatenate(g)[:, 1])) + width >= SHORT * height for g in groups]
    digits = [g for g, t in zip(groups, tall, strict=True) if t]
    if len(digits) < 2:
        return []
    for piece in (g for g, t in zip(groups, tall, strict=True) if not t):  # a bar, a tail
        centre = polylines.middle(np.concatenate(piece))
        near = min(digits, key=lambda d: abs(polylines.middle(np.concatenate(d)) - centre))
        near += piece
    found = []
    for strokes in sorted(digits, key=lambda d: polylines.middle(np.concatenate(d))):
        ink = polylines.draw(strokes, gray.shape, brush=width)
        work, _ = preprocess.restroke_group(ink, height)
        rows, cols = ink_span(work >= INK / 255)
        if cols > rows:  # strokes that still write two digits
            found.append((ink, None, 0.0))
        else:
            prior = size_prior(rows, cols, preprocess.PIECE_HEIGHT)
            found.append((ink, preprocess.piece_form(work), prior))
    return found


def _refined(
    gray: NDArray, parts: list[NDArray], total: float, score: Scorer, height: int
) -> list[NDArray]:
    """Step 6 of the module doc: the digits found (``parts``, reading ``total``), their ink
    handed back and forth line by line of the group's skeleton, or parted anew, while the
    models read them better; ``parts`` unchanged when that never reads better than ``total``
    or leaves one digit."""
    if not parts:
        return parts
    lines, width = tracing.trace(gray, height, align=np.inf)  # every line between forks
    if len(parts) > 1:  # a line may run through two digits: its parts may then be theirs
        lines = _shortened(lines, LONG * height)
    if not len(parts) <= len(lines) <= LINES * len(parts):
        return parts
    # Each line starts with the digit whose ink holds most of it.
    h, w = gray.shape
    cover = np.array(
        [
            [
                float(np.mean(part[_index(line[:, 1], h), _index(line[:, 0], w)] >= INK))
                for part in parts
            ]
            for line in lines
        ]
    )
    owner = cover.argmax(axis=1)
    digits = [frozenset(np.flatnonzero(owner == k).tolist()) for k in range(len(parts))]
    # A digit that holds most of no line (a 7's stem, its bar and the turn in the 6 before
    # it) starts with the line it holds most of, in both digits; one that holds none, stays.
    if any(not d and not cover[:, k].any() for k, d in enumerate(digits)):
        return parts
    digits = [d or frozenset({int(cover[:, k].argmax())}) for k, d in enumerate(digits)]
    scale = preprocess.PIECE_HEIGHT / height
    shape = (math.ceil(gray.shape[0] * scale) + 1, math.ceil(gray.shape[1] * scale) + 1)
    brush = preprocess.STROKE * preprocess.PIECE_HEIGHT
    spans = [(float(line[:, 0].min()), float(line[:, 0].max())) for line in lines]
    value: dict[frozenset[int], float] = {}
    # Each line is painted once, and a digit's ink is the union of its lines': the brush does
    # not anti-alias, so that is the same as painting them together. Painting every digit
    # tried anew took a sixth of the time reading overlapping digits (cProfile).
    painted = [polylines.draw([line * scale], shape, brush=brush) for line in lines]

    def known(sets: list[frozenset[int]]) -> None:
        """Score the digits not scored yet, in one batch."""
        new = list(dict.fromkeys(d for d in sets if d not in value))
        if not new:
            return
        forms, priors = [], []
        for ids in new:
            ink = np.maximum.reduce([painted[i] for i in ids])
            work = ink.astype(np.float32) / 255.0
            forms.append(preprocess.piece_form(work))
            priors.append(size_prior(*ink_span(work >= INK / 255), preprocess.PIECE_HEIGHT))
        values = score(np.stack(forms)) - np.asarray(priors) + PER_DIGIT
        value.update(zip(new, values.tolist(), strict=True))

    known(digits)
    middles = [polylines.middle(line) for line in lines]
    lengths = [float(np.hypot(*np.diff(line, axis=0).T).sum()) for line in lines]
    best, most = digits, sum(value[d] for d in digits)
    seen = {tuple(digits)}
    # The best change is made even when it reads a little worse: a third digit parted out
    # pays its price before the next change gives it its shared line. Not in a group read as
    # one digit: its lines redrawn read cleaner than its ink, and wandering, a wide 2 became
    # 72 (benchmarks/README.md). The BEAM best ways so reached walk on side by side: where
    # two lines must change hands, the best first change is often not the way there.
    gain, limit = (GAIN, -LOSS) if len(parts) > 1 else (SPLIT_GAIN, SPLIT_GAIN)
    beam = [digits]
    for _ in range(ROUNDS):
        steps = []  # (how the way read before the change, the way after it)
        for state in beam:
            before = sum(value[d] for d in state)
            moves = _moves(state, spans, middles, lengths, width)
            # Two digits never hold the same lines: sharing, line by line, could make them so.
            steps += [
                (before, move)
                for move in moves
                if tuple(move) not in seen and len(set(move)) == len(move)
            ]
        known([d for _, move in steps for d in move])
        reads = [sum(value[d] for d in move) for _, move in steps]
        beam = []
        for k in sorted(range(len(steps)), key=lambda k: -reads[k]):  # best read first
            (before, move), now = steps[k], reads[k]
            if now - before <= limit or tuple(move) in seen:
                continue
            beam.append(move)
            seen.add(tuple(move))
            if now > most + gain:
                best, most = move, now
            if len(beam) == BEAM:
                break
        if not beam:
            break
    if len(parts) == 1:
        total += _margin(*ink_span(gray >= INK))  # as a splitting must beat the whole (step 4)
    if len(best) < 2 or most <= total:
        return parts  # one digit stays as written: redrawn from its lines, it loses its ends
    return [polylines.draw([lines[i] for i in ids], gray.shape, brush=width) for ids in best]


def _shortened(lines: list[NDArray[np.float64]], longest: float) -> list[NDArray[np.float64]]:
    """The lines, each longer than ``longest`` cut into the fewest parts of equal length no
    longer than it (neighbouring parts share the point where they meet)."""
    out = []
    for line in lines:
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(line, axis=0).T))])
        count = math.ceil(along[-1] / longest) if longest > 0 else 1
        if count < 2 or len(line) < 2 * count:
            out.append(line)
            continue
        ends = np.searchsorted(along, along[-1] * np.arange(1, count) / count)
        out += [line[a : b + 1] for a, b in itertools.pairwise([0, *ends, len(line) - 1])]
    return out


def _moves(
    digits: list[frozenset[int]],
    spans: list[tuple[float, float]],
    middles: list[float],
    lengths: list[float],
    width: float,
) -> list[list[frozenset[int]]]:
    """Every change one round of step 6 may make, each as the digits after it: a line near a
    neighbouring digit moved to it or shared with it, or lines parted anew (``middles`` and
    ``lengths`` of the lines)."""
    moves = []
    for k, here in enumerate(digits):
        for n in (k - 1, k + 1):
            if not 0 <= n < len(digits):
                continue
            x0 = min(spans[i][0] for i in digits[n]) - width
            x1 = max(spans[i][1] for i in digits[n]) + width
            for i in here:
                if not (spans[i][1] >= x0 and spans[i][0] <= x1):
                    continue  # only a line near the neighbour may be its
                if len(here) > 1:
                    moves.append(_changed(digits, {k: here - {i}, n: digits[n] | {i}}))
                if i not in digits[n]:  # where strokes lie on each other
                    moves.append(_changed(digits, {n: digits[n] | {i}}))
        # A digit's lines, or a pair's, parted anew by their places left to right: a
        # piece that holds two digits, an 8's whole left side in the 9 before it (a
        # line at a time cannot move it), two digits that hold a third between them.
        moves += _parted(digits, k, 1, middles) + _parted(digits, k, 1, middles, lengths)
        if k + 1 < len(digits):
            moves += _parted(digits, k, 2, middles) + _parted(digits, k, 2, middles, into=3)
            moves += _parted(digits, k, 2, middles, lengths)
    return moves


def _changed(
    digits: list[frozenset[int]], change: dict[int, frozenset[int]]
) -> list[frozenset[int]]:
    """The digits (each a set of lines) with some replaced: ``change`` maps index to lines."""
    return [change.get(k, d) for k, d in enumerate(digits)]


def _parted(
    digits: list[frozenset[int]],
    k: int,
    count: int,
    middles: list[float],
    lengths: list[float] | None = None,
    into: int = 2,
) -> list[list[frozenset[int]]]:
    """Each way of parting the lines of ``count`` digits from the ``k``-th into ``into``
    digits, each the lines between two places, by the middles of the lines' x-extents. Given
    the lines' ``lengths``, the line just after each place is in the digits on both sides of
    it, if it is under :data:`SHARED` of the largest one's lines."""
    order = sorted(frozenset().union(*digits[k : k + count]), key=middles.__getitem__)
    shared = lengths is not None
    moves = []
    for places in itertools.combinations(range(1, len(order) - shared), into - 1):
        new = [
            frozenset(order[a : b + shared])
            for a, b in itertools.pairwise((0, *places, len(order)))
        ]
        if shared:
            largest = max(sum(lengths[i] for i in part) for part in new)
            if any(lengths[order[p]] >= SHARED * largest for p in places):
                continue
        moves.append([*digits[:k], *new, *digits[k + count :]])
    return moves


def _index(values: NDArray[np.float64], size: int) -> NDArray[np.intp]:
    """Coordinates rounded to the nearest of ``size`` pixels."""
    return np.clip(np.round(values).astype(np.intp), 0, size - 1)


def _same(
    traced: list[tuple[NDArray, NDArray | None, float]],
    other: list[tuple[NDArray, NDArray | None, float]],
) -> bool:
    """Whether two ways of tracing a group drew the same digits."""
    return len(traced) == len(other) and all(
        np.array_equal(a[0], b[0]) for a, b in zip(traced, other, strict=True)
    )


def _by_strokes(
    traced: list[tuple[NDArray, NDArray | None, float]],
    values: NDArray[np.float64],
    score: Scorer,
    height: int,
) -> tuple[float, list[NDArray]]:
    """The total of the traced digits (``values``: the scores of their forms) and each
    digit's ink; a traced digit too wide for one is cut by columns."""
    total, parts, scored = 0.0, [], iter(values)
    for ink, form, prior in traced:
        if form is None:
            more, found = _by_columns(ink, score, height)
            total, parts = total + more, parts + found
        else:
            total, parts = total + float(next(scored)) - prior + PER_DIGIT, [*parts, ink]
    return (total, parts) if len(parts) >= 2 else (-np.inf, parts)


def best_splitting(
    work: NDArray[np.float32], score: Scorer, *, height: int
) -> tuple[float, list[tuple[NDArray[np.intp], NDArray[np.intp]]]]:
    """The pieces of the best splitting of a working copy (steps 2-4 of the module doc).

    Parameters
    ----------
    work : ndarray of shape (h, w), float32 coverage 0-1
        A group from :func:`digitcore.preprocess.restroke_group`.
    score : callable
        As for :func:`split`.
    height : int
        The digits' height in ``work``.

    Returns
    -------
    total : float
        How well the group reads so: the best splitting's total, or the whole's score when
        no splitting beats it (comparable between copies of one group, e.g. slanted and upright).
    pieces : list of (left, right), each an ndarray of shape (h,), dtype intp
        Each digit's first and past-the-last column in every row, left to right; a digit's
        columns may reach :data:`SHARE` of the height into its neighbour's. ``[]`` when the
        group is best read as one digit.
    """
    h, w = work.shape
    mask = work >= INK / 255
    if not mask.any():
        return -np.inf, []
    bounds = [np.zeros(h, np.intp), *candidate_cuts(mask, height), np.full(h, w, np.intp)]
    last = len(bounds) - 1
    share = round(SHARE * height)
    group = ink_span(mask)
    # Reading the group as one digit is always a choice, however wide it is (spans[0]).
    spans = [(0, last)]
    sides: list[tuple[NDArray[np.intp], NDArray[np.intp]]] = [(bounds[0], bounds[last])]
    forms, priors = [preprocess.piece_form(work)], [size_prior(*group, height, whole=True)]
    stretches = []  # (i, j, piece, its ink, its size) of every stretch that could be a digit
    for i in range(last):
        for j in range(i + 1, len(bounds)):
            piece = _piece(work, bounds[i], bounds[j])
            inked = piece >= INK / 255
            rows, cols = ink_span(inked)
            if cols > MAX_WIDTH * height:
                break  # the pieces from i only get wider
            if cols < MIN_WIDTH * height or rows < MIN_TALL * height or (i, j) == (0, last):
                continue
            stretches.append((i, j, piece, inked, rows, cols))
    for i, j, piece, inked, rows, cols in _on_a_path(stretches, last):
        choices = [(bounds[i], bounds[j])]
        if share:  # every stretch has an inner cut (the whole is spans[0]): it may share its ink
            choices.append((bounds[i] - share * (i > 0), bounds[j] + share * (j < last)))
        for k, (left, right) in enumerate(choices):
            if k:
                piece = _piece(work, left, right)
                more = piece >= INK / 255
                if more.sum() <= inked.sum() + share:
                    continue  # no stroke at the cut to share
                rows, cols = ink_span(more)
            spans.append((i, j))
            sides.append((left, right))
            forms.append(preprocess.piece_form(piece))
            priors.append(size_prior(rows, cols, height))
    # One stretch of ink can lie between two pairs of cuts (a seam and a straight cut in one
    # gap): each form is scored once.
    first: dict[bytes, int] = {}
    which = np.array([first.setdefault(f.tobytes(), len(first)) for f in forms])
    unique = np.stack(forms)[np.unique(which, return_index=True)[1]]
    value = score(unique)[which] - np.asarray(priors) + PER_DIGIT
    # best[j]: the best total of a splitting of the ink left of bounds[j]; came[j]: the index
    # of its last piece.
    best = np.full(len(bounds), -np.inf)
    best[0] = 0.0
    came = np.zeros(len(bounds), np.intp)
    for k in sorted(range(len(spans)), key=lambda k: spans[k][1]):
        i, j = spans[k]
        if best[i] + value[k] > best[j]:
            best[j], came[j] = best[i] + value[k], k
    if best[-1] < value[0] + _margin(*group):  # a splitting must beat the whole by the margin
        return float(value[0]), []
    chosen, j = [], last
    while j > 0:
        chosen.append(sides[came[j]])
        j = spans[came[j]][0]
    return float(best[-1]), chosen[::-1]


def _on_a_path(stretches: list[tuple], last: int) -> list[tuple]:
    """The stretches (``(i, j, ...)``: from cut ``i`` to cut ``j``) that lie on some chain of
    stretches from the group's left edge (0) to its right edge (``last``): only they can be a
    digit of a splitting. Where digits overlap, a third of them are not, and are not scored."""
    reach = {0}  # cuts a chain from the left edge reaches
    for i, j, *_ in sorted(stretches, key=lambda s: s[1]):
        if i in reach:
            reach.add(j)
    ends = {last}  # cuts from which a chain reaches the right edge
    for i, j, *_ in sorted(stretches, key=lambda s: -s[0]):
        if j in ends:
            ends.add(i)
    return [s for s in stretches if s[0] in reach and s[1] in ends]


def _margin(rows: int, cols: int) -> float:
    """How much better than the whole a splitting must read: :data:`NARROW` per unit of aspect
    under :data:`SPLIT_ASPECT` (the halves of one narrow digit often read as 1s; two digits
    side by side are rarely narrow)."""
    return NARROW * max(0.0, SPLIT_ASPECT - cols / max(rows, 1))


def candidate_cuts(mask: NDArray[np.bool_], height: int) -> list[NDArray[np.intp]]:
    """Seams and straight cuts through a group (step 2 of the module doc), left to right.

    Returns
    -------
    list of ndarray of shape (h,), dtype intp
        Cuts running within a pixel of each other are one.
    """
    h, w = mask.shape
    cuts = seams(mask.astype(np.float32), stroke_width(mask))
    ink = mask.sum(axis=0)
    step = max(2, round(STEP * height))
    for a in range(step, w - 1, step):
        cuts.append(np.full(h, a + int(np.argmin(ink[a : a + step])), np.intp))
    cuts.sort(key=lambda c: float(c.mean()))
    kept: list[NDArray[np.intp]] = []
    for c in cuts:
        if not kept or np.abs(c - kept[-1]).mean() >= 1.0:
            kept.append(c)
    return kept


def _piece(work: NDArray, left: NDArray[np.intp], right: NDArray[np.intp]) -> NDArray:
    """The ink between two cuts (at or right of ``left``, left of ``right``), the rest blank."""
    at = np.arange(work.shape[1])[None, :]
    return np.where((at >= left[:, None]) & (at < right[:, None]), work, 0)


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


def ink_span(mask: NDArray[np.bool_]) -> tuple[int, int]:
    """Rows and columns from the first to the last holding ink."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return 0, 0
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def size_prior(rows: int, cols: int, height: int, *, whole: bool = False) -> float:
    """What a piece of this size costs as one digit: too wide, or too short for the number.

    A ``whole`` group of ink (read as one digit, not cut out of one) is wide only beyond
    :data:`WHOLE_ASPECT` of its height, a piece beyond :data:`MAX_ASPECT`.
    """
    aspect = cols / max(rows, 1)
    wide = max(0.0, aspect - (WHOLE_ASPECT if whole else MAX_ASPECT))
    cost = PRIOR_WIDE * wide + PRIOR_WIDER * max(0.0, aspect - MAX_WIDTH)
    if rows < SHORT * height:
        cost += PRIOR_SHORT
    return cost


def ink_height(gray: NDArray) -> int:
    """Rows from the first to the last holding ink (0 when there is none)."""
    rows = np.flatnonzero((np.asarray(gray) >= INK).any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0
