"""How the users' saved drawings join MNIST: a held-back share, distorted copies, the joined set.

Each drawing kept for training joins with :data:`COPIES` randomly distorted copies
(:func:`digitcore.augmentation.augment`: slant, size, shift, stroke width), which weighs it
as that many digits for every member (the SVC, the k-NN/forest front end and both of them)
and teaches the writer's shapes rather than their exact pixels. Measured with
``benchmarks/learn.py`` on all 60,000 MNIST digits plus 500 digits of writers MNIST never saw
(375 trained on after the held-back share), read on 1,798 digits of *other* such writers:
optdigits 90.43% -> 91.99% as they are, 93.21% with 4 copies; pen-drawn 98.56% -> 99.33% /
99.44%; MNIST test 99.50% -> 99.50% / 99.51%. On 20,000 MNIST digits with 1,798 drawings,
20 copies cost 0.26 points of MNIST test accuracy through the k-NN and forest (their shared
front end), 5 copies for every member 0.04.

A deterministic share of the drawings (:data:`HELD_BACK`) is never trained on: chosen by the
drawing's content hash, so a drawing never changes side as more are saved, and the digits of
one drawing (one number by one person) stay on one side. Those held-back drawings are what
"before" and "after" are measured on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digitcore.augmentation import augment
from digitcore.data import Dataset
from digitcore.drawing_rows import DrawingSet
from digitcore.errors import DataError, ParamError

#: Share of the saved drawings held back from training, to measure before and after on.
HELD_BACK = 0.25

#: Distorted copies added with each drawing kept for training (besides the drawing itself).
COPIES = 4

#: Fewer held-back drawings than this give a before/after figure too noisy to report alone.
FEW = 50


def held_back(drawing_hashes: NDArray[np.str_], share: float = HELD_BACK) -> NDArray[np.bool_]:
    """Which digits are held back from training, decided by their drawing's hash alone.

    Parameters
    ----------
    drawing_hashes : ndarray of shape (n,), str
        Each digit's drawing hash (:attr:`digitcore.drawing_rows.DrawingSet.drawing_hashes`).
    share : float
        The share held back, 0 to 1.

    Returns
    -------
    ndarray of shape (n,), bool
        True for a held-back digit. The same hash always gives the same answer, whatever else
        is saved, so a drawing never moves from one side to the other.
    """
    if not 0 <= share <= 1:
        raise ParamError(f"the held-back share must be between 0 and 1; got {share}")
    # A salted hash, so the split does not line up with any other use of the content hash.
    points = [
        int(hashlib.sha256(f"held-back:{h}".encode()).hexdigest()[:8], 16) / 2**32
        for h in drawing_hashes
    ]
    return np.array(points, dtype=np.float64).reshape(-1) < share


def _part(drawings: DrawingSet, mask: NDArray[np.bool_], side: str) -> DrawingSet:
    index = np.flatnonzero(mask)
    return DrawingSet(
        drawings.images[index], drawings.labels[index], drawings.name,
        f"{side} of the {drawings.source}", drawings.checksums,
        {"rule": f"{side}, by drawing hash", "share": HELD_BACK, "n": len(index),
         "of": len(drawings)},
        drawings.ids[index], drawings.hashes[index], drawings.drawing_hashes[index],
    )  # fmt: skip


def split(drawings: DrawingSet) -> tuple[DrawingSet, DrawingSet]:
    """The drawings to train on and the held-back ones (:func:`held_back`), disjoint.

    Returns
    -------
    (train, held) : tuple of DrawingSet
    """
    back = held_back(drawings.drawing_hashes)
    return _part(drawings, ~back, "kept for training"), _part(drawings, back, "held back")


def describe_drawings(drawings: DrawingSet) -> dict[str, Any]:
    """:meth:`~digitcore.data.Dataset.describe` plus the content hash of every digit, sorted:
    what a model's metadata records so an evaluation can refuse any drawing it trained on."""
    return {**drawings.describe(), "hashes": sorted(str(h) for h in drawings.hashes)}


def unseen(drawings: DrawingSet, metadata: dict[str, Any]) -> DrawingSet:
    """The drawings a model did not train on (all of them for a model trained on MNIST alone).

    Parameters
    ----------
    drawings : DrawingSet
        E.g. :meth:`digitcore.drawings.DrawingStore.dataset`.
    metadata : dict
        The model's metadata (its ``training_data``).
    """
    trained = trained_hashes(metadata)
    keep = np.array([str(h) not in trained for h in drawings.hashes], dtype=bool)
    if keep.all():
        return drawings
    index = np.flatnonzero(keep)
    return DrawingSet(
        drawings.images[index], drawings.labels[index], drawings.name,
        f"{drawings.source}, less the {int((~keep).sum()):,} this model trained on",
        drawings.checksums,
        {"rule": "not trained on by the model", "n": len(index), "of": len(drawings)},
        drawings.ids[index], drawings.hashes[index], drawings.drawing_hashes[index],
    )  # fmt: skip


