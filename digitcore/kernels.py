"""RBF kernels as BLAS matrix products, and the kernel discriminant axes built on them.

The SVC (:class:`digitcore.estimators.QuickSVC`) and :class:`KernelDiscriminants` (the KNN and
forest front end) both evaluate kernel rows with :func:`rbf_kernel_blas`.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from digitcore.caching import DerivedCacheMixin
from digitcore.features import chunks

#: Digits per block in :meth:`KernelDiscriminants.transform` (a 1024 x 3000 float64 kernel, 24 MB).
KERNEL_BLOCK = 1024


def rbf_kernel_blas(
    X: NDArray, Y: NDArray, *, gamma: float, Y_sq: NDArray | None = None
) -> NDArray:
    """``exp(-gamma ||x - y||^2)`` for every row pair, as one matrix product in ``X``'s dtype.

    scikit-learn's ``rbf_kernel`` computes float32 distances in float64 chunks: 3 ms for one
    digit against 3000 landmarks, against ~0.1 ms here. In float32 the squared distances of
    near pairs lose digits to cancellation: harmless for the SVC's decisions (same answers on
    all 10k test digits) but not for :class:`KernelDiscriminants`, whose projection amplifies
    them, so it passes float64. Tests compare the result with scikit-learn's.

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64
    Y : ndarray of shape (m, d)
    gamma : float
        Kernel width.
    Y_sq : ndarray of shape (m,), optional
        ``(Y ** 2).sum(axis=1)``; pass it when ``Y`` is used again, so it is computed once.

    Returns
    -------
    ndarray of shape (n, m), the dtype of ``X``
    """
    if Y_sq is None:
        Y_sq = (Y * Y).sum(axis=1)
    k = X @ Y.T  # becomes the kernel in place, to save memory
    k *= -2
    k += Y_sq
    k += (X * X).sum(axis=1)[:, None]
    np.maximum(k, 0, out=k)
    k *= -X.dtype.type(gamma)
    return np.exp(k, out=k)


class KernelDiscriminants(DerivedCacheMixin, TransformerMixin, BaseEstimator):
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

    #: float64 landmarks and their squared norms; the projection in float64
    _derived = ("_landmarks64", "_projection64")

    def __init__(
        self,
        *,
        n_components: int = 3000,
        gamma_scale: float = 0.25,
        shrinkage: float = 1e-3,
        random_state: int | None = 0,
    ):
        self.n_components = n_components
        self.gamma_scale = gamma_scale
        self.shrinkage = shrinkage
        self.random_state = random_state

    def fit(self, X: ArrayLike, y: ArrayLike) -> Self:
        X, y = np.asarray(X, dtype=np.float32), np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"expected one label per digit, got {len(y)} for {len(X)} digits")
        self.classes_, index = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(f"expected at least 2 classes, got {n_classes}")
        self._drop_derived()
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
        for part in chunks(len(X)):
            sums += np.eye(n_classes, dtype=np.float32)[index[part]].T @ self._kernel(X[part])
        means = ((sums / counts[:, None]).astype(np.float32) @ normalization).astype(np.float64)
        within = np.zeros((len(self.landmarks_),) * 2)
        for part in chunks(len(X)):
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
        return self._kernel64(X).astype(np.float32)

    def _kernel64(self, X: NDArray) -> NDArray[np.float64]:
        landmarks, sq = self._derived_value("_landmarks64", self._float64_landmarks)
        return rbf_kernel_blas(X.astype(np.float64), landmarks, gamma=self.gamma_, Y_sq=sq)

    def _float64_landmarks(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        landmarks = self.landmarks_.astype(np.float64)
        return landmarks, (landmarks**2).sum(axis=1)

    def transform(self, X: ArrayLike) -> NDArray[np.float32]:
        check_is_fitted(self, "projection_")
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.landmarks_.shape[1]:
            raise ValueError(
                f"expected {self.landmarks_.shape[1]} features per digit, got shape {X.shape}"
            )
        # The projection's entries reach ~1e5 and its sums cancel: in float32 a digit's axes
        # moved by up to 1% with the other digits in its batch (BLAS sums a matrix and a row in
        # different orders), and a 1 read as 7 beside a 5 and a 0. In float64 they do not.
        projection = self._derived_value(
            "_projection64", lambda: self.projection_.astype(np.float64)
        )
        out = np.empty((len(X), self.projection_.shape[1]), np.float32)
        for start in range(0, len(X), KERNEL_BLOCK):  # a 10k x 3000 kernel would be 240 MB
            block = X[start : start + KERNEL_BLOCK]
            out[start : start + KERNEL_BLOCK] = self._kernel64(block) @ projection
        return out
