"""The product's model: a hard-voting ensemble of an SVC, a k-nearest-neighbours classifier and a
random forest, each a Pipeline that takes MNIST-form digits ``(n, 28, 28)`` uint8 directly.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from numpy.typing import NDArray
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, LabelEncoder
from sklearn.svm import SVC
from sklearn.utils import Bunch
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from digitcore.features import (
    MEMO_MAX_BYTES,
    DeskewedGradients,
    KernelDiscriminants,
    augment,
    content_key,
    rbf_kernel_blas,
    to_float32,
)

#: The members, in the order they vote, with their display names.
MEMBERS: dict[str, str] = {"svc": "SVC", "knn": "k-nearest neighbours", "rf": "random forest"}

#: Hyperparameters a user may set, by member, with their defaults (tuned on MNIST, see
#: benchmarks/README.md).
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "svc": {"C": 5.0, "gamma": "scale"},
    "knn": {"n_neighbors": 3},
    "rf": {"n_estimators": 60, "max_depth": None},
}

#: Distorted copies made of each SVC support vector for its second fit (virtual support vectors).
VIRTUAL_COPIES = 2

#: Principal components of the gradient features each member sees.
N_COMPONENTS = 60

#: Hard-voting weights in MEMBERS order: any two agreeing members (2) outvote the SVC (1.5),
#: and a three-way split goes to the SVC (sklearn would pick the lowest digit). The SVC is the
#: member whose input differs from the other two. Three-way splits are rare (3 of the 10k test
#: digits with the full-data model) and the members about equally accurate (99.41-99.43%).
WEIGHTS = (1.5, 1.0, 1.0)

#: progress(member_name, done_members, total_members, fit_seconds or None)
TrainProgress = Callable[[str, int, int, float | None], None]


def gradient_features(random_state: int = 0, kernel_discriminants: bool = False) -> Pipeline:
    """A members' front end: deskew, gradient histograms, PCA, as float32.

    With ``kernel_discriminants``, the principal components are then mapped to the 9
    :class:`~digitcore.features.KernelDiscriminants` axes: nonlinear features in which nearest
    neighbours and tree splits come close to the SVC's accuracy.
    """
    # One memoised step: the three members' pipelines compute these features once per batch.
    steps = [
        ("gradients", DeskewedGradients()),
        ("pca", PCA(N_COMPONENTS, random_state=random_state)),
        ("float32", FunctionTransformer(to_float32)),
    ]
    if kernel_discriminants:
        steps.append(("discriminants", KernelDiscriminants(random_state=random_state)))
        return SharedFrontEnd(steps)
    return Pipeline(steps)


class SharedFrontEnd(Pipeline):
    """A front end shared by several members (the same object in their pipelines): it
    remembers its last output, so the second member reuses the first one's features.

    ``VotingClassifier.predict`` and :func:`digitcore.recognize.read_digits` hand each member
    the same digits; without this, PCA and the kernel discriminants ran once per member. The
    memo is keyed by the input's content (as :func:`~digitcore.features.deskewed_gradients`'),
    holds at most :data:`~digitcore.features.MEMO_MAX_BYTES`, is read-only, and is not pickled.
    """

    def transform(self, X, **params):
        key = content_key(np.asarray(X))
        last = self.__dict__.get("_last")  # one read: another thread may replace it
        if last is not None and last[0] == key:
            return last[1]
        out = super().transform(X, **params)
        out.flags.writeable = False
        if out.nbytes <= MEMO_MAX_BYTES:
            self.__dict__["_last"] = (key, out)
        return out

    def fit(self, X, y=None, **params):
        self.__dict__.pop("_last", None)
        return super().fit(X, y, **params)

    def fit_transform(self, X, y=None, **params):
        self.__dict__.pop("_last", None)
        return super().fit_transform(X, y, **params)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_last", None)  # derived from the last input, not part of the model
        return state


class QuickForest(RandomForestClassifier):
    """A :class:`RandomForestClassifier` whose ``predict_proba`` skips joblib's per-tree dispatch.

    That dispatch costs ~0.2 ms a tree, 20 ms for one digit with 100 trees; summing the trees'
    leaf values directly gives the same probabilities in a fraction of that.
    """

    def predict_proba(self, X):
        check_is_fitted(self)
        X = self._validate_X_predict(X)
        proba = sum(tree.tree_.predict(X).reshape(len(X), -1) for tree in self.estimators_)
        return proba / len(self.estimators_)


class QuickSVC(SVC):
    """An RBF :class:`SVC` whose ``predict`` evaluates the kernel with BLAS in float32.

    libsvm computes the kernel one (digit, support vector) pair at a time: 8 s for 10k test
    digits against ~9k support vectors. Here the kernel of a block of digits is one matrix
    product, and the 45 one-vs-one decisions another (``K @ W``, ``W`` holding each pair's dual
    coefficients); the one-vs-one vote then follows libsvm (ties to the lower class). Measured
    8x faster, with the same predictions on all 10k MNIST test digits. Other kernels, binary
    problems and ``break_ties`` use libsvm.
    """

    def predict(self, X):
        check_is_fitted(self)
        if self.kernel != "rbf" or len(self.classes_) < 3 or self.break_ties:
            return super().predict(X)
        return self._blas_predict(X)

    def _blas_predict(self, X):
        X = np.asarray(self._validate_for_predict(X), dtype=np.float32)
        sv, sq, w, b, first, second = self._blas_terms()
        votes = np.empty((len(X), len(self.classes_)), np.int32)
        gamma = self._gamma
        for start in range(0, len(X), SVC_BLOCK):
            x = X[start : start + SVC_BLOCK]
            k = rbf_kernel_blas(x, sv, sq, gamma)
            positive = (k @ w + b) > 0  # pair (i, j): positive votes i, otherwise j
            block = votes[start : start + SVC_BLOCK]
            block[:] = 0
            for p, (i, j) in enumerate(zip(first, second, strict=True)):
                block[:, i] += positive[:, p]
                block[:, j] += ~positive[:, p]
        return self.classes_[votes.argmax(axis=1)]

    def _blas_terms(self):
        """Support vectors, their squared norms, pair weights and intercepts, made once."""
        terms = self.__dict__.get("_blas")
        if terms is None:
            n = len(self.classes_)
            starts = np.r_[0, np.cumsum(self.n_support_)]
            pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
            w = np.zeros((len(self.support_vectors_), len(pairs)), np.float32)
            for p, (i, j) in enumerate(pairs):
                # libsvm's layout: class i's vectors use coefficient row j - 1, class j's row i.
                w[starts[i] : starts[i + 1], p] = self.dual_coef_[j - 1, starts[i] : starts[i + 1]]
                w[starts[j] : starts[j + 1], p] = self.dual_coef_[i, starts[j] : starts[j + 1]]
            sv = self.support_vectors_.astype(np.float32)
            first, second = (np.array(side) for side in zip(*pairs, strict=True))
            terms = (
                sv,
                (sv * sv).sum(axis=1),
                w,
                self.intercept_.astype(np.float32),
                first,
                second,
            )
            self.__dict__["_blas"] = terms
        return terms

    def fit(self, X, y, sample_weight=None):
        self.__dict__.pop("_blas", None)
        return super().fit(X, y, sample_weight)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_blas", None)  # derived, rebuilt on first predict: keep the file small
        return state


#: Digits per block in :meth:`QuickSVC.predict`: a 1024 x n_SV float32 kernel, ~36 MB.
SVC_BLOCK = 1024


class QuickNeighbours(KNeighborsClassifier):
    """A :class:`KNeighborsClassifier` that answers a few digits fast.

    For Euclidean brute-force search of a few digits, one numpy matrix-vector product and
    a partial sort beat scikit-learn's chunked search (1.3 ms instead of ~10 ms for one digit
    against 60k stored digits); the candidates' distances are then recomputed exactly.
    """

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        if X is None or len(X) > SMALL_BATCH or not self._numpy_search_applies():
            return super().kneighbors(X, n_neighbors, return_distance)
        check_is_fitted(self)
        k = n_neighbors or self.n_neighbors
        X = np.asarray(self._validate_data_for_search(X), dtype=np.float32)
        fit_X = self._fit_X
        # ||a - b||^2 - ||a||^2 ranks like the distance; keep a margin of candidates so float32
        # rounding cannot drop a true neighbour, then rank those by exact distances.
        approx = self._sq_norms() - 2 * (X @ fit_X.T)
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

    def _validate_data_for_search(self, X):
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self._fit_X.shape[1]:
            raise ValueError(f"expected {self._fit_X.shape[1]} features, got shape {X.shape}")
        return X

    def _sq_norms(self):
        sq = self.__dict__.get("_sq")
        if sq is None:
            fit_X = self._fit_X.astype(np.float32)
            sq = self.__dict__["_sq"] = (fit_X * fit_X).sum(axis=1)
        return sq

    def fit(self, X, y):
        self.__dict__.pop("_sq", None)
        return super().fit(X, y)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_sq", None)  # derived, rebuilt on first search
        return state


#: Batches up to this size are predicted single-threaded (by :class:`QuickPipeline`).
SMALL_BATCH = 32


@cache
def _threadpools() -> ThreadpoolController:
    # Made once: finding the loaded thread pools costs ~7 ms, more than the search it limits.
    return ThreadpoolController()


def _threads_for(X) -> contextlib.AbstractContextManager:
    """One OpenMP and BLAS thread for a small batch (0.03 ms to set), as many as usual otherwise:
    for a few digits, waking a second thread costs more than the work (6 ms per member's matrix
    product on 2 busy cores)."""
    if len(X) > SMALL_BATCH:
        return contextlib.nullcontext()
    return _threadpools().limit(limits=1)


def _final_has(attr: str) -> Callable[[Pipeline], bool]:
    return lambda pipeline: hasattr(pipeline._final_estimator, attr)


class QuickPipeline(Pipeline):
    """A :class:`Pipeline` that runs small batches, every step included, on one thread.

    The app calls each member's ``predict_proba`` on a drawing's few digits, so the PCA's
    matrix product must be single-threaded as well as the classifier.
    """

    def predict(self, X, **params):
        with _threads_for(X):
            return super().predict(X, **params)

    @available_if(_final_has("predict_proba"))
    def predict_proba(self, X, **params):
        with _threads_for(X):
            return super().predict_proba(X, **params)


class VirtualSupportPipeline(QuickPipeline):
    """A :class:`QuickPipeline` ending in an SVC, refitted on its support vectors plus
    :data:`VIRTUAL_COPIES` distorted copies of each (virtual support vectors, Schoelkopf &
    DeCoste).

    Nearly the gain of augmenting every digit at a fraction of the cost, as SVC fitting grows
    about quadratically with the number of samples. ``fit`` takes the digit images themselves,
    since the copies are distorted images.
    """

    def fit(self, X, y=None, **params):
        super().fit(X, y, **params)
        if VIRTUAL_COPIES:
            support = self._final_estimator.support_
            images, labels = augment(
                np.asarray(X)[support], np.asarray(y)[support], copies=VIRTUAL_COPIES
            )
            super().fit(images, labels, **params)
        return self


def merge_params(params: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Return the default hyperparameters updated by ``params``, refusing unknown names."""
    merged = {name: dict(values) for name, values in DEFAULT_PARAMS.items()}
    for member, values in (params or {}).items():
        if member not in merged:
            raise ValueError(f"unknown member {member!r}; expected one of {list(MEMBERS)}")
        unknown = set(values) - set(merged[member])
        if unknown:
            raise ValueError(
                f"unknown hyperparameter(s) {sorted(unknown)} for {member}; "
                f"expected some of {sorted(merged[member])}"
            )
        merged[member].update(values)
    return merged


