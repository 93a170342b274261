"""Feature transformers and training-set augmentation for MNIST-form digits.

Everything here works on a whole batch ``(n, 28, 28)`` at once with numpy/scipy (no per-image
Python loop), and the transformers live in this importable module so pickled models load.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import NDArray
from scipy import linalg, ndimage
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

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


def _chunks(n: int):
    return (slice(i, min(i + CHUNK, n)) for i in range(0, n, CHUNK))


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
    for part in _chunks(len(images)):
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
    images: NDArray, orientations: int = 12, cell: int = 4, sigma: float = 2.0
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
    out = np.empty((len(images), orientations, side, side), np.float32)
    for part in _chunks(len(images)):
        x = images[part].astype(np.float32)
        # Sobel within each image (ndimage.sobel would also smooth across the batch axis).
        gr = _sobel(x, axis=1)
        gc = _sobel(x, axis=2)
        for b, angle in enumerate(angles):
            channel = np.maximum(np.float32(np.cos(angle)) * gc + np.float32(np.sin(angle)) * gr, 0)
            # Separable pooling as two matrix products: columns, then rows.
            cols_pooled = channel @ pool  # (m, 28, side)
            out[part, b] = np.swapaxes(np.swapaxes(cols_pooled, 1, 2) @ pool, 1, 2)
    feats = np.sqrt(out.reshape(len(images), -1))
    return feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-6)


def augment(
    images: NDArray,
    labels: NDArray,
    copies: int = 1,
    max_shift: float = 1.5,
    max_rotation: float = 12.0,
    max_scale: float = 0.1,
    elastic: float = 0.8,
    random_state: int | None = 0,
) -> tuple[NDArray[np.uint8], NDArray]:
    """Return the originals plus ``copies`` randomly distorted copies of each digit.

    Each copy gets a random rotation (degrees), scaling, sub-pixel shift and a smooth elastic
    displacement (Gaussian-filtered noise, ``elastic`` pixels at most on average), then a third
    of the copies get a thicker stroke and a third a thinner one (grey dilation / erosion), as
    real drawings come with any brush width.

    Parameters
    ----------
    images : ndarray of shape (n, 28, 28), uint8
    labels : ndarray of shape (n,)
    copies : int
        Distorted copies per original (0 returns the inputs).
    max_shift, max_rotation, max_scale, elastic : float
        Bounds of the random distortions (pixels, degrees, relative scale, pixels).
    random_state : int or None

    Returns
    -------
    images : ndarray of shape (n * (copies + 1), 28, 28), uint8
    labels : ndarray of shape (n * (copies + 1),)
    """
    images = check_digits(images)
    labels = np.asarray(labels)
    if len(labels) != len(images):
        raise ValueError(
            f"expected one label per image, got {len(labels)} labels for {len(images)} images"
        )
    rng = np.random.default_rng(random_state)
    out = [np.asarray(images, np.uint8)]
    centre = (SIDE - 1) / 2.0
    grid_r, grid_c = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) - centre
    for _ in range(copies):
        warped = np.empty(images.shape, np.uint8)
        for part in _chunks(len(images)):
            x = images[part].astype(np.float32)
            m = len(x)
            theta = np.deg2rad(rng.uniform(-max_rotation, max_rotation, m))[:, None, None]
            scale = rng.uniform(1 - max_scale, 1 + max_scale, m)[:, None, None]
            shift = rng.uniform(-max_shift, max_shift, (2, m))[:, :, None, None]
            cos, sin = np.cos(theta) / scale, np.sin(theta) / scale
            # Inverse map: output pixel (r, c) reads the input at a rotated, scaled, shifted spot.
            rows = cos * grid_r - sin * grid_c + centre + shift[0]
            cols = sin * grid_r + cos * grid_c + centre + shift[1]
            if elastic > 0:
                noise = rng.uniform(-1, 1, (2, m, SIDE, SIDE)).astype(np.float32)
                field = ndimage.gaussian_filter(noise, sigma=(0, 0, 4, 4))
                field *= elastic / np.maximum(np.abs(field).mean(axis=(2, 3), keepdims=True), 1e-6)
                rows, cols = rows + field[0], cols + field[1]
            index = np.broadcast_to(np.arange(m, dtype=np.float32)[:, None, None], rows.shape)
            # An integer index along axis 0 makes this 3-D linear interpolation per-image 2-D.
            coords = np.stack([index, rows, cols])
            x = ndimage.map_coordinates(x, coords, order=1, mode="constant", cval=0.0)
            width = rng.integers(0, 3, m)  # 0 keep, 1 thicker, 2 thinner
            x[width == 1] = ndimage.grey_dilation(x[width == 1], size=(1, 2, 2))
            x[width == 2] = ndimage.grey_erosion(x[width == 2], footprint=_CROSS)
            warped[part] = np.clip(x, 0, 255).round().astype(np.uint8)
        out.append(warped)
    return np.concatenate(out), np.tile(labels, copies + 1)


#: Plus-shaped footprint: erosion by it thins strokes by about one pixel.
_CROSS = ndimage.generate_binary_structure(2, 1)[None]


def _sobel(x: NDArray[np.float32], axis: int) -> NDArray[np.float32]:
    other = 3 - axis
    smooth = ndimage.correlate1d(x, [1.0, 2.0, 1.0], axis=other, mode="constant")
    return ndimage.correlate1d(smooth, [-1.0, 0.0, 1.0], axis=axis, mode="constant")


def to_float32(X: NDArray) -> NDArray[np.float32]:
    """Cast features to float32: half the memory of float64 for stored KNN samples."""
    return np.asarray(X, dtype=np.float32)


def rbf_kernel_blas(X: NDArray, Y: NDArray, Y_sq: NDArray, gamma: float) -> NDArray:
    """``exp(-gamma ||x - y||^2)`` for every row pair, as one matrix product in ``X``'s dtype.

    scikit-learn's ``rbf_kernel`` computes float32 distances in float64 chunks: 3 ms for one
    digit against 3000 landmarks, against ~0.1 ms here. In float32 the squared distances of
    near pairs lose digits to cancellation: harmless for the SVC's decisions (same answers on
    all 10k test digits) but not for :class:`KernelDiscriminants`, whose projection amplifies
    them, so it passes float64. ``Y_sq`` is ``(Y ** 2).sum(axis=1)``, computed once by the
    caller. Tests compare the result with scikit-learn's.

    Returns
    -------
    ndarray of shape (len(X), len(Y)), the dtype of ``X``
    """
    k = X @ Y.T  # becomes the kernel in place, to save memory
    k *= -2
    k += Y_sq
    k += (X * X).sum(axis=1)[:, None]
    np.maximum(k, 0, out=k)
    k *= -X.dtype.type(gamma)
    return np.exp(k, out=k)


class KernelDiscriminants(TransformerMixin, BaseEstimator):
    """Nonlinear discriminant axes: linear discriminant analysis in an RBF kernel's feature space.

    An approximate kernel Fisher discriminant: the digits are mapped by a Nystroem approximation
    of the RBF kernel (``n_components`` landmark digits), and LDA finds the ``n_classes - 1``
    axes of that space that best separate the classes. In these few dimensions a digit's
    nearest neighbours and a tree's splits are nearly as reliable as an SVC, while their errors
    still differ from it (measured in benchmarks/README.md).

    The axes are those of scikit-learn's ``Nystroem`` followed by
    ``LinearDiscriminantAnalysis(solver="eigen", shrinkage=shrinkage)`` (a test checks it), but
    fitted without holding their ``n_samples x n_components`` feature matrix: the within-class
    scatter is accumulated block by block in float32, and only the top axes are solved for.

    Only what ``transform`` needs is kept: the landmarks and one ``(n_components, n_classes - 1)``
    matrix folding Nystroem's normalisation into the LDA projection (~1 MB in all).

    Parameters
    ----------
    n_components : int
        Landmarks of the Nystroem approximation (more is more accurate and slower to fit).
    gamma_scale : float
        RBF width relative to scikit-learn's ``gamma="scale"`` (``1 / (n_features * X.var())``);
        below 1 is a wider kernel, which suits the discriminant better than the SVC's width.
    shrinkage : float
        LDA's covariance shrinkage, which keeps the within-class scatter well conditioned.
    random_state : int or None
        Seed for choosing the landmarks.
    """

    def __init__(
        self,
        n_components: int = 3000,
        gamma_scale: float = 0.25,
        shrinkage: float = 1e-3,
        random_state: int | None = 0,
    ):
        self.n_components = n_components
        self.gamma_scale = gamma_scale
        self.shrinkage = shrinkage
        self.random_state = random_state

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=np.float32), np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"expected one label per digit, got {len(y)} for {len(X)} digits")
        self.classes_, index = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(f"expected at least 2 classes, got {n_classes}")
        self.__dict__.pop("_landmarks64", None)
        self.gamma_ = float(self.gamma_scale / (X.shape[1] * X.var()))
        # Landmarks and normalisation exactly as Nystroem chooses them.
        order = check_random_state(self.random_state).permutation(len(X))
        self.landmarks_ = X[order[: min(self.n_components, len(X))]]
        values, vectors = linalg.eigh(self._kernel(self.landmarks_).astype(np.float64))
        # Nystroem's map K_mm^-1/2 (scipy's eigh of the symmetric kernel, not a general SVD).
        normalization = ((vectors / np.sqrt(np.maximum(values, 1e-12))) @ vectors.T).astype(
            np.float32
        )

        # Class means in the Nystroem space, then the pooled within-class scatter around them,
        # one block of digits at a time; the feature matrix Z = K N is never held whole.
        counts = np.bincount(index, minlength=n_classes)
        sums = np.zeros((n_classes, len(self.landmarks_)))
        for part in _chunks(len(X)):
            sums += np.eye(n_classes, dtype=np.float32)[index[part]].T @ self._kernel(X[part])
        means = ((sums / counts[:, None]).astype(np.float32) @ normalization).astype(np.float64)
        within = np.zeros((len(self.landmarks_),) * 2)
        for part in _chunks(len(X)):
            z = self._kernel(X[part]) @ normalization
            z -= means[index[part]].astype(np.float32)
            within += z.T @ z
        priors = counts / len(X)
        within /= len(X)
        spread = (means - priors @ means) * np.sqrt(priors)[:, None]
        between = spread.T @ spread
        # LDA's shrunk scatter matrices: (1 - a) S + a trace(S) / p I, as scikit-learn's.
        a, p = self.shrinkage, len(within)
        within = (1 - a) * within + a * np.trace(within) / p * np.eye(p)
        between = (1 - a) * between + a * np.trace(between) / p * np.eye(p)
        _, axes = linalg.eigh(between, within, subset_by_index=(p - n_classes + 1, p - 1))
        # Nystroem maps k -> k @ normalization and LDA z -> z @ axes: fold them into one matrix.
        self.projection_ = normalization @ axes[:, ::-1].astype(np.float32)
        return self

    def _kernel(self, X: NDArray) -> NDArray[np.float32]:
        """Kernel rows of ``X`` against the landmarks: computed in float64, kept in float32."""
        cached = self.__dict__.get("_landmarks64")
        if cached is None:
            landmarks = self.landmarks_.astype(np.float64)
            cached = self.__dict__["_landmarks64"] = (landmarks, (landmarks**2).sum(axis=1))
        landmarks, sq = cached
        return rbf_kernel_blas(X.astype(np.float64), landmarks, sq, self.gamma_).astype(np.float32)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_landmarks64", None)  # derived, rebuilt on first use
        return state

    def transform(self, X):
        check_is_fitted(self, "projection_")
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.landmarks_.shape[1]:
            raise ValueError(
                f"expected {self.landmarks_.shape[1]} features per digit, got shape {X.shape}"
            )
        out = np.empty((len(X), self.projection_.shape[1]), np.float32)
        for start in range(0, len(X), KERNEL_BLOCK):  # a 10k x 3000 kernel would be 240 MB
            block = X[start : start + KERNEL_BLOCK]
            out[start : start + KERNEL_BLOCK] = self._kernel(block) @ self.projection_
        return out


#: Digits per block in :meth:`KernelDiscriminants.transform` (a 1024 x 3000 float64 kernel, 24 MB).
KERNEL_BLOCK = 1024


#: Largest result (bytes) the feature memo keeps: a 10k test set (23.5 MB), not a training set.
MEMO_MAX_BYTES = 64 * 2**20

#: The last ``(key, features)`` computed by :class:`DeskewedGradients`, swapped as one tuple so
#: concurrent readers always see a matching pair.
_memo: tuple[tuple, NDArray[np.float32]] | None = None


def content_key(images: NDArray, params: tuple = ()) -> tuple:
    """A key identifying ``images`` by content (BLAKE2b of its bytes), dtype, shape and params."""
    data = np.ascontiguousarray(images)
    digest = hashlib.blake2b(data.view(np.uint8).reshape(-1), digest_size=16).digest()
    return (digest, data.dtype.str, data.shape, params)


def deskewed_gradients(
    images: NDArray, orientations: int = 12, cell: int = 4, sigma: float = 2.0
) -> NDArray[np.float32]:
    """:func:`gradient_histograms` of :func:`deskew`, remembering the last batch's result.

    The ensemble's three members each start with these features; ``VotingClassifier.predict``
    hands all three the same images, so the second and third member reuse the first one's
    features instead of computing them again (1.2 s for 10k digits, 0.7 ms for one). Only the
    most recent result is kept, and only if it is at most :data:`MEMO_MAX_BYTES`; it is
    returned read-only, so no caller can change what the next one gets.

    Parameters
    ----------
    images : ndarray of shape (n, 28, 28)
    orientations, cell, sigma
        As for :func:`gradient_histograms`.

    Returns
    -------
    ndarray of shape (n, orientations * (28 // cell) ** 2), float32, read-only
    """
    global _memo
    images = check_digits(images)
    key = content_key(images, (int(orientations), int(cell), float(sigma)))
    memo = _memo  # one read: another thread may swap it meanwhile
    if memo is not None and memo[0] == key:
        return memo[1]
    feats = gradient_histograms(deskew(images), orientations, cell, sigma)
    feats.flags.writeable = False
    if feats.nbytes <= MEMO_MAX_BYTES:
        _memo = (key, feats)
    return feats


class DeskewedGradients(TransformerMixin, BaseEstimator):
    """Transformer form of :func:`deskewed_gradients` (deskew, then gradient histograms, memoised).

    Parameters
    ----------
    orientations, cell, sigma
        As for :func:`gradient_histograms`.
    """

    def __init__(self, orientations: int = 12, cell: int = 4, sigma: float = 2.0):
        self.orientations = orientations
        self.cell = cell
        self.sigma = sigma

    def fit(self, X, y=None):
        check_digits(X)
        return self

    def transform(self, X):
        return deskewed_gradients(X, self.orientations, self.cell, self.sigma)
