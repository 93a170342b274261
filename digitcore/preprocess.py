"""Ink maps to MNIST-form digits: find the digits in a drawing and make each look like MNIST.

MNIST (LeCun et al.) was made from binary NIST digits: each was size-normalised to fit a 20x20
box keeping its aspect ratio, anti-aliased to grey levels, and placed in a 28x28 field with its
centre of mass at the centre. :func:`to_mnist` does exactly that, after one extra step MNIST did
not need: **stroke normalisation**. A canvas brush may be far thinner or thicker than MNIST's
pens, so the digit is binarised at a working size (:data:`WORK` pixels on its longer side),
thinned to its one-pixel skeleton and redrawn with a round, anti-aliased brush of
:data:`STROKE` times the box size (MNIST's median stroke is ~2.6 px in its 20 px box).

:func:`segment` splits a drawing into digits, left to right:

1. Ink is what is at least :data:`INK` (of 255). Connected components (8-neighbour) are found.
2. **Specks and dots**: a component whose longer side is under :data:`SPECK` of the image height
   is noise; so is a blob: under :data:`DOT_SIZE` of the height and filling at least
   :data:`DOT_FILL` of its longer side squared (a brush click, two run together).
3. **Merge**: components whose x-extents overlap by at least :data:`OVERLAP` of the narrower one
   are parts of one digit (the top bar of a 5, a 4 drawn in two strokes); a stroke tucked under
   or over another digit therefore joins it.
4. **Blank rule**: a merged group is a digit only if it, and its longest component, are at
   least :data:`MIN_HEIGHT` of the image height, and at least :data:`RELATIVE` of the tallest
   digit's height (a "1" at 40% of the canvas is; a stray dot is not).
   A group that fails this (a 5's bar drawn past the body, a broken-off
   tail) joins the nearest digit if the x-gap is at most :data:`ATTACH` of that digit's height.
5. **Split** (:mod:`digitcore.segmentation`): a group may hold touching digits. Given the
   models' score, it is split where the models read the pieces best (segmentation by
   recognition); without one, at ink valleys when wider than :data:`SPLIT_ASPECT` times its
   height.

A drawing with ink but no digit-sized group (a dot, a line, a tiny digit) is not blank:
:func:`has_ink` tells the two apart, so the reader can say "too small to read".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage as ndi
from skimage.morphology import skeletonize

from digitcore import segmentation
from digitcore.errors import ImageError
from digitcore.segmentation import Scorer

INK = 96  #: ink threshold, of 255
WORK = 60  #: working size (longer side, px) for stroke normalisation
STROKE = 0.13  #: redrawn stroke width as a fraction of the digit's longer side
KEEP = (0.6, 1.7)  #: strokes within these factors of STROKE are kept as drawn
SPECK = 0.06  #: components smaller than this fraction of image height are noise
#: a component under DOT_SIZE of the height whose ink fills DOT_FILL of its longer side squared
#: is a dot (or dots run together), not a stroke
DOT_SIZE, DOT_FILL = 0.25, 0.35
OVERLAP = 0.3  #: x-overlap (fraction of the narrower) that makes two components one digit
MIN_HEIGHT = 0.15  #: a digit is at least this fraction of the image height
RELATIVE = 0.5  #: ...and at least this fraction of the tallest digit's height
ATTACH = 0.25  #: a too-short piece joins a digit at most this x-gap (of its height) away
SPLIT_ASPECT = 1.25  #: groups wider than this times their height may hold touching digits

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


def to_mnist(gray_crop: NDArray, normalize_stroke: bool = True) -> NDArray[np.uint8]:
    """Make one digit look like an MNIST digit.

    Parameters
    ----------
    gray_crop : ndarray of shape (h, w), ink high on background 0
        One digit, any size, any margin (uint8 0-255 or float 0-1).
    normalize_stroke : bool
        Redraw the strokes at MNIST's typical width relative to the digit size (see module doc).

    Returns
    -------
    ndarray of shape (28, 28), dtype uint8
        Ink 255 on 0, fitted in the central 20x20 box by its longer side, centre of mass at
        (14, 14). All zeros if there is no ink.
    """
    g = np.asarray(gray_crop, dtype=np.float32)
    if g.max(initial=0) <= 1.0:
        g = g * 255.0
    mask = g >= INK
    if not mask.any():
        return np.zeros((28, 28), np.uint8)
    g = g[ink_box(mask)] / 255.0
    if normalize_stroke:
        g = _restroke(g)
        g = g[ink_box(g > 0.05)]
    h, w = g.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # Anti-aliasing: the area-average (box filter) of the binary digit, as for MNIST.
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    small = np.asarray(Image.fromarray(g).resize(size, resample))
    return _place_by_mass(small)


def segment(gray: NDArray, *, score: Scorer | None = None) -> list[Digit]:
    """Find the digits in an ink map, left to right.

    Parameters
    ----------
    gray : ndarray of shape (H, W), dtype uint8, ink high on background 0
        From :func:`digitcore.images.canvas_to_gray` or :func:`digitcore.images.read_image`.
    score : callable, optional
        The models' score of pieces in MNIST form (:func:`digitcore.recognize.piece_scores`):
        with it, touching digits are split by recognition
        (:func:`digitcore.segmentation.split`); without it, at ink valleys.

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
    boxes = []  # [x0, x1, y0, y1, [labels], longest side of a component]
    for i, sl in enumerate(ndi.find_objects(labels), start=1):
        if sl is None:
            continue
        y, x = sl
        longest = max(y.stop - y.start, x.stop - x.start)
        if longest < SPECK * height:
            continue
        # A dot (or a few run together) is a blob: small, and filling its bounding square.
        if longest < DOT_SIZE * height and (labels[sl] == i).sum() >= DOT_FILL * longest**2:
            continue
        boxes.append([x.start, x.stop, y.start, y.stop, [i], longest])
    groups = _merge_by_x_overlap(boxes)
    found, pieces = [], []
    for g in groups:
        x0, x1, y0, y1, ids, longest = g
        # Stacked dots can make a tall group: one stroke of the digit must be long itself.
        tall = y1 - y0 >= MIN_HEIGHT * height and longest >= MIN_HEIGHT * height
        (found if tall else pieces).append(g)
    # In a number, a group under half the tallest digit's height is a piece of a digit too.
    tallest = max((g[3] - g[2] for g in found), default=0)
    pieces += [g for g in found if g[3] - g[2] < RELATIVE * tallest]
    found = [g for g in found if g[3] - g[2] >= RELATIVE * tallest]
    for x0, x1, y0, y1, ids, _ in pieces if found else []:  # a 5's bar, a broken-off tail
        gaps = [max(g[0] - x1, x0 - g[1]) for g in found]
        g = found[int(np.argmin(gaps))]
        if min(gaps) <= ATTACH * (g[3] - g[2]):
            g[:5] = [min(g[0], x0), max(g[1], x1), min(g[2], y0), max(g[3], y1), g[4] + ids]
    digits = []
    for x0, x1, y0, y1, ids, _ in found:
        crop = np.where(np.isin(labels[y0:y1, x0:x1], ids), gray[y0:y1, x0:x1], 0)
        digits += cut(crop, (x0, y0), score=score)
    return digits