def build_ensemble(
    params: dict[str, dict[str, Any]] | None = None, random_state: int = 0
) -> VotingClassifier:
    """Build the unfitted hard-voting ensemble.

    Parameters
    ----------
    params : dict, optional
        Hyperparameters by member name (``"svc"``, ``"knn"``, ``"rf"``), over
        :data:`DEFAULT_PARAMS`.
    random_state : int
        Seed for the members that draw random numbers.

    Returns
    -------
    VotingClassifier
        ``fit`` and ``predict`` take digits of shape ``(n, 28, 28)``, uint8, ink 255 on 0.
        :func:`train` fits it faster than ``fit`` (KNN and the forest share a front end).
    """
    p = merge_params(params)
    # No predict_proba for the SVC: Platt scaling would cost a 5-fold CV at fit time.
    svc = QuickSVC(cache_size=1000, **p["svc"])
    knn = QuickNeighbours(weights="distance", **p["knn"])
    # Half-size bootstrap samples halve the forest's fit time.
    rf = QuickForest(max_samples=0.5, random_state=random_state, **p["rf"])
    # The SVC sees principal components; KNN and the forest share one front end (the same
    # object, fitted once by train()) that ends in kernel discriminant axes. Their errors differ
    # enough from the SVC's that two of them agreeing against it are more often right than
    # wrong, so the vote beats every member (benchmarks/README.md).
    discriminants = gradient_features(random_state, kernel_discriminants=True)
    members = [
        (
            "svc",
            VirtualSupportPipeline([("features", gradient_features(random_state)), ("clf", svc)]),
        ),
        ("knn", QuickPipeline([("features", discriminants), ("clf", knn)])),
        ("rf", QuickPipeline([("features", discriminants), ("clf", rf)])),
    ]
    return VotingClassifier(members, voting="hard", weights=list(WEIGHTS))


