"""Speed-ups of scikit-learn's estimators: the same answers, faster for the app's few digits.

Each class changes how an answer is computed, never which answer (tests compare each with
scikit-learn's). The recipe that puts them together is :mod:`digitcore.ensemble`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import cache
from numbers import Integral
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC
from sklearn.utils._param_validation import Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from digitcore.augmentation import augment
from digitcore.caching import DerivedCacheMixin, LastResult, fingerprint
from digitcore.kernels import rbf_kernel_blas

#: Batches up to this size are predicted single-threaded (by :class:`QuickPipeline`).
SMALL_BATCH = 32

#: Digits per block in :meth:`QuickSVC.predict`: a 1024 x n_SV float32 kernel, ~36 MB.
SVC_BLOCK = 1024


class QuickForest(DerivedCacheMixin, RandomForestClassifier):
    """A :class:`RandomForestClassifier` whose ``predict_proba`` skips joblib's per-tree dispatch
    and remembers its last answer.

    That dispatch costs ~0.2 ms a tree, 20 ms for one digit with 100 trees; summing the trees'
    leaf values directly gives the same probabilities in a fraction of that. Reading a drawing
    asks the forest twice about the same digits (scoring the ink, then reading the digits):
    the last answer is a :class:`~digitcore.caching.LastResult` keyed by the input's content,
    read-only, dropped on ``fit`` and not pickled.
    """

    _derived = ("_memo",)

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        check_is_fitted(self)
        X = self._validate_X_predict(X)
        memo = self._derived_value("_memo", LastResult)
        return memo.get(fingerprint(X), lambda: self._sum_trees(X))

    def _sum_trees(self, X: NDArray[np.float32]) -> NDArray[np.float64]:
        proba = sum(tree.tree_.predict(X).reshape(len(X), -1) for tree in self.estimators_)
        return proba / len(self.estimators_)

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> Self:
        self._drop_derived()
        return super().fit(X, y, sample_weight=sample_weight)


class QuickSVC(DerivedCacheMixin, SVC):
    """An RBF :class:`SVC` whose ``predict`` evaluates the kernel with BLAS in float32.

    libsvm computes the kernel one (digit, support vector) pair at a time: 8 s for 10k test
    digits against ~9k support vectors. Here the kernel of a block of digits is one matrix
    product, and the 45 one-vs-one decisions another (``K @ W``, ``W`` holding each pair's dual
    coefficients); the one-vs-one vote then follows libsvm (ties to the lower class). Measured
    8x faster, with the same predictions on all 10k MNIST test digits. Other kernels, binary
    problems and ``break_ties`` use libsvm.
    """

    _derived = ("_blas",)  # the terms of _blas_terms(), rebuilt on first predict

    def predict(self, X: ArrayLike) -> NDArray:
        check_is_fitted(self)
        if self.kernel != "rbf" or len(self.classes_) < 3 or self.break_ties:
            return super().predict(X)
        return self._blas_predict(X)

    def _blas_predict(self, X: ArrayLike) -> NDArray:
        X = np.asarray(self._validate_for_predict(X), dtype=np.float32)
        sv, sq, w, b, first, second = self._derived_value("_blas", self._blas_terms)
        votes = np.empty((len(X), len(self.classes_)), np.int32)
        gamma = self._gamma
        for start in range(0, len(X), SVC_BLOCK):
            x = X[start : start + SVC_BLOCK]
            k = rbf_kernel_blas(x, sv, gamma=gamma, Y_sq=sq)
            positive = (k @ w + b) > 0  # pair (i, j): positive votes i, otherwise j
            # Each pair's vote counted into its class: (pairs, classes) one-hot matrices.
            votes[start : start + SVC_BLOCK] = positive @ first + ~positive @ second
        return self.classes_[votes.argmax(axis=1)]

    def _blas_terms(self) -> tuple[NDArray, ...]:
        """Support vectors, their squared norms, pair weights and intercepts, pairs' classes."""
        n = len(self.classes_)
        starts = np.r_[0, np.cumsum(self.n_support_)]
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        w = np.zeros((len(self.support_vectors_), len(pairs)), np.float32)
        for p, (i, j) in enumerate(pairs):
            # libsvm's layout: class i's vectors use coefficient row j - 1, class j's row i.
            w[starts[i] : starts[i + 1], p] = self.dual_coef_[j - 1, starts[i] : starts[i + 1]]
            w[starts[j] : starts[j + 1], p] = self.dual_coef_[i, starts[j] : starts[j + 1]]
        sv = self.support_vectors_.astype(np.float32)
        # One-hot (pairs, classes) of each pair's first and second class, as small ints.
        first, second = (np.eye(n, dtype=np.int32)[list(side)] for side in zip(*pairs, strict=True))
        return sv, (sv * sv).sum(axis=1), w, self.intercept_.astype(np.float32), first, second

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> Self:
        self._drop_derived()
        return super().fit(X, y, sample_weight)


