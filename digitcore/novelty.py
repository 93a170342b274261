"""When to say "not sure": a drawing unlike every training digit, or members that all disagree.

A scribble, a lone stroke or a star still gets an answer from every member, often the same one
(a zigzag reads as "2" three times over), so agreement alone cannot tell it from a digit. What
does tell is distance: in the k-nearest-neighbours member's own feature space a real digit lies
close to some training digits, a scribble lies far from all of them. :func:`calibrate` sets the
distance above which a digit is unlike the training digits from real digits the model never saw
(MNIST test digits): the 99th percentile of the mean distance to the :data:`NEIGHBOURS` nearest
training digits. How many real digits that flags is measured two-fold: a seeded stratified
half's threshold is applied to the other half, and the other way round (about 1%). The threshold is stored on the fitted ensemble itself
(:data:`ATTRIBUTE`), so the one saved estimator object carries it; a model saved before this
existed has none and is always "sure".

Measured with the full-MNIST model (research notes, ``benchmarks``): about 0.9% of held-out MNIST
test digits flagged, about 75% of drawn scribbles, none of 40 drawn digits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

from digitcore.errors import DataError, ModelError

#: The fitted ensemble's attribute holding the calibrated distance (absent: never unsure).
ATTRIBUTE = "unsure_distance_"
#: Nearest training digits whose mean distance measures how unlike them a digit is.
NEIGHBOURS = 3
#: Share of real digits that must fall under the threshold.
QUANTILE = 0.99
#: The member whose feature space and training digits the distance is measured in.
MEMBER = "knn"


def threshold(model: Any) -> float | None:
    """The calibrated distance of ``model``, or None when it was never calibrated."""
    value = getattr(model, ATTRIBUTE, None)
    return None if value is None else float(value)


def distances(model: Any, digits: NDArray[np.uint8]) -> NDArray[np.float64]:
    """How far each digit lies from the training digits, in the k-NN member's feature space.

    Parameters
    ----------
    model : VotingClassifier
        A fitted ensemble with a ``"knn"`` member: a Pipeline ending in a nearest-neighbours
        classifier.
    digits : ndarray of shape (n, 28, 28), dtype uint8, ink 255 on background 0

    Returns
    -------
    ndarray of shape (n,), dtype float64
        Mean distance to the :data:`NEIGHBOURS` nearest training digits.

    Raises
    ------
    digitcore.errors.ModelError
        When the model has no nearest-neighbours member to measure with.
    """
    member = getattr(model, "named_estimators_", {}).get(MEMBER)
    if member is None or not hasattr(member, "steps") or not hasattr(member[-1], "kneighbors"):
        names = sorted(getattr(model, "named_estimators_", {}))
        raise ModelError(
            f"expected an ensemble with a nearest-neighbours member {MEMBER!r} to measure how "
            f"unlike the training digits a drawing is; got members {names}"
        )
    features = member[:-1].transform(digits)
    found, _ = member[-1].kneighbors(features, n_neighbors=NEIGHBOURS)
    return np.asarray(found, dtype=np.float64).mean(axis=1)


def no_two_agree(votes: NDArray[np.integer]) -> NDArray[np.bool_]:
    """Per digit, whether every member gave a different answer (votes: shape (n, members))."""
    votes = np.asarray(votes)
    if votes.shape[1] < 2:
        return np.zeros(len(votes), dtype=bool)
    ordered = np.sort(votes, axis=1)
    return ~(ordered[:, 1:] == ordered[:, :-1]).any(axis=1)


def unsure(model: Any, digits: NDArray[np.uint8], votes: NDArray[np.integer]) -> NDArray[np.bool_]:
    """Per digit, whether the model should say "not sure" rather than give an answer.

    Parameters
    ----------
    model : VotingClassifier
        A fitted ensemble; one without a calibrated threshold is never unsure.
    digits : ndarray of shape (n, 28, 28), dtype uint8, ink 255 on background 0
    votes : ndarray of shape (n, members)
        Each member's answer for each digit.

    Returns
    -------
    ndarray of shape (n,), dtype bool
        True where the digit lies farther from the training digits than the calibrated
        distance, or where no two members agree.
    """
    limit = threshold(model)
    if limit is None or len(digits) == 0:
        return np.zeros(len(digits), dtype=bool)
    return (distances(model, digits) > limit) | no_two_agree(votes)


def calibrate(model: Any, test_set: Any, *, seed: int = 0) -> dict[str, Any]:
    """Set ``model``'s "not sure" distance from real digits it never trained on.

    Parameters
    ----------
    model : VotingClassifier
        A fitted ensemble with a ``"knn"`` member; changed in place (:data:`ATTRIBUTE`).
    test_set : Dataset
        Labelled digits the model did not train on (e.g. the MNIST test set), at least 20.
    seed : int
        Seeds the stratified split into two halves that measure the flagged share.

    Returns
    -------
    dict
        For the metadata: ``distance`` (the threshold, from all the digits), ``quantile``,
        ``flagged_heldout`` (mean share of one half that :func:`unsure` flags, by distance or
        disagreement, with the other half's threshold), ``flagged_folds`` (the two shares) and
        ``calibrated_on`` (which digits, in words).

    Raises
    ------
    digitcore.errors.DataError
        When there are fewer than 20 digits to calibrate on.
    digitcore.errors.ModelError
        When the model has no nearest-neighbours member.
    """
    labels = np.asarray(test_set.labels)
    if len(labels) < 20:
        raise DataError(
            f"expected at least 20 unseen digits to calibrate 'not sure' on; got {len(labels)}"
        )
    counts = np.bincount(labels)
    # Stratify when every digit present can be split between the halves (a tiny set may not).
    stratify = labels if counts[counts > 0].min() >= 2 else None
    fit_half, held_half = train_test_split(
        np.arange(len(labels)), test_size=0.5, stratify=stratify, random_state=seed
    )
    images = np.asarray(test_set.images)
    found = distances(model, images)
    votes = np.column_stack([m.predict(images) for m in model.named_estimators_.values()])
    split = no_two_agree(votes)
    # Two-fold: each half's threshold flags some share of the other half, digits it did not
    # see; their mean is the honest rate. The threshold kept is then set from all the digits,
    # which halves the noise of a 99th percentile estimated from 5,000.
    folds = [
        float(np.mean((found[held] > np.quantile(found[fit], QUANTILE)) | split[held]))
        for fit, held in ((fit_half, held_half), (held_half, fit_half))
    ]
    limit = float(np.quantile(found, QUANTILE))
    setattr(model, ATTRIBUTE, limit)
    flagged = float(np.mean(folds))
    name = getattr(test_set, "name", None) or getattr(test_set, "source", "test digits")
    return {
        "distance": limit,
        "quantile": QUANTILE,
        "flagged_heldout": flagged,
        "flagged_folds": folds,
        "calibrated_on": (
            f"all {len(labels):,} digits of {name}; flagged share: mean of two "
            f"{'stratified ' if stratify is not None else ''}halves (seed {seed}), each "
            "measured with the other half's threshold"
        ),
    }
