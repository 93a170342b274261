"""Finding the digits in a drawing: ink map in, MNIST-form digits out, left to right.

1. Ink is what is at least :data:`~digitcore.preprocess.INK` (of 255). Connected components
   (8-neighbour) are found.
2. **Specks and dots**: a component whose longer side is under :data:`SPECK` of the image height
   is noise; so is a blob: under :data:`DOT_SIZE` of the height, filling at least
   :data:`DOT_FILL` of its longer side squared (a brush click, two run together), and solid
   (a small 0 written with a thick pen fills as much, but round a hole: :data:`HOLE`).
3. **Merge**: components whose x-extents overlap by at least :data:`OVERLAP` of the narrower one
   are parts of one digit (the top bar of a 5, a 4 drawn in two strokes); a stroke tucked under
   or over another digit therefore joins it.
4. **Blank rule**: a merged group is a digit only if it, and its longest component, are at
   least :data:`MIN_HEIGHT` of the image height, and at least :data:`RELATIVE` of the tallest
   digit's height (a "1" at 40% of the canvas is; a stray dot is not).
   A group that fails this (a 5's bar drawn past the body, a broken-off
   tail) joins the nearest digit if the x-gap is at most :data:`ATTACH` of that digit's height,
   unless it lies between the digits, outside their x-extents (:func:`separates`): a dash or a
   dot written between them (555-1234, 555.123.4567) is no part of a digit, and is dropped.
   Groups that are parentheses round digits or a plus sign ((555) 123-4567, +44 20 ...), told
   by their traced strokes, are dropped too.
5. **Cut** (:mod:`digitcore.cuts`): a group may hold touching digits. Given the models' score,
   every group is first read whole, all in one batch; a group that reads as one digit (or is
   too narrow for two, unless it reads as no digit at all) is one, the others are cut where
   the models read the pieces best
   (segmentation by recognition). Without a score, a group wider than :data:`SPLIT_ASPECT`
   times its height is cut at ink valleys (:mod:`digitcore.valleys`).
6. **A 1 against a digit's side** (:mod:`digitcore.ones`): each digit so found, and each group
   read as one digit but not well (under :data:`digitcore.ones.SURE`), may hold a 1 written
   into its neighbour's side, which the models read as the neighbour alone. A straight upright
   stroke at its edge is parted from it when the rest reads better without it.

A drawing with ink but no digit-sized group (a dot, a line, a tiny digit) is not blank:
:func:`has_ink` tells the two apart, so the reader can say "too small to read".
Each digit is brought to MNIST form by :func:`digitcore.preprocess.to_mnist`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from digitcore import cuts, ones, polylines, tracing, valleys
from digitcore.cuts import Scorer
from digitcore.errors import ImageError
from digitcore.preprocess import INK, ink_box, to_mnist

SPECK = 0.06  #: components smaller than this fraction of image height are noise
#: a component under DOT_SIZE of the height whose ink fills DOT_FILL of its longer side squared
#: is a dot (or dots run together), not a stroke
DOT_SIZE, DOT_FILL = 0.25, 0.35
#: ...unless its holes, filled, would add this fraction to its ink: a digit's loop, not a dot
HOLE = 0.1
OVERLAP = 0.3  #: x-overlap (fraction of the narrower) that makes two components one digit
MIN_HEIGHT = 0.15  #: a digit is at least this fraction of the image height
RELATIVE = 0.5  #: ...and at least this fraction of the tallest digit's height
ATTACH = 0.25  #: a too-short piece joins a digit at most this x-gap (of its height) away
#: ...unless it lies outside every digit's x-extent but this fraction of its own width: then it
#: is a separator written between digits (the dash of 555-1234, the dots of 555.123.4567)
SEPARATE = 0.25
#: ...and its middle lies below LOW of the nearest digit's height from its top
LOW = 0.3
#: a group at most PAREN_WIDE times as wide as tall may be a parenthesis, one at most SIGN of
#: the tallest digit's height a plus sign (both then traced to tell)
PAREN_WIDE, SIGN = 0.5, 0.8
SPLIT_ASPECT = 1.25  #: without a score, groups wider than this times their height are cut

_EIGHT = np.ones((3, 3), bool)


@dataclass(frozen=True)
class Digit:
    """One digit found in a drawing.

    Attributes
    ----------
    image : ndarray of shape (28, 28), dtype uint8
        MNIST form, ink 255 on background 0.
    box : tuple of int
        ``(x0, y0, x1, y1)`` of the digit in the input image (x1, y1 exclusive).
    """

    image: NDArray[np.uint8]
    box: tuple[int, int, int, int]


def segment(gray: NDArray, *, score: Scorer | None = None) -> list[Digit]:
    """Find the digits in an ink map, left to right.

    Parameters
    ----------
    gray : ndarray of shape (H, W), dtype uint8, ink high on background 0
        From :func:`digitcore.images.canvas_to_gray` or :func:`digitcore.images.read_image`.
    score : callable, optional
        The models' score of pieces in MNIST form (:func:`digitcore.recognize.piece_scores`):
        with it, touching digits are cut by recognition (:func:`digitcore.cuts.split`);
        without it, at ink valleys.

    Returns
    -------
    list of Digit
        Left to right; ``[]`` means no digit (blank, specks, stray dots). Rules in the module
        docstring.
    """
    gray = np.asarray(gray)
    if gray.ndim != 2:
        raise ImageError(f"expected a 2-D ink map of shape (H, W); got shape {gray.shape}")
    height = gray.shape[0]
    labels, _ = ndi.label(gray >= INK, structure=_EIGHT)
    boxes = []  # [x0, y0, x1, y1, [labels], longest side of a component]
    for i, sl in enumerate(ndi.find_objects(labels), start=1):
        if sl is None:
            continue
        y, x = sl
        longest = max(y.stop - y.start, x.stop - x.start)
        if longest < SPECK * height:
            continue
        # A dot (or a few run together) is a blob: small, filling its bounding square, solid.
        if longest < DOT_SIZE * height:
            mine = labels[sl] == i
            ink = int(mine.sum())
            if (
                ink >= DOT_FILL * longest**2
                and ndi.binary_fill_holes(mine).sum() < (1 + HOLE) * ink
            ):
                continue
        boxes.append([x.start, y.start, x.stop, y.stop, [i], longest])
    groups = _merge_by_x_overlap(boxes)
    found, pieces = [], []
    for g in groups:
        _, y0, _, y1, _, longest = g
        # Stacked dots can make a tall group: one stroke of the digit must be long itself.
        tall = y1 - y0 >= MIN_HEIGHT * height and longest >= MIN_HEIGHT * height
        (found if tall else pieces).append(g)
    # In a number, a group under half the tallest digit's height is a piece of a digit too.
    tallest = max((g[3] - g[1] for g in found), default=0)
    pieces += [g for g in found if g[3] - g[1] < RELATIVE * tallest]
    found = [g for g in found if g[3] - g[1] >= RELATIVE * tallest]
    signs = _signs(found, labels, gray)  # (555) 123-4567, +44 20 ...
    found = [g for k, g in enumerate(found) if k not in signs]
    attach(found, pieces)
    groups = [(_crop(g, labels, gray), (g[0], g[1])) for g in found]
    return _cut_groups(groups, score)


def _signs(found: list[list], labels: NDArray[np.int32], gray: NDArray) -> set[int]:
    """Which groups are signs, no digits (step 4 of the module doc): their strokes traced
    (:mod:`digitcore.tracing`) and told as the canvas's are (:func:`digitcore.polylines.signs`).
    Only groups shorter than the tallest (:data:`SIGN`) and about as wide as tall may be a
    plus, and only narrow ones that bow (:func:`_bow`) parentheses, when one bows each way.
    Others are not traced, and stand in by their box's diagonal."""
    if len(found) < 2:
        return set()
    tallest = max(g[3] - g[1] for g in found)
    narrow = [len(found) >= 3 and g[2] - g[0] <= PAREN_WIDE * (g[3] - g[1]) for g in found]
    bows = [_bow(_crop(g, labels, gray)) if n else 0 for g, n in zip(found, narrow, strict=True)]
    pair = -1 in bows and 1 in bows
    groups = []
    for k, group in enumerate(found):
        x0, y0, x1, y1 = group[:4]
        rows, cols = y1 - y0, x1 - x0
        squat = rows <= SIGN * tallest and 0.6 * rows <= cols <= 1.6 * rows
        traced: list[NDArray[np.float64]] = []
        if squat or (pair and bows[k]):
            origin = np.array([x0, y0], np.float64)
            crop = _crop(group, labels, gray)
            traced = [line + origin for line in tracing.trace(crop, align=cuts.ALIGNS[0])[0]]
        groups.append(traced or [np.array([[x0, y0], [x1, y1]], np.float64)])
    return polylines.signs(groups)