class QuickNeighbours(DerivedCacheMixin, KNeighborsClassifier):
    """A :class:`KNeighborsClassifier` that answers a few digits fast.

    Fitted with a tree (few features: scikit-learn's "auto" picks a k-d tree), the tree is
    queried directly. For Euclidean brute-force search of a few digits, one numpy
    matrix-vector product and a partial sort beat scikit-learn's chunked search (1.3 ms instead
    of ~10 ms for one digit against 60k stored digits); the candidates' distances are then
    recomputed exactly.

    Reading a drawing searches three times for the same digits' neighbours (scoring the ink,
    the member's vote, the "not sure" distance): the last tree search's answer is remembered
    (a :class:`~digitcore.caching.LastResult` keyed by the digits and the question, read-only,
    dropped on ``fit`` and not pickled).
    """

    #: squared norms of the stored digits, rebuilt on first search; the last tree search
    _derived = ("_sq", "_memo")

    def kneighbors(
        self,
        X: ArrayLike | None = None,
        n_neighbors: int | None = None,
        return_distance: bool = True,
    ) -> tuple[NDArray, NDArray] | NDArray:
        if X is not None and getattr(self, "_tree", None) is not None:
            # scikit-learn's own tree query, without its per-call thread dispatch (4 ms for 64
            # digits): for a few digits in the discriminant space, faster than brute force.
            check_is_fitted(self)
            X = self._validate_data_for_search(X)
            k = n_neighbors or self.n_neighbors
            memo = self._derived_value("_memo", LastResult)
            return memo.get(
                fingerprint(X, int(k), bool(return_distance)),
                lambda: self._tree.query(X, k=k, return_distance=return_distance),
            )
        if X is None or len(X) > SMALL_BATCH or not self._numpy_search_applies():
            return super().kneighbors(X, n_neighbors, return_distance)
        check_is_fitted(self)
        k = n_neighbors or self.n_neighbors
        X = np.asarray(self._validate_data_for_search(X), dtype=np.float32)
        fit_X = self._fit_X
        # ||a - b||^2 - ||a||^2 ranks like the distance; keep a margin of candidates so float32
        # rounding cannot drop a true neighbour, then rank those by exact distances.
        approx = self._derived_value("_sq", self._sq_norms) - 2 * (X @ fit_X.T)
        m = min(len(fit_X), k + 8)
        candidates = np.argpartition(approx, m - 1, axis=1)[:, :m]
        diff = fit_X[candidates].astype(np.float64) - X[:, None, :]
        dist = np.sqrt(np.einsum("nmd,nmd->nm", diff, diff))
        order = np.argsort(dist, axis=1, kind="stable")[:, :k]
        ind = np.take_along_axis(candidates, order, axis=1)
        if return_distance:
            return np.take_along_axis(dist, order, axis=1), ind
        return ind

    def _numpy_search_applies(self) -> bool:
        euclidean = self.effective_metric_ == "euclidean" or (
            self.effective_metric_ == "minkowski" and self.effective_metric_params_.get("p") == 2
        )
        return euclidean and isinstance(self._fit_X, np.ndarray)

    def _validate_data_for_search(self, X: ArrayLike) -> NDArray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self._fit_X.shape[1]:
            raise ValueError(f"expected {self._fit_X.shape[1]} features, got shape {X.shape}")
        return X

    def _sq_norms(self) -> NDArray[np.float32]:
        fit_X = self._fit_X.astype(np.float32)
        return (fit_X * fit_X).sum(axis=1)

    def fit(self, X: ArrayLike, y: ArrayLike) -> Self:
        self._drop_derived()
        return super().fit(X, y)


@cache
def _threadpools() -> ThreadpoolController:
    # Made once: finding the loaded thread pools costs ~7 ms, more than the search it limits.
    return ThreadpoolController()


def _threads_for(X: ArrayLike) -> contextlib.AbstractContextManager:
    """One OpenMP and BLAS thread for a small batch (0.03 ms to set), as many as usual otherwise:
    for a few digits, waking a second thread costs more than the work (6 ms per member's matrix
    product on 2 busy cores)."""
    if len(X) > SMALL_BATCH:
        return contextlib.nullcontext()
    return _threadpools().limit(limits=1)


