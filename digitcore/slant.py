"""Slant: how far handwriting leans, and the same ink stood upright.

Most people's writing leans. Between two slanted digits that touch, every upright cut runs
through both (the top of one, the foot of the other), so :mod:`digitcore.cuts` also cuts a
group stood upright: :func:`upright_shifts` says how far to move each row, :func:`shear_rows`
moves them. Moving whole rows by whole pixels keeps every pixel as it was, so a cut found in
the upright copy maps back exactly (subtract the row's shift).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

#: writing that leans less than this (columns per row; 0.25 is about 14 degrees) is taken as
#: upright
MIN = 0.1
WINDOW = 0.3  #: edges within this of the slant found so far count towards it
BLUR = 1.5  #: px: the edges' directions are taken on the ink smoothed this much
EDGE = 0.3  #: an edge is at least this fraction of the strongest edge's strength


def measure(ink: NDArray[np.float32]) -> float:
    """How far writing leans right, in columns per row (negative: to the left).

    The median direction of the ink's edges that run roughly down the page, weighted by their
    strength squared, on the ink smoothed by :data:`BLUR`. Taken three times, each time only
    over the edges within :data:`WINDOW` of the last answer, starting upright: a 2's or a 7's
    diagonal then does not pull it.

    Parameters
    ----------
    ink : ndarray of shape (h, w), float32 coverage 0-1
        One group of writing, e.g. from :func:`digitcore.preprocess.restroke_group`.

    Returns
    -------
    float
        0.0 when there are no edges (no ink, or ink everywhere).
    """
    gx = ndi.gaussian_filter(ink, BLUR, order=(0, 1))
    gy = ndi.gaussian_filter(ink, BLUR, order=(1, 0))
    weight = gx * gx + gy * gy
    edge = (weight > EDGE**2 * weight.max(initial=0)) & (np.abs(gx) > 1e-6)
    lean, weight = gy[edge] / gx[edge], weight[edge]
    found = 0.0
    for _ in range(3):
        near = np.abs(lean - found) < WINDOW
        if not near.any():
            break
        order = np.argsort(lean[near])
        cum = np.cumsum(weight[near][order])
        found = float(lean[near][order][np.searchsorted(cum, cum[-1] / 2)])
    return found


def upright_shifts(ink: NDArray[np.float32]) -> NDArray[np.intp]:
    """How far to move each row right to stand the writing upright.

    Parameters
    ----------
    ink : ndarray of shape (h, w), float32 coverage 0-1

    Returns
    -------
    ndarray of shape (h,), dtype intp
        At least 0, the least 0; all 0 when the writing leans less than :data:`MIN`
        (:func:`measure`).
    """
    h = ink.shape[0]
    lean = measure(ink)
    if abs(lean) < MIN:
        return np.zeros(h, np.intp)
    shift = np.round(lean * (np.arange(h) - (h - 1) / 2)).astype(np.intp)
    return shift - shift.min()


def shear_rows(ink: NDArray, shift: NDArray[np.intp]) -> NDArray:
    """``ink`` with row ``r`` moved ``shift[r]`` columns right, widened to hold every row.

    Parameters
    ----------
    ink : ndarray of shape (h, w)
    shift : ndarray of shape (h,), dtype intp, each at least 0

    Returns
    -------
    ndarray of shape (h, w + shift.max()), ``ink``'s dtype
    """
    h, w = ink.shape
    out = np.zeros((h, w + int(shift.max(initial=0))), ink.dtype)
    for r in range(h):
        out[r, shift[r] : shift[r] + w] = ink[r]
    return out