def train(
    model: VotingClassifier,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer],
    progress: TrainProgress | None = None,
    n_jobs: int = 2,
) -> dict[str, float]:
    """Fit ``model`` in place and return each member's fit time in seconds.

    Members whose pipelines share one ``features`` object (KNN and the forest) are fitted in one
    job that fits those features once; that job and the SVC's run in parallel.

    Parameters
    ----------
    model : VotingClassifier
        From :func:`build_ensemble`.
    images : ndarray of shape (n, 28, 28), dtype uint8, ink 255 on background 0
    labels : ndarray of shape (n,), digits 0-9
    progress : callable, optional
        Called as ``progress(member_name, members_done, members_total, fit_seconds)``: once
        with 0 done and seconds None before fitting starts, then each time a member is fitted.
    n_jobs : int
        How many jobs to run at once.

    Returns
    -------
    dict
        Seconds spent fitting each member, by name.
    """
    names = [name for name, _ in model.estimators]
    encoder = LabelEncoder().fit(labels)
    encoded = encoder.transform(labels)
    times: dict[str, float] = {}
    images = np.asarray(images)
    if progress:
        progress(names[0], 0, len(names), None)
    # Members sharing a front end are fitted in one job that fits it once; the jobs run in
    # parallel (the SVC is single-threaded) and each reports as it ends.
    jobs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_fit_group)(group, images, encoded) for group in _groups(model.estimators)
    )
    fitted = {}
    done = 0
    for results in jobs:
        for name, member, seconds in results:
            done += 1
            fitted[name], times[name] = member, seconds
            if progress:
                progress(name, done, len(names), seconds)
    # Assemble the fitted VotingClassifier exactly as its own fit() would leave it.
    model.le_ = encoder
    model.classes_ = encoder.classes_
    model.estimators_ = [fitted[name] for name in names]
    model.named_estimators_ = Bunch(**{name: fitted[name] for name in names})
    return times


