"""The product's model: a hard-voting ensemble of an SVC, a k-nearest-neighbours classifier and a
random forest, each a Pipeline that takes MNIST-form digits ``(n, 28, 28)`` uint8 directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, LabelEncoder
from sklearn.svm import SVC
from sklearn.utils import Bunch

#: The members, in the order they vote, with their display names.
MEMBERS: dict[str, str] = {"svc": "SVC", "knn": "k-nearest neighbours", "rf": "random forest"}

#: Hyperparameters a user may set, by member, with their defaults.
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "svc": {"C": 1.0, "gamma": "scale"},
    "knn": {"n_neighbors": 5},
    "rf": {"n_estimators": 100, "max_depth": None},
}

#: progress(member_name, done_members, total_members, fit_seconds or None before fitting)
TrainProgress = Callable[[str, int, int, "float | None"], None]


def flatten(images: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Turn ``(n, 28, 28)`` uint8 digits into ``(n, 784)`` float32 rows scaled to 0-1."""
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


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
    """
    p = merge_params(params)
    prep = FunctionTransformer(flatten)
    members = [
        ("svc", Pipeline([("prep", prep), ("clf", SVC(**p["svc"]))])),
        ("knn", Pipeline([("prep", clone(prep)), ("clf", KNeighborsClassifier(**p["knn"]))])),
        (
            "rf",
            Pipeline(
                [
                    ("prep", clone(prep)),
                    ("clf", RandomForestClassifier(random_state=random_state, **p["rf"])),
                ]
            ),
        ),
    ]
    return VotingClassifier(members, voting="hard")


def train(
    model: VotingClassifier,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer],
    progress: TrainProgress | None = None,
    n_jobs: int = 2,
) -> dict[str, float]:
    """Fit ``model`` in place, member by member, and return each member's fit time in seconds.

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
        How many members to fit at once.

    Returns
    -------
    dict
        Seconds spent fitting each member, by name.
    """
    names = [name for name, _ in model.estimators]
    encoder = LabelEncoder().fit(labels)
    encoded = encoder.transform(labels)
    times: dict[str, float] = {}
    done = 0
    if progress:
        progress(names[0], 0, len(names), None)
    # Members are fitted in parallel (the SVC alone is single-threaded); each reports as it ends.
    jobs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_fit_timed)(name, clone(member), images, encoded) for name, member in model.estimators
    )
    fitted = {}
    for name, member, seconds in jobs:
        fitted[name], times[name] = member, seconds
        done += 1
        if progress:
            progress(name, done, len(names), seconds)
    # Assemble the fitted VotingClassifier exactly as its own fit() would leave it.
    model.le_ = encoder
    model.classes_ = encoder.classes_
    model.estimators_ = [fitted[name] for name in names]
    model.named_estimators_ = Bunch(**{name: fitted[name] for name in names})
    return times


def _fit_timed(name: str, member: Any, images: NDArray, labels: NDArray) -> tuple[str, Any, float]:
    start = time.perf_counter()
    member.fit(images, labels)
    return name, member, time.perf_counter() - start