def trained_hashes(metadata: dict[str, Any]) -> set[str]:
    """Content hashes of every drawing a model trained on, from its metadata (may be empty)."""
    described = metadata.get("training_data", metadata) or {}
    parts = described.get("parts") or [described]
    return {h for part in parts for h in part.get("hashes") or ()}


@dataclass
class JoinedSet(Dataset):
    """MNIST digits and drawings (with their distorted copies) as one training set.

    :meth:`describe` records each part (:attr:`parts`), the drawings with their content hashes,
    so :func:`digitcore.evaluation.check_unseen` refuses the MNIST set and the drawings alike.
    """

    parts: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "parts": self.parts}


def join(
    mnist: Dataset, drawings: DrawingSet, *, copies: int = COPIES, random_state: int = 0
) -> JoinedSet:
    """MNIST digits plus the drawings and ``copies`` distorted copies of each.

    Parameters
    ----------
    mnist : Dataset
        The MNIST digits (or a subset) to train on.
    drawings : DrawingSet
        The drawings to train on (the held-back ones already left out, see :func:`split`).
    copies : int
        Distorted copies per drawing, besides the drawing itself (0: the drawings as they are).
    random_state : int
        Seed of the distortions.

    Returns
    -------
    JoinedSet
        ``len(mnist) + len(drawings) * (copies + 1)`` digits.

    Raises
    ------
    ParamError
        For a negative number of copies.
    DataError
        When there is no drawing to add.
    """
    if copies < 0:
        raise ParamError(f"copies must be 0 or more distorted copies per drawing; got {copies}")
    if len(drawings) == 0:
        raise DataError(
            "no saved drawing to train on: every saved drawing is held back to measure on, or "
            "none is saved; save some on the Draw page or with `python -m digitcore drawings add`"
        )
    extra, extra_labels = augment(
        drawings.images, drawings.labels, copies=copies, random_state=random_state
    )
    part = {**describe_drawings(drawings), "copies": copies}
    return JoinedSet(
        np.concatenate([mnist.images, extra]),
        np.concatenate([mnist.labels, extra_labels]).astype(np.uint8),
        f"{mnist.name}+drawings",
        f"{mnist.source} with {len(drawings):,} saved drawings and {copies} distorted copies "
        "of each",
        parts=[mnist.describe(), part],
    )


def before_after(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """The before/after table of a model trained with drawings, from its metadata.

    Returns
    -------
    list of dict
        One row per model (the baseline "before" when there was one, then the new model
        "after"): ``model``, ``held_back`` (ensemble accuracy on the held-back drawings, or
        None), ``mnist`` (ensemble accuracy on the MNIST test digits it was scored on).
        Empty for a model trained without drawings.
    """
    said = metadata.get("drawings")
    if not said:
        return []
    rows = []
    before = said.get("before")
    if before:
        rows.append({
            "when": "before", "model": before.get("model"),
            "held_back": (before.get("scores") or {}).get("ensemble"),
            "mnist": (before.get("mnist_scores") or {}).get("ensemble"),
        })  # fmt: skip
    rows.append({
        "when": "after", "model": metadata.get("file"),
        "held_back": (said.get("after") or {}).get("ensemble"),
        "mnist": (metadata.get("scores") or {}).get("ensemble"),
    })  # fmt: skip
    return rows


def before_after_words(metadata: dict[str, Any]) -> str:
    """:func:`before_after` as lines for the command line."""
    said = metadata["drawings"]
    lines = [
        f"trained on {said['trained']:,} saved drawings ({said['copies']} distorted copies "
        f"each); {said['held_back']:,} held back to measure on"
    ]
    if said["held_back"] < FEW:
        lines.append(f"  (fewer than {FEW} held back: the figure below is rough)")
    for row in before_after(metadata):
        held = "-" if row["held_back"] is None else f"{row['held_back']:.4f}"
        mnist = "-" if row["mnist"] is None else f"{row['mnist']:.4f}"
        lines.append(
            f"  {row['when']:6s} held-back drawings {held}   MNIST test {mnist}   {row['model']}"
        )
    return "\n".join(lines)
