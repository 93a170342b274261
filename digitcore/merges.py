"""Merged digits: telling one digit from two that touch or overlap, read as one.

Segmentation by recognition (:mod:`digitcore.cuts`) keeps the splitting of a group of ink
whose pieces the models read best. Two overlapping digits squeezed into one MNIST form often
read as one digit with confidence (a 7 with a 1 inside it reads as a 7), and then no cut can
beat reading the group whole. The members were never shown such pairs: they learned what each
digit looks like, not what two digits together look like.

The **merge detector** learns exactly that. It is a random forest on the shared front end's
view of a form (the gradient features' principal components, what those components leave out,
and the kernel discriminant axes), trained on the model's own training digits:
:data:`EXAMPLES` single digits against as many pairs of two digits drawn touching or overlapping
(gap :data:`GAP` of the height: -12% overlapping to +2% just touching), each put in MNIST form
as a group of touching ink is (:func:`digitcore.preprocess.to_mnist`). It is stored on the
fitted ensemble itself (:data:`ATTRIBUTE`); a model saved before it existed has none, and its
pieces are scored as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from digitcore import preprocess
from digitcore.estimators import QuickForest

#: The fitted ensemble's attribute holding the merge detector (absent: no detector).
ATTRIBUTE = "merge_detector_"
#: Single digits, and as many pairs, the detector is trained on.
EXAMPLES = 3000
#: The gap between the two digits of a pair, as a fraction of their height (negative: overlap).
GAP = (-0.12, 0.02)
#: Height (px) the digits of a pair are drawn at before being put in MNIST form.
HEIGHT = 56
#: The member whose front end the detector reads (the k-NN member's, shared with the forest).
MEMBER = "knn"


def make_examples(
    images: NDArray[np.uint8], n: int, *, seed: int = 0
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """``n`` single digits and ``n`` pairs of touching or overlapping digits, in MNIST form.

    Each pair is two different digits of ``images`` scaled to :data:`HEIGHT` px (+-10%),
    moved up or down by up to 5% of the height, and drawn side by side with a gap drawn from
    :data:`GAP`; the single digit is the pair's first digit alone, treated the same way.

    Parameters
    ----------
    images : ndarray of shape (m, 28, 28), uint8, ink 255 on 0
        At least two digits.
    n : int
        Examples of each kind.
    seed : int
        Seeds which digits are paired, their sizes, offsets and gaps.

    Returns
    -------
    singles, pairs : ndarrays of shape (n, 28, 28), uint8
    """
    images = np.asarray(images)
    if len(images) < 2:
        raise ValueError(f"expected at least two digits to pair, got {len(images)}")
    rng = np.random.default_rng(seed)
    singles, pairs = [], []
    for _ in range(n):
        first, second = (_scaled(images[i], rng) for i in rng.choice(len(images), 2, replace=False))
        gap = round(rng.uniform(*GAP) * HEIGHT)
        x = max(0, first.shape[1] + gap)
        canvas = np.zeros((round(1.4 * HEIGHT), x + second.shape[1] + first.shape[1]), np.float32)
        for digit, left in ((first, 0), (second, x)):
            h, w = digit.shape
            top = round((canvas.shape[0] - h) / 2 + rng.uniform(-0.05, 0.05) * HEIGHT)
            top = int(np.clip(top, 0, canvas.shape[0] - h))
            spot = canvas[top : top + h, left : left + w]
            np.maximum(spot, digit, out=spot)
        pairs.append(preprocess.to_mnist(canvas))
        singles.append(preprocess.to_mnist(first))
    return np.stack(singles), np.stack(pairs)


def _scaled(digit: NDArray[np.uint8], rng: np.random.Generator) -> NDArray[np.float32]:
    """One digit cropped to its ink and scaled to about :data:`HEIGHT` px tall (coverage 0-1)."""
    ink = digit.astype(np.float32) / 255.0
    ink = ink[preprocess.ink_box(ink >= preprocess.INK / 255)]
    scale = HEIGHT * rng.uniform(0.9, 1.1) / ink.shape[0]
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    return np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.BILINEAR))


def features(model: Any, forms: NDArray[np.uint8]) -> NDArray[np.float32] | None:
    """What the detector reads of each form: the front end's principal components of its
    gradient features, the length of what they leave out, and its discriminant axes.

    Returns None when ``model`` has no such front end (a model of another recipe).
    """
    front = _front_end(model)
    if front is None:
        return None
    steps = front.named_steps
    gradients = steps["gradients"].transform(forms)
    pca = steps["pca"]
    components = pca.transform(gradients)
    left_out = np.linalg.norm(gradients - pca.inverse_transform(components), axis=1)
    return np.column_stack([components, left_out, front.transform(forms)]).astype(np.float32)


def _front_end(model: Any) -> Any | None:
    """The k-NN member's front end if it has the steps :func:`features` reads, else None."""
    member = getattr(model, "named_estimators_", {}).get(MEMBER)
    front = getattr(member, "steps", [[None, None]])[0][1]
    steps = getattr(front, "named_steps", {})
    return front if "gradients" in steps and "pca" in steps else None


