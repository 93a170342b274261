"""The members' first step: deskewed gradient histograms of MNIST-form digits.

Everything here works on a whole batch ``(n, 28, 28)`` at once with numpy/scipy (no per-image
Python loop), and the transformers live in this importable module so pickled models load.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage
from sklearn.base import BaseEstimator, TransformerMixin

from digitcore.caching import LastResult, fingerprint

SIDE = 28
#: Images processed per chunk, to keep temporaries (coordinates, orientation maps) small.
CHUNK = 4096


def check_digits(images: NDArray) -> NDArray:
    """Return ``images`` as an array of shape ``(n, 28, 28)``, or raise saying what arrived."""
    images = np.asarray(images)
    if images.ndim == 2 and images.shape[1] == SIDE * SIDE:
        images = images.reshape(-1, SIDE, SIDE)
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE):
        raise ValueError(
            f"expected digits of shape (n, 28, 28) or (n, 784), got shape {images.shape}"
        )
    return images


def chunks(n: int, size: int = CHUNK) -> Iterator[slice]:
    """Slices of at most ``size`` items covering ``range(n)``, in order."""
    return (slice(i, min(i + size, n)) for i in range(0, n, size))


def deskew(images: NDArray) -> NDArray[np.float32]:
    """Shear each digit so its principal axis is vertical, centring it horizontally by mass.

    Row ``r`` is shifted sideways by ``alpha (r - r_c) + (c_c - 13.5)`` with linear
    interpolation, where ``alpha = cov(r, c) / var(r)`` comes from the image moments (the classic
    moment-based deskew). MNIST digits are already centred by mass, so rows are not moved.

    Parameters
    ----------
    images : ndarray of shape (n, 28, 28)
        Ink high on background 0, any numeric dtype.

    Returns
    -------
    ndarray of shape (n, 28, 28), float32, same intensity scale as the input.
    """
    images = check_digits(images)
    out = np.empty(images.shape, np.float32)
    grid = np.arange(SIDE, dtype=np.float32)
    pad = SIDE // 2  # a shear never moves a row further than this inside the frame
    for part in chunks(len(images)):
        x = images[part].astype(np.float32)
        mass = np.maximum(x.sum(axis=(1, 2)), 1e-6)  # blank image: no shear, no shift
        rows, cols = x.sum(axis=2), x.sum(axis=1)
        r_c = rows @ grid / mass
        c_c = cols @ grid / mass
        dr = grid[None] - r_c[:, None]
        var_r = (rows * dr**2).sum(axis=1) / mass
        cov = np.einsum("nrc,nr,c->n", x, dr, grid) / mass  # = sum x (r - r_c)(c - c_c) / mass
        alpha = np.where(var_r > 1e-3, cov / np.maximum(var_r, 1e-3), 0.0)
        # Output pixel (r, c) reads input column c + shift[r]: each row is a 1-D resampling.
        shift = np.clip(alpha[:, None] * dr + (c_c - (SIDE - 1) / 2)[:, None], -pad, pad)
        whole = np.floor(shift)
        frac = (shift - whole)[..., None].astype(np.float32)
        padded = np.zeros((len(x), SIDE, SIDE + 2 * pad + 1), np.float32)
        padded[:, :, pad : pad + SIDE] = x
        index = np.arange(SIDE)[None, None] + whole.astype(np.intp)[..., None] + pad
        left = np.take_along_axis(padded, index, axis=2)
        right = np.take_along_axis(padded, index + 1, axis=2)
        out[part] = left + frac * (right - left)
    return out


def gradient_histograms(
    images: NDArray, *, orientations: int = 12, cell: int = 4, sigma: float = 2.0
) -> NDArray[np.float32]:
    """Batched HOG-like features: oriented gradient channels, Gaussian-pooled on a grid.

    Each channel is the half-wave rectified gradient along one of ``orientations`` directions
    over the full circle (signed: which side of a stroke is ink matters), a cheap, vectorised
    stand-in for HOG's orientation binning. Channels are pooled with Gaussian weights of width
    ``sigma`` centred every ``cell`` pixels; the vector is square-rooted (Hellinger) and
    L2-normalised so stroke darkness and width matter less.

    Parameters
    ----------
    images : ndarray of shape (n, 28, 28)
    orientations : int
        Number of gradient directions over 360 degrees.
    cell : int
        Pooling grid step in pixels (must divide 28).
    sigma : float
        Width of the Gaussian pooling in pixels.

    Returns
    -------
    ndarray of shape (n, orientations * (28 // cell) ** 2), float32
    """
    images = check_digits(images)
    if SIDE % cell:
        raise ValueError(f"cell must divide 28, got {cell}")
    side = SIDE // cell
    centres = np.arange(side) * cell + (cell - 1) / 2
    pool = np.exp(-0.5 * ((np.arange(SIDE)[None] - centres[:, None]) / sigma) ** 2)
    pool = (pool / pool.sum(axis=1, keepdims=True)).astype(np.float32).T  # (28, side)
    angles = np.arange(orientations) * 2 * np.pi / orientations
    cos, sin = np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)
    out = np.empty((len(images), orientations, side, side), np.float32)
    for part in chunks(len(images), CHUNK // orientations):
        x = images[part].astype(np.float32)
        m = len(x)
        # Sobel within each image (ndimage.sobel would also smooth across the batch axis).
        gr = _sobel(x, axis=1)[:, None]
        gc = _sobel(x, axis=2)[:, None]
        channels = np.maximum(cos[None, :, None, None] * gc + sin[None, :, None, None] * gr, 0)
        # Separable pooling as two matrix products, columns then rows, each one flat BLAS
        # call over every image and orientation (a stack of small products is ~4x slower).
        cols_pooled = channels.reshape(-1, SIDE) @ pool  # (m * o * 28, side)
        rows_first = np.swapaxes(cols_pooled.reshape(m, orientations, SIDE, side), 2, 3)
        pooled = np.ascontiguousarray(rows_first).reshape(-1, SIDE) @ pool
        out[part] = np.swapaxes(pooled.reshape(m, orientations, side, side), 2, 3)
    feats = np.sqrt(out.reshape(len(images), -1))
    return feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-6)


def _sobel(x: NDArray[np.float32], axis: int) -> NDArray[np.float32]:
    other = 3 - axis
    smooth = ndimage.correlate1d(x, [1.0, 2.0, 1.0], axis=other, mode="constant")
    return ndimage.correlate1d(smooth, [-1.0, 0.0, 1.0], axis=axis, mode="constant")


def to_float32(X: NDArray) -> NDArray[np.float32]:
    """Cast features to float32: half the memory of float64 for stored KNN samples."""
    return np.asarray(X, dtype=np.float32)


#: The last features :class:`DeskewedGradients` computed (at most a test set's): every
#: instance shares it, since each member's pipeline holds its own instance.
_memo = LastResult()


class DeskewedGradients(TransformerMixin, BaseEstimator):
    """:func:`gradient_histograms` of :func:`deskew`, remembering the last batch's result.

    Every member starts with these features; ``VotingClassifier.predict`` hands all members
    the same images, so all but the first reuse the first one's features instead of computing
    them again (1.2 s for 10k digits, 0.7 ms for one). The memo
    (:class:`~digitcore.caching.LastResult`) is keyed by the images' content and the
    parameters, keeps only the most recent result, and returns it read-only.

    Parameters
    ----------
    orientations, cell, sigma
        As for :func:`gradient_histograms`.
    """

    def __init__(self, *, orientations: int = 12, cell: int = 4, sigma: float = 2.0):
        self.orientations = orientations
        self.cell = cell
        self.sigma = sigma

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> Self:
        check_digits(X)
        return self

    def transform(self, X: ArrayLike) -> NDArray[np.float32]:
        """Features of shape ``(n, orientations * (28 // cell) ** 2)``, float32, read-only."""
        images = check_digits(X)
        params = {"orientations": self.orientations, "cell": self.cell, "sigma": self.sigma}
        key = fingerprint(images, int(self.orientations), int(self.cell), float(self.sigma))
        return _memo.get(key, lambda: gradient_histograms(deskew(images), **params))
