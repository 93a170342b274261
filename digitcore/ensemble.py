"""The product's model: a hard-voting ensemble of an SVC, a k-nearest-neighbours classifier and a
random forest, each a Pipeline that takes MNIST-form digits ``(n, 28, 28)`` uint8 directly.

This module is the recipe (members, default hyperparameters, voting weights, how the members
are built and fitted) and the vote. The classes it builds from live in
:mod:`digitcore.estimators`, :mod:`digitcore.kernels` and :mod:`digitcore.features`.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    validate_parameter_constraints,
)

from digitcore.errors import ParamError
from digitcore.estimators import (
    QuickForest,
    QuickNeighbours,
    QuickPipeline,
    QuickSVC,
    SharedFrontEnd,
    VirtualSupportPipeline,
)
from digitcore.features import DeskewedGradients, to_float32
from digitcore.kernels import KernelDiscriminants
from digitcore.voting import DigitEnsemble, TrainProgress

__all__ = ["DigitEnsemble", "TrainProgress", "build_ensemble", "merge_params", "train", "vote"]

#: The members, in the order they vote, with their display names.
MEMBERS: dict[str, str] = {"svc": "SVC", "knn": "k-nearest neighbours", "rf": "random forest"}

#: Hyperparameters a user may set, by member, with their defaults (tuned on MNIST, see
#: benchmarks/README.md).
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "svc": {"C": 5.0, "gamma": "scale"},
    "knn": {"n_neighbors": 3},
    "rf": {"n_estimators": 60, "max_depth": None},
    # The k-NN and forest's shared front end: its KernelDiscriminants.
    "front": {"n_components": 3000, "gamma_scale": 0.25},
}

#: Who each group of hyperparameters belongs to, in words: the members and the shared front end.
GROUPS: dict[str, str] = {**MEMBERS, "front": "shared front end (k-NN and forest)"}

#: What the shared front end accepts (scikit-learn's own checks, as its members have).
_FRONT_CONSTRAINTS = {
    "n_components": [Interval(Integral, 1, None, closed="left")],
    "gamma_scale": [Interval(Real, 0, None, closed="neither")],
}

#: Each hyperparameter in plain words, by member: what it does and what larger values do.
PARAM_HELP: dict[str, dict[str, str]] = {
    "svc": {
        "C": "How hard the SVC tries to get every training digit right. Larger values fit the "
        "training digits more closely (too large can learn their quirks); smaller values give "
        "a smoother, more forgiving boundary between digits.",
        "gamma": "How far the influence of one training digit reaches. Larger values make it "
        "more local (a wigglier boundary that can learn quirks); smaller values smoother. "
        "'scale' picks a value from the data; or type a number such as 0.05.",
    },
    "knn": {
        "n_neighbors": "How many of the most similar training digits vote on a drawing. "
        "Larger values smooth out odd training digits but blur fine differences (4 vs 9); "
        "1 copies the single closest digit.",
    },
    "front": {
        "n_components": "How many landmark digits the k-NN and forest's shared front end "
        "compares every digit with before finding its 9 discriminant axes. Larger values "
        "approximate the kernel better (more accurate, up to a point) but fit and read more "
        "slowly; it never exceeds the number of training digits.",
        "gamma_scale": "How wide the shared front end's kernel is, relative to the data's "
        "spread. Larger values make it more local (finer detail, more quirks learned); smaller "
        "values smoother.",
    },
    "rf": {
        "n_estimators": "How many decision trees the forest grows and lets vote. Larger values "
        "give steadier answers, up to a point, but train and read more slowly and take more "
        "memory.",
        "max_depth": "How many questions each tree may ask about a digit. Larger values let "
        "trees learn finer detail (and memorise more); 'None' grows each tree until its "
        "leaves are pure.",
    },
}

#: Distorted copies made of each SVC support vector for its second fit (virtual support vectors).
VIRTUAL_COPIES = 2

#: Principal components of the gradient features each member sees.
N_COMPONENTS = 60

#: Hard-voting weights in MEMBERS order: any two agreeing members (2) outvote the SVC (1.5),
#: and a split with no two agreeing goes to the SVC (sklearn would pick the lowest digit). The
#: SVC is the member whose input differs from the others'. Such splits are rare (3 of the 10k
#: test digits with the full-data model) and the members about equally accurate (99.41-99.43%).
WEIGHTS = (1.5, 1.0, 1.0)


def gradient_features(
    *, random_state: int = 0, kernel_discriminants: bool = False, **discriminants: Any
) -> Pipeline:
    """A members' front end: deskew, gradient histograms, PCA, as float32.

    With ``kernel_discriminants``, the principal components are then mapped to the 9
    :class:`~digitcore.kernels.KernelDiscriminants` axes: nonlinear features in which nearest
    neighbours and tree splits come close to the SVC's accuracy; that front end is a
    :class:`~digitcore.estimators.SharedFrontEnd`, meant to be shared by several members.
    """
    # Memoised step: the members' pipelines compute these features once per batch.
    steps = [
        ("gradients", DeskewedGradients()),
        ("pca", PCA(N_COMPONENTS, random_state=random_state)),
        ("float32", FunctionTransformer(to_float32)),
    ]
    if kernel_discriminants:
        steps.append(
            ("discriminants", KernelDiscriminants(random_state=random_state, **discriminants))
        )
        return SharedFrontEnd(steps)
    return Pipeline(steps)


def _classifiers(params: dict[str, dict[str, Any]], random_state: int) -> dict[str, BaseEstimator]:
    """Each member's unfitted classifier, by name, with ``params`` (complete, by member)."""
    return {
        # No predict_proba for the SVC: Platt scaling would cost a 5-fold CV at fit time.
        "svc": QuickSVC(cache_size=1000, **params["svc"]),
        "knn": QuickNeighbours(weights="distance", **params["knn"]),
        # Half-size bootstrap samples halve the forest's fit time.
        "rf": QuickForest(max_samples=0.5, random_state=random_state, **params["rf"]),
    }