def cut(crop: NDArray, origin: tuple[int, int], *, score: Scorer | None = None) -> list[Digit]:
    """The digits in one group's ink, left to right, each in MNIST form.

    Parameters
    ----------
    crop : ndarray of shape (h, w), ink high on background 0
        One group of ink (a digit, or digits that touch), other ink blanked.
    origin : (int, int)
        ``(x, y)`` of the crop's top-left pixel in the drawing, for the digits' boxes.
    score : callable, optional
        With it, touching digits are split by recognition (:func:`digitcore.segmentation.split`);
        without it, at ink valleys (:func:`digitcore.segmentation.valley_split`).
    """
    crop = np.asarray(crop)
    if score is not None:
        parts = segmentation.split(crop, score, to_mnist=to_mnist)
    else:
        parts = segmentation.valley_split(crop, split_aspect=SPLIT_ASPECT)
    digits = []
    for part in parts:
        mask = part >= INK
        if not mask.any():
            continue
        rows, cols = ink_box(mask)
        # Plain ints: the box goes to JSON (predict --json) and numpy's ints do not.
        x0, y0 = origin
        box = tuple(
            int(v) for v in (x0 + cols.start, y0 + rows.start, x0 + cols.stop, y0 + rows.stop)
        )
        digits.append(Digit(to_mnist(part), box))
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