def _groups(estimators: list[tuple[str, Pipeline]]) -> list[list[tuple[str, Pipeline]]]:
    """Members grouped by the identity of their ``features`` step, in voting order."""
    groups: dict[int, list[tuple[str, Pipeline]]] = {}
    for name, member in estimators:
        groups.setdefault(id(member.steps[0][1]), []).append((name, member))
    return list(groups.values())


def _fit_group(
    group: list[tuple[str, Pipeline]], images: NDArray, labels: NDArray
) -> list[tuple[str, Pipeline, float]]:
    """Fit members that share a front end: the front end once, then each member's classifier.

    A member alone in its group is fitted whole, by its own ``fit``. Returns
    ``(name, fitted pipeline, seconds)`` per member, the seconds counting the shared front end
    for each of them.
    """
    start = time.perf_counter()
    if len(group) == 1:
        name, member = group[0]
        fitted = clone(member).fit(images, labels)
        return [(name, fitted, time.perf_counter() - start)]
    features = clone(group[0][1].steps[0][1])
    X = features.fit_transform(images, labels)
    front_seconds = time.perf_counter() - start
    fitted = []
    for name, member in group:
        begin = time.perf_counter()
        clf = clone(member.steps[-1][1]).fit(X, labels)
        pipeline = QuickPipeline([(member.steps[0][0], features), (member.steps[-1][0], clf)])
        fitted.append((name, pipeline, front_seconds + time.perf_counter() - begin))
    return fitted