def merge_params(params: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Return the default hyperparameters updated by ``params``, checked before any slow work.

    Parameters
    ----------
    params : dict, optional
        Hyperparameters by member name, e.g. ``{"knn": {"n_neighbors": 5}}``.

    Returns
    -------
    dict
        Every member's hyperparameters: :data:`DEFAULT_PARAMS` updated by ``params``.

    Raises
    ------
    digitcore.errors.ParamError
        For an unknown member or hyperparameter, or a value the member refuses (scikit-learn's
        own checks, e.g. ``n_neighbors`` below 1), saying what was expected.
    """
    merged = {name: dict(values) for name, values in DEFAULT_PARAMS.items()}
    for member, values in (params or {}).items():
        if member not in merged:
            raise ParamError(f"unknown member {member!r}; expected one of {list(GROUPS)}")
        if not isinstance(values, dict):
            raise ParamError(
                f"expected a dict of hyperparameters for {member}, got {type(values).__name__}"
            )
        unknown = set(values) - set(merged[member])
        if unknown:
            raise ParamError(
                f"unknown hyperparameter(s) {sorted(unknown)} for {member}; "
                f"expected some of {sorted(merged[member])}"
            )
        merged[member].update(values)
    for member, classifier in _classifiers(merged, random_state=0).items():
        try:
            classifier._validate_params()  # scikit-learn's checks, which fit() would make
        except InvalidParameterError as exc:
            raise ParamError(f"{MEMBERS[member]}: {exc}") from None
    try:
        validate_parameter_constraints(_FRONT_CONSTRAINTS, merged["front"], "front end")
    except InvalidParameterError as exc:
        raise ParamError(f"{GROUPS['front']}: {exc}") from None
    return merged


def build_ensemble(
    params: dict[str, dict[str, Any]] | None = None, *, random_state: int = 0, n_jobs: int = 2
) -> DigitEnsemble:
    """Build the unfitted hard-voting ensemble.

    Parameters
    ----------
    params : dict, optional
        Hyperparameters by member name (``"svc"``, ``"knn"``, ``"rf"``) and for the shared
        front end (``"front"``), over :data:`DEFAULT_PARAMS`; checked by :func:`merge_params`.
    random_state : int
        Seed for the members that draw random numbers.
    n_jobs : int
        Member groups fitted at once (1 inside a search, which runs fits side by side).

    Returns
    -------
    DigitEnsemble
        A scikit-learn classifier: ``fit`` and ``predict`` take digits of shape
        ``(n, 28, 28)``, uint8, ink 255 on 0; ``clone(model).fit(X, y)`` is :func:`train`'s fit.
    """
    merged = merge_params(params)
    clf = _classifiers(merged, random_state)
    # The SVC sees principal components; KNN and the forest share one front end (the same
    # object, fitted once by DigitEnsemble.fit) that ends in kernel discriminant axes. Their errors differ
    # enough from the SVC's that two of them agreeing against it are more often right than
    # wrong, so the vote beats every member (benchmarks/README.md).
    svc_features = gradient_features(random_state=random_state)
    shared = gradient_features(
        random_state=random_state, kernel_discriminants=True, **merged["front"]
    )
    members = [
        (
            "svc",
            VirtualSupportPipeline(
                [("features", svc_features), ("clf", clf["svc"])], copies=VIRTUAL_COPIES
            ),
        ),
        ("knn", QuickPipeline([("features", shared), ("clf", clf["knn"])])),
        ("rf", QuickPipeline([("features", shared), ("clf", clf["rf"])])),
    ]
    return DigitEnsemble(members, voting="hard", weights=list(WEIGHTS), n_jobs=n_jobs)


def train(
    model: VotingClassifier,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer],
    *,
    progress: TrainProgress | None = None,
    n_jobs: int = 2,
) -> dict[str, float]:
    """Fit ``model`` in place and return each member's fit time in seconds.

    The same fit as ``clone(model).fit(images, labels)`` (:class:`~digitcore.voting.DigitEnsemble`):
    members sharing a front end (KNN and the forest) are one job that fits it once; the jobs
    run in parallel, on a Dask cluster when joblib is configured for one.

    Parameters
    ----------
    model : DigitEnsemble
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
    model.set_params(n_jobs=n_jobs).fit(images, labels, progress=progress)
    return dict(model.fit_seconds_)


def member_names(model: VotingClassifier) -> list[str]:
    """The ensemble's member names in voting order (e.g. ``["svc", "knn", "rf"]``)."""
    return [name for name, _ in model.estimators]


def vote(model: VotingClassifier, votes: NDArray[np.integer]) -> NDArray:
    """The ensemble's answers from its members' votes, as ``VotingClassifier.predict`` gives.

    Parameters
    ----------
    model : VotingClassifier
        The fitted ensemble (for its classes and voting weights).
    votes : ndarray of shape (n, members)
        Each member's answer, as class labels, columns in :func:`member_names` order.

    Returns
    -------
    ndarray of shape (n,)
        The weighted majority; a tie goes to the lowest label, as in scikit-learn.
    """
    votes = np.asarray(votes)
    # The label encoder's sorted classes, looked up directly: LabelEncoder.transform's checks
    # cost more than a drawing's vote.
    classes = model.le_.classes_
    encoded = np.searchsorted(classes, votes)
    if votes.size and not np.array_equal(classes[np.minimum(encoded, len(classes) - 1)], votes):
        raise ValueError(
            f"expected votes among the classes {classes.tolist()}, got {votes.tolist()}"
        )
    weights = np.ones(encoded.shape[1]) if model.weights is None else np.asarray(model.weights)
    scores = np.zeros((len(encoded), len(model.classes_)))
    for column, weight in enumerate(weights):
        scores[np.arange(len(encoded)), encoded[:, column]] += weight
    return model.classes_[scores.argmax(axis=1)]
