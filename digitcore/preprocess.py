"""Ink to MNIST form: make one digit look like an MNIST digit.

MNIST (LeCun et al.) was made from binary NIST digits: each was size-normalised to fit a 20x20
box keeping its aspect ratio, anti-aliased to grey levels, and placed in a 28x28 field with its
centre of mass at the centre. :func:`to_mnist` does exactly that, after one extra step MNIST did
not need: **stroke normalisation**. A canvas brush may be far thinner or thicker than MNIST's
pens, so the digit is binarised at a working size (:data:`WORK` pixels on its longer side),
thinned to its one-pixel skeleton and redrawn with a round, anti-aliased brush of
:data:`STROKE` times the box size (MNIST's median stroke is ~2.6 px in its 20 px box).

Cutting touching digits apart scores many candidate pieces of one group of ink: for them,
:func:`restroke_group` normalises the whole group's strokes once, at a small working height,
and :func:`piece_form` brings each piece of that copy to MNIST form without thinning it again.
Finding the digits in a drawing is :mod:`digitcore.segmentation`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage as ndi
from skimage.morphology import skeletonize

INK = 96  #: ink threshold, of 255
WORK = 60  #: working size (longer side, px) for stroke normalisation
STROKE = 0.13  #: redrawn stroke width as a fraction of the digit's longer side
KEEP = (0.6, 1.7)  #: strokes within these factors of STROKE are kept as drawn
PIECE_HEIGHT = 40  #: a digit's height (px) in the copy of touching digits that is cut up


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
    # Anti-aliasing: the area-average (box filter) of the binary digit, as for MNIST.
    return _place_by_mass(_resize(g, 20.0 / max(g.shape)))


def ink_box(mask: NDArray[np.bool_]) -> tuple[slice, slice]:
    """The rows and columns of the smallest box holding every set pixel of a non-empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _restroke(g: NDArray[np.float32]) -> NDArray[np.float32]:
    """Skeletonise at the working size and redraw with a round anti-aliased brush."""
    h, w = g.shape
    scale = WORK / max(h, w)
    return _redraw(_resize(g, scale), STROKE * WORK / 2)


def _resize(g: NDArray[np.float32], scale: float) -> NDArray[np.float32]:
    """Scale an ink map by ``scale``: area-average down (as MNIST's anti-aliasing), bilinear up."""
    h, w = g.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    # A float32 ("F") image straight from the bytes: Image.fromarray's type checks took half
    # the time of a piece's form (pieces are scored by the dozen).
    image = Image.frombuffer("F", (w, h), np.ascontiguousarray(g, np.float32), "raw", "F", 0, 1)
    resized = image.resize(size, resample)
    return np.frombuffer(resized.tobytes(), np.float32).reshape(size[1], size[0])


def _redraw(work: NDArray[np.float32], radius: float) -> NDArray[np.float32]:
    """The ink's skeleton painted with a brush of ``radius``, padded by the brush; kept as drawn
    when its strokes are already within :data:`KEEP` of that width."""
    pad = int(np.ceil(radius)) + 2
    # A low threshold keeps hairlines that the area-average made faint.
    ink = _padded(work >= 0.3, pad)
    skel = skeletonize(ink)
    if not skel.any():
        return _padded(work, pad)
    width = 2.0 * float(np.mean(ndi.distance_transform_edt(ink)[skel]))
    if KEEP[0] * 2 * radius <= width <= KEEP[1] * 2 * radius:
        return _padded(work, pad)  # already MNIST-like: keep the writer's own stroke shape
    return paint(skel, radius)


def _padded(a: NDArray, pad: int) -> NDArray:
    """``a`` with ``pad`` zeros on every side: ``np.pad(a, pad)`` without its ~25 us of
    argument handling, which counted in every digit's form."""
    out = np.zeros((a.shape[0] + 2 * pad, a.shape[1] + 2 * pad), a.dtype)
    out[pad : pad + a.shape[0], pad : pad + a.shape[1]] = a
    return out


def restroke_group(gray: NDArray, height: int) -> tuple[NDArray[np.float32], float]:
    """A group of touching digits scaled so a digit is :data:`PIECE_HEIGHT` px tall, its strokes
    redrawn as :func:`to_mnist` redraws one digit's: its pieces then need no thinning of their own.

    Parameters
    ----------
    gray : ndarray of shape (h, w), ink high on background 0 (uint8 0-255)
        The group, cropped to its ink.
    height : int
        The digits' height in ``gray``, in pixels.

    Returns
    -------
    work : ndarray of shape (about h * scale, w * scale), float32 coverage 0-1
        Cropped as ``gray`` (the brush's padding removed), so a column maps back by ``scale``.
    scale : float
        Pixels of ``work`` per pixel of ``gray``.
    """
    g = np.asarray(gray, np.float32) / 255.0
    scale = PIECE_HEIGHT / max(1, height)
    work = _resize(g, scale)
    pad = int(np.ceil(STROKE * PIECE_HEIGHT / 2)) + 2
    redrawn = _redraw(work, STROKE * PIECE_HEIGHT / 2)
    return redrawn[pad : pad + work.shape[0], pad : pad + work.shape[1]], scale


def piece_form(work_piece: NDArray[np.float32]) -> NDArray[np.uint8]:
    """MNIST form of a piece of :func:`restroke_group`'s copy: as :func:`to_mnist` without
    redrawing the strokes (done once for the group). All zeros if there is no ink."""
    mask = work_piece >= INK / 255
    if not mask.any():
        return np.zeros((28, 28), np.uint8)
    g = work_piece[ink_box(mask)]
    return _place_by_mass(_resize(g, 20.0 / max(g.shape)))


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
    # As scipy's center_of_mass, and clipping with ufuncs, without np.clip's and scipy's
    # per-call overhead (pieces are scored by the dozen).
    mass = float(small.sum(dtype=np.float64))
    cy = float(small.sum(axis=1, dtype=np.float64) @ np.arange(h)) / mass
    cx = float(small.sum(axis=0, dtype=np.float64) @ np.arange(w)) / mass
    top = min(max(round(14.0 - cy), 0), 28 - h)
    left = min(max(round(14.0 - cx), 0), 28 - w)
    out = np.zeros((28, 28), np.float32)
    out[top : top + h, left : left + w] = small
    out *= np.float32(255.0)
    out += np.float32(0.5)
    np.minimum(np.maximum(out, 0.0, out=out), 255.0, out=out)
    return out.astype(np.uint8)