def _crop(group: list, labels: NDArray[np.int32], gray: NDArray) -> NDArray:
    """A group's ink alone, cropped to its box."""
    x0, y0, x1, y1, ids, *_ = group
    return np.where(np.isin(labels[y0:y1, x0:x1], ids), gray[y0:y1, x0:x1], 0)


def _bow(crop: NDArray) -> int:
    """Which way a narrow group's ink bows as a parenthesis might, by the middles of its rows:
    -1 left, 1 right, 0 not (a straight 1). A quick look before tracing: tracing every 1 took
    3 ms more reading a spaced number with two."""
    rows = np.flatnonzero((crop >= INK).any(axis=1))
    if rows.size < 3:
        return 0
    ink = crop[rows] >= INK
    middles = (ink * np.arange(crop.shape[1])).sum(axis=1) / ink.sum(axis=1)
    off = middles - np.linspace(middles[0], middles[-1], len(middles))
    # In the middle half of the height, where a parenthesis bows most (a 1's flag is at its top).
    off = off[len(off) // 4 : 3 * len(off) // 4 + 1]
    far = off[np.argmax(np.abs(off))]
    return int(np.sign(far)) if abs(far) >= 0.5 * polylines.BOW[0] * rows.size else 0


def attach(found: list[list], pieces: list[list], *, inset: float = 0.0) -> None:
    """Join each piece to the digit it belongs to, or drop it (step 4 of the module doc).

    Parameters
    ----------
    found : list of list
        The digits' groups, each ``[x0, y0, x1, y1, ids, ...]`` (its box and its parts: the
        components' labels, or the strokes' indices); a piece that joins one grows it in place.
    pieces : list of list
        The groups too short to be digits, the same way.
    inset : float
        How far the boxes reach beyond the strokes' points (a canvas's brush radius), taken off
        them where :func:`separates` asks whether a piece lies between digits.
    """
    for x0, y0, x1, y1, ids, *_ in pieces if found else []:
        if separates((x0, y0, x1, y1), found, inset=inset):
            continue
        gaps = [max(g[0] - x1, x0 - g[2]) for g in found]
        g = found[int(np.argmin(gaps))]
        if min(gaps) <= ATTACH * (g[3] - g[1]):
            g[:5] = [min(g[0], x0), min(g[1], y0), max(g[2], x1), max(g[3], y1), g[4] + ids]


def separates(
    piece: tuple[float, float, float, float], digits: list, *, inset: float = 0.0
) -> bool:
    """Whether a piece too short to be a digit is a separator written between digits (a dash,
    a dot), no part of one: its middle lies outside every digit's x-extent, it reaches into
    none by more than :data:`SEPARATE` of its own width, and it lies below the top
    :data:`LOW` of the nearest digit. A 5's bar drawn apart lies over the 5, or at its top
    when drawn past it; a broken-off tail lies under its digit.

    Parameters
    ----------
    piece : (x0, y0, x1, y1)
        The piece's box.
    digits : list of sequence
        The digits' boxes, each starting ``x0, y0, x1, y1``.
    inset : float
        Taken off every box on the left and the right first (a canvas's brush radius: a dot
        is then the point clicked).
    """
    middle = (piece[0] + piece[2]) / 2
    x0, x1 = min(piece[0] + inset, middle), max(piece[2] - inset, middle)
    width = x1 - x0
    for d in digits:
        a, b = d[0] + inset, d[2] - inset
        if a < middle < b or min(x1, b) - max(x0, a) > SEPARATE * width:
            return False
    # A dash is written at the digits' middle, a dot at their foot; a bar at their top is a 5's
    # or a 7's, drawn apart past its body.
    near = min(digits, key=lambda d: max(d[0] - piece[2], piece[0] - d[2]))
    return (piece[1] + piece[3]) / 2 >= near[1] + LOW * (near[3] - near[1])


def cut(
    groups: list[tuple[NDArray, tuple[int, int]]],
    *,
    score: Scorer | None = None,
    margins: list[float] | None = None,
) -> list[Digit]:
    """The digits in groups of ink, left to right, each in MNIST form (step 5 of the module
    doc): the groups are read whole in one batch, as one drawing's groups are.

    Parameters
    ----------
    groups : list of (crop, origin)
        Each group's ink, ``crop`` of shape (h, w) with ink high on background 0 (one digit,
        or digits that touch; other ink blanked), and ``origin`` the ``(x, y)`` of its
        top-left pixel in the drawing, for the digits' boxes. Left to right.
    score : callable, optional
        With it, touching digits are cut by recognition (:func:`digitcore.cuts.split`);
        without it, at ink valleys (:func:`digitcore.valleys.valley_split`).
    margins : list of float, optional
        Per group, how far its ink in the drawing reaches beyond its ink in ``crop`` on every
        side, in pixels (a canvas's strokes drawn thinner to be read): its digits' boxes are
        grown by it. 0 for every group by default.
    """
    return _cut_groups([(np.asarray(crop), origin) for crop, origin in groups], score, margins)


def _cut_groups(
    groups: list[tuple[NDArray, tuple[int, int]]],
    score: Scorer | None,
    margins: list[float] | None = None,
) -> list[Digit]:
    """Each group's digits, left to right (step 5 of the module doc)."""
    margins = margins or [0.0] * len(groups)
    if score is None:
        return [
            d
            for (crop, origin), margin in zip(groups, margins, strict=True)
            for d in _digits(
                valleys.valley_split(crop, split_aspect=SPLIT_ASPECT), origin, margin=margin
            )
        ]
    wholes = [to_mnist(crop) for crop, _ in groups]
    spans = [cuts.ink_span(crop >= INK) for crop, _ in groups]
    # Only a group wide enough for two digits may be cut, or a narrower one that reads as no
    # digit at all (cuts.ODD: two 1s joined by a flag). All are read whole in one batch, the
    # narrowest too: when none is cut, that batch is the one the reader reads next, and the
    # models remember their features and answers for it.
    two_slivers = {i for i, (rows, cols) in enumerate(spans) if cols >= 2 * cuts.MIN_WIDTH * rows}
    whole = np.zeros(len(groups))
    if two_slivers:
        priors = np.asarray([cuts.size_prior(*span, span[0], whole=True) for span in spans])
        whole = score(np.stack(wholes)) - priors
    digits = []
    for i, (crop, origin) in enumerate(groups):
        rows, cols = spans[i]
        cuttable = cols >= cuts.MIN_SPLIT * rows or whole[i] < cuts.ODD
        if (
            i in two_slivers
            and cuttable
            and whole[i] < cuts.WHOLE
            and cols <= cuts.MAX_GROUP * rows
        ):
            parts = ones.apart(cuts.split(crop, score, height=rows), score, rows)
            digits += _digits(parts, origin, margin=margins[i])
        elif rows:
            # Read as one digit, it may still be a 1 written against a digit's side, unless the
            # models read it well (ones.SURE).
            sure = i not in two_slivers or whole[i] >= ones.SURE
            parts = [crop] if sure else ones.apart([crop], score, rows)
            forms = [wholes[i]] if len(parts) == 1 else None
            digits += _digits(parts, origin, forms=forms, margin=margins[i])
    return digits


def _digits(
    parts: list[NDArray],
    origin: tuple[int, int],
    forms: list[NDArray] | None = None,
    *,
    margin: float = 0.0,
) -> list[Digit]:
    """Digits from parts of a group (each its ink, the rest blank), with boxes in the drawing
    (grown by ``margin`` on every side)."""
    digits = []
    for k, part in enumerate(parts):
        mask = part >= INK
        if not mask.any():
            continue
        rows, cols = ink_box(mask)
        # Plain ints: the box goes to JSON (predict --json) and numpy's ints do not.
        x0, y0 = origin
        box = tuple(
            round(v)
            for v in (
                x0 + cols.start - margin,
                y0 + rows.start - margin,
                x0 + cols.stop + margin,
                y0 + rows.stop + margin,
            )
        )
        digits.append(Digit(to_mnist(part) if forms is None else forms[k], box))
    return digits


def has_ink(gray: NDArray) -> bool:
    """Whether an ink map holds any ink at all (at least :data:`INK`).

    With :func:`segment` finding no digit, it tells a blank drawing from one whose ink is too
    small to read (a dot, a short line, a tiny digit): people should hear which it is.

    Parameters
    ----------
    gray : ndarray of shape (H, W), dtype uint8, ink high on background 0
    """
    return bool((np.asarray(gray) >= INK).any())


def _merge_by_x_overlap(boxes: list[list]) -> list[list]:
    """Sweep left to right, merging components whose x-extents overlap enough."""
    groups: list[list] = []
    for x0, y0, x1, y1, ids, longest in sorted(boxes, key=lambda b: b[0]):
        if groups:
            g = groups[-1]
            overlap = min(g[2], x1) - max(g[0], x0)
            if overlap > 0 and overlap >= OVERLAP * min(g[2] - g[0], x1 - x0):
                g[:] = [
                    g[0],
                    min(g[1], y0),
                    max(g[2], x1),
                    max(g[3], y1),
                    g[4] + ids,
                    max(g[5], longest),
                ]
                continue
        groups.append([x0, y0, x1, y1, list(ids), longest])
    return groups