def _final_has(attr: str) -> Callable[[Pipeline], bool]:
    return lambda pipeline: hasattr(pipeline._final_estimator, attr)


class TagsOnceMixin(DerivedCacheMixin):
    """A :class:`Pipeline` whose scikit-learn tags are built once, not on every call.

    scikit-learn rebuilds a pipeline's tags (asking every step for its own, deep-copying some)
    in each ``check_is_fitted``, so in every ``predict`` and ``transform``: ~0.15 ms a call,
    15-17 calls in reading one 3-digit drawing (measured). The tags depend only on the steps,
    so they are dropped on ``fit`` and ``set_params``. List ``"_tags"`` in a subclass's
    ``_derived``.
    """

    _derived: tuple[str, ...] = ("_tags",)

    def __sklearn_tags__(self) -> Any:
        return self._derived_value("_tags", super().__sklearn_tags__)

    def set_params(self, **params: Any) -> Self:
        self._drop_derived()
        return super().set_params(**params)


class QuickPipeline(TagsOnceMixin, Pipeline):
    """A :class:`Pipeline` that runs small batches, every step included, on one thread.

    The app calls each member's ``predict_proba`` on a drawing's few digits, so the PCA's
    matrix product must be single-threaded as well as the classifier. Its tags are built
    once (:class:`TagsOnceMixin`).
    """

    def fit(self, X: ArrayLike, y: ArrayLike | None = None, **params: Any) -> Self:
        self._drop_derived()
        return super().fit(X, y, **params)

    def predict(self, X: ArrayLike, **params: Any) -> NDArray:
        with _threads_for(X):
            return super().predict(X, **params)

    @available_if(_final_has("predict_proba"))
    def predict_proba(self, X: ArrayLike, **params: Any) -> NDArray[np.float64]:
        with _threads_for(X):
            return super().predict_proba(X, **params)


class VirtualSupportPipeline(QuickPipeline):
    """A :class:`QuickPipeline` ending in an SVC, refitted on its support vectors plus
    ``copies`` distorted copies of each (virtual support vectors, Schoelkopf & DeCoste).

    Nearly the gain of augmenting every digit at a fraction of the cost, as SVC fitting grows
    about quadratically with the number of samples. ``fit`` takes the digit images themselves,
    since the copies are distorted images (:func:`~digitcore.augmentation.augment`).

    Parameters
    ----------
    steps : list of (name, estimator)
        As for :class:`Pipeline`; the last one an SVC.
    copies : int
        Distorted copies of each support vector (0: fit once, on the digits as given).
    """

    _parameter_constraints: ClassVar[dict] = {
        **QuickPipeline._parameter_constraints,
        "copies": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        steps: list[tuple[str, Any]],
        *,
        copies: int = 2,
        transform_input: list[str] | None = None,
        memory: Any = None,
        verbose: bool = False,
    ):
        super().__init__(steps, transform_input=transform_input, memory=memory, verbose=verbose)
        self.copies = copies

    def fit(self, X: ArrayLike, y: ArrayLike | None = None, **params: Any) -> Self:
        super().fit(X, y, **params)
        if self.copies:
            support = self._final_estimator.support_
            images, labels = augment(
                np.asarray(X)[support], np.asarray(y)[support], copies=self.copies
            )
            super().fit(images, labels, **params)
        return self


class SharedFrontEnd(TagsOnceMixin, Pipeline):
    """A front end shared by several members (the same object in their pipelines): it
    remembers its last output, so the second member reuses the first one's features.

    ``VotingClassifier.predict`` and :func:`digitcore.recognize.read_digits` hand each member
    the same digits; without this, PCA and the kernel discriminants ran once per member. The
    memo is a :class:`~digitcore.caching.LastResult` keyed by the input's content: read-only,
    dropped on ``fit`` and not pickled.
    """

    _derived = ("_memo", "_tags")

    def transform(self, X: ArrayLike, **params: Any) -> NDArray:
        compute = super().transform
        memo = self._derived_value("_memo", LastResult)
        return memo.get(fingerprint(np.asarray(X)), lambda: compute(X, **params))

    def fit(self, X: ArrayLike, y: ArrayLike | None = None, **params: Any) -> Self:
        self._drop_derived()
        return super().fit(X, y, **params)

    def fit_transform(self, X: ArrayLike, y: ArrayLike | None = None, **params: Any) -> NDArray:
        self._drop_derived()
        return super().fit_transform(X, y, **params)
