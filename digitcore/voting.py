"""The ensemble as a scikit-learn estimator: a hard-voting classifier whose members may share
one front end, fitted once for all of them.

``clone(model).fit(X, y)`` is exactly what ``python -m digitcore train`` does, so
``GridSearchCV``, ``cross_val_score`` and every other scikit-learn tool work on it unchanged.
The recipe that fills it (members, hyperparameters, weights) is :mod:`digitcore.ensemble`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Self

import numpy as np
from joblib import Parallel, delayed
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch
from sklearn.utils.multiclass import check_classification_targets
from threadpoolctl import threadpool_limits

from digitcore.estimators import QuickPipeline

#: progress(member_name, done_members, total_members, fit_seconds or None)
TrainProgress = Callable[[str, int, int, float | None], None]


class DigitEnsemble(VotingClassifier):
    """A :class:`~sklearn.ensemble.VotingClassifier` whose members' pipelines may share their
    first step (the same object): that front end is fitted once and the members fitted on it.

    Parameters are :class:`VotingClassifier`'s; nested names reach into the members
    (``knn__clf__n_neighbors``, ``knn__features__discriminants__gamma_scale``). A shared front
    end is one object, so setting it through one member sets it for all who share it.
    ``clone`` keeps the sharing (see :meth:`__sklearn_clone__`).

    Attributes
    ----------
    fit_seconds_ : dict
        Seconds spent fitting each member, the shared front end counted for each of them.
    """

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        progress: TrainProgress | None = None,
        **fit_params: Any,
    ) -> Self:
        """Fit every member on digits ``X`` and labels ``y``; shared front ends once each.

        Members sharing a front end are one job; the jobs run through joblib (``n_jobs`` of
        them at once, on whatever backend is configured: a Dask cluster runs one task per job).

        Parameters
        ----------
        X : ndarray of shape (n, 28, 28), dtype uint8, ink 255 on background 0
        y : ndarray of shape (n,), digits 0-9
        progress : callable, optional
            Called as ``progress(member_name, members_done, members_total, fit_seconds)``:
            once with 0 done and seconds None before fitting starts, then per member fitted.
        """
        if fit_params:
            raise TypeError(f"expected no fit parameters but progress, got {sorted(fit_params)}")
        self._validate_params()
        images, labels = np.asarray(X), np.asarray(y)
        if len(images) != len(labels):
            raise ValueError(f"expected one label per digit, got {len(labels)} for {len(images)}")
        check_classification_targets(labels)
        names = [name for name, _ in self.estimators]
        encoder = LabelEncoder().fit(labels)
        encoded = encoder.transform(labels)
        if progress:
            progress(names[0], 0, len(names), None)
        # A single-threaded SVC job and the shared front end's job run side by side; each
        # reports as it ends.
        jobs = Parallel(n_jobs=self.n_jobs or 1, return_as="generator_unordered")(
            delayed(_fit_group)(group, images, encoded) for group in _groups(self.estimators)
        )
        fitted, times = {}, {}
        for results in jobs:
            for name, member, seconds in results:
                fitted[name], times[name] = member, seconds
                if progress:
                    progress(name, len(fitted), len(names), seconds)
        # What VotingClassifier.fit would leave, so its predict, transform and score work.
        self.le_ = encoder
        self.classes_ = encoder.classes_
        self.estimators_ = [fitted[name] for name in names]
        self.named_estimators_ = Bunch(**{name: fitted[name] for name in names})
        self.fit_seconds_ = {name: times[name] for name in names}
        return self

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Accuracy on digits ``X`` with labels ``y``, computed on one BLAS thread: PCA's float32
        product rounds differently with more threads, which can flip a forest's vote, and a
        cross-validated score must not depend on where it ran (a Dask worker has one thread)."""
        with threadpool_limits(limits=1):
            return super().score(X, y, sample_weight)

    def __sklearn_clone__(self) -> DigitEnsemble:
        """An unfitted copy with the same parameters, where members that shared a front end
        share its copy (scikit-learn's ``clone`` would give each member its own)."""
        copies: dict[int, Any] = {}
        estimators = []
        for name, member in self.estimators:
            copied = clone(member)
            if _front_end(member) is not None:
                step, front = member.steps[0]
                copied.set_params(**{step: copies.setdefault(id(front), clone(front))})
            estimators.append((name, copied))
        params = {
            key: clone(value, safe=False)
            for key, value in self.get_params(deep=False).items()
            if key != "estimators"
        }
        return type(self)(estimators, **params)


def _front_end(member: Any) -> Any | None:
    """A member pipeline's first step when it has one before its classifier, else None."""
    if isinstance(member, Pipeline) and len(member.steps) > 1:
        return member.steps[0][1]
    return None


def _groups(estimators: list[tuple[str, Any]]) -> list[list[tuple[str, Any]]]:
    """Members grouped by the identity of their front end, in voting order."""
    groups: dict[int, list[tuple[str, Any]]] = {}
    for name, member in estimators:
        front = _front_end(member)
        groups.setdefault(id(front if front is not None else member), []).append((name, member))
    return list(groups.values())


def _fit_group(
    group: list[tuple[str, Any]], images: NDArray, labels: NDArray
) -> list[tuple[str, Any, float]]:
    """Fit members that share a front end: the front end once, then each member's classifier.

    A member alone in its group is fitted whole, by its own ``fit``. Returns
    ``(name, fitted pipeline, seconds)`` per member, the seconds counting the shared front end
    for each of them. BLAS and OpenMP run one thread each: PCA's fit sums in another order
    with more threads, and the forest's splits can follow that rounding, so a fit would depend
    on the machine's threads (a Dask worker runs one) instead of on the digits alone.
    """
    with threadpool_limits(limits=1):
        return _fit_group_here(group, images, labels)


def _fit_group_here(
    group: list[tuple[str, Any]], images: NDArray, labels: NDArray
) -> list[tuple[str, Any, float]]:
    start = time.perf_counter()
    if len(group) == 1:
        name, member = group[0]
        fitted = clone(member).fit(images, labels)
        return [(name, fitted, time.perf_counter() - start)]
    step, front = group[0][1].steps[0]
    features = clone(front)
    X = features.fit_transform(images, labels)
    front_seconds = time.perf_counter() - start
    fitted = []
    for name, member in group:
        begin = time.perf_counter()
        clf = clone(member.steps[-1][1]).fit(X, labels)
        pipeline = QuickPipeline([(step, features), (member.steps[-1][0], clf)])
        fitted.append((name, pipeline, front_seconds + time.perf_counter() - begin))
    return fitted