def fit_detector(
    model: Any,
    images: NDArray[np.uint8],
    *,
    unseen: NDArray[np.uint8] | None = None,
    n: int = EXAMPLES,
    seed: int = 0,
) -> dict[str, Any] | None:
    """Train ``model``'s merge detector on pairs made from ``images`` and store it on the model.

    Parameters
    ----------
    model : VotingClassifier
        A fitted ensemble from :mod:`digitcore.ensemble`; changed in place (:data:`ATTRIBUTE`).
    images : ndarray of shape (m, 28, 28), uint8
        Digits the model trained on (their labels are not needed).
    unseen : ndarray of shape (k, 28, 28), uint8, optional
        Digits neither the model nor the detector trained on (the test digits): singles and
        pairs made from them measure how often the detector is right.
    n : int
        Single digits, and as many pairs (:func:`make_examples`); at most half as many as
        ``images`` (a model of a few hundred digits learns from a pair per two of them).
    seed : int
        Seeds the examples and the forest.

    Returns
    -------
    dict or None
        For the metadata: how many examples of each kind and what they were made from, and
        with ``unseen``, the share of unseen singles and pairs it calls merged
        (probability over 0.5); None (and no detector) when the model has no front end to read
        (:func:`features`) or ``images`` holds fewer than two digits.
    """
    n = min(n, len(images) // 2)
    if n < 1 or _front_end(model) is None:
        return None  # one digit makes no pair; without a front end, nothing to read
    singles, pairs = make_examples(images, n, seed=seed)
    X = features(model, np.concatenate([singles, pairs]))
    y = np.repeat([0, 1], n)
    detector = QuickForest(n_estimators=100, min_samples_leaf=2, random_state=seed, n_jobs=2)
    detector.fit(X, y).set_params(n_jobs=1)  # it reads a few dozen pieces at a time
    setattr(model, ATTRIBUTE, detector)
    said: dict[str, Any] = {
        "singles": n,
        "pairs": n,
        "made_from": f"the training digits (seed {seed}); pair gaps {GAP[0]:+.0%} to "
        f"{GAP[1]:+.0%} of the height",
    }
    if unseen is not None and len(unseen) >= 2:
        k = min(n, len(unseen) // 2, 1000)
        singles, pairs = make_examples(unseen, k, seed=seed + 1)
        said["unseen_singles_flagged"] = float(np.mean(merged_probability(model, singles) > 0.5))
        said["unseen_pairs_flagged"] = float(np.mean(merged_probability(model, pairs) > 0.5))
        said["measured_on"] = (
            f"{k:,} singles and {k:,} pairs made from unseen digits (seed {seed + 1})"
        )
    return said


def merged_probability(model: Any, forms: NDArray[np.uint8]) -> NDArray[np.float64] | None:
    """The detector's probability that each form holds two digits, not one; None when the
    model has no detector."""
    detector = getattr(model, ATTRIBUTE, None)
    if detector is None or len(forms) == 0:
        return None if detector is None else np.zeros(0)
    X = features(model, forms)
    return None if X is None else detector.predict_proba(X)[:, 1]