def ink_box(mask: NDArray[np.bool_]) -> tuple[slice, slice]:
    """The rows and columns of the smallest box holding every set pixel of a non-empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _restroke(g: NDArray[np.float32]) -> NDArray[np.float32]:
    """Skeletonise at the working size and redraw with a round anti-aliased brush."""
    h, w = g.shape
    scale = WORK / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    work = np.asarray(Image.fromarray(g).resize(size, resample))
    radius = STROKE * WORK / 2
    pad = int(np.ceil(radius)) + 2
    # A low threshold keeps hairlines that the area-average made faint.
    ink = np.pad(work >= 0.3, pad)
    skel = skeletonize(ink)
    if not skel.any():
        return np.pad(work, pad)
    width = 2.0 * float(np.mean(ndi.distance_transform_edt(ink)[skel]))
    if KEEP[0] * 2 * radius <= width <= KEEP[1] * 2 * radius:
        return np.pad(work, pad)  # already MNIST-like: keep the writer's own stroke shape
    return paint(skel, radius)


def paint(skeleton: NDArray[np.bool_], radius: float) -> NDArray[np.float32]:
    """Draw a one-pixel line with a round brush of ``radius``, anti-aliased.

    Parameters
    ----------
    skeleton : ndarray of shape (h, w), dtype bool
        The line (e.g. a skeleton); it should lie at least ``radius + 1`` pixels from the edge.
    radius : float
        Brush radius in pixels.

    Returns
    -------
    ndarray of shape (h, w), dtype float32
        Coverage 0-1: 1 within ``radius - 0.5`` of the line, falling to 0 at ``radius + 0.5``.
    """
    dist = ndi.distance_transform_edt(~skeleton)
    return np.clip(radius + 0.5 - dist, 0.0, 1.0).astype(np.float32)


def _place_by_mass(small: NDArray[np.float32]) -> NDArray[np.uint8]:
    """Put the (<=20x20) digit in 28x28 with its centre of mass at (14, 14), as MNIST did."""
    h, w = small.shape
    cy, cx = ndi.center_of_mass(small)
    top = int(np.clip(round(14.0 - cy), 0, 28 - h))
    left = int(np.clip(round(14.0 - cx), 0, 28 - w))
    out = np.zeros((28, 28), np.float32)
    out[top : top + h, left : left + w] = small
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _merge_by_x_overlap(boxes: list[list]) -> list[list]:
    """Sweep left to right, merging components whose x-extents overlap enough."""
    groups: list[list] = []
    for x0, x1, y0, y1, ids, longest in sorted(boxes, key=lambda b: b[0]):
        if groups:
            g = groups[-1]
            overlap = min(g[1], x1) - max(g[0], x0)
            if overlap > 0 and overlap >= OVERLAP * min(g[1] - g[0], x1 - x0):
                g[:] = [
                    g[0],
                    max(g[1], x1),
                    min(g[2], y0),
                    max(g[3], y1),
                    g[4] + ids,
                    max(g[5], longest),
                ]
                continue
        groups.append([x0, x1, y0, y1, list(ids), longest])
    return groups
