"""The one reading path: an image in, the digits the ensemble reads in it out.

The Draw page, the upload, ``python -m digitcore predict`` and the tests all call
:func:`recognize`, so they all see the same preprocessing and the same votes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digitcore import cuts, ensemble, images, merges, novelty, segmentation, strokes


@dataclass(frozen=True)
class DigitReading:
    """One digit read from a drawing.

    Attributes
    ----------
    digit : int
        The ensemble's answer.
    votes : dict
        Each member's answer by name (``"svc"``, ``"knn"``, ``"rf"``).
    confidence : dict
        By member name, the probability the member gives its own vote, or None for a member
        that gives no probabilities.
    agreement : int
        How many members voted for ``digit``.
    image : ndarray of shape (28, 28), dtype uint8, ink 255 on background 0
        What the models saw.
    box : tuple of int
        ``(x0, y0, x1, y1)`` of the digit in the drawing, in pixels.
    sure : bool
        False when the drawing is unlike the digits the model trained on, or no two members
        agree (:mod:`digitcore.novelty`): then ``digit`` is a guess, not an answer.
    candidates : list of int
        The members' distinct answers, strongest first (most voting weight; the ensemble's
        answer is first).
    """

    digit: int
    votes: dict[str, int]
    confidence: dict[str, float | None]
    agreement: int
    image: NDArray[np.uint8]
    box: tuple[int, int, int, int]
    sure: bool = True
    candidates: list[int] = field(default_factory=list)

    @property
    def unanimous(self) -> bool:
        """Whether every member voted for the ensemble's answer."""
        return self.agreement == len(self.votes)


@dataclass(frozen=True)
class Reading:
    """All digits read from one drawing, left to right; none when the drawing is blank.

    Attributes
    ----------
    digits : list of DigitReading
    too_small : bool
        No digit, but there is ink: a dot, a short line, a digit too small to read.
    """

    digits: list[DigitReading]
    too_small: bool = False

    @property
    def status(self) -> str:
        """``"digits"``, ``"too_small"`` (ink but no digit-sized group) or ``"blank"``."""
        if self.digits:
            return "digits"
        return "too_small" if self.too_small else "blank"

    @property
    def sure(self) -> bool:
        """Whether every digit read is an answer, not a guess."""
        return all(d.sure for d in self.digits)

    @property
    def text(self) -> str:
        """The digits as a string, e.g. ``"2024"``; empty when blank."""
        return "".join(str(d.digit) for d in self.digits)

    @property
    def blank(self) -> bool:
        """Whether no digit was found (blank, or too small to read: see ``status``)."""
        return not self.digits


def _gray(image: Any) -> NDArray[np.uint8]:
    """Any accepted input as a grayscale array, ink high on background 0."""
    if isinstance(image, (str, Path, bytes)):
        return images.read_image(image)
    array = np.asarray(image)
    return images.canvas_to_gray(array)


def read_digits(model: Any, digits: NDArray[np.uint8]) -> list[dict[str, Any]]:
    """Each member's vote and confidence, and the ensemble's answer, for MNIST-form digits.

    Parameters
    ----------
    model : VotingClassifier
        A fitted ensemble from :mod:`digitcore.ensemble`.
    digits : ndarray of shape (n, 28, 28), dtype uint8, ink 255 on background 0

    Returns
    -------
    list of dict
        Per digit: ``digit``, ``votes``, ``confidence``, ``agreement``, ``sure`` and
        ``candidates`` (see :class:`DigitReading`).
    """
    names = ensemble.member_names(model)
    votes = np.empty((len(digits), len(names)), dtype=np.int64)
    confidence: dict[str, NDArray[np.float64] | None] = {}
    for column, name in enumerate(names):
        member = model.named_estimators_[name]
        if hasattr(member, "predict_proba"):
            # One call gives both the vote and how sure the member is of it.
            proba = member.predict_proba(digits)
            encoded = proba.argmax(axis=1)
            confidence[name] = proba[np.arange(len(digits)), encoded]
        else:
            encoded = member.predict(digits)
            confidence[name] = None
        votes[:, column] = model.classes_[encoded]
    answers = ensemble.vote(model, votes)
    unsure = novelty.unsure(model, digits, votes)
    weights = np.ones(len(names)) if model.weights is None else np.asarray(model.weights, float)
    return [
        {
            "digit": int(answers[i]),
            "votes": {name: int(votes[i, c]) for c, name in enumerate(names)},
            "confidence": {
                name: None if confidence[name] is None else float(confidence[name][i])
                for name in names
            },
            "agreement": int(np.sum(votes[i] == answers[i])),
            "sure": not unsure[i],
            "candidates": _candidates(votes[i], weights, int(answers[i])),
        }
        for i in range(len(digits))
    ]


def _candidates(votes: NDArray[np.integer], weights: NDArray, answer: int) -> list[int]:
    """Distinct answers by the voting weight behind them; the answer, then member order, on ties."""
    weight: dict[int, float] = {}
    for vote, w in zip(votes.tolist(), weights.tolist(), strict=True):
        weight[vote] = weight.get(vote, 0.0) + w
    return sorted(weight, key=lambda v: (v != answer, -weight[v]))


#: A piece's score: PIECE_OFFSET, minus DISTANCE times its k-NN distance in units of the
#: model's "not sure" distance (:mod:`digitcore.novelty`, measured on unseen digits), plus the
#: log of the forest's confidence. Tuned on the shipped model: 98% of redrawn whole MNIST test
#: digits score above -2 (cuts.WHOLE), two squeezed digits mostly below.
PIECE_OFFSET, DISTANCE = 1.5, 3.56
#: With a merge detector (:mod:`digitcore.merges`), a piece's score also adds MERGED times
#: the log of the detector's probability that it is one digit, at least MERGED_FLOOR: two
#: overlapping digits that the members read as one (a 7 holding a 1) then lose to the cut.
#: Chosen on benchmarks/drawn.py's seed-0 numbers; checked on seed 100 (README). A weight of 4
#: read more pen-written numbers right but cut more single digits in two (benchmarks/README.md).
MERGED, MERGED_FLOOR = 2.0, 0.01


def piece_scores(model: Any) -> cuts.Scorer | None:
    """How much pieces of ink read as one digit to ``model``, for segmentation by recognition.

    A piece's score is ``PIECE_OFFSET - DISTANCE * d / t + log p + MERGED * log q``: ``d`` its
    mean distance to its nearest training digits in the k-NN member's space
    (:func:`digitcore.novelty.distances`; two squeezed digits lie far from every digit), ``t``
    the model's calibrated "not sure" distance (so models trained on 3,000 or 60,000 digits
    score alike), ``p`` the forest's confidence in its answer, and ``q`` the merge detector's
    probability that the piece is one digit, not two (:mod:`digitcore.merges`; 1 for a model
    without a detector), at least :data:`MERGED_FLOOR`.

    Parameters
    ----------
    model : VotingClassifier
        A fitted ensemble from :mod:`digitcore.ensemble`.

    Returns
    -------
    callable or None
        ``(n, 28, 28)`` uint8 -> ``(n,)`` float, higher reads more as one digit; None when the
        model has no forest, no k-NN member or no calibrated distance (then digits are cut at
        ink valleys).
    """
    members = getattr(model, "named_estimators_", {})
    forest, knn = members.get("rf"), members.get(novelty.MEMBER)
    limit = novelty.threshold(model)
    usable = hasattr(forest, "predict_proba") and hasattr(knn, "steps")
    if limit is None or not usable or not hasattr(knn[-1], "kneighbors"):
        return None

    def score(pieces: NDArray[np.uint8]) -> NDArray[np.float64]:
        confidence = forest.predict_proba(pieces).max(axis=1)
        distance = novelty.distances(model, pieces) / limit
        value = PIECE_OFFSET - DISTANCE * distance + np.log(np.maximum(confidence, 1e-6))
        merged = merges.merged_probability(model, pieces)
        if merged is not None:
            value += MERGED * np.log(np.maximum(1.0 - merged, MERGED_FLOOR))
        return value

    return score


def recognize(model: Any, image: Any) -> Reading:
    """Read the digits in a drawing or an image file.

    Parameters
    ----------
    model : VotingClassifier
        A fitted ensemble from :mod:`digitcore.ensemble`.
    image : ndarray, str, Path, bytes or digitcore.strokes.Drawing
        A canvas as an RGBA array of shape (H, W, 4) (or RGB, or grayscale), an image file
        given by its path or its bytes, or a canvas with its strokes. Given strokes, digits are
        found from them (:mod:`digitcore.strokes`: digits that touch in pixels are separate
        strokes); without a stroke (a blank canvas, objects that are not paths), the pixels
        are read.

    Returns
    -------
    Reading
        The digits left to right; ``Reading.blank`` when there is none, and then
        ``Reading.status`` says whether there was ink too small to read.

    Raises
    ------
    digitcore.errors.ImageError
        When the input is not an image that can be read.
    """
    drawing = image if isinstance(image, strokes.Drawing) else None
    lines = strokes.from_canvas(drawing.objects) if drawing is not None else []
    if lines:  # no strokes (a blank canvas, other objects): the pixels say it all
        # Only the canvas's size is needed: its ink map (~1 ms) is not made.
        canvas_hw = images.check_canvas(drawing.pixels).shape[:2]
        # A group still too wide for one digit (one stroke writing two) is cut by recognition.
        found = strokes.segment(
            lines, canvas_hw=canvas_hw, brush=drawing.brush, score=piece_scores(model)
        )
        has_ink = True
    else:
        gray = _gray(image if drawing is None else drawing.pixels)
        # Touching digits in pixels are cut where the models read the pieces best.
        found = segmentation.segment(gray, score=piece_scores(model))
        has_ink = segmentation.has_ink(gray)
    if not found:
        return Reading([], too_small=has_ink)
    batch = np.stack([d.image for d in found])
    return Reading(
        [
            DigitReading(image=d.image, box=d.box, **answer)
            for d, answer in zip(found, read_digits(model, batch), strict=True)
        ]
    )
